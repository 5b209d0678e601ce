/**
 * A DaemonSet's decisions per node (daemon_controller.go's podsShouldBeOnNode, update.go's
 * rollingUpdate), as pure functions of the nodes, the daemon pods on each and the current
 * revision hash.
 *
 * Rolling update without surge replaces old pods while at most maxUnavailable nodes lack an
 * available pod (deleting an old pod lets manage create the new one once it is gone); with
 * maxSurge a new pod is started beside the old one on up to maxSurge nodes, and the old one goes
 * when the new one is available.
 */
import {
  compareByCreation,
  isPodAvailable,
  isPodReady,
  type Node,
  type Pod,
  scaledValue,
} from '../job/podutil.ts';
import { CONTROLLER_REVISION_HASH_LABEL } from '../statefulset/history.ts';
import { nodeShouldRunDaemonPod } from './predicates.ts';
import { type DaemonSet, isPodUpdated, templateGeneration } from './types.ts';

export interface NodePlan {
  nodesNeedingPods: string[];
  podsToDelete: string[];
  /** Failed pods whose deletion waits for the per-node back-off. */
  failedPods: Pod[];
}

/** podByCreationTimestampAndPhase: scheduled first, then oldest first, then by name. */
export function compareDaemonPods(a: Pod, b: Pod): number {
  const sa = a.spec?.nodeName ? 0 : 1;
  const sb = b.spec?.nodeName ? 0 : 1;
  return sa - sb || compareByCreation(a, b);
}

export function surgeCount(ds: DaemonSet, desired: number): number {
  const us = ds.spec.updateStrategy;
  if (us?.type !== 'RollingUpdate' || !us.rollingUpdate) return 0;
  return scaledValue(us.rollingUpdate.maxSurge, desired, true);
}

export function unavailableCount(ds: DaemonSet, desired: number): number {
  const us = ds.spec.updateStrategy;
  if (us?.type !== 'RollingUpdate' || !us.rollingUpdate) return 0;
  return scaledValue(us.rollingUpdate.maxUnavailable, desired, true);
}

export function allowsSurge(ds: DaemonSet): boolean {
  return surgeCount(ds, 1) !== 0;
}

/**
 * podsShouldBeOnNode: a node that should run the daemon and has no pod needs one; failed and
 * succeeded pods go (failed ones reported for back-off); of several running pods only the oldest
 * stays (with surge: the oldest new one, plus the oldest old one until the new one is available);
 * a node that must not run it loses all its pods.
 */
export function podsShouldBeOnNode(
  ds: DaemonSet,
  node: Node,
  pods: readonly Pod[] | undefined,
  hash: string,
  now: number,
): NodePlan {
  const plan: NodePlan = { nodesNeedingPods: [], podsToDelete: [], failedPods: [] };
  const name = node.metadata.name ?? '';
  const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds.spec.template.spec);
  if (shouldRun && pods === undefined) {
    plan.nodesNeedingPods.push(name);
    return plan;
  }
  if (shouldContinueRunning) {
    const running: Pod[] = [];
    for (const p of pods ?? []) {
      if (p.metadata.deletionTimestamp) continue;
      if (p.status?.phase === 'Failed') plan.failedPods.push(p);
      else if (p.status?.phase === 'Succeeded') plan.podsToDelete.push(p.metadata.name ?? '');
      else running.push(p);
    }
    running.sort(compareDaemonPods);
    if (!allowsSurge(ds)) {
      for (const p of running.slice(1)) plan.podsToDelete.push(p.metadata.name ?? '');
      return plan;
    }
    if (running.length <= 1) {
      if (running.length === 0 && shouldRun) plan.nodesNeedingPods.push(name);
      return plan;
    }
    let oldestNew: Pod | undefined;
    let oldestOld: Pod | undefined;
    for (const p of running) {
      if (p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash) {
        if (!oldestNew) {
          oldestNew = p;
          continue;
        }
      } else if (!oldestOld) {
        oldestOld = p;
        continue;
      }
      plan.podsToDelete.push(p.metadata.name ?? '');
    }
    if (oldestNew && oldestOld) {
      if (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec.minReadySeconds ?? 0, now)) {
        plan.podsToDelete.push(oldestOld.metadata.name ?? '');
      }
    }
    return plan;
  }
  if (pods) {
    for (const p of pods) if (!p.metadata.deletionTimestamp) plan.podsToDelete.push(p.metadata.name ?? '');
  }
  return plan;
}

/** findUpdatedPodsOnNode: the node's one new and one old pod (ok false when there are more). */
function updatedPodsOnNode(
  ds: DaemonSet,
  pods: readonly Pod[],
  hash: string,
): { newPod?: Pod; oldPod?: Pod; ok: boolean } {
  const generation = templateGeneration(ds);
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    if (isPodUpdated(p, hash, generation)) {
      if (newPod) return { ok: false };
      newPod = p;
    } else {
      if (oldPod) return { ok: false };
      oldPod = p;
    }
  }
  return { newPod, oldPod, ok: true };
}

/** rollingUpdate: the old pods to delete and the nodes to surge onto. */
export function rollingUpdatePlan(
  ds: DaemonSet,
  nodes: readonly Node[],
  nodeToPods: ReadonlyMap<string, Pod[]>,
  hash: string,
  now: number,
): { podsToDelete: string[]; nodesToCreate: string[] } {
  const byNode = new Map<string, Pod[]>(nodeToPods);
  let desired = 0;
  const shouldRunOn = new Map<string, boolean>();
  for (const n of nodes) {
    const name = n.metadata.name ?? '';
    const { shouldRun } = nodeShouldRunDaemonPod(n, ds.spec.template.spec);
    shouldRunOn.set(name, shouldRun);
    if (!shouldRun) continue;
    desired++;
    if (!byNode.has(name)) byNode.set(name, []);
  }
  let maxUnavailable = unavailableCount(ds, desired);
  const maxSurge = surgeCount(ds, desired);
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  const minReady = ds.spec.minReadySeconds ?? 0;
  const available = (p: Pod) => isPodAvailable(p, minReady, now);
  const nodeNames = [...byNode.keys()].sort();

  if (maxSurge === 0) {
    let numUnavailable = 0;
    const allowed: string[] = [];
    const candidates: string[] = [];
    for (const nodeName of nodeNames) {
      const { newPod, oldPod, ok } = updatedPodsOnNode(ds, byNode.get(nodeName) ?? [], hash);
      if (!ok || (!oldPod && !newPod) || (oldPod && newPod)) {
        numUnavailable++;
      } else if (newPod) {
        if (!available(newPod)) numUnavailable++;
      } else if (oldPod) {
        if (!available(oldPod)) allowed.push(oldPod.metadata.name ?? '');
        else if (numUnavailable < maxUnavailable) candidates.push(oldPod.metadata.name ?? '');
      }
    }
    const remaining = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length);
    return { podsToDelete: [...allowed, ...candidates.slice(0, remaining)], nodesToCreate: [] };
  }

  const oldPodsToDelete: string[] = [];
  const shouldNotRun: string[] = [];
  const candidateNew: string[] = [];
  const allowedNew: string[] = [];
  let numSurge = 0;
  let numAvailable = 0;
  for (const nodeName of nodeNames) {
    const { newPod, oldPod, ok } = updatedPodsOnNode(ds, byNode.get(nodeName) ?? [], hash);
    if (!ok) {
      numSurge++;
      continue;
    }
    if ((oldPod && available(oldPod)) || (newPod && available(newPod))) numAvailable++;
    if (!oldPod) continue;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRunOn.get(nodeName)) {
          shouldNotRun.push(oldPod.metadata.name ?? '');
          continue;
        }
        allowedNew.push(nodeName);
      } else {
        candidateNew.push(nodeName);
      }
      continue;
    }
    if (!available(newPod)) {
      numSurge++;
      continue;
    }
    oldPodsToDelete.push(oldPod.metadata.name ?? '');
  }
  const deletable = Math.min(numAvailable - desired, shouldNotRun.length);
  if (deletable > 0) oldPodsToDelete.push(...shouldNotRun.slice(0, deletable));
  const remainingSurge = Math.min(Math.max(0, maxSurge - numSurge), candidateNew.length);
  return {
    podsToDelete: oldPodsToDelete,
    nodesToCreate: [...allowedNew, ...candidateNew.slice(0, remainingSurge)],
  };
}
