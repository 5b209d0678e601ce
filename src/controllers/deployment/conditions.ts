/**
 * Deployment conditions (deployment_util.go): setting one keeps lastTransitionTime while the status
 * stays the same and changes nothing while status and reason stay the same; and the three rollout
 * predicates — complete, progressing, timed out — the Progressing condition is computed from.
 */
import { type Condition, parseTime, rfc3339 } from '../util/pods.ts';
import {
  type Deployment,
  type DeploymentStatus,
  deploymentReplicas,
  PROGRESSING,
  progressDeadlineSeconds,
  REASON_NEW_RS_AVAILABLE,
  REASON_TIMED_OUT,
} from './types.ts';

/** NewDeploymentCondition */
export function newCondition(
  type: string,
  status: 'True' | 'False' | 'Unknown',
  reason: string,
  message: string,
  now: number,
): Condition {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** GetDeploymentCondition */
export function getCondition(status: DeploymentStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** SetDeploymentCondition */
export function setCondition(status: DeploymentStatus, cond: Condition): void {
  const current = getCondition(status, cond.type);
  if (current && current.status === cond.status && current.reason === cond.reason) return;
  const next = { ...cond };
  if (current && current.status === cond.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), next];
}

/** RemoveDeploymentCondition */
export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
  if (status.conditions.length === 0) delete status.conditions;
}

/** ReplicaSetToDeploymentCondition */
export function replicaSetToDeploymentCondition(c: Condition): Condition {
  return {
    type: c.type,
    status: c.status,
    lastTransitionTime: c.lastTransitionTime,
    lastUpdateTime: c.lastTransitionTime,
    reason: c.reason,
    message: c.message,
  };
}

/**
 * DeploymentComplete: every replica is updated and available, no old one is left, and the status
 * is of the current generation.
 */
export function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const want = deploymentReplicas(d);
  return (
    (status.updatedReplicas ?? 0) === want &&
    (status.replicas ?? 0) === want &&
    (status.availableReplicas ?? 0) === want &&
    (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

/**
 * DeploymentProgressing: compared with the Deployment's current status, more replicas are updated,
 * ready or available, or fewer old ones are left.
 */
export function deploymentProgressing(d: Deployment, status: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/**
 * DeploymentTimedOut: the Progressing condition was last updated more than progressDeadlineSeconds
 * before `now` (never once the rollout completed; always once it was reported timed out).
 */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, now: number): boolean {
  const pds = progressDeadlineSeconds(d);
  if (pds === undefined) return false;
  const cond = getCondition(status, PROGRESSING);
  if (!cond) return false;
  if (cond.reason === REASON_NEW_RS_AVAILABLE) return false;
  if (cond.reason === REASON_TIMED_OUT) return true;
  return parseTime(cond.lastUpdateTime) + pds * 1000 < now;
}
