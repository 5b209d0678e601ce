/**
 * The EndpointSlice reconciler (k8s.io/endpointslice Reconciler): turns a Service and its pods into
 * the EndpointSlices it should have — per address type, one group of slices per distinct set of
 * ports, at most maxEndpointsPerSlice endpoints each — changing as few slices as it can: endpoints
 * that changed are updated in place, slices that lost all their endpoints are deleted (or reused for
 * new ones), new endpoints fill slices being updated first, then one that fits, then new slices. A
 * Service with no endpoints keeps one empty placeholder slice.
 */

import type { KubeObject, Lister } from '../../client/types.ts';
import {
  findPort,
  isIPv6,
  isPodReady,
  isServiceIPSet,
  jsonEqual,
  type Pod,
  podIPs,
  type Service,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from '../endpoints/pods.ts';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';

export type AddressType = 'IPv4' | 'IPv6';

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  targetRef?: { kind: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string };
  nodeName?: string;
  zone?: string;
  hints?: unknown;
}

export interface SlicePort {
  name?: string;
  port?: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  addressType: string;
  endpoints?: SliceEndpoint[] | null;
  ports?: SlicePort[] | null;
}

export interface SliceChanges {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Pods skipped because their node is not known (the Service should be synced again later). */
  podsWithoutNode: string[];
}

/** The address types a Service's slices have (getAddressTypesForService). */
export function addressTypesFor(svc: Service): Set<AddressType> {
  const out = new Set<AddressType>();
  for (const f of svc.spec?.ipFamilies ?? []) {
    if (f === 'IPv4' || f === 'IPv6') out.add(f);
  }
  if (out.size > 0) return out;
  if (isServiceIPSet(svc)) {
    out.add(isIPv6(svc.spec?.clusterIP ?? '') ? 'IPv6' : 'IPv4');
    return out;
  }
  out.add('IPv4');
  out.add('IPv6');
  return out;
}

export function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata.ownerReferences ?? []).some(
    (o) => o.uid === svc.metadata.uid && o.kind === 'Service' && o.apiVersion === 'v1',
  );
}

/** The slice labels: the Service's (less the reserved ones), headless, service name and manager. */
export function sliceLabels(svc: Service, controllerName: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) {
    if (!isReservedLabel(k)) labels[k] = v;
  }
  if (!isServiceIPSet(svc)) labels[LABEL_HEADLESS] = '';
  labels[LABEL_SERVICE_NAME] = svc.metadata.name ?? '';
  labels[LABEL_MANAGED_BY] = controllerName;
  return labels;
}

function isReservedLabel(k: string): boolean {
  return k === LABEL_SERVICE_NAME || k === LABEL_MANAGED_BY || k === LABEL_HEADLESS;
}

function endpointPorts(svc: Service, pod: Pod): SlicePort[] {
  const ports = svc.spec?.ports ?? [];
  const out: SlicePort[] = [];
  for (const sp of ports) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: SlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

/** A stable key of a set of ports (NewPortMapKey). */
export function portMapKey(ports: SlicePort[]): string {
  return ports
    .map((p) => `${p.name ?? ''}/${p.port ?? ''}/${p.protocol ?? ''}/${p.appProtocol ?? ''}`)
    .sort()
    .join(',');
}

/** The identity of an endpoint (hashEndpoint): its addresses, hostname and target. */
export function endpointKey(ep: SliceEndpoint): string {
  return JSON.stringify([
    [...ep.addresses].sort(),
    ep.hostname ?? '',
    ep.targetRef?.namespace ?? '',
    ep.targetRef?.name ?? '',
  ]);
}

/** Equal beyond the key: node, zone, conditions and target (resourceVersion ignored). */
function endpointsEqualBeyondKey(a: SliceEndpoint, b: SliceEndpoint): boolean {
  const ref = (e: SliceEndpoint) =>
    e.targetRef ? { ...e.targetRef, resourceVersion: undefined } : undefined;
  return (
    a.nodeName === b.nodeName &&
    a.zone === b.zone &&
    a.conditions.ready === b.conditions.ready &&
    a.conditions.serving === b.conditions.serving &&
    a.conditions.terminating === b.conditions.terminating &&
    jsonEqual(ref(a), ref(b))
  );
}

function podToEndpoint(
  pod: Pod,
  node: KubeObject | undefined,
  svc: Service,
  addressType: AddressType,
): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  // "ready" is never true for a terminating pod, unless not-ready addresses are published.
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: SliceEndpoint = {
    addresses: podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === 'IPv6')),
    conditions: { ready, serving, terminating },
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
    },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata.labels?.[LABEL_ZONE];
  if (zone) ep.zone = zone;
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec?.hostname;
  return ep;
}

function newSlice(
  svc: Service,
  ports: SlicePort[],
  addressType: AddressType,
  controllerName: string,
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${svc.metadata.name}-`,
      namespace: svc.metadata.namespace,
      labels: sliceLabels(svc, controllerName),
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: svc.metadata.name ?? '',
          uid: svc.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType,
    endpoints: [],
    ports,
  };
}

function isPlaceholder(
  slice: EndpointSlice,
  svc: Service,
  addressType: AddressType,
  controllerName: string,
): boolean {
  const p = newSlice(svc, [], addressType, controllerName);
  return (
    slice.metadata.namespace === p.metadata.namespace &&
    jsonEqual(slice.metadata.labels ?? {}, p.metadata.labels) &&
    jsonEqual(slice.metadata.ownerReferences ?? [], p.metadata.ownerReferences) &&
    slice.addressType === addressType &&
    (slice.endpoints ?? []).length === 0 &&
    (slice.ports ?? []).length === 0
  );
}

export interface ReconcilerOptions {
  maxEndpointsPerSlice: number;
  controllerName: string;
  nodes: Lister;
}

export class SliceReconciler {
  readonly #o: ReconcilerOptions;

  constructor(opts: ReconcilerOptions) {
    this.#o = opts;
  }

  /** The changes that bring `existing` (this controller's slices for `svc`) to what `pods` call for. */
  reconcile(svc: Service, pods: Pod[], existing: EndpointSlice[]): SliceChanges {
    const changes: SliceChanges = { create: [], update: [], delete: [], podsWithoutNode: [] };
    const types = addressTypesFor(svc);
    const byType = new Map<AddressType, EndpointSlice[]>();
    const unsupported: EndpointSlice[] = [];
    for (const s of existing) {
      if (!types.has(s.addressType as AddressType)) unsupported.push(s);
      else byType.set(s.addressType as AddressType, [...(byType.get(s.addressType as AddressType) ?? []), s]);
    }
    for (const t of types) this.#byAddressType(svc, pods, byType.get(t) ?? [], t, changes);
    changes.delete.push(...unsupported);
    return changes;
  }

  #byAddressType(
    svc: Service,
    pods: Pod[],
    existing: EndpointSlice[],
    addressType: AddressType,
    changes: SliceChanges,
  ): void {
    const { controllerName } = this.#o;
    const toCreate: EndpointSlice[] = [];
    const toUpdate: EndpointSlice[] = [];
    const toDelete: EndpointSlice[] = [];
    const existingByPorts = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      if (ownedBy(s, svc)) {
        const k = portMapKey(s.ports ?? []);
        existingByPorts.set(k, [...(existingByPorts.get(k) ?? []), s]);
      } else toDelete.push(s);
    }
    const desiredPorts = new Map<string, SlicePort[]>();
    const desired = new Map<string, Map<string, SliceEndpoint>>();
    const headlessNoPorts = (svc.spec?.ports ?? []).length === 0 && svc.spec?.clusterIP === 'None';
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ports = headlessNoPorts ? [] : endpointPorts(svc, pod);
      const k = portMapKey(ports);
      if (!desired.has(k)) {
        desired.set(k, new Map());
        desiredPorts.set(k, ports);
      }
      const nodeName = pod.spec?.nodeName ?? '';
      const node = nodeName ? this.#o.nodes.get(nodeName) : undefined;
      if (!node && svc.spec?.publishNotReadyAddresses !== true) {
        // The pod's node is unknown: leave the pod out for now and look again later.
        changes.podsWithoutNode.push(pod.metadata.name ?? '');
        continue;
      }
      const ep = podToEndpoint(pod, node, svc, addressType);
      if (ep.addresses.length > 0) desired.get(k)!.set(endpointKey(ep), ep);
    }
    for (const [k, set] of desired) {
      const r = this.#byPortMapping(
        svc,
        existingByPorts.get(k) ?? [],
        set,
        desiredPorts.get(k) ?? [],
        addressType,
      );
      toCreate.push(...r.create);
      toUpdate.push(...r.update);
      toDelete.push(...r.delete);
    }
    for (const [k, slices] of existingByPorts) if (!desired.has(k)) toDelete.push(...slices);
    // A Service with no endpoints keeps one empty placeholder slice.
    if (existing.length === toDelete.length && toCreate.length === 0) {
      if (toDelete.length === 1 && isPlaceholder(toDelete[0]!, svc, addressType, controllerName))
        toDelete.length = 0;
      else toCreate.push(newSlice(svc, [], addressType, controllerName));
    }
    // Reuse slices about to be deleted for ones about to be created (same owner and address type).
    for (let i = 0; i < toDelete.length && toCreate.length > 0; ) {
      const del = toDelete[i]!;
      if (del.addressType === addressType && ownedBy(del, svc)) {
        const slice = toCreate.pop()!;
        slice.metadata = {
          ...del.metadata,
          labels: slice.metadata.labels,
          ownerReferences: slice.metadata.ownerReferences,
        };
        delete slice.metadata.generateName;
        toUpdate.push(slice);
        toDelete.splice(i, 1);
      } else i++;
    }
    changes.create.push(...toCreate);
    changes.update.push(...toUpdate);
    changes.delete.push(...toDelete);
  }

  /** reconcileByPortMapping: the slices of one set of ports. `desired` is consumed. */
  #byPortMapping(
    svc: Service,
    existing: EndpointSlice[],
    desired: Map<string, SliceEndpoint>,
    ports: SlicePort[],
    addressType: AddressType,
  ): { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] } {
    const max = this.#o.maxEndpointsPerSlice;
    const labels = sliceLabels(svc, this.#o.controllerName);
    const byName = new Map<string, EndpointSlice>();
    const unchanged = new Set<string>();
    const toUpdate = new Set<string>();
    const toDelete = new Set<string>();
    // 1. Keep the endpoints still desired (updated where they changed); drop the rest.
    for (const s of existing) {
      const name = s.metadata.name ?? '';
      byName.set(name, s);
      const kept: SliceEndpoint[] = [];
      let changed = false;
      for (const ep of s.endpoints ?? []) {
        const k = endpointKey(ep);
        const want = desired.get(k);
        if (!want) continue;
        kept.push(want);
        if (!endpointsEqualBeyondKey(want, ep)) changed = true;
        desired.delete(k);
      }
      const labelsChanged = !jsonEqual(s.metadata.labels ?? {}, labels);
      if (changed || kept.length !== (s.endpoints ?? []).length) {
        if (kept.length === 0) toDelete.add(name);
        else {
          byName.set(name, {
            ...structuredClone(s),
            endpoints: kept,
            metadata: { ...structuredClone(s.metadata), labels },
          });
          toUpdate.add(name);
        }
      } else if (labelsChanged) {
        byName.set(name, { ...structuredClone(s), metadata: { ...structuredClone(s.metadata), labels } });
        toUpdate.add(name);
      } else unchanged.add(name);
    }
    const popInto = (slice: EndpointSlice) => {
      slice.endpoints ??= [];
      for (const [k, ep] of desired) {
        if (slice.endpoints.length >= max) break;
        slice.endpoints.push(ep);
        desired.delete(k);
      }
    };
    // 2. Fill the slices being updated, fullest first.
    if (desired.size > 0 && toUpdate.size > 0) {
      const slices = [...toUpdate].map((n) => byName.get(n)!);
      slices.sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
      for (const s of slices) popInto(s);
    }
    // 3. Fit the rest into one unchanged slice if one has room, else into new slices.
    const toCreate: EndpointSlice[] = [];
    while (desired.size > 0) {
      let fill: EndpointSlice | undefined;
      if (desired.size < max && unchanged.size > 0) {
        let closest = max;
        for (const n of unchanged) {
          const s = byName.get(n)!;
          const diff = max - (desired.size + (s.endpoints?.length ?? 0));
          if (diff >= 0 && diff < closest) {
            closest = diff;
            fill = s;
          }
        }
      }
      if (fill) {
        fill = structuredClone(fill);
        byName.set(fill.metadata.name ?? '', fill);
      } else fill = newSlice(svc, ports, addressType, this.#o.controllerName);
      popInto(fill);
      if (fill.metadata.name) {
        toUpdate.add(fill.metadata.name);
        unchanged.delete(fill.metadata.name);
      } else toCreate.push(fill);
    }
    return {
      create: toCreate,
      update: [...toUpdate].map((n) => byName.get(n)!),
      delete: [...toDelete].map((n) => byName.get(n)!),
    };
  }
}
