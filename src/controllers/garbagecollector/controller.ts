/**
 * The garbage collector (kube-controller-manager's garbagecollector): watches every deletable
 * resource it discovers (custom resources included, rediscovered every 30 s), keeps the dependency
 * graph of ownerReferences, and
 * - background: deletes dependents none of whose owners exist any more (an owner whose uid differs
 *   from the reference is absent too);
 * - foreground: an owner deleted with the `foregroundDeletion` finalizer has its dependents deleted
 *   (in the foreground themselves when they have dependents); once no dependent with
 *   blockOwnerDeletion is left, the finalizer is removed and the owner goes;
 * - orphan: an owner deleted with the `orphan` finalizer has the references to it removed from its
 *   dependents, then the finalizer removed.
 *
 * Two internal queues share the controller's one work queue: keys `delete/<uid>` (attemptToDelete)
 * and `orphan/<uid>` (attemptToOrphan).
 */

import { apiVersionOf } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { Informer, KubeObject, ResourceRef } from '../../client/types.ts';
import { sleep } from '../../util/clock.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { type DiscoveredResource, type Discovery, KindMapper, supports } from './discovery.ts';
import {
  DependencyGraph,
  FINALIZER_FOREGROUND,
  FINALIZER_ORPHAN,
  type GraphNode,
  type Identity,
  identityString,
  type OwnerReference,
} from './graph.ts';

export interface GarbageCollectorOptions {
  discovery: Discovery;
  /** How often resources are rediscovered (new CRDs get monitors), ms; default 30 s. */
  resyncPeriodMs?: number;
  /** Resources never watched, as `group/resource` (default: core and events.k8s.io events). */
  ignoredResources?: string[];
  /** Worker count (default 4). */
  workers?: number;
}

const DEFAULT_IGNORED = ['/events', 'events.k8s.io/events'];

/** Thrown when a decision is deferred to a virtual delete event (nothing to retry). */
class Settled extends Error {}
/** Thrown when an item must be looked at again later with back-off. */
class Retry extends Error {}

export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector-controller';
  readonly workers: number;
  readonly #o: GarbageCollectorOptions;
  readonly #ignored: Set<string>;
  readonly #mapper = new KindMapper();
  readonly #monitors = new Map<string, { ref: ResourceRef; informer: Informer }>();
  #ctx!: ControllerContext;
  #graph!: DependencyGraph;
  #ready!: Promise<void>;
  #stopped = false;
  #cancelTimer: () => void = () => {};

  constructor(opts: GarbageCollectorOptions) {
    this.#o = opts;
    this.workers = opts.workers ?? 4;
    this.#ignored = new Set(opts.ignoredResources ?? DEFAULT_IGNORED);
  }

  /** The dependency graph (for tests and debugging). */
  get graph(): DependencyGraph {
    return this.#graph;
  }

  /** Resolves once the first discovery's monitors have synced. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** The resources being watched, as `group/resource`. */
  monitored(): string[] {
    return [...this.#monitors.keys()].sort();
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#graph = new DependencyGraph({
      attemptToDelete: (node, rateLimited) => {
        const key = `delete/${node.identity.uid}`;
        if (rateLimited) ctx.queue.addRateLimited(key);
        else ctx.queue.add(key);
      },
      attemptToOrphan: (node) => ctx.queue.add(`orphan/${node.identity.uid}`),
    });
    this.#ready = this.#start();
    this.#ready.catch(() => {});
  }

  /** Stops rediscovery (the manager stopping also stops it, at the next period). */
  stop(): void {
    this.#stopped = true;
    this.#cancelTimer();
  }

  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | undefined> {
    await this.#ready;
    if (signal.aborted) return undefined;
    const slash = key.indexOf('/');
    const kind = key.slice(0, slash);
    const node = this.#graph.node(key.slice(slash + 1));
    if (!node) return undefined;
    if (kind === 'orphan') {
      await this.#orphanDependents(node);
      await this.#removeFinalizer(node, FINALIZER_ORPHAN);
      return undefined;
    }
    try {
      await this.#attemptToDeleteItem(node);
    } catch (err) {
      if (err instanceof Settled) return undefined;
      throw err;
    }
    // A virtual node whose object exists waits for its informer event (requeue with back-off).
    if (node.virtual && this.#graph.node(node.identity.uid) === node) {
      throw new Retry(`${identityString(node.identity)} has not been observed yet`);
    }
    return undefined;
  }

  // ---- monitors ----

  #isStopped(): boolean {
    return this.#stopped || (this.#ctx.queue as { shuttingDown?: boolean }).shuttingDown === true;
  }

  async #start(): Promise<void> {
    let delay = 500;
    for (;;) {
      if (this.#isStopped()) throw new Error('the garbage collector stopped before it started');
      try {
        const informers = await this.#syncMonitors();
        await Promise.all(informers.map((i) => i.synced()));
        break;
      } catch (err) {
        this.#ctx.log.warn({ err }, 'garbage collector: discovery failed; retrying');
        await sleep(this.#ctx.clock, delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
    this.#ctx.log.debug({ monitors: this.#monitors.size }, 'garbage collector: monitors synced');
    this.#scheduleResync();
  }

  #scheduleResync(): void {
    this.#cancelTimer = this.#ctx.clock.setTimeout(() => {
      if (this.#isStopped()) return;
      this.#syncMonitors()
        .catch((err) => this.#ctx.log.warn({ err }, 'garbage collector: rediscovery failed'))
        .finally(() => {
          if (!this.#isStopped()) this.#scheduleResync();
        });
    }, this.#o.resyncPeriodMs ?? 30_000);
  }

  /** Discovers the deletable resources and starts a monitor for each new one; returns all monitors. */
  async #syncMonitors(): Promise<Informer[]> {
    const { resources, failed } = await this.#o.discovery.preferredResources();
    if (failed.size > 0) {
      this.#ctx.log.warn(
        { groups: [...failed.keys()] },
        'garbage collector: some groups were not discovered',
      );
    }
    this.#mapper.update(resources);
    for (const r of resources) {
      if (!supports(r, 'delete', 'list', 'watch')) continue;
      const k = `${r.group}/${r.resource}`;
      if (this.#ignored.has(k) || this.#monitors.has(k)) continue;
      this.#monitors.set(k, { ref: r, informer: this.#monitor(r) });
    }
    return [...this.#monitors.values()].map((m) => m.informer);
  }

  #monitor(r: DiscoveredResource): Informer {
    const ref: ResourceRef = {
      group: r.group,
      version: r.version,
      resource: r.resource,
      kind: r.kind,
      namespaced: r.namespaced,
    };
    const informer = this.#ctx.informers.informer(ref);
    const apiVersion = apiVersionOf(ref);
    const id = (o: KubeObject): Identity => ({
      apiVersion,
      kind: ref.kind,
      name: o.metadata.name ?? '',
      uid: o.metadata.uid ?? '',
      namespace: ref.namespaced ? (o.metadata.namespace ?? '') : '',
    });
    informer.addEventHandler({
      onAdd: (o) => this.#graph.process({ type: 'add', identity: id(o), obj: o }),
      onUpdate: (old, o) => {
        if (old !== o) this.#graph.process({ type: 'update', identity: id(o), obj: o, oldObj: old });
      },
      onDelete: (o) => this.#graph.process({ type: 'delete', identity: id(o), obj: o }),
    });
    return informer;
  }

  // ---- API access ----

  /** The resource and namespace to reach `id` at; throws Retry when its kind is unknown. */
  #locate(id: Identity): { ref: ResourceRef; namespace: string } {
    const ref = this.#mapper.lookup(id.apiVersion, id.kind);
    if (!ref) throw new Retry(`no resource serves ${id.apiVersion}/${id.kind} (yet)`);
    return { ref, namespace: ref.namespaced ? id.namespace : '' };
  }

  async #getObject(id: Identity): Promise<KubeObject | null> {
    const { ref, namespace } = this.#locate(id);
    if (ref.namespaced && !namespace) {
      // A cluster-scoped object cannot be owned by a namespaced one: nothing will ever resolve this.
      this.#ctx.log.info({ item: identityString(id) }, 'a namespaced owner of a cluster-scoped object');
      throw new Settled();
    }
    try {
      return await this.#ctx.client.get(ref, namespace, id.name);
    } catch (err) {
      if (isApiError(err, 404)) return null;
      throw err;
    }
  }

  #virtualDelete(id: Identity): never {
    this.#graph.process({ type: 'delete', identity: id, virtual: true });
    throw new Settled();
  }

  async #deleteObject(id: Identity, policy: 'Orphan' | 'Background' | 'Foreground'): Promise<void> {
    const { ref, namespace } = this.#locate(id);
    this.#ctx.log.debug({ item: identityString(id), policy }, 'garbage collector: deleting');
    try {
      await this.#ctx.client.delete(ref, namespace, id.name, {
        propagationPolicy: policy,
        preconditions: { uid: id.uid },
      });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
  }

  /**
   * Writes `mutate(latest)` as a JSON merge patch of metadata, conditioned on the resourceVersion
   * read (retrying on conflicts). `mutate` returns the metadata fields to set, or null for no change.
   */
  async #patchMeta(
    id: Identity,
    mutate: (latest: KubeObject) => Record<string, unknown> | null,
  ): Promise<void> {
    const { ref, namespace } = this.#locate(id);
    for (let attempt = 0; ; attempt++) {
      const latest = await this.#getObject(id);
      if (!latest || latest.metadata.uid !== id.uid) return;
      const meta = mutate(latest);
      if (!meta) return;
      try {
        await this.#ctx.client.patch(ref, namespace, id.name, 'merge', {
          metadata: { ...meta, uid: id.uid, resourceVersion: latest.metadata.resourceVersion },
        });
        return;
      } catch (err) {
        if (isApiError(err, 404)) return;
        if (isApiError(err, 409) && attempt < 5) continue;
        throw err;
      }
    }
  }

  async #removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    await this.#patchMeta(node.identity, (latest) => {
      const finalizers = latest.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return null;
      const rest = finalizers.filter((f) => f !== finalizer);
      return { finalizers: rest.length > 0 ? rest : null };
    });
  }

  /** Removes the references to the owners with `uids` from `node`'s object. */
  async #removeOwnerReferences(node: GraphNode, uids: Set<string>): Promise<void> {
    await this.#patchMeta(node.identity, (latest) => {
      const refs = (latest.metadata.ownerReferences ?? []) as OwnerReference[];
      const rest = refs.filter((r) => !uids.has(r.uid));
      if (rest.length === refs.length) return null;
      return { ownerReferences: rest.length > 0 ? rest : null };
    });
  }

  // ---- decisions ----

  async #orphanDependents(owner: GraphNode): Promise<void> {
    const uids = new Set([owner.identity.uid]);
    const errors: unknown[] = [];
    await Promise.all(
      [...owner.dependents].map((dep) => this.#removeOwnerReferences(dep, uids).catch((e) => errors.push(e))),
    );
    if (errors.length > 0) throw errors[0];
  }

  /** attemptToDeleteItem: decides whether `item` is garbage, and acts. */
  async #attemptToDeleteItem(item: GraphNode): Promise<void> {
    // Already going, and not waiting for its dependents: its final delete event will come.
    if (item.beingDeleted && !item.deletingDependents) return;
    const latest = await this.#getObject(item.identity);
    if (!latest || latest.metadata.uid !== item.identity.uid) this.#virtualDelete(item.identity);
    if (item.deletingDependents) {
      await this.#processDeletingDependents(item);
      return;
    }
    const refs = (latest.metadata.ownerReferences ?? []) as OwnerReference[];
    if (refs.length === 0) return;
    const { solid, dangling, waiting } = await this.#classifyReferences(item, refs);
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // Keep the solid owners; drop references to absent owners and to owners deleting in the
      // foreground (those would otherwise wait for this object forever).
      await this.#removeOwnerReferences(item, new Set([...dangling, ...waiting].map((r) => r.uid)));
      return;
    }
    if (waiting.length > 0 && item.dependents.size > 0) {
      // An owner waits for this object, which has dependents of its own: delete it in the foreground.
      if ([...item.dependents].some((d) => d.deletingDependents)) {
        // A cycle of foreground deletions: stop blocking our owners.
        await this.#patchMeta(item.identity, (l) => {
          const own = (l.metadata.ownerReferences ?? []) as OwnerReference[];
          if (!own.some((r) => r.blockOwnerDeletion)) return null;
          return { ownerReferences: own.map((r) => ({ ...r, blockOwnerDeletion: false })) };
        });
      }
      await this.#deleteObject(item.identity, 'Foreground');
      return;
    }
    // No owner is left: garbage. Its own finalizers say how its dependents go.
    const finalizers = latest.metadata.finalizers ?? [];
    const policy = finalizers.includes(FINALIZER_ORPHAN)
      ? 'Orphan'
      : finalizers.includes(FINALIZER_FOREGROUND)
        ? 'Foreground'
        : 'Background';
    await this.#deleteObject(item.identity, policy);
  }

  async #processDeletingDependents(item: GraphNode): Promise<void> {
    const blocking = item.blockingDependents();
    if (blocking.length === 0) {
      await this.#removeFinalizer(item, FINALIZER_FOREGROUND);
      return;
    }
    for (const dep of blocking) {
      if (!dep.deletingDependents) this.#ctx.queue.add(`delete/${dep.identity.uid}`);
    }
  }

  /** Sorts an item's owner references into solid (owner exists), dangling (absent) and waiting (owner deleting in the foreground). */
  async #classifyReferences(
    item: GraphNode,
    refs: OwnerReference[],
  ): Promise<{ solid: OwnerReference[]; dangling: OwnerReference[]; waiting: OwnerReference[] }> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const owner = await this.#owner(item, ref);
      if (!owner) dangling.push(ref);
      else if (
        owner.metadata.deletionTimestamp &&
        (owner.metadata.finalizers ?? []).includes(FINALIZER_FOREGROUND)
      )
        waiting.push(ref);
      else solid.push(ref);
    }
    return { solid, dangling, waiting };
  }

  /** The owner `ref` names, or null when it is absent (isDangling). */
  async #owner(item: GraphNode, ref: OwnerReference): Promise<KubeObject | null> {
    const clusterId: Identity = { ...pickRef(ref), namespace: '' };
    if (this.#graph.absentOwners.has(clusterId)) return null;
    const nsId: Identity = { ...clusterId, namespace: item.identity.namespace };
    if (this.#graph.absentOwners.has(nsId)) return null;
    const mapped = this.#mapper.lookup(ref.apiVersion, ref.kind);
    if (!mapped) throw new Retry(`no resource serves ${ref.apiVersion}/${ref.kind} (yet)`);
    const absentId = mapped.namespaced ? nsId : clusterId;
    if (mapped.namespaced && !item.identity.namespace) {
      this.#ctx.log.info(
        { item: identityString(item.identity) },
        'a cluster-scoped object refers to a namespaced owner',
      );
      throw new Settled();
    }
    let owner: KubeObject;
    try {
      owner = await this.#ctx.client.get(mapped, mapped.namespaced ? item.identity.namespace : '', ref.name);
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
      this.#graph.absentOwners.add(absentId);
      return null;
    }
    if (owner.metadata.uid !== ref.uid) {
      this.#graph.absentOwners.add(absentId);
      return null;
    }
    return owner;
  }
}

function pickRef(ref: OwnerReference): Omit<Identity, 'namespace'> {
  return { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid };
}
