/**
 * The cluster's DNS data: Services, their EndpointSlices and the Namespaces, indexed for lookups by
 * name and by address (what CoreDNS's kubernetes plugin keeps in its informer indices). It is fed
 * object by object (from informers, see {@link watchCluster}) and never calls the API itself.
 *
 * Endpoints follow CoreDNS's reading of EndpointSlices: only ready endpoints (a missing `ready`
 * condition counts as ready), each address with the slice's ports (or none), its hostname the
 * endpoint's `hostname` or else its address with dashes.
 */
import type { Namespace, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { dashedIp, normalizeIp } from './names.ts';

/** The label tying an EndpointSlice to its Service. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';

export interface PortEntry {
  /** '' when unnamed. */
  name: string;
  /** -1 when the Service or slice declares no ports (CoreDNS's sentinel: A records, no SRV). */
  port: number;
  /** Lower case: 'tcp', 'udp', 'sctp'. */
  protocol: string;
}

export interface ServiceEntry {
  namespace: string;
  name: string;
  kind: 'ClusterIP' | 'Headless' | 'ExternalName';
  /** The cluster IPs (ClusterIP kind only). */
  clusterIPs: string[];
  /** The target name, canonical (ExternalName kind only). */
  externalName: string;
  ports: PortEntry[];
}

export interface EndpointEntry {
  ip: string;
  /** The endpoint's DNS label: its hostname, or its address with dashes. */
  hostname: string;
  ports: PortEntry[];
}

interface SliceEntry {
  /** `namespace/service`. */
  serviceKey: string;
  endpoints: EndpointEntry[];
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

function portsOf(ports: { name?: string; port?: number; protocol?: string }[] | undefined): PortEntry[] {
  if (!ports?.length) return [{ name: '', port: -1, protocol: '' }];
  return ports.map((p) => ({
    name: (p.name ?? '').toLowerCase(),
    port: p.port ?? -1,
    protocol: (p.protocol ?? 'TCP').toLowerCase(),
  }));
}

/** The DNS view of one Service, or null for one DNS ignores (no name or namespace). */
export function serviceEntry(svc: Service): ServiceEntry | null {
  const { namespace, name } = svc.metadata ?? {};
  if (!namespace || !name) return null;
  const spec = svc.spec ?? {};
  const ports = portsOf(spec.ports);
  if (spec.type === 'ExternalName') {
    const target = (spec.externalName ?? '').toLowerCase().replace(/\.$/, '');
    return { namespace, name, kind: 'ExternalName', clusterIPs: [], externalName: target, ports };
  }
  const ips = (spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : []).filter(
    (ip) => ip && ip !== 'None',
  );
  if (spec.clusterIP === 'None' || ips.length === 0) {
    return { namespace, name, kind: 'Headless', clusterIPs: [], externalName: '', ports };
  }
  return { namespace, name, kind: 'ClusterIP', clusterIPs: ips.map(normalizeIp), externalName: '', ports };
}

/** The ready endpoints of one EndpointSlice, or null when it belongs to no Service. */
export function sliceEntry(slice: EndpointSlice): SliceEntry | null {
  const namespace = slice.metadata?.namespace;
  const service = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  if (!namespace || !service) return null;
  const ports = portsOf(slice.ports ?? undefined);
  const endpoints: EndpointEntry[] = [];
  for (const ep of slice.endpoints ?? []) {
    if (ep.conditions?.ready === false) continue;
    for (const raw of ep.addresses ?? []) {
      const ip = normalizeIp(raw);
      endpoints.push({ ip, hostname: (ep.hostname ?? '').toLowerCase() || dashedIp(ip), ports });
    }
  }
  return { serviceKey: key(namespace, service), endpoints };
}

/** A name an address points back to (PTR): the Service or the endpoint's own name, zone excluded. */
export interface ReverseEntry {
  /** `svc.ns.svc` or `host.svc.ns.svc`. */
  name: string;
}

/**
 * The index. Every change bumps {@link ClusterRecords.generation}, so answers cached against an older
 * generation are known to be stale.
 */
export class ClusterRecords {
  readonly #services = new Map<string, ServiceEntry>();
  readonly #slices = new Map<string, SliceEntry>();
  /** serviceKey → slice keys. */
  readonly #slicesByService = new Map<string, Set<string>>();
  /** cluster IP → service keys. */
  readonly #serviceByIp = new Map<string, Set<string>>();
  /** endpoint IP → slice keys. */
  readonly #sliceByIp = new Map<string, Set<string>>();
  readonly #namespaces = new Set<string>();
  #generation = 0;
  #modified: number;
  readonly #now: () => number;

  /** `now` stamps changes (the SOA serial is the time of the last one, in seconds). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#modified = now();
  }

  /** Increases with every change. */
  get generation(): number {
    return this.#generation;
  }

  /** Unix seconds of the last change (the zone's SOA serial, as CoreDNS's). */
  get serial(): number {
    return Math.floor(this.#modified / 1000) >>> 0;
  }

  #changed(): void {
    this.#generation++;
    this.#modified = this.#now();
  }

  upsertService(svc: Service): void {
    const e = serviceEntry(svc);
    if (!e) return;
    this.#removeService(key(e.namespace, e.name));
    const k = key(e.namespace, e.name);
    this.#services.set(k, e);
    for (const ip of e.clusterIPs) addTo(this.#serviceByIp, ip, k);
    this.#changed();
  }

  deleteService(svc: Service): void {
    const { namespace, name } = svc.metadata ?? {};
    if (!namespace || !name) return;
    this.#removeService(key(namespace, name));
    this.#changed();
  }

  #removeService(k: string): void {
    const old = this.#services.get(k);
    if (!old) return;
    for (const ip of old.clusterIPs) removeFrom(this.#serviceByIp, ip, k);
    this.#services.delete(k);
  }

  upsertSlice(slice: EndpointSlice): void {
    const sk = key(slice.metadata?.namespace ?? '', slice.metadata?.name ?? '');
    this.#removeSlice(sk);
    const e = sliceEntry(slice);
    if (e) {
      this.#slices.set(sk, e);
      addTo(this.#slicesByService, e.serviceKey, sk);
      for (const ep of e.endpoints) addTo(this.#sliceByIp, ep.ip, sk);
    }
    this.#changed();
  }

  deleteSlice(slice: EndpointSlice): void {
    this.#removeSlice(key(slice.metadata?.namespace ?? '', slice.metadata?.name ?? ''));
    this.#changed();
  }

  #removeSlice(sk: string): void {
    const old = this.#slices.get(sk);
    if (!old) return;
    removeFrom(this.#slicesByService, old.serviceKey, sk);
    for (const ep of old.endpoints) removeFrom(this.#sliceByIp, ep.ip, sk);
    this.#slices.delete(sk);
  }

  upsertNamespace(ns: Namespace): void {
    const name = ns.metadata?.name;
    if (!name || this.#namespaces.has(name)) return;
    this.#namespaces.add(name);
    this.#changed();
  }

  deleteNamespace(ns: Namespace): void {
    if (ns.metadata?.name && this.#namespaces.delete(ns.metadata.name)) this.#changed();
  }

  hasNamespace(name: string): boolean {
    return this.#namespaces.has(name);
  }

  service(namespace: string, name: string): ServiceEntry | undefined {
    return this.#services.get(key(namespace, name));
  }

  /** The ready endpoints of a Service, over all its slices (an address may repeat across slices). */
  endpoints(namespace: string, name: string): EndpointEntry[] {
    const keys = this.#slicesByService.get(key(namespace, name));
    if (!keys) return [];
    const out: EndpointEntry[] = [];
    for (const sk of keys) out.push(...(this.#slices.get(sk)?.endpoints ?? []));
    return out;
  }

  /**
   * The names `ip` points back to, zone excluded: the Service whose cluster IP it is or, failing
   * that, every endpoint with that address (CoreDNS's serviceRecordForIP).
   */
  reverse(ip: string): ReverseEntry[] {
    const addr = normalizeIp(ip);
    for (const k of this.#serviceByIp.get(addr) ?? []) {
      const s = this.#services.get(k);
      if (s) return [{ name: `${s.name}.${s.namespace}.svc` }];
    }
    const out: ReverseEntry[] = [];
    for (const sk of this.#sliceByIp.get(addr) ?? []) {
      const slice = this.#slices.get(sk);
      if (!slice) continue;
      const [ns, svc] = slice.serviceKey.split('/') as [string, string];
      for (const ep of slice.endpoints) {
        if (ep.ip === addr) out.push({ name: `${ep.hostname}.${svc}.${ns}.svc` });
      }
    }
    return out;
  }

  /** Numbers of indexed objects, for logs and tests. */
  stats(): { services: number; slices: number; namespaces: number } {
    return { services: this.#services.size, slices: this.#slices.size, namespaces: this.#namespaces.size };
  }
}

function addTo(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) {
    s = new Set();
    m.set(k, s);
  }
  s.add(v);
}

function removeFrom(m: Map<string, Set<string>>, k: string, v: string): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}
