/**
 * The EndpointSlice controller (kube-controller-manager's endpointslice-controller): for each Service
 * with a selector, EndpointSlices (discovery.k8s.io/v1) listing the selected pods — addresses of the
 * Service's address types, ready/serving/terminating conditions from the pod's Ready condition and
 * deletionTimestamp, ports resolved per pod, nodeName, zone (the node's topology label), hostname and
 * a targetRef to the pod — labelled `kubernetes.io/service-name` and
 * `endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io` and owned by the Service
 * (the garbage collector removes them with it). See reconciler.ts for how slices are packed.
 */

import { ENDPOINT_SLICES, NODES, PODS, SERVICES } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { keyOf, splitKey } from '../controller.ts';
import { type Pod, type Service, servicesForPodChange } from '../endpoints/pods.ts';
import { isNamespaceTerminating } from '../serviceaccount/controller.ts';
import {
  CONTROLLER_NAME,
  type EndpointSlice,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  SliceReconciler,
} from './reconciler.ts';

export interface EndpointSliceControllerOptions {
  /** --max-endpoints-per-slice (100). */
  maxEndpointsPerSlice?: number;
  /** Worker count (default 5, as --concurrent-service-endpoint-syncs). */
  workers?: number;
}

/** How long an expectation about the cache is kept, ms. */
const EXPECTATION_TTL_MS = 60_000;

/** resourceVersion as a number, for "is the cache at least as new as what we wrote". */
function rvOf(slice: { metadata: { resourceVersion?: string } }): number {
  const n = Number(slice.metadata.resourceVersion);
  return Number.isFinite(n) ? n : 0;
}

export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice-controller';
  readonly workers: number;
  readonly #max: number;
  #ctx!: ControllerContext;
  #services!: Lister<Service>;
  #pods!: Lister<Pod>;
  #slices!: Lister<EndpointSlice>;
  #reconciler!: SliceReconciler;
  /**
   * What this controller wrote and the cache has not shown yet (the EndpointSliceTracker):
   * service key → slice name → the resourceVersion written, or 'deleted'.
   */
  readonly #expected = new Map<string, Map<string, { rv: number | 'deleted'; at: number }>>();

  constructor(opts: EndpointSliceControllerOptions = {}) {
    this.#max = opts.maxEndpointsPerSlice ?? 100;
    this.workers = opts.workers ?? 5;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    const services = ctx.informers.informer<Service>(SERVICES);
    const pods = ctx.informers.informer<Pod>(PODS);
    const slices = ctx.informers.informer<EndpointSlice>(ENDPOINT_SLICES);
    const nodes = ctx.informers.informer(NODES);
    this.#services = services.lister();
    this.#pods = pods.lister();
    this.#slices = slices.lister();
    this.#reconciler = new SliceReconciler({
      maxEndpointsPerSlice: this.#max,
      controllerName: CONTROLLER_NAME,
      nodes: nodes.lister(),
    });
    services.addEventHandler({
      onAdd: (s) => ctx.queue.add(keyOf(s)),
      onUpdate: (_o, s) => ctx.queue.add(keyOf(s)),
      onDelete: (s) => {
        this.#expected.delete(keyOf(s));
        ctx.queue.add(keyOf(s));
      },
    });
    const onPod = (old: Pod | undefined, pod: Pod) => {
      for (const k of servicesForPodChange(this.#services, old, pod)) ctx.queue.add(k);
    };
    pods.addEventHandler({
      onAdd: (p) => onPod(undefined, p),
      onUpdate: (old, p) => onPod(old, p),
      onDelete: (p) => onPod(undefined, p),
    });
    const onSlice = (slice: EndpointSlice, deleted: boolean) => {
      if (slice.metadata.labels?.[LABEL_MANAGED_BY] !== CONTROLLER_NAME) return;
      const svc = slice.metadata.labels?.[LABEL_SERVICE_NAME];
      if (!svc) return;
      const key = `${slice.metadata.namespace}/${svc}`;
      const name = slice.metadata.name ?? '';
      const want = this.#expected.get(key)?.get(name);
      // Our own writes need no sync; anyone else's change (or deletion) does.
      if (deleted) {
        if (want !== undefined) this.#forget(key, name);
        if (want?.rv !== 'deleted') ctx.queue.add(key);
        return;
      }
      if (want === undefined) {
        ctx.queue.add(key);
        return;
      }
      if (want.rv === 'deleted') return;
      const rv = rvOf(slice);
      if (rv < want.rv) return;
      this.#forget(key, name);
      if (rv > want.rv) ctx.queue.add(key);
    };
    slices.addEventHandler({
      onAdd: (s) => onSlice(s, false),
      onUpdate: (old, s) => {
        if (old.metadata.resourceVersion !== s.metadata.resourceVersion) onSlice(s, false);
      },
      onDelete: (s) => onSlice(s, true),
    });
    // A pod whose node appears may now be included (at start-up every Service is synced anyway).
    nodes.addEventHandler({
      onAdd: (node) => {
        if (!nodes.hasSynced()) return;
        for (const pod of this.#pods.list()) {
          if (pod.spec?.nodeName === node.metadata.name) onPod(undefined, pod);
        }
      },
    });
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace, name } = splitKey(key);
    const svc = this.#services.get(key);
    // A deleted Service's slices go with it (the garbage collector, through their owner reference).
    if (!svc) {
      this.#expected.delete(key);
      return undefined;
    }
    if (svc.spec?.type === 'ExternalName' || !svc.spec?.selector) return undefined;
    const selector = svc.spec.selector;
    const pods = this.#pods
      .byIndex('namespace', namespace)
      .filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v));
    const slices = this.#slices
      .byIndex('namespace', namespace)
      .filter(
        (s) =>
          s.metadata.labels?.[LABEL_SERVICE_NAME] === name &&
          s.metadata.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME &&
          !s.metadata.deletionTimestamp,
      );
    if (this.#stale(key, slices)) throw new Error(`EndpointSlice informer cache is out of date for ${key}`);
    const changes = this.#reconciler.reconcile(svc, pods, slices);
    const { client } = this.#ctx;
    // No new slices for a Service being deleted (they would race the garbage collector).
    if (!svc.metadata.deletionTimestamp) {
      for (const slice of changes.create) {
        try {
          const created = await client.create(ENDPOINT_SLICES, namespace, slice);
          this.#expect(key, created.metadata.name ?? '', rvOf(created));
        } catch (err) {
          if (isNamespaceTerminating(err)) return undefined;
          throw err;
        }
      }
    }
    for (const slice of changes.update) {
      const updated = await client.update(ENDPOINT_SLICES, namespace, slice);
      this.#expect(key, updated.metadata.name ?? '', rvOf(updated));
    }
    for (const slice of changes.delete) {
      try {
        await client.delete(ENDPOINT_SLICES, namespace, slice.metadata.name ?? '');
        this.#expect(key, slice.metadata.name ?? '', 'deleted');
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
      }
    }
    if (changes.podsWithoutNode.length > 0) {
      throw new Error(`pods of ${key} on nodes not (yet) known: ${changes.podsWithoutNode.join(', ')}`);
    }
    return undefined;
  }

  #expect(key: string, name: string, rv: number | 'deleted'): void {
    let m = this.#expected.get(key);
    if (!m) {
      m = new Map();
      this.#expected.set(key, m);
    }
    m.set(name, { rv, at: this.#ctx.clock.now() });
  }

  #forget(key: string, name: string): void {
    const m = this.#expected.get(key);
    if (!m) return;
    m.delete(name);
    if (m.size === 0) this.#expected.delete(key);
  }

  /** Whether the cache lags behind what this controller wrote for `key`. */
  #stale(key: string, cached: EndpointSlice[]): boolean {
    const expected = this.#expected.get(key);
    if (!expected) return false;
    const byName = new Map(cached.map((s) => [s.metadata.name ?? '', s]));
    const now = this.#ctx.clock.now();
    for (const [name, want] of expected) {
      // An expectation the cache never met (e.g. events lost to a relist) stops counting after a while.
      if (now - want.at > EXPECTATION_TTL_MS) {
        this.#forget(key, name);
        continue;
      }
      const s = byName.get(name);
      if (want.rv === 'deleted' ? s !== undefined : !s || rvOf(s) < want.rv) return true;
    }
    return false;
  }
}
