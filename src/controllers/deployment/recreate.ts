/**
 * The Recreate strategy (pkg/controller/deployment/recreate.go): scale every old ReplicaSet to zero,
 * wait until no old pod is left (not even a terminating one), and only then create the new
 * ReplicaSet at full size.
 */
import type { ReplicaSet } from '../replicaset/types.ts';
import { deploymentComplete } from './conditions.ts';
import { syncRolloutStatus } from './progress.ts';
import { activeReplicaSets, actualReplicaCount } from './replicas.ts';
import {
  cleanupDeployment,
  type DeploymentEnv,
  getAllReplicaSetsAndSyncRevision,
  type SyncPass,
  scaleTo,
} from './sync.ts';
import { deploymentReplicas } from './types.ts';

/** rolloutRecreate: returns when to look again for a progress deadline (ms), if at all. */
export async function rolloutRecreate(env: DeploymentEnv, pass: SyncPass): Promise<number | undefined> {
  // No new ReplicaSet yet: it must not scale up before the old ones are down.
  let { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(env, pass, false);
  let allRSs: (ReplicaSet | undefined)[] = [...oldRSs, newRS];

  let scaledDown = false;
  for (const rs of activeReplicaSets(oldRSs.map((x) => pass.current(x)))) {
    if ((await scaleTo(env, pass, rs, 0)).scaled) scaledDown = true;
  }
  if (scaledDown) return syncRolloutStatus(env, pass, allRSs, newRS);

  if (oldPodsRunning(pass, newRS, oldRSs)) return syncRolloutStatus(env, pass, allRSs, newRS);

  if (!newRS) {
    ({ newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(env, pass, true));
    allRSs = [...oldRSs, newRS];
  }
  if (newRS) await scaleTo(env, pass, newRS, deploymentReplicas(pass.d));

  if (deploymentComplete(pass.d, pass.d.status ?? {})) await cleanupDeployment(env, pass, oldRSs);
  return syncRolloutStatus(env, pass, allRSs, newRS);
}

/** oldPodsRunning: an old ReplicaSet reports pods, or a pod of one is not finished. */
export function oldPodsRunning(pass: SyncPass, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): boolean {
  if (actualReplicaCount(oldRSs.map((x) => pass.current(x))) > 0) return true;
  for (const [uid, pods] of pass.podMap) {
    if (newRS && newRS.metadata.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
  }
  return false;
}
