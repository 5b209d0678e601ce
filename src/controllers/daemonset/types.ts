/** apps/v1 DaemonSet as the daemonset controller reads it, and its well-known names. */
import type { LabelSelector } from '../../api/labels.ts';
import type { KubeObject, Pod, PodTemplateSpec } from '../job/podutil.ts';
import { CONTROLLER_REVISION_HASH_LABEL } from '../statefulset/history.ts';

/** The annotation the API server keeps the template generation in (spec.templateGeneration). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';
/** The pod label with the template generation a pod was made from. */
export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

export interface DaemonSet extends KubeObject {
  spec: {
    selector?: LabelSelector | null;
    template: PodTemplateSpec;
    updateStrategy?: {
      type?: 'RollingUpdate' | 'OnDelete' | string;
      rollingUpdate?: { maxUnavailable?: number | string | null; maxSurge?: number | string | null } | null;
    } | null;
    minReadySeconds?: number | null;
    revisionHistoryLimit?: number | null;
  };
  status?: DaemonSetStatus;
}

export interface DaemonSetStatus {
  currentNumberScheduled?: number;
  numberMisscheduled?: number;
  desiredNumberScheduled?: number;
  numberReady?: number;
  observedGeneration?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  collisionCount?: number;
  [k: string]: unknown;
}

/** GetTemplateGeneration: the generation annotation, when set and numeric. */
export function templateGeneration(ds: DaemonSet): string | undefined {
  const v = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  return v !== undefined && /^\d+$/.test(v) ? v : undefined;
}

/** IsPodUpdated: the pod carries the current revision's hash, or the current template generation. */
export function isPodUpdated(pod: Pod, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  const templateMatches = generation !== undefined && labels[POD_TEMPLATE_GENERATION_LABEL] === generation;
  const hashMatches = hash !== '' && labels[CONTROLLER_REVISION_HASH_LABEL] === hash;
  return hashMatches || templateMatches;
}
