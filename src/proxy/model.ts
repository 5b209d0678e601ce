/**
 * What the proxy knows about a service port and its endpoints, taken from Services and
 * EndpointSlices the way kube-proxy's ServiceChangeTracker and EndpointSliceCache do: one
 * {@link ServicePortInfo} per port of every Service that has a cluster IP (ExternalName and headless
 * Services get none), and for each the endpoints of the Service's IPv4 slices whose port matches by
 * name and protocol.
 */

import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { type ServicePortChains, servicePortChains } from './chains.ts';

/** The label tying an EndpointSlice to its Service. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** Default ClientIP affinity timeout (3 hours), as Kubernetes. */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** One port of one Service, as the rules need it. */
export interface ServicePortInfo {
  /** `namespace/name`. */
  serviceKey: string;
  /** The port's name ('' when unnamed). */
  portName: string;
  /** kube-proxy's ServicePortName string: `namespace/name` or `namespace/name:portName`. */
  name: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** 0: none. */
  nodePort: number;
  externalIPs: string[];
  /** status.loadBalancer.ingress IPs. */
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  /** ClientIP affinity timeout in seconds; 0: no affinity. */
  affinitySeconds: number;
  /** NodePort/LoadBalancer, or external IPs set. */
  externallyAccessible: boolean;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  chains: ServicePortChains;
}

/** One endpoint of a service port. */
export interface EndpointInfo {
  ip: string;
  port: number;
  /** `ip:port`. */
  key: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** On this node. */
  local: boolean;
}

function isIPv4(ip: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
}

function protocolOf(p: string | undefined): Protocol | null {
  switch ((p ?? 'TCP').toUpperCase()) {
    case 'TCP':
      return 'tcp';
    case 'UDP':
      return 'udp';
    case 'SCTP':
      return 'sctp';
    default:
      return null;
  }
}

/** `namespace/name` of an object. */
export function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/**
 * The service ports kube-proxy would program for `svc` (IPv4 only): none for ExternalName, headless
 * (clusterIP None) or IP-less Services, or ones carrying the `service.kubernetes.io/service-proxy-name`
 * label (another proxy's).
 */
export function servicePorts(svc: Service): ServicePortInfo[] {
  const spec = svc.spec;
  if (!spec) return [];
  const type = spec.type ?? 'ClusterIP';
  if (type === 'ExternalName') return [];
  if (svc.metadata?.labels?.['service.kubernetes.io/service-proxy-name']) return [];
  const clusterIP = spec.clusterIPs?.find(isIPv4) ?? spec.clusterIP ?? '';
  if (!clusterIP || clusterIP === 'None' || !isIPv4(clusterIP)) return [];
  const serviceKey = keyOf(svc);
  const externallyAccessible =
    type === 'NodePort' || type === 'LoadBalancer' || (spec.externalIPs?.length ?? 0) > 0;
  const loadBalancerIPs =
    type === 'LoadBalancer'
      ? (svc.status?.loadBalancer?.ingress ?? [])
          .filter((i) => i.ipMode !== 'Proxy')
          .map((i) => i.ip ?? '')
          .filter(isIPv4)
      : [];
  const affinitySeconds =
    spec.sessionAffinity === 'ClientIP'
      ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS)
      : 0;
  const out: ServicePortInfo[] = [];
  for (const p of spec.ports ?? []) {
    const protocol = protocolOf(p.protocol);
    if (!protocol || !p.port) continue;
    const portName = p.name ?? '';
    const name = portName ? `${serviceKey}:${portName}` : serviceKey;
    out.push({
      serviceKey,
      portName,
      name,
      protocol,
      clusterIP,
      port: p.port,
      nodePort: type === 'NodePort' || type === 'LoadBalancer' ? (p.nodePort ?? 0) : 0,
      externalIPs: (spec.externalIPs ?? []).filter(isIPv4),
      loadBalancerIPs,
      loadBalancerSourceRanges: type === 'LoadBalancer' ? (spec.loadBalancerSourceRanges ?? []) : [],
      affinitySeconds,
      externallyAccessible,
      externalPolicyLocal: externallyAccessible && spec.externalTrafficPolicy === 'Local',
      internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
      chains: servicePortChains(name, protocol),
    });
  }
  return out;
}

/**
 * The endpoints of `sp` in `slices` (the Service's slices): IPv4 slices only, the first address of
 * each endpoint, the slice port with the same name and protocol; an endpoint listed twice keeps its
 * ready copy. Sorted by address, then port, so rules come out the same every time.
 */
export function endpointsFor(
  sp: ServicePortInfo,
  slices: Iterable<EndpointSlice>,
  nodeName: string,
): EndpointInfo[] {
  const byKey = new Map<string, EndpointInfo>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const port = (slice.ports ?? []).find(
      (p) => (p.name ?? '') === sp.portName && protocolOf(p.protocol ?? undefined) === sp.protocol,
    );
    if (!port?.port) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!ip || !isIPv4(ip)) continue;
      const ready = ep.conditions?.ready ?? true;
      const info: EndpointInfo = {
        ip,
        port: port.port,
        key: `${ip}:${port.port}`,
        ready,
        serving: ep.conditions?.serving ?? ready,
        terminating: ep.conditions?.terminating ?? false,
        local: !!nodeName && ep.nodeName === nodeName,
      };
      const prev = byKey.get(info.key);
      if (!prev || (!prev.ready && info.ready)) byKey.set(info.key, info);
    }
  }
  return sortEndpoints([...byKey.values()]);
}

function ipNumber(ip: string): number {
  let n = 0;
  let octet = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return n * 256 + octet;
}

/** `eps` sorted by address, then port (in place; each address parsed once). */
function sortEndpoints(eps: EndpointInfo[]): EndpointInfo[] {
  const keyed = eps.map((e) => ({ e, n: ipNumber(e.ip) }));
  keyed.sort((a, b) => a.n - b.n || a.e.port - b.e.port);
  for (let i = 0; i < keyed.length; i++) eps[i] = keyed[i]!.e;
  return eps;
}

/** The endpoints each traffic policy uses (kube-proxy's CategorizeEndpoints, without topology). */
export interface CategorizedEndpoints {
  /** For Cluster policy: ready endpoints, or serving+terminating ones when none is ready. */
  cluster: EndpointInfo[];
  /** For Local policy: local ready endpoints, or local serving+terminating ones when none is ready. */
  local: EndpointInfo[];
  /** Every endpoint a rule of this node may reach (the SEP chains to write). */
  reachable: EndpointInfo[];
  /** Whether the service has any usable endpoint anywhere in the cluster. */
  hasAny: boolean;
}

export function usesClusterEndpoints(sp: ServicePortInfo): boolean {
  return !sp.internalPolicyLocal || (sp.externallyAccessible && !sp.externalPolicyLocal);
}

export function usesLocalEndpoints(sp: ServicePortInfo): boolean {
  return sp.internalPolicyLocal || sp.externalPolicyLocal;
}

export function categorizeEndpoints(sp: ServicePortInfo, endpoints: EndpointInfo[]): CategorizedEndpoints {
  let cluster: EndpointInfo[] = [];
  let hasAny = false;
  if (usesClusterEndpoints(sp)) {
    cluster = endpoints.filter((e) => e.ready);
    if (cluster.length === 0) cluster = endpoints.filter((e) => e.serving && e.terminating);
    hasAny = cluster.length > 0;
  }
  if (!usesLocalEndpoints(sp)) return { cluster, local: [], reachable: cluster, hasAny };

  let localReady = false;
  let localServingTerminating = false;
  for (const e of endpoints) {
    if (e.ready) {
      hasAny = true;
      if (e.local) localReady = true;
    } else if (e.serving && e.terminating) {
      hasAny = true;
      if (e.local) localServingTerminating = true;
    }
  }
  let local: EndpointInfo[] = [];
  if (localReady) local = endpoints.filter((e) => e.local && e.ready);
  else if (localServingTerminating) local = endpoints.filter((e) => e.local && e.serving && e.terminating);

  if (!usesClusterEndpoints(sp)) return { cluster, local, reachable: local, hasAny };
  const seen = new Set(cluster.map((e) => e.key));
  const reachable = sortEndpoints([...cluster, ...local.filter((e) => !seen.has(e.key))]);
  return { cluster, local, reachable, hasAny };
}
