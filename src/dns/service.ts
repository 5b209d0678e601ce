/**
 * The `kube-dns` Service in kube-system and the EndpointSlice that routes it to skiff's DNS server.
 *
 * skiff's DNS server is no pod: it runs inside `skiff server`, listening on a host address and port
 * (default 10053). So the Service has no selector (the EndpointSlice controller leaves it alone)
 * and skiff manages its one EndpointSlice itself (`kube-dns-skiff`, managed-by `skiff-server`): the
 * server node's address with the DNS port (UDP `dns` and TCP `dns-tcp`) and the metrics port. On
 * every node kube-proxy then DNATs `<tenth address>:53` to that address and port, exactly as for any
 * Service, so pods on any node reach cluster DNS at the address their resolv.conf names.
 *
 * The Service takes the tenth address of the service CIDR (10.43.0.10 for 10.43.0.0/16), the
 * address kubelets are given with --cluster-dns; the API server's allocator honours a requested
 * clusterIP (in the lower band kept for static choices). Labels are CoreDNS's (k8s-app=kube-dns,
 * kubernetes.io/name=CoreDNS, kubernetes.io/cluster-service=true), so tools looking for cluster DNS
 * by label find it.
 */
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ApiError } from '../api/errors.ts';
import { Ipv4Cidr } from '../apiserver/services/allocator.ts';
import { ENDPOINT_SLICES, SERVICES } from '../client/resources.ts';
import type { KubeObject, RestClient } from '../client/types.ts';
import { LABEL_SERVICE_NAME } from './records.ts';

export const DNS_NAMESPACE = 'kube-system';
export const DNS_SERVICE_NAME = 'kube-dns';
export const DNS_SLICE_NAME = 'kube-dns-skiff';
export const DNS_SLICE_MANAGER = 'skiff-server';
/** Where `skiff server` runs its DNS server by default (UDP and TCP). */
export const DEFAULT_DNS_PORT = 10053;
export const DEFAULT_METRICS_PORT = 9153;

const LABELS = {
  'k8s-app': 'kube-dns',
  'kubernetes.io/name': 'CoreDNS',
  'kubernetes.io/cluster-service': 'true',
};

/** The kube-dns Service could not be made as wanted (its address taken, or another one set). */
export class DnsServiceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DnsServiceError';
  }
}

/** The address cluster DNS serves on: the tenth of the service CIDR. */
export function dnsServiceIp(serviceCidr: string): string {
  return new Ipv4Cidr(serviceCidr).at(10);
}

export interface DnsServiceOptions {
  /** The host address the DNS server listens on (the server node's InternalIP). */
  endpointIP: string;
  /** The DNS server's port (default 10053). */
  dnsPort?: number;
  /** The port /metrics is served on (default 9153). */
  metricsPort?: number;
  /** The node the DNS server runs on (the endpoint's nodeName, for topology-aware proxies). */
  nodeName?: string;
}

export interface DnsServiceResult {
  clusterIP: string;
  service: Service;
  slice: EndpointSlice;
}

type Obj<T> = T & KubeObject;

/**
 * Creates or brings up to date the kube-dns Service (at the tenth address of `serviceCidr`) and its
 * EndpointSlice pointing at `endpointIP`. Idempotent; safe at every start of `skiff server` (a
 * changed node address or port updates the slice). Fails with {@link DnsServiceError} when the
 * address is held by another Service or the existing kube-dns has another cluster IP.
 */
export async function ensureDnsService(
  client: RestClient,
  serviceCidr: string,
  o: DnsServiceOptions,
): Promise<DnsServiceResult> {
  const clusterIP = dnsServiceIp(serviceCidr);
  const dnsPort = o.dnsPort ?? DEFAULT_DNS_PORT;
  const metricsPort = o.metricsPort ?? DEFAULT_METRICS_PORT;
  const service = await ensureService(client, clusterIP, dnsPort, metricsPort);
  const owner = { uid: service.metadata?.uid ?? '' };
  const slice = await ensureSlice(client, o.endpointIP, dnsPort, metricsPort, o.nodeName, owner);
  return { clusterIP, service, slice };
}

function wantedService(clusterIP: string, dnsPort: number, metricsPort: number): Obj<Service> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: DNS_SERVICE_NAME,
      namespace: DNS_NAMESPACE,
      labels: { ...LABELS },
      annotations: { 'prometheus.io/port': String(metricsPort), 'prometheus.io/scrape': 'true' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: dnsPort },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: dnsPort },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: metricsPort },
      ],
    },
  } as Obj<Service>;
}

async function ensureService(
  client: RestClient,
  clusterIP: string,
  dnsPort: number,
  metricsPort: number,
): Promise<Service> {
  const want = wantedService(clusterIP, dnsPort, metricsPort);
  let have: Obj<Service>;
  try {
    have = await client.get<Obj<Service>>(SERVICES, DNS_NAMESPACE, DNS_SERVICE_NAME);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
    try {
      return await client.create(SERVICES, DNS_NAMESPACE, want, { fieldManager: DNS_SLICE_MANAGER });
    } catch (e) {
      if (e instanceof ApiError && e.code === 422) {
        throw new DnsServiceError(
          `cannot create ${DNS_NAMESPACE}/${DNS_SERVICE_NAME} at ${clusterIP}: ${e.message}`,
          {
            cause: e,
          },
        );
      }
      if (e instanceof ApiError && e.code === 409)
        return ensureService(client, clusterIP, dnsPort, metricsPort);
      throw e;
    }
  }
  if (have.spec?.clusterIP !== clusterIP) {
    throw new DnsServiceError(
      `${DNS_NAMESPACE}/${DNS_SERVICE_NAME} has cluster IP ${have.spec?.clusterIP}, not ${clusterIP} (the tenth address of the service CIDR); delete it to let skiff recreate it`,
    );
  }
  const sameLabels = Object.entries(LABELS).every(([k, v]) => have.metadata.labels?.[k] === v);
  const samePorts =
    JSON.stringify(portsKey(have.spec?.ports)) === JSON.stringify(portsKey(want.spec?.ports)) &&
    !have.spec?.selector;
  if (sameLabels && samePorts) return have;
  const updated: Obj<Service> = {
    ...have,
    metadata: { ...have.metadata, labels: { ...have.metadata.labels, ...LABELS } },
    spec: { ...have.spec, selector: undefined, ports: want.spec!.ports },
  };
  return client.update(SERVICES, DNS_NAMESPACE, updated, { fieldManager: DNS_SLICE_MANAGER });
}

function portsKey(ports: ServicePort[] | undefined) {
  return (ports ?? []).map((p) => [p.name, p.port, p.protocol ?? 'TCP', String(p.targetPort ?? p.port)]);
}

function wantedSlice(
  ip: string,
  dnsPort: number,
  metricsPort: number,
  nodeName: string | undefined,
  owner: { uid: string },
): Obj<EndpointSlice> {
  const ownerRef = {
    apiVersion: 'v1',
    kind: 'Service',
    name: DNS_SERVICE_NAME,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: DNS_SLICE_NAME,
      namespace: DNS_NAMESPACE,
      // Deleted with the Service by the garbage collector, as the controller's slices are.
      ...(owner.uid ? { ownerReferences: [ownerRef] } : {}),
      labels: {
        [LABEL_SERVICE_NAME]: DNS_SERVICE_NAME,
        'endpointslice.kubernetes.io/managed-by': DNS_SLICE_MANAGER,
        ...LABELS,
      },
    },
    addressType: ip.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [
      {
        addresses: [ip],
        conditions: { ready: true, serving: true, terminating: false },
        ...(nodeName ? { nodeName } : {}),
      },
    ],
    ports: [
      { name: 'dns', port: dnsPort, protocol: 'UDP' },
      { name: 'dns-tcp', port: dnsPort, protocol: 'TCP' },
      { name: 'metrics', port: metricsPort, protocol: 'TCP' },
    ],
  } as Obj<EndpointSlice>;
}

async function ensureSlice(
  client: RestClient,
  ip: string,
  dnsPort: number,
  metricsPort: number,
  nodeName: string | undefined,
  owner: { uid: string },
): Promise<EndpointSlice> {
  const want = wantedSlice(ip, dnsPort, metricsPort, nodeName, owner);
  let have: Obj<EndpointSlice>;
  try {
    have = await client.get<Obj<EndpointSlice>>(ENDPOINT_SLICES, DNS_NAMESPACE, DNS_SLICE_NAME);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
    try {
      return await client.create(ENDPOINT_SLICES, DNS_NAMESPACE, want, { fieldManager: DNS_SLICE_MANAGER });
    } catch (e) {
      if (e instanceof ApiError && e.code === 409)
        return ensureSlice(client, ip, dnsPort, metricsPort, nodeName, owner);
      throw e;
    }
  }
  const same =
    JSON.stringify([have.addressType, have.endpoints, have.ports, have.metadata.labels, ownerUids(have)]) ===
    JSON.stringify([
      want.addressType,
      want.endpoints,
      want.ports,
      { ...have.metadata.labels, ...want.metadata.labels },
      ownerUids(want),
    ]);
  if (same) return have;
  return client.update(
    ENDPOINT_SLICES,
    DNS_NAMESPACE,
    {
      ...want,
      metadata: {
        ...have.metadata,
        labels: { ...have.metadata.labels, ...want.metadata.labels },
        ownerReferences: want.metadata.ownerReferences,
      },
    },
    { fieldManager: DNS_SLICE_MANAGER },
  );
}

function ownerUids(s: EndpointSlice): string[] {
  return (s.metadata?.ownerReferences ?? []).map((r) => r.uid);
}

/**
 * The kube-dns Service's cluster IP as the API has it, or null when there is none: what a joining
 * node (`skiff agent`) should default --cluster-dns to.
 */
export async function dnsServiceIpFromApi(client: RestClient): Promise<string | null> {
  try {
    const s = await client.get<Obj<Service>>(SERVICES, DNS_NAMESPACE, DNS_SERVICE_NAME);
    const ip = s.spec?.clusterIP;
    return ip && ip !== 'None' ? ip : null;
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return null;
    throw err;
  }
}
