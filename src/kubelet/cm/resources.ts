/**
 * The pod-level cgroup settings, computed as the kubelet does (pkg/api/v1/resource PodRequests /
 * PodLimits, and pkg/kubelet/cm/helpers_linux.go ResourceConfigForPod, MilliCPUToShares,
 * MilliCPUToQuota):
 *
 * - requests: the sum over regular containers and restartable (sidecar) init containers, at least the
 *   largest init container's need (its own plus the sidecars started before it), plus pod overhead;
 * - limits: the same aggregation over limits; overhead is added to non-zero limits only;
 * - cpu.shares from the cpu request (min 2, max 262144); cpu quota from the cpu limit over a 100 ms
 *   period (min 1 ms) — set only when every container (init ones included) has a cpu limit, or the
 *   pod is Guaranteed; memory limit only when every container has a memory limit;
 * - BestEffort pods get only cpu.shares 2.
 *
 * A container with a limit but no request counts its limit as its request (the API server's
 * defaulting, applied here too so a non-defaulted pod gets the same cgroup).
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity, Quantity } from '../../api/quantity.ts';
import { qosClass } from './qos.ts';

export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
export const SHARES_PER_CPU = 1024;
export const MILLI_CPU_TO_CPU = 1000;
/** 100 ms, the kernel's and the kubelet's default CFS period, in µs. */
export const QUOTA_PERIOD_US = 100_000;
/** 1 ms, the smallest quota the kernel takes, in µs. */
export const MIN_QUOTA_PERIOD_US = 1000;

export type ResourceList = Map<string, Quantity>;

/** What the pod's cgroup gets; absent fields are left alone. */
export interface PodResourceConfig {
  cpuShares: number;
  /** µs per period; -1 for unlimited. */
  cpuQuota?: number;
  cpuPeriod?: number;
  memoryLimitBytes?: number;
  pidsLimit?: number;
}

/** MilliCPUToShares. */
export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu === 0) return MIN_SHARES;
  const shares = Math.floor((milliCpu * SHARES_PER_CPU) / MILLI_CPU_TO_CPU);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** MilliCPUToQuota: 0 when there is no limit. */
export function milliCpuToQuota(milliCpu: number, periodUs: number): number {
  if (milliCpu === 0) return 0;
  return Math.max(MIN_QUOTA_PERIOD_US, Math.floor((milliCpu * periodUs) / MILLI_CPU_TO_CPU));
}

/** CpuSharesToCpuWeight (cgroup v2 cpu.weight from v1 shares). */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

function toList(raw: Record<string, string | number> | undefined): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of Object.entries(raw ?? {})) {
    try {
      out.set(k, parseQuantity(v));
    } catch {
      // An unparsable quantity cannot pass API validation; skip it rather than fail the pod.
    }
  }
  return out;
}

function addInto(into: ResourceList, from: ResourceList): void {
  for (const [k, v] of from) {
    const prev = into.get(k);
    into.set(k, prev ? prev.add(v) : v);
  }
}

function maxInto(into: ResourceList, from: ResourceList): void {
  for (const [k, v] of from) {
    const prev = into.get(k);
    if (!prev || v.cmp(prev) > 0) into.set(k, v);
  }
}

function requestsOf(c: Container): ResourceList {
  const req = toList(c.resources?.requests);
  for (const [k, v] of toList(c.resources?.limits)) if (!req.has(k)) req.set(k, v);
  return req;
}

function limitsOf(c: Container): ResourceList {
  return toList(c.resources?.limits);
}

type Visit = (list: ResourceList) => void;

function aggregate(pod: Pod, of: (c: Container) => ResourceList, visit?: Visit): ResourceList {
  const total: ResourceList = new Map();
  for (const c of pod.spec?.containers ?? []) {
    const r = of(c);
    visit?.(r);
    addInto(total, r);
  }
  const sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    let r = of(c);
    if (c.restartPolicy === 'Always') {
      addInto(total, r);
      addInto(sidecars, r);
      r = new Map(sidecars);
    } else {
      const tmp: ResourceList = new Map();
      addInto(tmp, r);
      addInto(tmp, sidecars);
      r = tmp;
    }
    visit?.(r);
    maxInto(initMax, r);
  }
  maxInto(total, initMax);
  return total;
}

/** PodRequests (pod overhead included). */
export function podRequests(pod: Pod): ResourceList {
  const reqs = aggregate(pod, requestsOf);
  addInto(reqs, toList(pod.spec?.overhead));
  return reqs;
}

/** PodLimits (overhead added to non-zero limits); `visit` sees each container's (cumulative) list. */
export function podLimits(pod: Pod, visit?: Visit): ResourceList {
  const limits = aggregate(pod, limitsOf, visit);
  for (const [k, v] of toList(pod.spec?.overhead)) {
    const cur = limits.get(k);
    if (cur && !cur.isZero()) limits.set(k, cur.add(v));
  }
  return limits;
}

export interface ResourceConfigOptions {
  /** Apply CFS quota (the kubelet's --cpu-cfs-quota, default true). */
  enforceCpuLimits?: boolean;
  cpuPeriodUs?: number;
  /** The kubelet's --pod-max-pids; unset or negative: no limit written. */
  podPidsLimit?: number;
}

/** ResourceConfigForPod. */
export function resourceConfigForPod(pod: Pod, opts: ResourceConfigOptions = {}): PodResourceConfig {
  const period = opts.cpuPeriodUs ?? QUOTA_PERIOD_US;
  const reqs = podRequests(pod);
  let cpuLimitsDeclared = true;
  let memoryLimitsDeclared = true;
  const limits = podLimits(pod, (list) => {
    if (!list.get('cpu') || list.get('cpu')?.isZero()) cpuLimitsDeclared = false;
    if (!list.get('memory') || list.get('memory')?.isZero()) memoryLimitsDeclared = false;
  });
  const milli = (q: Quantity | undefined) => Number(q?.milliValue() ?? 0n);
  const cpuShares = milliCpuToShares(milli(reqs.get('cpu')));
  let cpuQuota = milliCpuToQuota(milli(limits.get('cpu')), period);
  if (opts.enforceCpuLimits === false) cpuQuota = -1;
  const memoryLimit = Number((limits.get('memory') ?? Quantity.zero()).value());
  const pids =
    opts.podPidsLimit !== undefined && opts.podPidsLimit > 0 ? { pidsLimit: opts.podPidsLimit } : {};

  switch (qosClass(pod)) {
    case 'Guaranteed':
      return { cpuShares, cpuQuota, cpuPeriod: period, memoryLimitBytes: memoryLimit, ...pids };
    case 'Burstable':
      return {
        cpuShares,
        ...(cpuLimitsDeclared ? { cpuQuota, cpuPeriod: period } : {}),
        ...(memoryLimitsDeclared ? { memoryLimitBytes: memoryLimit } : {}),
        ...pids,
      };
    default:
      return { cpuShares: MIN_SHARES, ...pids };
  }
}

/** The pod's cpu request in millicores (for the Burstable QoS cgroup's shares). */
export function podCpuRequestMilli(pod: Pod): number {
  return Number(podRequests(pod).get('cpu')?.milliValue() ?? 0n);
}
