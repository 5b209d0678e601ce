/**
 * apps/v1 Deployment as the Deployment controller reads and writes it, the annotations and reasons
 * it shares with kubectl, and the API server's defaults (objects from the server always carry them;
 * objects from a fake client may not, so readers apply them).
 */
import type { LabelSelector } from '../../api/labels.ts';
import type { KubeObject } from '../../client/types.ts';
import type { Condition, PodTemplateSpec } from '../util/pods.ts';

export type IntOrString = number | string;

export interface RollingUpdateDeployment {
  maxSurge?: IntOrString;
  maxUnavailable?: IntOrString;
}

export interface DeploymentStrategy {
  type?: 'RollingUpdate' | 'Recreate' | string;
  rollingUpdate?: RollingUpdateDeployment | null;
}

export interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelector | null;
  template?: PodTemplateSpec;
  strategy?: DeploymentStrategy;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  collisionCount?: number;
  conditions?: Condition[];
}

export interface Deployment extends KubeObject {
  spec?: DeploymentSpec;
  status?: DeploymentStatus;
}

export const DEPLOYMENT_API_VERSION = 'apps/v1';
export const DEPLOYMENT_KIND = 'Deployment';

/** apps.DefaultDeploymentUniqueLabelKey: the label that tells the ReplicaSets of a Deployment apart. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

// Annotations (deployment_util.go)
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
/** apps.DeprecatedRollbackTo: extensions/v1beta1's spec.rollbackTo, round-tripped as an annotation. */
export const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';
export const LAST_APPLIED_CONFIG_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** What `kubectl rollout history` prints as CHANGE-CAUSE. */
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** What `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** Longest deployment.kubernetes.io/revision-history value (maxRevHistoryLengthInChars). */
export const MAX_REVISION_HISTORY_LENGTH = 2000;

// Condition types and reasons
export const AVAILABLE = 'Available';
export const PROGRESSING = 'Progressing';
export const REPLICA_FAILURE = 'ReplicaFailure';
export const REASON_RS_UPDATED = 'ReplicaSetUpdated';
export const REASON_FAILED_RS_CREATE = 'ReplicaSetCreateError';
export const REASON_NEW_RS_CREATED = 'NewReplicaSetCreated';
export const REASON_FOUND_NEW_RS = 'FoundNewReplicaSet';
export const REASON_NEW_RS_AVAILABLE = 'NewReplicaSetAvailable';
export const REASON_TIMED_OUT = 'ProgressDeadlineExceeded';
export const REASON_PAUSED = 'DeploymentPaused';
export const REASON_RESUMED = 'DeploymentResumed';
export const REASON_MIN_AVAILABLE = 'MinimumReplicasAvailable';
export const REASON_MIN_UNAVAILABLE = 'MinimumReplicasUnavailable';
// Rollback event reasons
export const REASON_ROLLBACK_NOT_FOUND = 'DeploymentRollbackRevisionNotFound';
export const REASON_ROLLBACK_UNCHANGED = 'DeploymentRollbackTemplateUnchanged';
export const REASON_ROLLBACK_DONE = 'DeploymentRollback';

const MAX_INT32 = 2 ** 31 - 1;

/** The status of `d`, created empty when absent (to write to). */
export function statusOf(d: Deployment): DeploymentStatus {
  d.status ??= {};
  return d.status;
}

/** `*d.Spec.Replicas` (default 1). */
export function deploymentReplicas(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

/** The strategy type (default RollingUpdate). */
export function strategyType(d: Deployment): string {
  return d.spec?.strategy?.type || 'RollingUpdate';
}

export function isRollingUpdate(d: Deployment): boolean {
  return strategyType(d) === 'RollingUpdate';
}

/** maxSurge and maxUnavailable as given (default 25% each). */
export function rollingUpdateParams(d: Deployment): { maxSurge: IntOrString; maxUnavailable: IntOrString } {
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  return { maxSurge: ru.maxSurge ?? '25%', maxUnavailable: ru.maxUnavailable ?? '25%' };
}

/** progressDeadlineSeconds (default 600), or undefined when there is none (unset/MaxInt32). */
export function progressDeadlineSeconds(d: Deployment): number | undefined {
  const v = d.spec ? (d.spec.progressDeadlineSeconds ?? 600) : 600;
  return v === MAX_INT32 ? undefined : v;
}

/** HasProgressDeadline */
export function hasProgressDeadline(d: Deployment): boolean {
  return progressDeadlineSeconds(d) !== undefined;
}

/** revisionHistoryLimit (default 10), or undefined when unlimited (MaxInt32). */
export function revisionHistoryLimit(d: Deployment): number | undefined {
  const v = d.spec?.revisionHistoryLimit ?? 10;
  return v === MAX_INT32 ? undefined : v;
}
