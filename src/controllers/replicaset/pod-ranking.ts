/**
 * Which pods a ReplicaSet deletes first when it has too many (replica_set.go getPodsToDelete and
 * controller_utils.go ActivePodsWithRanks), cheapest loss first:
 *
 * 1. unassigned < assigned (no spec.nodeName first);
 * 2. Pending < Unknown < Running;
 * 3. not ready < ready;
 * 4. lower controller.kubernetes.io/pod-deletion-cost < higher;
 * 5. more related pods on the same node < fewer (doubled-up pods first; related pods are the active
 *    pods of every ReplicaSet with the same controller);
 * 6. both ready: ready for less time < longer (on a logarithmic scale: LogarithmicScaleDown);
 * 7. more container restarts < fewer (regular containers, then restartable init containers);
 * 8. newer < older (creation time, on the same logarithmic scale, then by uid).
 */
import { isPodActive, isPodReady, type Pod, parseTime, podCondition } from '../util/pods.ts';

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** helper.GetDeletionCostFromPodAnnotations: an int32, else 0. */
export function podDeletionCost(pod: Pod): number {
  const v = pod.metadata.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (v === undefined || !/^[+-]?\d+$/.test(v.trim())) return 0;
  const n = Number(v.trim());
  return n >= -(2 ** 31) && n < 2 ** 31 ? n : 0;
}

function readyTime(pod: Pod): number {
  return parseTime(podCondition(pod, 'Ready')?.lastTransitionTime);
}

/** afterOrZero: a zero time sorts first, then the later time. */
function afterOrZero(t1: number, t2: number): boolean {
  if (t1 === 0 || t2 === 0) return t1 === 0;
  return t1 > t2;
}

/** floor(log2(age in ns)), or -1 for a time not in the past. */
function logRank(t: number, now: number): number {
  const ns = (now - t) * 1e6;
  return ns > 0 ? Math.floor(Math.log2(ns)) : -1;
}

/** Negative when t1 is in a younger logarithmic bucket than t2 (logarithmicRankDiff). */
function logarithmicRankDiff(t1: number, t2: number, now: number): number {
  return logRank(t1, now) - logRank(t2, now);
}

function maxContainerRestarts(pod: Pod): { regular: number; sidecar: number } {
  let regular = 0;
  let sidecar = 0;
  for (const c of pod.status?.containerStatuses ?? []) regular = Math.max(regular, c.restartCount ?? 0);
  const sidecars = new Set(
    (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name),
  );
  for (const c of pod.status?.initContainerStatuses ?? []) {
    if (sidecars.has(c.name)) sidecar = Math.max(sidecar, c.restartCount ?? 0);
  }
  return { regular, sidecar };
}

/** Compares two times on the logarithmic scale (or plainly when one is zero); undefined when equal. */
function compareTimes(t1: number, t2: number, uid1: string, uid2: string, now: number): boolean | undefined {
  if (t1 === t2) return undefined;
  if (now === 0 || t1 === 0 || t2 === 0) return afterOrZero(t1, t2);
  const diff = logarithmicRankDiff(t1, t2, now);
  if (diff === 0) return uid1 < uid2;
  return diff < 0;
}

/** ActivePodsWithRanks.Less: whether pod `a` (with `rankA`) should be deleted before pod `b`. */
export function deletesBefore(a: Pod, rankA: number, b: Pod, rankB: number, now: number): boolean {
  const nodeA = a.spec?.nodeName ?? '';
  const nodeB = b.spec?.nodeName ?? '';
  // 1. Unassigned < assigned.
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '';
  // 2. Pending < Unknown < Running.
  const phaseA = PHASE_ORDINAL[a.status?.phase ?? ''] ?? 0;
  const phaseB = PHASE_ORDINAL[b.status?.phase ?? ''] ?? 0;
  if (phaseA !== phaseB) return phaseA < phaseB;
  // 3. Not ready < ready.
  const readyA = isPodReady(a);
  const readyB = isPodReady(b);
  if (readyA !== readyB) return !readyA;
  // 4. Lower deletion cost < higher.
  const costA = podDeletionCost(a);
  const costB = podDeletionCost(b);
  if (costA !== costB) return costA < costB;
  // 5. Doubled up < not doubled up.
  if (rankA !== rankB) return rankA > rankB;
  const uidA = a.metadata.uid ?? '';
  const uidB = b.metadata.uid ?? '';
  // 6. Ready for less time < more time.
  if (readyA && readyB) {
    const r = compareTimes(readyTime(a), readyTime(b), uidA, uidB, now);
    if (r !== undefined) return r;
  }
  // 7. More restarts < fewer.
  const restartsA = maxContainerRestarts(a);
  const restartsB = maxContainerRestarts(b);
  if (restartsA.regular !== restartsB.regular) return restartsA.regular > restartsB.regular;
  if (restartsA.sidecar !== restartsB.sidecar) return restartsA.sidecar > restartsB.sidecar;
  // 8. Newer < older.
  const r = compareTimes(
    parseTime(a.metadata.creationTimestamp),
    parseTime(b.metadata.creationTimestamp),
    uidA,
    uidB,
    now,
  );
  return r ?? false;
}

/**
 * getPodsToDelete: the `diff` pods of `pods` (a ReplicaSet's active pods) to delete first, ranked
 * against `relatedPods` (the pods of the ReplicaSets with the same controller, for co-location).
 */
export function getPodsToDelete<T extends Pod>(
  pods: readonly T[],
  relatedPods: readonly Pod[],
  diff: number,
  now: number,
): T[] {
  if (diff >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const p of relatedPods) {
    if (!isPodActive(p)) continue;
    const node = p.spec?.nodeName ?? '';
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => {
    if (deletesBefore(x.pod, x.rank, y.pod, y.rank, now)) return -1;
    if (deletesBefore(y.pod, y.rank, x.pod, x.rank, now)) return 1;
    return 0;
  });
  return ranked.slice(0, diff).map((r) => r.pod);
}
