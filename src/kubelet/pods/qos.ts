/**
 * A pod's QoS class, computed as Kubernetes does (pkg/apis/core/v1/helper/qos.GetPodQOS): only cpu
 * and memory count; init containers count with the regular ones.
 *
 * - Guaranteed: every container sets cpu and memory limits, and its requests (when set) equal them.
 * - BestEffort: no container sets any cpu or memory request or limit.
 * - Burstable: anything else.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../api/quantity.ts';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const COMPUTE = ['cpu', 'memory'] as const;

function nonZero(v: string | number | undefined): boolean {
  if (v === undefined) return false;
  try {
    return !parseQuantity(v).isZero();
  } catch {
    return false;
  }
}

/** The QoS class of `pod`; `pod.status.qosClass` is not consulted. */
export function qosClass(pod: Pod): QosClass {
  const requests = new Map<string, bigint>();
  const limits = new Map<string, bigint>();
  let isGuaranteed = true;
  const containers: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const name of COMPUTE) {
      const r = req[name];
      if (nonZero(r)) requests.set(name, (requests.get(name) ?? 0n) + parseQuantity(r!).milliValue());
    }
    const found = new Set<string>();
    for (const name of COMPUTE) {
      const l = lim[name];
      if (nonZero(l)) {
        found.add(name);
        limits.set(name, (limits.get(name) ?? 0n) + parseQuantity(l!).milliValue());
      }
    }
    if (found.size !== COMPUTE.length) isGuaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (isGuaranteed) {
    for (const [name, r] of requests) {
      if (limits.get(name) !== r) {
        isGuaranteed = false;
        break;
      }
    }
  }
  if (isGuaranteed && requests.size === limits.size) return 'Guaranteed';
  return 'Burstable';
}
