/**
 * A container's LinuxContainerResources, computed as the kubelet does
 * (kuberuntime_container_linux.go calculateLinuxResources, qos/policy.go GetContainerOOMScoreAdjust):
 *
 * - cpu shares from the cpu request (1024 per core, at least 2, at most 262144); with no request but
 *   a limit, from the limit; with neither, 2.
 * - cfs quota from the cpu limit over a 100 ms period (at least 1000 µs); none without a limit.
 * - memory limit in bytes; none without a limit.
 * - oom_score_adj by QoS: BestEffort 1000; Burstable 1000 − 1000·request/capacity, kept in
 *   [3, 999]; Guaranteed −997 upstream. On these machines a negative value makes runc fail
 *   (FACTS.md), so the result is clamped at 0: Guaranteed gets 0.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../api/quantity.ts';
import type { LinuxContainerResources } from '../cri/types.ts';
import { qosClass } from './qos.ts';

export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
export const QUOTA_PERIOD = 100_000;
export const MIN_QUOTA_PERIOD = 1000;
const GUARANTEED_OOM_SCORE_ADJ = -997;
const BESTEFFORT_OOM_SCORE_ADJ = 1000;

function milli(v: string | number | undefined): number | undefined {
  if (v === undefined) return undefined;
  return Number(parseQuantity(v).milliValue());
}

function bytes(v: string | number | undefined): number | undefined {
  if (v === undefined) return undefined;
  return Number(parseQuantity(v).value());
}

/** cgroup cpu.shares for a milli-CPU amount (cm.MilliCPUToShares). */
export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu === 0) return MIN_SHARES;
  const shares = Math.floor((milliCpu * 1024) / 1000);
  return Math.min(Math.max(shares, MIN_SHARES), MAX_SHARES);
}

/** CFS quota (µs per period) for a milli-CPU limit (cm.MilliCPUToQuota); 0: no limit. */
export function milliCpuToQuota(milliCpu: number, period = QUOTA_PERIOD): number {
  if (milliCpu === 0) return 0;
  const quota = Math.floor((milliCpu * period) / 1000);
  return Math.max(quota, MIN_QUOTA_PERIOD);
}

/**
 * The upstream oom_score_adj of a container (may be negative); `memoryCapacity` is the node's
 * memory in bytes. Use {@link oomScoreAdj} for what is sent to the runtime.
 */
export function upstreamOomScoreAdj(pod: Pod, container: Container, memoryCapacity: number): number {
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BESTEFFORT_OOM_SCORE_ADJ;
  const request = bytes(container.resources?.requests?.memory) ?? 0;
  if (memoryCapacity <= 0) return BESTEFFORT_OOM_SCORE_ADJ - 1;
  const adj = 1000 - Math.floor((1000 * request) / memoryCapacity);
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BESTEFFORT_OOM_SCORE_ADJ) return adj - 1;
  return adj;
}

/** The oom_score_adj sent to the runtime: the upstream value, never negative (FACTS.md). */
export function oomScoreAdj(pod: Pod, container: Container, memoryCapacity: number): number {
  return Math.max(0, upstreamOomScoreAdj(pod, container, memoryCapacity));
}

/** The CRI resources of `container`. */
export function linuxResources(
  pod: Pod,
  container: Container,
  memoryCapacity: number,
): LinuxContainerResources {
  const req = container.resources?.requests ?? {};
  const lim = container.resources?.limits ?? {};
  const cpuRequest = milli(req.cpu);
  const cpuLimit = milli(lim.cpu);
  const memLimit = bytes(lim.memory);
  const out: LinuxContainerResources = {
    cpuShares: milliCpuToShares(cpuRequest ? cpuRequest : (cpuLimit ?? 0)),
    oomScoreAdj: oomScoreAdj(pod, container, memoryCapacity),
  };
  if (cpuLimit !== undefined && cpuLimit > 0) {
    out.cpuPeriod = QUOTA_PERIOD;
    out.cpuQuota = milliCpuToQuota(cpuLimit);
  }
  if (memLimit !== undefined && memLimit > 0) out.memoryLimitInBytes = memLimit;
  return out;
}
