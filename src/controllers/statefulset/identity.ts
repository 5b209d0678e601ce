/**
 * A StatefulSet pod's stable identity (pkg/controller/statefulset/stateful_set_utils.go): name
 * `<set>-<ordinal>`, the statefulset.kubernetes.io/pod-name and apps.kubernetes.io/pod-index
 * labels, hostname and subdomain (spec.serviceName), and its volumes bound to the claims
 * `<claim>-<set>-<ordinal>` made from spec.volumeClaimTemplates.
 */
import type { LabelSelector } from '../../api/labels.ts';
import { STATEFUL_SETS } from '../../client/resources.ts';
import {
  isPodAvailable,
  isPodReady,
  type KubeObject,
  newControllerRef,
  type Pod,
  type PodTemplateSpec,
} from '../job/podutil.ts';
import { CONTROLLER_REVISION_HASH_LABEL } from './history.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
/** Pods carry their revision's name in this label. */
export const REVISION_LABEL = CONTROLLER_REVISION_HASH_LABEL;

export interface PersistentVolumeClaim extends KubeObject {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface StatefulSet extends KubeObject {
  spec: {
    replicas?: number | null;
    selector?: LabelSelector | null;
    template: PodTemplateSpec;
    volumeClaimTemplates?: PersistentVolumeClaim[] | null;
    serviceName?: string | null;
    podManagementPolicy?: 'OrderedReady' | 'Parallel' | string | null;
    updateStrategy?: {
      type?: 'RollingUpdate' | 'OnDelete' | string;
      rollingUpdate?: { partition?: number | null; maxUnavailable?: number | string | null } | null;
    } | null;
    revisionHistoryLimit?: number | null;
    minReadySeconds?: number | null;
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string } | null;
    ordinals?: { start?: number | null } | null;
  };
  status?: StatefulSetStatus;
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  [k: string]: unknown;
}

export function startOrdinal(set: StatefulSet): number {
  return set.spec.ordinals?.start ?? 0;
}

/** The last ordinal a replica has (start + replicas − 1). */
export function endOrdinal(set: StatefulSet): number {
  return startOrdinal(set) + (set.spec.replicas ?? 1) - 1;
}

const PARENT = /^(.*)-([0-9]+)$/;

/** getParentNameAndOrdinal: ("web", 2) for "web-2"; ordinal −1 when the name has none. */
export function parentAndOrdinal(pod: Pod): { parent: string; ordinal: number } {
  const m = PARENT.exec(pod.metadata.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return { parent: m[1] ?? '', ordinal: Number.isSafeInteger(n) ? n : -1 };
}

export const ordinalOf = (pod: Pod): number => parentAndOrdinal(pod).ordinal;

/** isMemberOf: the pod's name says it belongs to the set. */
export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return parentAndOrdinal(pod).parent === set.metadata.name;
}

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata.name ?? ''}-${ordinal}`;
}

export function claimName(set: StatefulSet, claim: PersistentVolumeClaim, ordinal: number): string {
  return `${claim.metadata.name ?? ''}-${set.metadata.name ?? ''}-${ordinal}`;
}

/** getPersistentVolumeClaims: the claims of the pod with `ordinal`, by template name. */
export function podClaims(set: StatefulSet, ordinal: number): Map<string, PersistentVolumeClaim> {
  const out = new Map<string, PersistentVolumeClaim>();
  const selectorLabels = set.spec.selector?.matchLabels ?? {};
  for (const t of set.spec.volumeClaimTemplates ?? []) {
    const claim: PersistentVolumeClaim = structuredClone(t);
    claim.apiVersion = 'v1';
    claim.kind = 'PersistentVolumeClaim';
    claim.metadata = {
      ...claim.metadata,
      name: claimName(set, t, ordinal),
      namespace: set.metadata.namespace,
      labels: { ...(t.metadata.labels ?? {}), ...selectorLabels },
    };
    delete claim.status;
    out.set(t.metadata.name ?? '', claim);
  }
  return out;
}

/** identityMatches */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod);
  const labels = pod.metadata.labels ?? {};
  return (
    ordinal >= 0 &&
    parent === set.metadata.name &&
    pod.metadata.name === podName(set, ordinal) &&
    pod.metadata.namespace === set.metadata.namespace &&
    labels[POD_NAME_LABEL] === pod.metadata.name &&
    labels[POD_INDEX_LABEL] === String(ordinal)
  );
}

/** storageMatches: each claim template's volume is bound to the pod's own claim. */
export function storageMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  for (const t of set.spec.volumeClaimTemplates ?? []) {
    const v = volumes.get(t.metadata.name ?? '') as
      | { persistentVolumeClaim?: { claimName?: string } }
      | undefined;
    if (v?.persistentVolumeClaim?.claimName !== claimName(set, t, ordinal)) return false;
  }
  return true;
}

/** updateIdentity: name, namespace and the identity labels. */
export function updateIdentity(set: StatefulSet, pod: Pod): void {
  const ordinal = ordinalOf(pod);
  pod.metadata.name = podName(set, ordinal);
  pod.metadata.namespace = set.metadata.namespace;
  pod.metadata.labels = {
    ...(pod.metadata.labels ?? {}),
    [POD_NAME_LABEL]: pod.metadata.name,
    [POD_INDEX_LABEL]: String(ordinal),
  };
}

/** updateStorage: the claim templates' volumes point at the pod's claims (replacing same-named ones). */
export function updateStorage(set: StatefulSet, pod: Pod): void {
  const templates = set.spec.volumeClaimTemplates ?? [];
  if (templates.length === 0) return;
  const ordinal = ordinalOf(pod);
  const names = new Set(templates.map((t) => t.metadata.name ?? ''));
  const spec = pod.spec ?? {};
  const kept = (spec.volumes ?? []).filter((v) => !names.has(v.name));
  spec.volumes = [
    ...kept,
    ...templates.map((t) => ({
      name: t.metadata.name ?? '',
      persistentVolumeClaim: { claimName: claimName(set, t, ordinal) },
    })),
  ];
  pod.spec = spec;
}

/** newStatefulSetPod: the pod for `ordinal` from `set`'s template (already the wanted revision). */
export function newStatefulSetPod(set: StatefulSet, ordinal: number, revision: string): Pod {
  const t = structuredClone(set.spec.template ?? {});
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(set, ordinal),
      namespace: set.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}), [REVISION_LABEL]: revision },
      annotations: { ...(t.metadata?.annotations ?? {}) },
      ownerReferences: [newControllerRef(set, STATEFUL_SETS)],
    },
    spec: t.spec ?? {},
  };
  if (t.metadata?.finalizers) pod.metadata.finalizers = [...t.metadata.finalizers];
  updateIdentity(set, pod);
  const spec = pod.spec ?? {};
  spec.hostname = pod.metadata.name;
  if (set.spec.serviceName) spec.subdomain = set.spec.serviceName;
  pod.spec = spec;
  updateStorage(set, pod);
  return pod;
}

export const revisionOf = (pod: Pod): string => pod.metadata.labels?.[REVISION_LABEL] ?? '';
export const isCreated = (pod: Pod): boolean => !!pod.status?.phase;
export const isFailed = (pod: Pod): boolean => pod.status?.phase === 'Failed';
export const isSucceeded = (pod: Pod): boolean => pod.status?.phase === 'Succeeded';
export const isPending = (pod: Pod): boolean => pod.status?.phase === 'Pending';
export const isTerminating = (pod: Pod): boolean => !!pod.metadata.deletionTimestamp;
export const isRunningAndReady = (pod: Pod): boolean => pod.status?.phase === 'Running' && isPodReady(pod);
export const isRunningAndAvailable = (pod: Pod, minReadySeconds: number, now: number): boolean =>
  pod.status?.phase === 'Running' && isPodAvailable(pod, minReadySeconds, now);
export const isHealthy = (pod: Pod): boolean => isRunningAndReady(pod) && !isTerminating(pod);
