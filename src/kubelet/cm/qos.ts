/**
 * A pod's QoS class, exactly as Kubernetes computes it (pkg/apis/core/v1/helper/qos: GetPodQOS and
 * ComputePodQOS, with the PodLevelResources feature on):
 *
 * - only `cpu` and `memory` count, and only quantities above zero;
 * - when `spec.resources` (pod-level resources) is set, it alone decides;
 * - otherwise every regular and init container counts (ephemeral containers cannot set resources);
 * - BestEffort: no request and no limit at all;
 * - Guaranteed: every container (or the pod level) limits both cpu and memory, and for every resource
 *   requested the summed limit equals the summed request, with as many limited as requested;
 * - Burstable: anything else.
 */
import type { Pod, ResourceRequirements } from 'kubernetes-types/core/v1.js';
import { parseQuantity, type Quantity } from '../../api/quantity.ts';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const SUPPORTED = new Set(['cpu', 'memory']);

/** GetPodQOS: `status.qosClass` when the pod has one (it never changes), else {@link computePodQOS}. */
export function qosClass(pod: Pod): QosClass {
  const reported = pod.status?.qosClass;
  if (reported === 'Guaranteed' || reported === 'Burstable' || reported === 'BestEffort') return reported;
  return computePodQOS(pod);
}

/** ComputePodQOS: the class from the spec alone. */
export function computePodQOS(pod: Pod): QosClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let isGuaranteed = true;

  const addTo = (m: Map<string, Quantity>, name: string, q: Quantity) => {
    const prev = m.get(name);
    m.set(name, prev ? q.add(prev) : q);
  };
  /** Adds the positive supported quantities of `list` to `into`; returns the names added. */
  const collect = (list: ResourceRequirements['requests'], into: Map<string, Quantity>): Set<string> => {
    const found = new Set<string>();
    for (const [name, raw] of Object.entries(list ?? {}) as [string, string | number][]) {
      if (!SUPPORTED.has(name)) continue;
      const q = parse(raw);
      if (q && q.sign() > 0) {
        found.add(name);
        addTo(into, name, q);
      }
    }
    return found;
  };
  const limitsCoverBoth = (found: Set<string>) => found.has('memory') && found.has('cpu');

  // Pod-level resources (PodSpec.resources, 1.32+) are newer than the installed types.
  const podLevel = (pod.spec as { resources?: ResourceRequirements } | undefined)?.resources;
  if (podLevel) {
    if (Object.keys(podLevel.requests ?? {}).length > 0) collect(podLevel.requests, requests);
    if (Object.keys(podLevel.limits ?? {}).length > 0) {
      if (!limitsCoverBoth(collect(podLevel.limits, limits))) isGuaranteed = false;
    }
  } else {
    for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
      collect(c.resources?.requests, requests);
      if (!limitsCoverBoth(collect(c.resources?.limits, limits))) isGuaranteed = false;
    }
  }

  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (isGuaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (lim?.cmp(req) !== 0) {
        isGuaranteed = false;
        break;
      }
    }
  }
  return isGuaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

function parse(v: string | number | undefined): Quantity | undefined {
  if (v === undefined) return undefined;
  try {
    return parseQuantity(v);
  } catch {
    return undefined;
  }
}
