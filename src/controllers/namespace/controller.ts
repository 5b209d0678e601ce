/**
 * The namespace controller (kube-controller-manager's namespace-controller): a namespace being
 * deleted (deletionTimestamp set, phase Terminating, `kubernetes` in spec.finalizers) is emptied of
 * every namespaced object, waited on until nothing is left, and then finalized: `kubernetes` is
 * removed from spec.finalizers through PUT /api/v1/namespaces/{name}/finalize, upon which the API
 * server removes the namespace.
 */

import { NAMESPACES } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { keyOf } from '../controller.ts';
import type { Discovery } from '../garbagecollector/discovery.ts';
import { type NamespaceCondition, NamespacedResourcesDeleter } from './deleter.ts';

export const FINALIZER_KUBERNETES = 'kubernetes';

export interface NamespaceControllerOptions {
  discovery: Discovery;
  /**
   * How long after a namespace event it is processed, ms (namespaceDeletionGracePeriod, 5 s): time
   * for caches elsewhere to see the namespace terminating, so no new content slips in.
   */
  deletionGracePeriodMs?: number;
  /**
   * Write the deletion conditions to the namespace's status. Off by default: skiff's API server
   * currently removes a terminating namespace on any write that leaves metadata.finalizers empty,
   * ignoring spec.finalizers, so a status write would drop the namespace before it is empty.
   */
  reportConditions?: boolean;
  /** Worker count (default 2). */
  workers?: number;
}

export interface Namespace extends KubeObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: string; conditions?: NamespaceCondition[] };
}

export class NamespaceController implements Controller {
  readonly name = 'namespace-controller';
  readonly workers: number;
  readonly #o: NamespaceControllerOptions;
  #ctx!: ControllerContext;
  #deleter!: NamespacedResourcesDeleter;

  constructor(opts: NamespaceControllerOptions) {
    this.#o = opts;
    this.workers = opts.workers ?? 2;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#deleter = new NamespacedResourcesDeleter(ctx.client, this.#o.discovery, () => ctx.clock.now());
    const grace = this.#o.deletionGracePeriodMs ?? 5000;
    const enqueue = (ns: KubeObject) => {
      if (ns.metadata.deletionTimestamp) ctx.queue.addAfter(keyOf(ns), grace);
    };
    ctx.informers.informer(NAMESPACES).addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, ns) => enqueue(ns),
    });
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const ns = await this.#get(key);
    if (!ns?.metadata.deletionTimestamp) return undefined;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return undefined;
    const deletedAt = Date.parse(ns.metadata.deletionTimestamp);
    const result = await this.#deleter.deleteAllContent(key, Number.isNaN(deletedAt) ? 0 : deletedAt);
    if (this.#o.reportConditions) await this.#updateConditions(ns, result.conditions);
    if (result.errors.length > 0) {
      throw new AggregateError(
        result.errors,
        `namespace ${key}: ${result.errors.map((e) => e.message).join('; ')}`,
      );
    }
    if (result.estimateSeconds > 0) {
      this.#ctx.log.debug(
        { namespace: key, remaining: Object.fromEntries(result.remaining) },
        'content remains',
      );
      return { requeueAfterMs: (Math.floor(result.estimateSeconds / 2) + 1) * 1000 };
    }
    await this.#finalize(key);
    return undefined;
  }

  async #get(name: string): Promise<Namespace | null> {
    try {
      return await this.#ctx.client.get<Namespace>(NAMESPACES, '', name);
    } catch (err) {
      if (isApiError(err, 404)) return null;
      throw err;
    }
  }

  /** Removes `kubernetes` from spec.finalizers through the finalize subresource. */
  async #finalize(name: string): Promise<void> {
    const ns = await this.#get(name);
    if (!ns) return;
    const finalizers = ns.spec?.finalizers ?? [];
    if (!finalizers.includes(FINALIZER_KUBERNETES)) return;
    const next: Namespace = {
      ...ns,
      spec: { ...ns.spec, finalizers: finalizers.filter((f) => f !== FINALIZER_KUBERNETES) },
    };
    try {
      await this.#ctx.client.update(NAMESPACES, '', next, { subresource: 'finalize' });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
  }

  /** Writes the phase and conditions to the namespace's status when they changed. */
  async #updateConditions(ns: Namespace, found: NamespaceCondition[]): Promise<void> {
    const now = new Date(this.#ctx.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    const current = ns.status?.conditions ?? [];
    const byType = new Map(current.map((c) => [c.type, c]));
    let changed = ns.status?.phase !== 'Terminating';
    const conditions: NamespaceCondition[] = current.filter((c) => !found.some((f) => f.type === c.type));
    for (const f of found) {
      const old = byType.get(f.type);
      if (old && old.status === f.status && old.reason === f.reason && old.message === f.message) {
        conditions.push(old);
        continue;
      }
      // Conditions that are fine are recorded only once something was wrong (as Kubernetes does).
      if (!old && f.status === 'False') continue;
      changed = true;
      conditions.push({
        ...f,
        lastTransitionTime: old && old.status === f.status ? (old.lastTransitionTime ?? now) : now,
      });
    }
    if (!changed) return;
    try {
      await this.#ctx.client.update(
        NAMESPACES,
        '',
        { ...ns, status: { ...ns.status, phase: 'Terminating', conditions } },
        { subresource: 'status' },
      );
    } catch (err) {
      if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
    }
  }
}
