/** batch/v1 Job as the job controller reads it, its well-known names, and small predicates. */
import type { LabelSelector } from '../../api/labels.ts';
import type { Condition, KubeObject, Pod, PodTemplateSpec } from './podutil.ts';

/** The finalizer the job controller puts on its pods until it has counted them. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** Annotation (and, since PodIndexLabel, label) with an Indexed Job pod's completion index. */
export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
/** spec.managedBy value meaning "this controller". */
export const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';

export interface PodFailurePolicyRule {
  action: 'FailJob' | 'FailIndex' | 'Ignore' | 'Count' | string;
  onExitCodes?: { containerName?: string | null; operator: 'In' | 'NotIn' | string; values: number[] } | null;
  onPodConditions?: { type: string; status?: string }[] | null;
}

export interface SuccessPolicyRule {
  succeededIndexes?: string | null;
  succeededCount?: number | null;
}

export interface JobSpec {
  parallelism?: number | null;
  completions?: number | null;
  activeDeadlineSeconds?: number | null;
  backoffLimit?: number | null;
  completionMode?: 'NonIndexed' | 'Indexed' | string;
  suspend?: boolean | null;
  selector?: LabelSelector | null;
  manualSelector?: boolean | null;
  template: PodTemplateSpec;
  ttlSecondsAfterFinished?: number | null;
  podFailurePolicy?: { rules: PodFailurePolicyRule[] } | null;
  successPolicy?: { rules: SuccessPolicyRule[] } | null;
  podReplacementPolicy?: 'TerminatingOrFailed' | 'Failed' | string | null;
  managedBy?: string | null;
  [k: string]: unknown;
}

export interface JobStatus {
  conditions?: Condition[] | null;
  startTime?: string | null;
  completionTime?: string | null;
  active?: number;
  succeeded?: number;
  failed?: number;
  terminating?: number | null;
  ready?: number | null;
  completedIndexes?: string;
  failedIndexes?: string | null;
  uncountedTerminatedPods?: { succeeded?: string[] | null; failed?: string[] | null } | null;
  [k: string]: unknown;
}

export interface Job extends KubeObject {
  spec: JobSpec;
  status?: JobStatus;
}

export function finishedCondition(job: Job): Condition | undefined {
  return (job.status?.conditions ?? []).find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

/** util.IsJobFinished: a Complete or Failed condition is True. */
export function isJobFinished(job: Job): boolean {
  return finishedCondition(job) !== undefined;
}

export function isJobSucceeded(job: Job): boolean {
  return finishedCondition(job)?.type === 'Complete';
}

export function isIndexedJob(job: Job): boolean {
  return job.spec.completionMode === 'Indexed';
}

export function hasTrackingFinalizer(pod: Pod): boolean {
  return (pod.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
}

/** The completion index of a pod, or -1 when absent or not a non-negative integer. */
export function completionIndex(pod: Pod): number {
  const v = pod.metadata.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^\+?\d+$/.test(v)) return -1;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : -1;
}

/** onlyReplaceFailedPods: podReplacementPolicy Failed (also implied by a podFailurePolicy). */
export function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec.podReplacementPolicy === 'Failed' || !!job.spec.podFailurePolicy;
}

/**
 * isPodFailed: Failed, or — unless only failed pods are replaced — being deleted before it
 * succeeded (orphans that never reach a phase count as failures).
 */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}
