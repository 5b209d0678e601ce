/**
 * The parts of Pods and Services the endpoint controllers read, and the rules they share
 * (k8s.io/endpointslice/util and pkg/api/v1/pod): readiness, which pods belong in endpoints, named
 * target ports, hostnames, and which Services select a pod.
 */
import { selectorFromSet } from '../../api/labels.ts';
import type { KubeObject, Lister } from '../../client/types.ts';

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface Container {
  name: string;
  ports?: ContainerPort[];
  restartPolicy?: string;
}

export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Pod extends KubeObject {
  spec?: {
    nodeName?: string;
    hostname?: string;
    subdomain?: string;
    containers?: Container[];
    initContainers?: Container[];
    terminationGracePeriodSeconds?: number;
  };
  status?: {
    phase?: string;
    reason?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    conditions?: PodCondition[];
  };
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  spec?: {
    selector?: Record<string, string> | null;
    ports?: ServicePort[];
    clusterIP?: string;
    type?: string;
    publishNotReadyAddresses?: boolean;
    ipFamilies?: string[];
  };
}

export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Succeeded or Failed: its containers are stopped for good. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The pod's IPs (status.podIPs, else status.podIP). */
export function podIPs(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter(Boolean);
  if (ips.length > 0) return ips;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

/** ShouldPodBeInEndpoints: not terminal, has an IP, and not terminating unless those are wanted. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (podIPs(pod).length === 0) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** The pod's hostname is published for the Service it is a subdomain of. */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return (
    !!pod.spec?.hostname &&
    pod.spec.subdomain === svc.metadata.name &&
    pod.metadata.namespace === svc.metadata.namespace
  );
}

/**
 * FindPort: the pod's port for a service port — the targetPort number, or the container port named
 * by it (regular containers, then sidecars); undefined when the pod has no such port.
 */
export function findPort(pod: Pod, svcPort: ServicePort): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  const protocol = svcPort.protocol ?? 'TCP';
  const match = (containers: Container[] | undefined) => {
    for (const c of containers ?? []) {
      for (const p of c.ports ?? []) {
        if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
      }
    }
    return undefined;
  };
  return (
    match(pod.spec?.containers) ??
    match(pod.spec?.initContainers?.filter((c) => c.restartPolicy === 'Always'))
  );
}

/** ClusterIP set and not None. */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

export function isIPv6(ip: string): boolean {
  return ip.includes(':');
}

/** Keys of the Services in the pod's namespace whose selector matches `labels`. */
export function servicesSelecting(
  services: Lister<Service>,
  namespace: string,
  labels: Record<string, string> | undefined,
): Set<string> {
  const out = new Set<string>();
  for (const svc of services.byIndex('namespace', namespace)) {
    const sel = svc.spec?.selector;
    if (!sel) continue;
    if (selectorFromSet(sel).matches(labels ?? {})) out.add(`${namespace}/${svc.metadata.name}`);
  }
  return out;
}

/**
 * The Services to sync after a pod changed from `old` to `pod` (GetPodUpdateProjectionKey and
 * GetServicesToUpdate): none when nothing endpoint-relevant changed.
 */
export function servicesForPodChange(services: Lister<Service>, old: Pod | undefined, pod: Pod): Set<string> {
  const ns = pod.metadata.namespace ?? '';
  if (!old) return servicesSelecting(services, ns, pod.metadata.labels);
  if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return new Set();
  const labelsChanged =
    !sameLabels(old.metadata.labels, pod.metadata.labels) ||
    old.spec?.hostname !== pod.spec?.hostname ||
    old.spec?.subdomain !== pod.spec?.subdomain;
  const podChanged =
    old.metadata.deletionTimestamp !== pod.metadata.deletionTimestamp ||
    isPodReady(old) !== isPodReady(pod) ||
    podIPs(old).join(',') !== podIPs(pod).join(',') ||
    old.spec?.nodeName !== pod.spec?.nodeName ||
    isPodTerminal(old) !== isPodTerminal(pod);
  if (!podChanged && !labelsChanged) return new Set();
  const now = servicesSelecting(services, ns, pod.metadata.labels);
  if (!labelsChanged) return now;
  const before = servicesSelecting(services, ns, old.metadata.labels);
  if (podChanged) return new Set([...now, ...before]);
  // Only the labels changed: the services it joined or left.
  const out = new Set<string>();
  for (const k of now) if (!before.has(k)) out.add(k);
  for (const k of before) if (!now.has(k)) out.add(k);
  return out;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a?.[k] === b?.[k]);
}

/** Deep equality of JSON data, key order ignored. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(b)) {
    const oa = a as Record<string, unknown>;
    const ob = b as Record<string, unknown>;
    const ka = Object.keys(oa).filter((k) => oa[k] !== undefined);
    const kb = Object.keys(ob).filter((k) => ob[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(oa[k], ob[k]));
  }
  return false;
}
