/**
 * The status of a rollout (pkg/controller/deployment/progress.go): the Progressing condition —
 * NewReplicaSetAvailable once complete, ReplicaSetUpdated while replicas move, and
 * ProgressDeadlineExceeded when nothing moved for progressDeadlineSeconds — ReplicaFailure
 * conditions of the ReplicaSets surfaced, and when to look again for a deadline.
 */
import type { ReplicaSet } from '../replicaset/types.ts';
import { parseTime } from '../util/pods.ts';
import {
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  getCondition,
  newCondition,
  removeCondition,
  replicaSetToDeploymentCondition,
  setCondition,
} from './conditions.ts';
import { calculateStatus, type DeploymentEnv, type SyncPass, statusEqual, writeStatus } from './sync.ts';
import {
  type Deployment,
  type DeploymentStatus,
  hasProgressDeadline,
  PROGRESSING,
  progressDeadlineSeconds,
  REASON_NEW_RS_AVAILABLE,
  REASON_RS_UPDATED,
  REASON_TIMED_OUT,
  REPLICA_FAILURE,
} from './types.ts';

/**
 * syncRolloutStatus: computes and writes the status of a rollout. Returns when to look again (ms)
 * for a progress deadline, if the rollout is under way and its status did not change.
 */
export async function syncRolloutStatus(
  env: DeploymentEnv,
  pass: SyncPass,
  allRSs: readonly (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
): Promise<number | undefined> {
  const d = pass.d;
  const now = env.clock.now();
  const current = allRSs.map((rs) => (rs ? pass.current(rs) : rs));
  const rs = newRS && pass.current(newRS);
  const status = calculateStatus(current, rs, d, now);
  if (!hasProgressDeadline(d)) removeCondition(status, PROGRESSING);

  const currentCond = getCondition(d.status, PROGRESSING);
  const isCompleteDeployment =
    status.replicas === status.updatedReplicas && currentCond?.reason === REASON_NEW_RS_AVAILABLE;
  if (hasProgressDeadline(d) && !isCompleteDeployment) {
    const name = d.metadata.name ?? '';
    if (deploymentComplete(d, status)) {
      const msg = rs
        ? `ReplicaSet "${rs.metadata.name}" has successfully progressed.`
        : `Deployment "${name}" has successfully progressed.`;
      setCondition(status, newCondition(PROGRESSING, 'True', REASON_NEW_RS_AVAILABLE, msg, now));
    } else if (deploymentProgressing(d, status)) {
      const msg = rs
        ? `ReplicaSet "${rs.metadata.name}" is progressing.`
        : `Deployment "${name}" is progressing.`;
      const cond = newCondition(PROGRESSING, 'True', REASON_RS_UPDATED, msg, now);
      // Progress moves lastUpdateTime even when the reason stays the same.
      if (currentCond) {
        if (currentCond.status === 'True') cond.lastTransitionTime = currentCond.lastTransitionTime;
        removeCondition(status, PROGRESSING);
      }
      setCondition(status, cond);
    } else if (deploymentTimedOut(d, status, now)) {
      const msg = rs
        ? `ReplicaSet "${rs.metadata.name}" has timed out progressing.`
        : `Deployment "${name}" has timed out progressing.`;
      setCondition(status, newCondition(PROGRESSING, 'False', REASON_TIMED_OUT, msg, now));
    }
  }

  const failures = replicaFailures(current, rs);
  if (failures[0]) setCondition(status, failures[0]);
  else removeCondition(status, REPLICA_FAILURE);

  if (statusEqual(d.status, status)) return requeueStuckDeployment(d, status, now);
  d.status = status;
  await writeStatus(env, pass);
  return undefined;
}

/** getReplicaFailures: the new ReplicaSet's ReplicaFailure conditions, else the others'. */
function replicaFailures(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined) {
  const of = (rs: ReplicaSet | undefined) =>
    (rs?.status?.conditions ?? [])
      .filter((c) => c.type === REPLICA_FAILURE)
      .map(replicaSetToDeploymentCondition);
  const fromNew = of(newRS);
  return fromNew.length ? fromNew : allRSs.flatMap(of);
}

/**
 * requeueStuckDeployment: for a rollout under way with a deadline, when to check it again — when
 * the deadline would pass (plus a second against clock skew).
 */
export function requeueStuckDeployment(
  d: Deployment,
  status: DeploymentStatus,
  now: number,
): number | undefined {
  const cond = getCondition(d.status, PROGRESSING);
  const pds = progressDeadlineSeconds(d);
  if (pds === undefined || !cond) return undefined;
  if (deploymentComplete(d, status) || cond.reason === REASON_TIMED_OUT) return undefined;
  const after = parseTime(cond.lastUpdateTime) + pds * 1000 - now;
  if (after < 1000) return 1000;
  return after + 1000;
}
