/**
 * The endpoints controller (kube-controller-manager's endpoint-controller): for each Service with a
 * selector, an Endpoints object of the same name whose subsets list the selected pods' IPs — ready
 * pods as addresses, others as notReadyAddresses (all as addresses with publishNotReadyAddresses) —
 * with each service port resolved per pod (named target ports from the containers' ports). Endpoints
 * of deleted Services are deleted. The `kubernetes` Service in `default` is left to the API server.
 */

import { ENDPOINTS, PODS, SERVICES } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject, Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { keyOf, splitKey } from '../controller.ts';
import { isNamespaceTerminating } from '../serviceaccount/controller.ts';
import {
  findPort,
  isIPv6,
  isPodReady,
  isServiceIPSet,
  jsonEqual,
  type Pod,
  podIPs,
  type Service,
  servicesForPodChange,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from './pods.ts';

/** The most addresses an Endpoints object holds (maxCapacity). */
export const MAX_ENDPOINTS_CAPACITY = 1000;
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const ANNOTATION_OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace?: string; name?: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface Endpoints extends KubeObject {
  subsets?: EndpointSubset[];
}

export interface EndpointsControllerOptions {
  /** Worker count (default 5, as --concurrent-endpoint-syncs). */
  workers?: number;
}

export class EndpointsController implements Controller {
  readonly name = 'endpoint-controller';
  readonly workers: number;
  #ctx!: ControllerContext;
  #services!: Lister<Service>;
  #pods!: Lister<Pod>;
  #endpoints!: Lister<Endpoints>;
  /** key → resourceVersion of an Endpoints we replaced (the cache is stale while it shows it). */
  readonly #stale = new Map<string, string>();

  constructor(opts: EndpointsControllerOptions = {}) {
    this.workers = opts.workers ?? 5;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    const services = ctx.informers.informer<Service>(SERVICES);
    const pods = ctx.informers.informer<Pod>(PODS);
    const endpoints = ctx.informers.informer<Endpoints>(ENDPOINTS);
    this.#services = services.lister();
    this.#pods = pods.lister();
    this.#endpoints = endpoints.lister();
    const enqueue = (o: KubeObject) => {
      if (!isApiServerManaged(keyOf(o))) ctx.queue.add(keyOf(o));
    };
    services.addEventHandler({ onAdd: enqueue, onUpdate: (_o, s) => enqueue(s), onDelete: enqueue });
    const onPod = (old: Pod | undefined, pod: Pod) => {
      for (const k of servicesForPodChange(this.#services, old, pod))
        if (!isApiServerManaged(k)) ctx.queue.add(k);
    };
    pods.addEventHandler({
      onAdd: (p) => onPod(undefined, p),
      onUpdate: (old, p) => onPod(old, p),
      onDelete: (p) => onPod(undefined, p),
    });
    endpoints.addEventHandler({
      onDelete: enqueue,
      onUpdate: (_o, ep) => {
        const k = keyOf(ep);
        if (this.#stale.has(k) && this.#stale.get(k) !== ep.metadata.resourceVersion) this.#stale.delete(k);
      },
    });
    // Once at start: Endpoints whose Service is gone (checkLeftoverEndpoints).
    void endpoints.synced().then(() => {
      for (const ep of this.#endpoints.list()) {
        if (ep.metadata.annotations?.[LEADER_ANNOTATION] === undefined) enqueue(ep);
      }
    });
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    if (isApiServerManaged(key)) return undefined;
    const { namespace, name } = splitKey(key);
    const svc = this.#services.get(key);
    if (!svc) {
      this.#stale.delete(key);
      try {
        await this.#ctx.client.delete(ENDPOINTS, namespace, name);
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
      }
      return undefined;
    }
    if (svc.spec?.type === 'ExternalName' || !svc.spec?.selector) return undefined;

    const subsets = desiredSubsets(svc, this.#podsFor(svc));
    const current = this.#endpoints.get(key);
    if (current && this.#stale.get(key) === current.metadata.resourceVersion) {
      throw new Error(`endpoints informer cache is out of date for ${key}`);
    }
    const svcLabels = svc.metadata.labels ?? {};
    if (current) {
      const { [LABEL_HEADLESS]: _h, ...compareLabels } = current.metadata.labels ?? {};
      if (
        jsonEqual(current.subsets ?? [], subsets) &&
        jsonEqual(compareLabels, svcLabels) &&
        capacityAnnotationCorrect(current)
      ) {
        return undefined;
      }
    }
    const labels: Record<string, string> = { ...svcLabels };
    if (isServiceIPSet(svc)) delete labels[LABEL_HEADLESS];
    else labels[LABEL_HEADLESS] = '';
    const annotations = { ...(current?.metadata.annotations ?? {}) };
    const truncated = truncate(subsets);
    if (truncated) annotations[ANNOTATION_OVER_CAPACITY] = 'truncated';
    else delete annotations[ANNOTATION_OVER_CAPACITY];
    const next: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { ...(current?.metadata ?? { name, namespace }), labels, annotations },
      subsets,
    };
    if (Object.keys(annotations).length === 0) delete next.metadata.annotations;
    try {
      if (!current) {
        await this.#ctx.client.create(ENDPOINTS, namespace, next);
      } else {
        const updated = await this.#ctx.client.update(ENDPOINTS, namespace, next);
        if (updated.metadata.resourceVersion !== current.metadata.resourceVersion) {
          this.#stale.set(key, current.metadata.resourceVersion ?? '');
        }
      }
    } catch (err) {
      if (!current && isNamespaceTerminating(err)) return undefined;
      throw err;
    }
    return undefined;
  }

  #podsFor(svc: Service): Pod[] {
    const selector = svc.spec?.selector ?? {};
    return this.#pods
      .byIndex('namespace', svc.metadata.namespace ?? '')
      .filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v));
  }
}

/** The Endpoints of the `kubernetes` Service are the API server's own. */
function isApiServerManaged(key: string): boolean {
  return key === 'default/kubernetes';
}

/** The address a pod has for a Service: its IP of the Service's family (the first otherwise). */
function podAddress(svc: Service, pod: Pod): EndpointAddress | undefined {
  const ips = podIPs(pod);
  const wantV6 =
    svc.spec?.ipFamilies?.[0] === 'IPv6' || (isServiceIPSet(svc) && isIPv6(svc.spec?.clusterIP ?? ''));
  const ip = ips.find((i) => isIPv6(i) === wantV6) ?? (svc.spec?.ipFamilies?.length ? undefined : ips[0]);
  if (!ip) return undefined;
  const addr: EndpointAddress = {
    ip,
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
    },
  };
  if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
  if (shouldSetHostname(pod, svc)) addr.hostname = pod.spec?.hostname;
  return addr;
}

/** The subsets a Service's pods make, repacked and sorted as the API wants them. */
export function desiredSubsets(svc: Service, pods: Pod[]): EndpointSubset[] {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const raw: { addr: EndpointAddress; ready: boolean; port?: EndpointPort }[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const addr = podAddress(svc, pod);
    if (!addr) continue;
    const ready = tolerateUnready || isPodReady(pod);
    const ports = svc.spec?.ports ?? [];
    if (ports.length === 0) {
      // A headless Service may have no ports.
      if (svc.spec?.clusterIP === 'None') raw.push({ addr, ready });
      continue;
    }
    for (const sp of ports) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
      if (!ep.name) delete ep.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      raw.push({ addr, ready, port: ep });
    }
  }
  return repack(raw);
}

const addrKey = (a: EndpointAddress) => `${a.ip}|${a.targetRef?.uid ?? ''}`;
const portKey = (p: EndpointPort) => `${p.name ?? ''}|${p.port}|${p.protocol ?? ''}|${p.appProtocol ?? ''}`;

/**
 * RepackSubsets: groups addresses by the set of ports they serve, so each subset is one set of
 * addresses × one set of ports; a ready address wins over a not-ready duplicate. Sorted.
 */
function repack(raw: { addr: EndpointAddress; ready: boolean; port?: EndpointPort }[]): EndpointSubset[] {
  const addrs = new Map<string, EndpointAddress>();
  // port key → address key → ready
  const byPort = new Map<string, { port?: EndpointPort; addrs: Map<string, boolean> }>();
  for (const r of raw) {
    const ak = addrKey(r.addr);
    addrs.set(ak, r.addr);
    const pk = r.port ? portKey(r.port) : '';
    let entry = byPort.get(pk);
    if (!entry) {
      entry = { port: r.port, addrs: new Map() };
      byPort.set(pk, entry);
    }
    entry.addrs.set(ak, (entry.addrs.get(ak) ?? false) || r.ready);
  }
  // address set → ports
  const groups = new Map<string, { addrs: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, addrs: set } of byPort.values()) {
    const k = [...set]
      .map(([a, ready]) => `${a}=${ready}`)
      .sort()
      .join(',');
    let g = groups.get(k);
    if (!g) {
      g = { addrs: set, ports: [] };
      groups.set(k, g);
    }
    if (port) g.ports.push(port);
  }
  const subsets: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ready: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [ak, isReady] of g.addrs) (isReady ? ready : notReady).push(addrs.get(ak)!);
    const byAddr = (a: EndpointAddress, b: EndpointAddress) => cmp(addrKey(a), addrKey(b));
    const s: EndpointSubset = {};
    if (ready.length) s.addresses = ready.sort(byAddr);
    if (notReady.length) s.notReadyAddresses = notReady.sort(byAddr);
    if (g.ports.length) s.ports = g.ports.sort((a, b) => cmp(portKey(a), portKey(b)));
    subsets.push(s);
  }
  return subsets.sort((a, b) => cmp(JSON.stringify(a), JSON.stringify(b)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function countAddresses(subsets: EndpointSubset[]): { ready: number; notReady: number } {
  let ready = 0;
  let notReady = 0;
  for (const s of subsets) {
    ready += s.addresses?.length ?? 0;
    notReady += s.notReadyAddresses?.length ?? 0;
  }
  return { ready, notReady };
}

function capacityAnnotationCorrect(ep: Endpoints): boolean {
  const { ready, notReady } = countAddresses(ep.subsets ?? []);
  if (ready + notReady > MAX_ENDPOINTS_CAPACITY) return false;
  return ep.metadata.annotations?.[ANNOTATION_OVER_CAPACITY] === undefined;
}

/**
 * Keeps at most MAX_ENDPOINTS_CAPACITY addresses, ready ones first, spread over the subsets in
 * proportion to their size. Returns whether anything was cut.
 */
function truncate(subsets: EndpointSubset[]): boolean {
  const { ready, notReady } = countAddresses(subsets);
  if (ready + notReady <= MAX_ENDPOINTS_CAPACITY) return false;
  const truncateReady = ready > MAX_ENDPOINTS_CAPACITY;
  const max = truncateReady ? MAX_ENDPOINTS_CAPACITY : MAX_ENDPOINTS_CAPACITY - ready;
  const total = truncateReady ? ready : notReady;
  let left = max;
  for (const s of subsets) {
    const n = (truncateReady ? s.addresses?.length : s.notReadyAddresses?.length) ?? 0;
    const take = Math.min(Math.ceil((n / total) * max), left);
    if (truncateReady) {
      s.addresses = s.addresses?.slice(0, take);
      delete s.notReadyAddresses;
      left -= s.addresses?.length ?? 0;
    } else {
      s.notReadyAddresses = s.notReadyAddresses?.slice(0, take);
      left -= s.notReadyAddresses?.length ?? 0;
    }
  }
  return true;
}
