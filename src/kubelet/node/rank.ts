/**
 * How the eviction manager orders pods for eviction (pkg/kubelet/eviction/helpers.go):
 *
 * - memory: pods whose usage exceeds their memory request first, then lower priority first, then
 *   the larger usage above request first;
 * - ephemeral-storage / inodes: the same with disk usage against the ephemeral-storage request
 *   (inodes have no request);
 * - pids: lower priority first, then more processes first.
 *
 * A pod with no stats is ranked first (there is nothing to protect it with).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity, Quantity } from '../../api/quantity.ts';

/** What the stats provider knows of one pod's usage. */
export interface PodUsage {
  /** Pod working set (sum of its containers'), bytes. */
  memoryWorkingSetBytes?: number;
  /** Ephemeral storage in use (writable layers, logs, emptyDirs), bytes. */
  ephemeralStorageBytes?: number;
  /** The part of ephemeralStorageBytes in container writable layers (on imagefs when dedicated). */
  writableLayerBytes?: number;
  inodesUsed?: number;
  processes?: number;
  containers?: { name: string; memoryWorkingSetBytes?: number; rootfsBytes?: number; logsBytes?: number }[];
}

export type UsageOf = (pod: Pod) => PodUsage | undefined;
type Cmp = (a: Pod, b: Pod) => number;

function cmpBool(a: boolean, b: boolean): number {
  if (a === b) return 0;
  return a ? -1 : 1;
}

/** corev1helpers.PodPriority. */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

const priority: Cmp = (a, b) => {
  const x = podPriority(a);
  const y = podPriority(b);
  return x === y ? 0 : x > y ? 1 : -1;
};

function q(v: string | number | undefined): Quantity {
  if (v === undefined) return Quantity.zero('BinarySI');
  try {
    return parseQuantity(v);
  } catch {
    return Quantity.zero('BinarySI');
  }
}

/** podRequest: the sum of containers' requests, or the largest init container's when bigger. */
export function podRequest(pod: Pod, resource: 'memory' | 'ephemeral-storage' | 'inodes'): Quantity {
  let containers = Quantity.zero('BinarySI');
  if (resource === 'inodes') return containers;
  for (const c of pod.spec?.containers ?? [])
    containers = containers.add(q(c.resources?.requests?.[resource]));
  let init = Quantity.zero('BinarySI');
  for (const c of pod.spec?.initContainers ?? []) {
    const r = q(c.resources?.requests?.[resource]);
    if (init.cmp(r) < 0) init = r;
  }
  return containers.cmp(init) > 0 ? containers : init;
}

function byUsage(
  usage: UsageOf,
  pick: (u: PodUsage) => number | undefined,
  resource: 'memory' | 'ephemeral-storage' | 'inodes',
) {
  const of = (p: Pod) => {
    const u = usage(p);
    const v = u ? pick(u) : undefined;
    return v === undefined ? undefined : Quantity.fromInt(Math.round(v), 'BinarySI');
  };
  const exceeds: Cmp = (a, b) => {
    const x = of(a);
    const y = of(b);
    if (!x || !y) return cmpBool(!x, !y);
    return cmpBool(x.cmp(podRequest(a, resource)) > 0, y.cmp(podRequest(b, resource)) > 0);
  };
  const above: Cmp = (a, b) => {
    const x = of(a);
    const y = of(b);
    if (!x || !y) return cmpBool(!x, !y);
    return y.sub(podRequest(b, resource)).cmp(x.sub(podRequest(a, resource)));
  };
  return [exceeds, priority, above];
}

function orderedBy(cmps: Cmp[]): (pods: Pod[]) => Pod[] {
  return (pods) =>
    [...pods].sort((a, b) => {
      for (const c of cmps) {
        const r = c(a, b);
        if (r !== 0) return r;
      }
      return 0;
    });
}

export function rankMemoryPressure(pods: Pod[], usage: UsageOf): Pod[] {
  return orderedBy(byUsage(usage, (u) => u.memoryWorkingSetBytes, 'memory'))(pods);
}

/**
 * Disk ranking. `measure` picks what counts, as upstream's fsStatsToMeasure: 'all' (no dedicated
 * imagefs: root + logs + volumes), 'nodefs' (logs + volumes: everything but the writable layers),
 * 'imagefs' (the writable layers).
 */
export function rankDiskPressure(
  pods: Pod[],
  usage: UsageOf,
  measure: 'all' | 'nodefs' | 'imagefs' = 'all',
): Pod[] {
  const pick = (u: PodUsage) => {
    if (measure === 'imagefs') return u.writableLayerBytes;
    if (measure === 'nodefs' && u.ephemeralStorageBytes !== undefined) {
      return u.ephemeralStorageBytes - (u.writableLayerBytes ?? 0);
    }
    return u.ephemeralStorageBytes;
  };
  return orderedBy(byUsage(usage, pick, 'ephemeral-storage'))(pods);
}

export function rankInodePressure(pods: Pod[], usage: UsageOf): Pod[] {
  return orderedBy(byUsage(usage, (u) => u.inodesUsed, 'inodes'))(pods);
}

export function rankPidPressure(pods: Pod[], usage: UsageOf): Pod[] {
  const processes: Cmp = (a, b) => {
    const x = usage(a)?.processes;
    const y = usage(b)?.processes;
    if (x === undefined || y === undefined) return cmpBool(x === undefined, y === undefined);
    return y - x;
  };
  return orderedBy([priority, processes])(pods);
}
