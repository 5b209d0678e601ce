/**
 * The contracts every component uses to reach the cluster (the shape of client-go's): a REST client,
 * shared informers with indexed caches, a rate-limited work queue and leader election. Components
 * never read storage directly; they meet only through the API.
 */
import type { KubeObject } from '../apiserver/object.ts';

export type { KubeObject };

/** Which resource a call is about. */
export interface ResourceRef {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural, lower case, e.g. 'pods'. */
  resource: string;
  kind: string;
  namespaced: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface ListResult<T extends KubeObject = KubeObject> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

export interface WatchOptions {
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  /** Ends the watch: the iterator finishes. */
  signal?: AbortSignal;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One event of a watch. For ERROR, `object` is a metav1.Status. */
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** Write through a subresource ('status', 'scale'). */
  subresource?: string;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface PatchOptions extends WriteOptions {
  /** For server-side apply: take conflicting fields. */
  force?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/**
 * The typed REST client. Every method fails with an `ApiError` (src/api/errors.ts) carrying the
 * server's Status (code, reason, message, details) for HTTP errors, and with a plain Error for
 * transport failures. Calls honour `signal` where given and never retry on their own.
 */
export interface RestClient {
  get<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string, name: string): Promise<T>;
  list<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    opts?: ListOptions,
  ): Promise<ListResult<T>>;
  /** A watch stream; it ends when the server closes it (timeout) or `signal` aborts. */
  watch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    opts?: WatchOptions,
  ): AsyncIterable<WatchEvent<T>>;
  create<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    obj: T,
    opts?: WriteOptions,
  ): Promise<T>;
  /** PUT; `obj.metadata.resourceVersion` makes it conditional (409 Conflict when stale). */
  update<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    obj: T,
    opts?: WriteOptions,
  ): Promise<T>;
  patch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    name: string,
    type: PatchType,
    body: unknown,
    opts?: PatchOptions,
  ): Promise<T>;
  /** Returns the object when the server returns one (deletion pending), else null. */
  delete(ref: ResourceRef, namespace: string, name: string, opts?: DeleteOptions): Promise<KubeObject | null>;
  /** POST to a subresource: pods/binding, pods/eviction, serviceaccounts/token. */
  createSubresource<T = unknown>(
    ref: ResourceRef,
    namespace: string,
    name: string,
    subresource: string,
    body: unknown,
  ): Promise<T>;
}

/** Receives an informer's changes, in order. Handlers must not modify the objects. */
export interface EventHandler<T extends KubeObject = KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  /** `obj` is the last known state; after a relist it may be a tombstone of a missed delete. */
  onDelete?(obj: T): void;
}

/** Computes index values of an object (e.g. its namespace, its spec.nodeName). */
export type IndexFunc<T extends KubeObject = KubeObject> = (obj: T) => string[];

/** A read-only, indexed view of an informer's cache. Objects are shared: never modify them. */
export interface Lister<T extends KubeObject = KubeObject> {
  /** `namespace/name` (or `name` for cluster-scoped objects). */
  get(key: string): T | undefined;
  list(): T[];
  /** Objects whose index `indexName` yields `value`. */
  byIndex(indexName: string, value: string): T[];
}

/**
 * A shared informer (client-go's SharedIndexInformer): lists, then watches from the list's
 * resourceVersion, relisting on 410 Gone or a broken watch; keeps an indexed cache; calls handlers
 * in order; optionally resyncs (onUpdate with the same object) every `resyncMs`.
 */
export interface Informer<T extends KubeObject = KubeObject> {
  addEventHandler(handler: EventHandler<T>): void;
  addIndexers(indexers: Record<string, IndexFunc<T>>): void;
  lister(): Lister<T>;
  /** Starts list+watch until `signal` aborts. */
  run(signal: AbortSignal): void;
  /** Resolves once the first list has been delivered to the cache and handlers. */
  synced(): Promise<void>;
  hasSynced(): boolean;
}

/**
 * A rate-limited work queue (client-go's workqueue): a key added while queued is queued once; a key
 * being processed is never handed to a second worker, and if added meanwhile it is queued again when
 * done(); addRateLimited backs off exponentially per key until forget().
 */
export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, delayMs: number): void;
  addRateLimited(key: string): void;
  /** Resets the back-off of `key`. */
  forget(key: string): void;
  /** Number of times `key` was re-queued with back-off since the last forget(). */
  numRequeues(key: string): number;
  /** The next key, waiting for one; undefined once shut down and drained. */
  get(): Promise<string | undefined>;
  /** Marks `key` processed. */
  done(key: string): void;
  shutDown(): void;
  readonly length: number;
}
