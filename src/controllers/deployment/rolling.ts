/**
 * The RollingUpdate strategy (pkg/controller/deployment/rolling.go). Each pass does one of:
 *
 * - grow the new ReplicaSet while all ReplicaSets together stay within spec.replicas + maxSurge;
 * - shrink old ReplicaSets while at least spec.replicas - maxUnavailable pods stay available —
 *   unhealthy old replicas first, then the oldest ReplicaSets;
 * - once complete, delete old ReplicaSets beyond revisionHistoryLimit;
 *
 * and then writes the rollout status.
 */
import type { ReplicaSet } from '../replicaset/types.ts';
import { specReplicas } from '../replicaset/types.ts';
import { deploymentComplete } from './conditions.ts';
import { syncRolloutStatus } from './progress.ts';
import {
  activeReplicaSets,
  availableReplicaCount,
  byCreation,
  maxUnavailable,
  newRSNewReplicas,
  specReplicaCount,
} from './replicas.ts';
import {
  cleanupDeployment,
  type DeploymentEnv,
  getAllReplicaSetsAndSyncRevision,
  type SyncPass,
  scaleTo,
} from './sync.ts';
import { deploymentReplicas } from './types.ts';

/** rolloutRolling: returns when to look again for a progress deadline (ms), if at all. */
export async function rolloutRolling(env: DeploymentEnv, pass: SyncPass): Promise<number | undefined> {
  const found = await getAllReplicaSetsAndSyncRevision(env, pass, true);
  const newRS = found.newRS!;
  const oldRSs = found.oldRSs;
  const allRSs = [...oldRSs, newRS];

  if (await reconcileNewReplicaSet(env, pass, allRSs, newRS)) {
    return syncRolloutStatus(env, pass, allRSs, newRS);
  }
  const cur = (rs: ReplicaSet) => pass.current(rs);
  if (
    await reconcileOldReplicaSets(env, pass, allRSs.map(cur), activeReplicaSets(oldRSs.map(cur)), cur(newRS))
  ) {
    return syncRolloutStatus(env, pass, allRSs, newRS);
  }
  if (deploymentComplete(pass.d, pass.d.status ?? {})) await cleanupDeployment(env, pass, oldRSs);
  return syncRolloutStatus(env, pass, allRSs, newRS);
}

/** reconcileNewReplicaSet: grows (or, above spec.replicas, shrinks) the new ReplicaSet. */
async function reconcileNewReplicaSet(
  env: DeploymentEnv,
  pass: SyncPass,
  allRSs: ReplicaSet[],
  newRS: ReplicaSet,
): Promise<boolean> {
  const d = pass.d;
  const rs = pass.current(newRS);
  const replicas = deploymentReplicas(d);
  if (specReplicas(rs) === replicas) return false;
  if (specReplicas(rs) > replicas) return (await scaleTo(env, pass, rs, replicas)).scaled;
  const count = newRSNewReplicas(
    d,
    allRSs.map((x) => pass.current(x)),
    rs,
  );
  return (await scaleTo(env, pass, rs, count)).scaled;
}

/**
 * reconcileOldReplicaSets: shrinks old ReplicaSets by at most
 * all - minAvailable - (new replicas not yet available).
 */
async function reconcileOldReplicaSets(
  env: DeploymentEnv,
  pass: SyncPass,
  allRSs: ReplicaSet[],
  oldRSs: ReplicaSet[],
  newRS: ReplicaSet,
): Promise<boolean> {
  const d = pass.d;
  if (specReplicaCount(oldRSs) === 0) return false;
  const allPods = specReplicaCount(allRSs);
  const minAvailable = deploymentReplicas(d) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;

  let cleaned: number;
  let olds: ReplicaSet[];
  try {
    ({ olds, cleaned } = await cleanupUnhealthyReplicas(env, pass, oldRSs, maxScaledDown));
  } catch (err) {
    env.log.debug({ err }, 'could not scale down unhealthy old replicas');
    return false;
  }
  let scaledDown: number;
  try {
    scaledDown = await scaleDownOldReplicaSetsForRollingUpdate(env, pass, [...olds, newRS], olds);
  } catch (err) {
    env.log.debug({ err }, 'could not scale down old replica sets');
    return false;
  }
  return cleaned + scaledDown > 0;
}

/** cleanupUnhealthyReplicas: removes old replicas that are not available, oldest ReplicaSets first. */
async function cleanupUnhealthyReplicas(
  env: DeploymentEnv,
  pass: SyncPass,
  oldRSs: ReplicaSet[],
  maxCleanup: number,
): Promise<{ olds: ReplicaSet[]; cleaned: number }> {
  const olds = [...oldRSs].sort(byCreation);
  let total = 0;
  for (const [i, rs] of olds.entries()) {
    if (total >= maxCleanup) break;
    const replicas = specReplicas(rs);
    const available = rs.status?.availableReplicas ?? 0;
    if (replicas === 0 || replicas === available) continue;
    const count = Math.min(maxCleanup - total, replicas - available);
    const next = replicas - count;
    if (next > replicas)
      throw new Error(`invalid request to scale down ${rs.metadata.name} ${replicas} -> ${next}`);
    olds[i] = (await scaleTo(env, pass, rs, next)).rs;
    total += count;
  }
  return { olds, cleaned: total };
}

/**
 * scaleDownOldReplicaSetsForRollingUpdate: shrinks old ReplicaSets, oldest first, by what is
 * available above minAvailable.
 */
async function scaleDownOldReplicaSetsForRollingUpdate(
  env: DeploymentEnv,
  pass: SyncPass,
  allRSs: ReplicaSet[],
  oldRSs: ReplicaSet[],
): Promise<number> {
  const d = pass.d;
  const minAvailable = deploymentReplicas(d) - maxUnavailable(d);
  const available = availableReplicaCount(allRSs);
  if (available <= minAvailable) return 0;
  const total = available - minAvailable;
  let done = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (done >= total) break;
    const replicas = specReplicas(rs);
    if (replicas === 0) continue;
    const count = Math.min(replicas, total - done);
    await scaleTo(env, pass, rs, replicas - count);
    done += count;
  }
  return done;
}
