/**
 * The shared informer (client-go's SharedIndexInformer and its Reflector): list, then watch from the
 * list's resourceVersion; keep an indexed cache; tell handlers every change, in order.
 *
 * The loop:
 * - list in pages of `pageSize` at resourceVersion "" (a consistent read; "0" if configured), then
 *   replace the cache with the result, telling handlers only the differences (onAdd for new keys,
 *   onUpdate for changed resourceVersions, onDelete for keys that vanished). The first list marks
 *   the informer synced.
 * - watch from the last resourceVersion seen (events and bookmarks move it), with bookmarks on.
 *   A watch the server ends normally (its timeoutSeconds) is simply started again from there.
 * - 410 Gone/Expired (HTTP answer or ERROR event): relist at "" and diff against the cache.
 * - any other failure (transport, 5xx, a watch that ends at once with nothing in it): wait with
 *   exponential back-off on the injected clock (800 ms doubling, capped at 30 s), then retry —
 *   the watch from the last resourceVersion, or the list if there is none yet.
 *
 * Handlers run synchronously from that one loop, after the cache was updated for the event; a
 * handler that throws is logged and the others still run.
 */

import { ApiError, type StatusReason } from '../api/errors.ts';
import { type Clock, sleep, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { namespaceIndex, objectKey } from './keys.ts';
import { isGone } from './rest.ts';
import type {
  EventHandler,
  IndexFunc,
  Informer,
  KubeObject,
  Lister,
  ResourceRef,
  RestClient,
  WatchEvent,
} from './types.ts';

export interface InformerOptions {
  /** Only this namespace; '' or absent: all. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Every this many ms, onUpdate(obj, obj) for every cached object; 0/absent: never. */
  resyncMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** List page size; default 500. */
  pageSize?: number;
  /** resourceVersion of the first list: "" (consistent, default) or "0" (any cached state). Relists after 410 always use "". */
  listResourceVersion?: '' | '0';
  /** Back-off after failures: first wait and cap, ms (800 and 30,000). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** timeoutSeconds of each watch; default a random 300–600 s, as client-go. */
  watchTimeoutSeconds?: number;
  /**
   * Applied to every object from a list or a watch event before it is cached and handed to handlers
   * (client-go's SetTransform), e.g. {@link stripManagedFields}. It may modify the object in place and
   * must keep its namespace, name and resourceVersion.
   */
  transform?: (obj: KubeObject) => KubeObject;
}

/**
 * Drops metadata.managedFields (leaves it undefined): for informers of components that never read them (kube-scheduler's
 * pod informer does the same). Less to keep, and what is dropped dies young.
 */
export function stripManagedFields(obj: KubeObject): KubeObject {
  // Set to undefined rather than deleted: a delete would turn every pod's metadata into a slower
  // dictionary-mode object for V8. JSON leaves undefined members out.
  if (obj.metadata?.managedFields !== undefined) obj.metadata.managedFields = undefined;
  return obj;
}

/** The object cache with its indices (client-go's thread-safe store + indexer). */
export class IndexedCache<T extends KubeObject = KubeObject> implements Lister<T> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  /** index name → value → keys */
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexers(indexers);
  }

  get size(): number {
    return this.#items.size;
  }

  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.#indexers.has(name)) throw new Error(`indexer ${JSON.stringify(name)} already exists`);
      this.#indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.#indices.set(name, index);
      for (const [key, obj] of this.#items) addToIndex(index, fn(obj), key);
    }
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.#indices.get(indexName);
    if (!index) throw new Error(`no index named ${JSON.stringify(indexName)}`);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const obj = this.#items.get(k);
      if (obj) out.push(obj);
    }
    return out;
  }

  /**
   * Stores `obj` under `key`; returns what was there. As client-go's updateIndices, an index whose
   * values for the key did not change is not touched: an update that keeps a pod's namespace leaves
   * the namespace's key set alone (deleting and adding the key again churns a set of thousands).
   */
  set(key: string, obj: T): T | undefined {
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name)!;
      const values = fn(obj);
      if (!old) {
        addToIndex(index, values, key);
        continue;
      }
      const before = fn(old);
      if (before.length === 1 && values.length === 1 && before[0] === values[0]) continue;
      for (const v of before) if (!values.includes(v)) removeFromIndex(index, v, key);
      for (const v of values) if (!before.includes(v)) addToIndex(index, [v], key);
    }
    return old;
  }

  /** Removes `key`; returns what was there. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unindex(key, old);
    this.#items.delete(key);
    return old;
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name)!;
      for (const v of fn(obj)) removeFromIndex(index, v, key);
    }
  }
}

function removeFromIndex(index: Map<string, Set<string>>, value: string, key: string): void {
  const keys = index.get(value);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(value);
}

function addToIndex(index: Map<string, Set<string>>, values: string[], key: string): void {
  for (const v of values) {
    let keys = index.get(v);
    if (!keys) {
      keys = new Set();
      index.set(v, keys);
    }
    keys.add(key);
  }
}

/** Why a watch ended. */
type WatchEnd = 'closed' | 'gone';

export class SharedInformer<T extends KubeObject = KubeObject> implements Informer<T> {
  readonly ref: ResourceRef;
  readonly #client: RestClient;
  readonly #o: InformerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #cache = new IndexedCache<T>({ namespace: namespaceIndex });
  readonly #handlers: EventHandler<T>[] = [];
  #lastRv = '';
  #synced = false;
  #resolveSynced!: () => void;
  readonly #syncedPromise: Promise<void>;
  #running = false;
  #stopped: Promise<void> = Promise.resolve();

  constructor(client: RestClient, ref: ResourceRef, opts: InformerOptions = {}) {
    this.#client = client;
    this.ref = ref;
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    const what = ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
    this.#log = (opts.logger ?? silentLogger).child({ informer: what });
    this.#syncedPromise = new Promise((resolve) => {
      this.#resolveSynced = resolve;
    });
  }

  /** The resourceVersion the cache is current at. */
  get lastResourceVersion(): string {
    return this.#lastRv;
  }

  addEventHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler);
    // A late handler first hears of everything already cached, as client-go's shared informer does.
    if (this.#synced && handler.onAdd)
      for (const obj of this.#cache.list()) this.#call(handler, 'onAdd', obj);
  }

  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    this.#cache.addIndexers(indexers);
  }

  lister(): Lister<T> {
    const cache = this.#cache;
    return {
      get: (key) => cache.get(key),
      list: () => cache.list(),
      byIndex: (indexName, value) => cache.byIndex(indexName, value),
    };
  }

  run(signal: AbortSignal): void {
    if (this.#running) throw new Error(`informer for ${this.ref.resource} is already running`);
    if (signal.aborted) return;
    this.#running = true;
    const cancelResync = this.#scheduleResync(signal);
    this.#stopped = this.#loop(signal)
      .catch((err) => this.#log.error({ err }, 'informer stopped on an unexpected error'))
      .finally(() => {
        cancelResync();
        this.#running = false;
      });
  }

  synced(): Promise<void> {
    return this.#syncedPromise;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves once a run's loop has ended (its signal aborted). */
  stopped(): Promise<void> {
    return this.#stopped;
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const initial = this.#o.backoffInitialMs ?? 800;
    const max = this.#o.backoffMaxMs ?? 30_000;
    let delay = initial;
    let needList = true;
    let listRv: string = this.#o.listResourceVersion ?? '';
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#listAndReplace(listRv, signal);
          if (signal.aborted) return;
          needList = false;
          delay = initial;
        }
        const started = this.#clock.now();
        const { end, events } = await this.#watch(signal);
        if (signal.aborted) return;
        if (events > 0) delay = initial;
        if (end === 'gone') {
          this.#log.debug({ resourceVersion: this.#lastRv }, 'watch expired (410); relisting');
          needList = true;
          listRv = '';
          continue;
        }
        // A watch the server ends at once with nothing in it is a failure (client-go: "very short watch").
        if (events === 0 && this.#clock.now() - started < 1000) {
          throw new Error('very short watch: the server closed it at once with no events');
        }
      } catch (err) {
        if (signal.aborted) return;
        if (isGone(err)) {
          this.#log.debug({ resourceVersion: this.#lastRv }, 'resourceVersion expired (410); relisting');
          needList = true;
          listRv = '';
          continue;
        }
        this.#log.warn({ err, retryInMs: delay }, needList ? 'list failed' : 'watch failed');
        try {
          await sleep(this.#clock, delay * (1 + Math.random() * 0.1), signal);
        } catch {
          return;
        }
        delay = Math.min(delay * 2, max);
      }
    }
  }

  /** Lists everything (page by page) and makes the cache equal to it. */
  async #listAndReplace(resourceVersion: string, signal: AbortSignal): Promise<void> {
    const ns = this.#o.namespace ?? '';
    const base = { labelSelector: this.#o.labelSelector, fieldSelector: this.#o.fieldSelector };
    const limit = this.#o.pageSize ?? 500;
    let items: T[] = [];
    let rv = '';
    try {
      let cont: string | undefined;
      do {
        const page = await this.#client.list<T>(this.ref, ns, {
          ...base,
          limit,
          continue: cont,
          resourceVersion: cont ? undefined : resourceVersion,
        });
        if (signal.aborted) return;
        items = items.concat(page.items);
        rv = page.resourceVersion;
        cont = page.continue;
      } while (cont);
    } catch (err) {
      // The continue token expired mid-way (client-go: fall back to one unpaginated list).
      if (!isGone(err) || items.length === 0) throw err;
      const all = await this.#client.list<T>(this.ref, ns, base);
      if (signal.aborted) return;
      items = all.items;
      rv = all.resourceVersion;
    }
    this.#replace(items);
    this.#lastRv = rv;
    if (!this.#synced) {
      this.#synced = true;
      this.#resolveSynced();
    }
  }

  /** Makes the cache hold exactly `items`, telling handlers what changed. */
  #replace(items: T[]): void {
    const fresh = new Set<string>();
    const transform = this.#o.transform as ((o: T) => T) | undefined;
    for (const item of items) {
      const obj = transform ? transform(item) : item;
      const key = objectKey(obj);
      fresh.add(key);
      const old = this.#cache.set(key, obj);
      if (!old) this.#notify('onAdd', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion)
        this.#notify('onUpdate', old, obj);
    }
    for (const key of this.#cache.keys()) {
      if (fresh.has(key)) continue;
      const old = this.#cache.delete(key)!;
      this.#notify('onDelete', old);
    }
  }

  /** One watch, applied to the cache, until it ends. */
  async #watch(signal: AbortSignal): Promise<{ end: WatchEnd; events: number }> {
    const timeoutSeconds = this.#o.watchTimeoutSeconds ?? Math.floor(300 * (1 + Math.random()));
    const stream = this.#client.watch<T>(this.ref, this.#o.namespace ?? '', {
      resourceVersion: this.#lastRv,
      labelSelector: this.#o.labelSelector,
      fieldSelector: this.#o.fieldSelector,
      allowWatchBookmarks: true,
      timeoutSeconds,
      signal,
    });
    let events = 0;
    for await (const event of stream) {
      if (signal.aborted) break;
      events++;
      if (event.type === 'ERROR') {
        const err = statusError(event.object);
        if (isGone(err)) return { end: 'gone', events };
        throw err;
      }
      this.#apply(event);
    }
    return { end: 'closed', events };
  }

  #apply(event: WatchEvent<T>): void {
    const transform = this.#o.transform as ((o: T) => T) | undefined;
    const obj = transform && event.type !== 'BOOKMARK' ? transform(event.object) : event.object;
    const rv = obj?.metadata?.resourceVersion;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const old = this.#cache.set(objectKey(obj), obj);
        if (old) this.#notify('onUpdate', old, obj);
        else this.#notify('onAdd', obj);
        break;
      }
      case 'DELETED': {
        const old = this.#cache.delete(objectKey(obj));
        if (old) this.#notify('onDelete', obj);
        break;
      }
      case 'BOOKMARK':
        break;
      default:
        this.#log.warn({ type: event.type }, 'unknown watch event type; ignored');
        return;
    }
    if (rv) this.#lastRv = rv;
  }

  #scheduleResync(signal: AbortSignal): () => void {
    const every = this.#o.resyncMs ?? 0;
    if (every <= 0) return () => {};
    let cancel = () => {};
    const tick = () => {
      if (signal.aborted) return;
      if (this.#synced) for (const obj of this.#cache.list()) this.#notify('onUpdate', obj, obj);
      cancel = this.#clock.setTimeout(tick, every);
    };
    cancel = this.#clock.setTimeout(tick, every);
    return () => cancel();
  }

  #notify(what: 'onAdd' | 'onDelete', obj: T): void;
  #notify(what: 'onUpdate', oldObj: T, newObj: T): void;
  #notify(what: keyof EventHandler<T>, a: T, b?: T): void {
    for (const h of [...this.#handlers]) this.#call(h, what, a, b);
  }

  #call(h: EventHandler<T>, what: keyof EventHandler<T>, a: T, b?: T): void {
    try {
      if (what === 'onUpdate') h.onUpdate?.(a, b as T);
      else h[what]?.(a);
    } catch (err) {
      this.#log.error({ err, handler: what, key: objectKey(a) }, 'event handler threw; continuing');
    }
  }
}

/** The ApiError carried by a watch ERROR event's Status. */
function statusError(obj: unknown): ApiError {
  const s = (obj ?? {}) as {
    code?: number;
    reason?: string;
    message?: string;
    details?: ApiError['details'];
  };
  const code = typeof s.code === 'number' ? s.code : 500;
  return new ApiError(
    code,
    (s.reason || (code === 410 ? 'Expired' : 'InternalError')) as StatusReason,
    s.message || 'the watch ended with an error',
    s.details,
  );
}
