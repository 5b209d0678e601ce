/**
 * The generic registry: create, read, update, delete, list and watch of any resource over the Store,
 * with Kubernetes' object semantics (k8s.io/apiserver/pkg/registry/generic/registry/store.go):
 * system metadata, optimistic concurrency, the spec/status split, generation, finalizers and
 * graceful deletion, namespaces that must exist, and dry runs.
 */
import { ApiError, type FieldError } from '../../api/errors.ts';
import { encodeContinue } from '../../storage/keys.ts';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  InvalidArgumentError,
  KeyExistsError,
  KeyNotFoundError,
  type KeyValue,
  type Store,
} from '../../storage/store.ts';
import type { Clock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import { clone, type KubeList, type KubeObject, rfc3339 } from '../object.ts';
import { apiVersionOf, type ResourceDef, storageKey, storagePrefix, type WriteContext } from '../resource.ts';
import {
  crdSchema,
  managerOrUserAgent,
  resetFieldsFor,
  type SsaSchema,
  schemaFor,
  updateManagedFields,
} from '../ssa/index.ts';
import type { CachedEvent } from '../watchcache/cache.ts';
import { decodeFromStorage, encodeForStorage, noteWritten } from './codec.ts';
import {
  checkMetaShape,
  fillCreateMeta,
  generateName,
  keepImmutableMeta,
  normalizeMeta,
  sameObject,
  specChanged,
} from './meta.ts';

/** Validates the metadata of an object of `def` (names, labels, annotations, …). */
export type MetaValidator = (obj: KubeObject, def: ResourceDef, isUpdate: boolean) => FieldError[];

/** What an update's side effects need afterwards: undo if the write failed, commit if it succeeded. */
export interface UpdateEffects {
  undo(): Promise<void>;
  commit(): Promise<void>;
}

/**
 * Side effects of a resource's writes beyond its own key (e.g. Services' cluster IPs and node ports).
 * Hooks run after validation; they may fill in fields of the object they are given.
 */
export interface ResourceHooks {
  /** Before a new object is stored; returns the undo to run if storing fails. With dryRun, it reserves nothing. */
  beforeCreate?(obj: KubeObject, dryRun: boolean): Promise<() => Promise<void>>;
  /** Before an update is stored. */
  beforeUpdate?(obj: KubeObject, old: KubeObject, dryRun: boolean): Promise<UpdateEffects>;
  /** After the object was removed from storage. */
  afterDelete?(obj: KubeObject): Promise<void>;
}

export interface RegistryOptions {
  store: Store;
  clock: Clock;
  validateMeta: MetaValidator;
  /** Hooks by `${group}/${resource}`. */
  hooks?: Map<string, ResourceHooks>;
  logger?: Logger;
  /**
   * The watch caches (the server's), which reads may start from where that is safe: see
   * {@link Registry}. Without them every read goes to the store.
   */
  caches?: CacheSource;
}

/** Where the registry finds a resource's watch cache (WatchCaches). */
export interface CacheSource {
  /** The cache of `group/resource` if it is running; never starts one. */
  existing(group: string, resource: string): CachedObjects | undefined;
}

/** What the registry reads of a watch cache (ResourceCache). */
export interface CachedObjects {
  /** Holding the resource's objects now (loaded, following the store). */
  readonly loaded: boolean;
  /** The revision up to which it has applied every change. */
  readonly revision: number;
  /** The entry under a storage key; its object is shared and never to be modified. */
  peek(key: string): CachedEvent | undefined;
}

/** The object a conditional write starts from, and the version its write is conditioned on. */
interface WriteSource {
  /** The modRevision read: the write's compare-and-swap fails unless the object is still at it. */
  readonly revision: number;
  /** Read from the watch cache: a guess, which only a write accepted at {@link revision} confirms. */
  readonly fromCache: boolean;
  /** The cache had applied every write this registry made to the resource when it was read. */
  readonly current: boolean;
  /** A fresh copy of the object (each call), which the caller may modify. */
  copy(): KubeObject;
}

export interface WriteOptions {
  dryRun?: boolean;
  user?: string;
  /** The fieldManager query parameter; without one the manager is derived from the User-Agent. */
  fieldManager?: string;
  userAgent?: string;
  /** The write is a server-side apply: managedFields were already computed by it. */
  apply?: boolean;
}

export interface UpdateOptions extends WriteOptions {
  subresource?: string;
  /** Create the object when it does not exist (server-side apply). */
  createIfMissing?: boolean;
}

/** metav1.DeleteOptions, the parts the registry acts on. */
export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ListOptions {
  /** Which objects to return; applied after reading (like the API server's storage filter). */
  filter?: (obj: KubeObject) => boolean;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan' | '';
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ApiWatchEvent {
  type: WatchEventType;
  object: KubeObject | Record<string, unknown>;
}

export interface WatchOptions {
  filter?: (obj: KubeObject) => boolean;
  resourceVersion?: string;
  /** Send the current objects as ADDED first, then a bookmark marking the end of them. */
  sendInitialEvents?: boolean;
  allowBookmarks?: boolean;
  /** How often an idle watch sends a bookmark, in ms. */
  bookmarkIntervalMs?: number;
  signal?: AbortSignal;
}

const DELETE_RETRIES = 16;

/** Maps storage failures to API errors for `def`/`name`. */
function storageError(err: unknown, def: ResourceDef, name: string): never {
  const gr = { group: def.group, resource: def.resource };
  if (err instanceof ApiError) throw err;
  if (err instanceof KeyExistsError) throw ApiError.alreadyExists(gr, name);
  if (err instanceof KeyNotFoundError) throw ApiError.notFound(gr, name);
  if (err instanceof ConflictError) {
    throw ApiError.conflict(
      gr,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  }
  if (err instanceof CompactedError) {
    throw ApiError.gone(`too old resource version: ${err.requestedRevision} (${err.compactRevision})`);
  }
  if (err instanceof FutureRevisionError) {
    throw ApiError.timeout(
      `Too large resource version: ${err.requestedRevision}, current: ${err.currentRevision}`,
    );
  }
  if (err instanceof InvalidArgumentError) throw ApiError.badRequest(err.message);
  throw ApiError.internal((err as Error)?.message ?? String(err), err);
}

/** Parses a resourceVersion parameter: '' → undefined, a non-negative integer → number, else 400. */
export function parseResourceVersion(rv: string | undefined, what = 'resourceVersion'): number | undefined {
  if (rv === undefined || rv === '') return undefined;
  if (!/^\d+$/.test(rv)) throw ApiError.badRequest(`invalid ${what}: "${rv}"`);
  const n = Number(rv);
  if (!Number.isSafeInteger(n)) throw ApiError.badRequest(`invalid ${what}: "${rv}"`);
  return n;
}

/**
 * Reads from the watch caches (as kube-apiserver's cacher and NamespaceLifecycle admission do) are
 * never weaker than a storage read:
 * - a write conditioned on a version (update, patch, delete, updateStored) may start from the cache's
 *   copy: the store's compare-and-swap refuses a stale one, and anything else the copy led to (an
 *   error, a precondition or resourceVersion mismatch, a no-op) is decided again from storage, unless
 *   the cache was current;
 * - an existence check (the namespace of a create, a taken name) uses the cache only when it is
 *   current: it has applied every write this registry has made to that resource — the registry
 *   notes the revision of each before acknowledging it, and nothing else writes resources' keys. A
 *   write still in flight is concurrent with the check, which may see it or not, as with storage.
 */
export class Registry {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #validateMeta: MetaValidator;
  readonly #hooks: Map<string, ResourceHooks>;
  readonly #log: Logger;
  readonly #ssaSchemas = new WeakMap<ResourceDef, SsaSchema>();
  readonly #caches: CacheSource | undefined;
  /** By `group/resource`: the revision of the latest write this registry made to it (see {@link Registry}). */
  readonly #written = new Map<string, number>();
  /** Whether this registry's writes are all the store's writes (Store.soleWriter): else no cache is current. */
  readonly #soleWriter: boolean;

  constructor(options: RegistryOptions) {
    this.#log = options.logger ?? silentLogger;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#validateMeta = options.validateMeta;
    this.#hooks = options.hooks ?? new Map();
    this.#caches = options.caches;
    this.#soleWriter = options.store.soleWriter === true;
  }

  // ---- writes to the store, noted for the caches' currency --------------------------------------

  #noteWrite(def: ResourceDef, revision: number): void {
    const k = `${def.group}/${def.resource}`;
    if (revision > (this.#written.get(k) ?? 0)) this.#written.set(k, revision);
  }

  /** After a failed write: unless the store said why nothing was written, assume it may have been. */
  #noteFailedWrite(def: ResourceDef, err: unknown): void {
    if (err instanceof ConflictError || err instanceof KeyExistsError || err instanceof KeyNotFoundError)
      return;
    this.#noteWrite(def, this.#store.stats().revision);
  }

  async #storeCreate(def: ResourceDef, key: string, obj: KubeObject): Promise<KeyValue> {
    try {
      const bytes = encodeForStorage(obj);
      const kv = await this.#store.create(key, bytes, this.#ttl(def));
      this.#noteWrite(def, kv.modRevision);
      // The store's copy, not `bytes` (a slice of node's Buffer pool that would keep its slab).
      noteWritten(obj, kv.value, kv.modRevision);
      return kv;
    } catch (err) {
      this.#noteFailedWrite(def, err);
      throw err;
    }
  }

  async #storeUpdate(def: ResourceDef, key: string, obj: KubeObject, expected: number): Promise<KeyValue> {
    try {
      const bytes = encodeForStorage(obj);
      const kv = await this.#store.update(key, bytes, expected, this.#ttl(def));
      this.#noteWrite(def, kv.modRevision);
      // The store's copy, not `bytes` (a slice of node's Buffer pool that would keep its slab).
      noteWritten(obj, kv.value, kv.modRevision);
      return kv;
    } catch (err) {
      this.#noteFailedWrite(def, err);
      throw err;
    }
  }

  async #storeDelete(def: ResourceDef, key: string, expected: number): Promise<number> {
    try {
      const res = await this.#store.delete(key, { expectedModRevision: expected });
      this.#noteWrite(def, res.revision);
      return res.revision;
    } catch (err) {
      this.#noteFailedWrite(def, err);
      throw err;
    }
  }

  // ---- reads from the watch caches ---------------------------------------------------------------

  /** The running cache of `group/resource`, and whether it is current (see {@link Registry}). */
  #cache(group: string, resource: string): { cache: CachedObjects; current: boolean } | undefined {
    const cache = this.#caches?.existing(group, resource);
    if (!cache) return undefined;
    const written = this.#written.get(`${group}/${resource}`) ?? 0;
    return { cache, current: this.#soleWriter && cache.loaded && cache.revision >= written };
  }

  /**
   * The cached object under `key` when the cache is current (its object is shared: read only).
   * Kinds with a time to live are never served so: the store expires them on its own.
   */
  #currentCached(def: ResourceDef, key: string): CachedEvent | undefined {
    if (def.strategy.ttlSeconds) return undefined;
    const c = this.#cache(def.group, def.resource);
    return c?.current ? c.cache.peek(key) : undefined;
  }

  /**
   * What a conditional write starts from: with `useCache`, the cache's copy when it has the object
   * (see {@link WriteSource}); else the stored object; null when storage has none.
   */
  async #readForWrite(
    def: ResourceDef,
    namespace: string,
    name: string,
    useCache: boolean,
  ): Promise<WriteSource | null> {
    if (useCache) {
      const c = this.#cache(def.group, def.resource);
      const e = c?.cache.peek(storageKey(def, namespace, name));
      if (e) {
        const current = c!.current && !def.strategy.ttlSeconds;
        return {
          revision: e.revision,
          fromCache: true,
          current,
          copy: () => {
            const obj = e.copy();
            if (def.custom) obj.apiVersion = apiVersionOf(def);
            return obj;
          },
        };
      }
    }
    const kv = await this.#read(def, namespace, name);
    if (!kv) return null;
    return { revision: kv.modRevision, fromCache: false, current: true, copy: () => this.#decode(def, kv) };
  }

  /**
   * A copy of the object, from the watch cache when it is current (see {@link Registry}), else from
   * storage. For lookups that admission makes on every create.
   */
  async getCurrent(def: ResourceDef, namespace: string, name: string): Promise<KubeObject> {
    const e = this.#currentCached(def, storageKey(def, namespace, name));
    if (!e) return this.get(def, namespace, name);
    const obj = e.copyFromDecoded();
    if (def.custom) obj.apiVersion = apiVersionOf(def);
    return obj;
  }

  #hooksFor(def: ResourceDef): ResourceHooks | undefined {
    return this.#hooks.get(`${def.group}/${def.resource}`);
  }

  /** Runs afterDelete hooks. The delete is done by then: a failure is logged, never reported to the client. */
  async #afterDelete(def: ResourceDef, obj: KubeObject): Promise<void> {
    try {
      await this.#hooksFor(def)?.afterDelete?.(obj);
    } catch (err) {
      this.#log.warn(
        { err, resource: def.resource, name: obj.metadata.name },
        'releasing what a deleted object held failed',
      );
    }
  }

  get store(): Store {
    return this.#store;
  }

  /**
   * The stored object as the version `def` serves it. Custom resources of several versions share one
   * storage; with conversion strategy None only apiVersion differs between them.
   */
  #decode(def: ResourceDef, kv: KeyValue): KubeObject {
    const obj = decodeFromStorage(kv);
    if (def.custom) obj.apiVersion = apiVersionOf(def);
    return obj;
  }

  /** The server-side apply schema of `def`'s kind (built-in tags, or the CRD's schema). */
  ssaSchema(def: ResourceDef): SsaSchema {
    let schema = this.#ssaSchemas.get(def);
    if (!schema) {
      schema = def.custom
        ? crdSchema(def.schema as Parameters<typeof crdSchema>[0])
        : schemaFor(apiVersionOf(def), def.kind);
      this.#ssaSchemas.set(def, schema);
    }
    return schema;
  }

  /** Records in metadata.managedFields what a non-apply write changed, for its manager. */
  #manageFields(
    def: ResourceDef,
    old: KubeObject | null,
    obj: KubeObject,
    opts: UpdateOptions,
    ctx: WriteContext,
  ): void {
    if (opts.apply) return;
    updateManagedFields(old, obj, {
      manager: managerOrUserAgent(opts.fieldManager, opts.userAgent),
      operation: 'Update',
      apiVersion: apiVersionOf(def),
      subresource: ctx.subresource || undefined,
      schema: this.ssaSchema(def),
      now: rfc3339(ctx.now),
      resetFields: resetFieldsFor({
        subresource: ctx.subresource,
        hasStatusSubresource: def.strategy.statusSubresource,
      }),
    });
  }

  /** Objects of kinds with a time to live (Events) expire that long after their last write. */
  #ttl(def: ResourceDef): { ttlSeconds?: number } {
    const ttl = def.strategy.ttlSeconds?.();
    return ttl ? { ttlSeconds: ttl } : {};
  }

  #gr(def: ResourceDef) {
    return { group: def.group, resource: def.resource };
  }

  #ctx(def: ResourceDef, namespace: string, opts: UpdateOptions): WriteContext {
    return {
      namespace: def.namespaced ? namespace : '',
      user: opts.user ?? '',
      now: this.#clock.now(),
      subresource: opts.subresource ?? '',
    };
  }

  async #read(def: ResourceDef, namespace: string, name: string): Promise<KeyValue | null> {
    try {
      return await this.#store.get(storageKey(def, namespace, name));
    } catch (err) {
      storageError(err, def, name);
    }
  }

  async get(def: ResourceDef, namespace: string, name: string): Promise<KubeObject> {
    const kv = await this.#read(def, namespace, name);
    if (!kv) throw ApiError.notFound(this.#gr(def), name);
    return this.#decode(def, kv);
  }

  /**
   * Fails unless namespace `ns` exists and is not terminating (for creates into it). An active
   * namespace in the current watch cache is enough (as NamespaceLifecycle's informer); a miss, a
   * terminating one or a cache that may be behind is decided by storage.
   */
  async #checkNamespace(ns: string): Promise<void> {
    const key = `/registry/core/namespaces/${ns}`;
    const c = this.#cache('', 'namespaces');
    const cached = c?.current ? c.cache.peek(key)?.object : undefined;
    if (cached && !terminating(cached)) return;
    const kv = await this.#store.get(key);
    if (!kv) throw ApiError.notFound({ group: '', resource: 'namespaces' }, ns);
    const obj = decodeFromStorage(kv);
    if (terminating(obj)) {
      throw new ApiError(
        403,
        'Forbidden',
        `unable to create new content in namespace ${ns} because it is being terminated`,
        {
          name: ns,
          kind: 'namespaces',
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${ns} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      );
    }
  }

  #validate(def: ResourceDef, obj: KubeObject, ctx: WriteContext, old?: KubeObject): void {
    const errs = [
      ...this.#validateMeta(obj, def, old !== undefined),
      ...(def.strategy.validate?.(obj, ctx) ?? []),
      ...(old ? (def.strategy.validateUpdate?.(obj, old, ctx) ?? []) : []),
    ];
    if (errs.length > 0) {
      throw ApiError.invalid(def.group, def.kind, obj.metadata.name ?? obj.metadata.generateName ?? '', errs);
    }
  }

  /** Checks the body's identity against the URL and fills in apiVersion/kind/namespace. */
  #admitBody(def: ResourceDef, namespace: string, body: unknown): KubeObject {
    const shape = checkMetaShape(body);
    if (shape.length > 0) {
      const name = (body as { metadata?: { name?: unknown } })?.metadata?.name;
      throw ApiError.invalid(def.group, def.kind, typeof name === 'string' ? name : '', shape);
    }
    const obj = body as KubeObject;
    normalizeMeta(obj);
    const av = apiVersionOf(def);
    if (obj.apiVersion !== undefined && obj.apiVersion !== av) {
      throw ApiError.badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${av})`,
      );
    }
    if (obj.kind !== undefined && obj.kind !== def.kind) {
      throw ApiError.badRequest(
        `the kind in the data (${String(obj.kind)}) does not match the expected kind (${def.kind})`,
      );
    }
    obj.apiVersion = av;
    obj.kind = def.kind;
    if (def.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw ApiError.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      obj.metadata.namespace = namespace;
    } else {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  /**
   * Whether an object named so exists: from the watch cache when it is current (either answer; the
   * create itself is atomic all the same), else from storage.
   */
  async #nameTaken(def: ResourceDef, namespace: string, name: string): Promise<boolean> {
    const key = storageKey(def, namespace, name);
    const c = def.strategy.ttlSeconds ? undefined : this.#cache(def.group, def.resource);
    if (c?.current) return c.cache.peek(key) !== undefined;
    return (await this.#read(def, namespace, name)) !== null;
  }

  async create(
    def: ResourceDef,
    namespace: string,
    body: unknown,
    opts: WriteOptions = {},
  ): Promise<KubeObject> {
    const obj = this.#admitBody(def, namespace, body);
    const ctx = this.#ctx(def, namespace, opts);
    const m = obj.metadata;
    if (!m.name && m.generateName) m.name = generateName(m.generateName);
    fillCreateMeta(obj, ctx.now, def.strategy.generation);
    def.strategy.prepareForCreate?.(obj, ctx);
    def.strategy.defaults?.(obj);
    this.#validate(def, obj, ctx);
    this.#manageFields(def, null, obj, opts, ctx);
    if (def.namespaced) await this.#checkNamespace(namespace);
    const name = m.name!;
    if (opts.dryRun) {
      const existing = await this.#read(def, namespace, name);
      if (existing) throw ApiError.alreadyExists(this.#gr(def), name);
      await this.#hooksFor(def)?.beforeCreate?.(obj, true);
      return obj;
    }
    const hooks = this.#hooksFor(def);
    // A name that is taken is a 409 before anything is reserved for the new object.
    if (hooks?.beforeCreate && (await this.#nameTaken(def, namespace, name))) {
      throw ApiError.alreadyExists(this.#gr(def), name);
    }
    const undo = await hooks?.beforeCreate?.(obj, false);
    try {
      const kv = await this.#storeCreate(def, storageKey(def, namespace, name), obj);
      obj.metadata.resourceVersion = String(kv.modRevision);
      return obj;
    } catch (err) {
      await undo?.();
      storageError(err, def, name);
    }
  }

  /**
   * Replaces an object (PUT). A resourceVersion in the body must match the stored one (409 otherwise);
   * without one the update is unconditional. Returns the stored object and whether it was created.
   */
  async update(
    def: ResourceDef,
    namespace: string,
    name: string,
    body: unknown,
    opts: UpdateOptions = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    const obj = this.#admitBody(def, namespace, body);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw ApiError.badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    obj.metadata.name = name;
    const wantRv = parseResourceVersion(obj.metadata.resourceVersion, 'metadata.resourceVersion');
    return this.#guaranteedUpdate(def, namespace, name, opts, wantRv, () => clone(obj));
  }

  /**
   * Reads the object, lets `mutate` produce the new version from it (or from null if absent), and
   * writes it conditioned on the version read; on a conflict it retries with the newer version unless
   * `wantRv` pins the version the caller based its change on.
   */
  async #guaranteedUpdate(
    def: ResourceDef,
    namespace: string,
    name: string,
    opts: UpdateOptions,
    wantRv: number | undefined,
    mutate: (current: KubeObject | null) => KubeObject,
  ): Promise<{ object: KubeObject; created: boolean }> {
    const key = storageKey(def, namespace, name);
    let useCache = !opts.dryRun;
    for (let attempt = 0; ; attempt++) {
      const src = await this.#readForWrite(def, namespace, name, useCache);
      useCache = false;
      if (!src) {
        if (!(def.strategy.allowCreateOnUpdate || opts.createIfMissing) || opts.subresource)
          throw ApiError.notFound(this.#gr(def), name);
        const created = await this.create(def, namespace, mutate(null), opts);
        return { object: created, created: true };
      }
      // An attempt from the cache's copy does not count against the retries.
      if (src.fromCache) attempt--;
      let wrote = false;
      try {
        const old = src.copy();
        if (wantRv !== undefined && wantRv !== src.revision) {
          throw ApiError.conflict(
            this.#gr(def),
            name,
            'the object has been modified; please apply your changes to the latest version and try again',
          );
        }
        const next = mutate(src.copy());
        const ctx = this.#ctx(def, namespace, opts);
        if (next.metadata.uid && next.metadata.uid !== old.metadata.uid) {
          throw ApiError.conflict(
            this.#gr(def),
            name,
            `Precondition failed: UID in precondition: ${next.metadata.uid}, UID in object meta: ${old.metadata.uid}`,
          );
        }
        keepImmutableMeta(next, old);
        next.apiVersion = old.apiVersion;
        next.kind = old.kind;
        if (def.strategy.statusSubresource) {
          if (ctx.subresource === 'status') {
            // The status subresource changes status only (and metadata other than labels).
            const status = next.status;
            const labels = old.metadata.labels;
            for (const k of Object.keys(next)) if (k !== 'metadata' && k !== 'status') delete next[k];
            for (const [k, v] of Object.entries(old)) if (k !== 'metadata' && k !== 'status') next[k] = v;
            next.apiVersion = old.apiVersion;
            next.kind = old.kind;
            if (labels) next.metadata.labels = labels;
            else delete next.metadata.labels;
            if (status === undefined) delete next.status;
          } else if (def.strategy.statusWritableFrom?.includes(ctx.subresource)) {
            // This subresource writes status too (pods/binding).
          } else if (old.status !== undefined) next.status = old.status;
          else delete next.status;
        }
        def.strategy.prepareForUpdate?.(next, old, ctx);
        def.strategy.defaults?.(next);
        if (def.strategy.generation && specChanged(next, old)) {
          next.metadata.generation = (old.metadata.generation ?? 0) + 1;
        }
        this.#validate(def, next, ctx, old);
        // A server-side apply may change only who owns which field: that is a change too.
        if (sameObject(next, old, opts.apply)) {
          // Nothing to write: the answer is the object read, which a cache must have had current.
          if (!src.current) continue;
          return { object: old, created: false };
        }
        this.#manageFields(def, old, next, opts, ctx);
        // Removing the last finalizer of an object being deleted deletes it — unless the kind still
        // defers its deletion (a namespace whose spec.finalizers are not yet cleared).
        if (
          next.metadata.deletionTimestamp &&
          (next.metadata.finalizers ?? []).length === 0 &&
          !(def.strategy.deferDelete?.(clone(next), ctx.now) ?? false)
        ) {
          if (opts.dryRun) return { object: next, created: false };
          try {
            const revision = await this.#storeDelete(def, key, src.revision);
            wrote = true;
            next.metadata.resourceVersion = String(revision);
            await this.#afterDelete(def, old);
            return { object: next, created: false };
          } catch (err) {
            if (err instanceof ConflictError && wantRv === undefined && attempt < DELETE_RETRIES) continue;
            storageError(err, def, name);
          }
        }
        const effects = await this.#hooksFor(def)?.beforeUpdate?.(next, old, opts.dryRun ?? false);
        if (opts.dryRun) return { object: next, created: false };
        try {
          const written = await this.#storeUpdate(def, key, next, src.revision);
          wrote = true;
          next.metadata.resourceVersion = String(written.modRevision);
          await effects?.commit();
          return { object: next, created: false };
        } catch (err) {
          await effects?.undo();
          if (err instanceof ConflictError && wantRv === undefined && attempt < DELETE_RETRIES) continue;
          storageError(err, def, name);
        }
      } catch (err) {
        // What a cached copy led to, other than a write the store accepted, is decided again from
        // storage (see Registry): never an error or a conflict a fresh read would not give.
        if (src.fromCache && !wrote) continue;
        throw err;
      }
    }
  }

  /**
   * Applies `mutate` to the current object and writes the result (for PATCH and the scale
   * subresource). `mutate` sees a fresh copy each attempt; it may throw ApiError to refuse.
   */
  patch(
    def: ResourceDef,
    namespace: string,
    name: string,
    mutate: (current: KubeObject | null) => KubeObject,
    opts: UpdateOptions = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    return this.#guaranteedUpdate(def, namespace, name, opts, undefined, (current) => {
      const next = mutate(current);
      if (current) {
        const rv = parseResourceVersion(next.metadata.resourceVersion, 'metadata.resourceVersion');
        if (rv !== undefined && rv !== Number(current.metadata.resourceVersion)) {
          throw ApiError.conflict(
            this.#gr(def),
            name,
            'the object has been modified; please apply your changes to the latest version and try again',
          );
        }
      } else {
        next.metadata.name = name;
        this.#admitBody(def, namespace, next);
      }
      return next;
    });
  }

  /**
   * A storage-level GuaranteedUpdate (storage.Interface.GuaranteedUpdate with SimpleUpdate), for
   * writes that Kubernetes makes straight to storage, bypassing the strategy: no defaulting, no
   * validation, no managedFields, no hooks (pods/binding's BindingREST). `mutate` gets a fresh copy of
   * the stored object each attempt and returns the object to store (it may throw an ApiError to
   * refuse); the write is conditioned on the version read and retried on a conflict. A missing object
   * is a 404. `preconditions` are checked against the stored object (a mismatch is a 409).
   */
  async updateStored(
    def: ResourceDef,
    namespace: string,
    name: string,
    mutate: (current: KubeObject) => KubeObject,
    opts: { dryRun?: boolean; preconditions?: { uid?: string; resourceVersion?: string } } = {},
  ): Promise<KubeObject> {
    const key = storageKey(def, namespace, name);
    let useCache = !opts.dryRun;
    for (let attempt = 0; ; attempt++) {
      const src = await this.#readForWrite(def, namespace, name, useCache);
      useCache = false;
      if (!src) throw ApiError.notFound(this.#gr(def), name);
      // An attempt from the cache's copy does not count against the retries.
      if (src.fromCache) attempt--;
      try {
        // A fresh copy each attempt: mutate may change it in place.
        const current = src.copy();
        const pre = opts.preconditions;
        if (pre?.uid && pre.uid !== current.metadata.uid) {
          throw ApiError.conflict(
            this.#gr(def),
            name,
            `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`,
          );
        }
        if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
          throw ApiError.conflict(
            this.#gr(def),
            name,
            `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`,
          );
        }
        const next = mutate(current);
        if (opts.dryRun) return next;
        try {
          const written = await this.#storeUpdate(def, key, next, src.revision);
          next.metadata.resourceVersion = String(written.modRevision);
          return next;
        } catch (err) {
          if (err instanceof ConflictError && attempt < DELETE_RETRIES) continue;
          storageError(err, def, name);
        }
      } catch (err) {
        // What a cached copy led to, other than a write the store accepted, is decided again from
        // storage (see Registry): never an error or a conflict a fresh read would not give.
        if (src.fromCache) continue;
        throw err;
      }
    }
  }

  /**
   * Deletes an object, or starts deleting it: with finalizers (including those the propagation policy
   * adds) or a grace period the object gets a deletionTimestamp and stays until they are done.
   * Returns the object and whether it is gone now.
   */
  async delete(
    def: ResourceDef,
    namespace: string,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = storageKey(def, namespace, name);
    let useCache = !opts.dryRun;
    for (let attempt = 0; ; attempt++) {
      const src = await this.#readForWrite(def, namespace, name, useCache);
      useCache = false;
      if (!src) throw ApiError.notFound(this.#gr(def), name);
      // An attempt from the cache's copy does not count against the retries.
      if (src.fromCache) attempt--;
      let wrote = false;
      try {
        const obj = src.copy();
        const pre = opts.preconditions;
        if (pre?.uid && pre.uid !== obj.metadata.uid) {
          throw ApiError.conflict(
            this.#gr(def),
            name,
            `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`,
          );
        }
        if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
          throw ApiError.conflict(
            this.#gr(def),
            name,
            `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
          );
        }
        const next = src.copy();
        const finalizers = new Set(next.metadata.finalizers ?? []);
        if (opts.propagationPolicy === 'Orphan') {
          finalizers.add('orphan');
          finalizers.delete('foregroundDeletion');
        } else if (opts.propagationPolicy === 'Foreground') {
          finalizers.add('foregroundDeletion');
          finalizers.delete('orphan');
        }
        const now = this.#clock.now();
        const grace = def.strategy.gracePeriod?.(obj, opts.gracePeriodSeconds) ?? 0;
        const deferred = def.strategy.deferDelete?.(next, now) ?? false;
        if (finalizers.size > 0 || grace > 0 || deferred) {
          if (finalizers.size > 0) next.metadata.finalizers = [...finalizers];
          const current = next.metadata.deletionTimestamp;
          const until = rfc3339(now + grace * 1000);
          if (!current || (grace >= 0 && until < current)) {
            next.metadata.deletionTimestamp = until;
            next.metadata.deletionGracePeriodSeconds = grace;
          }
          if (sameObject(next, obj)) {
            // Nothing to write: the answer is the object read, which a cache must have had current.
            if (!src.current) continue;
            return { object: obj, deleted: false };
          }
          if (opts.dryRun) return { object: next, deleted: false };
          try {
            const written = await this.#storeUpdate(def, key, next, src.revision);
            next.metadata.resourceVersion = String(written.modRevision);
            return { object: next, deleted: false };
          } catch (err) {
            if (err instanceof ConflictError && attempt < DELETE_RETRIES) continue;
            storageError(err, def, name);
          }
        }
        if (opts.dryRun) return { object: obj, deleted: true };
        try {
          const revision = await this.#storeDelete(def, key, src.revision);
          wrote = true;
          await this.#afterDelete(def, obj);
          obj.metadata.resourceVersion = String(revision);
          return { object: obj, deleted: true };
        } catch (err) {
          if (err instanceof ConflictError && attempt < DELETE_RETRIES) continue;
          storageError(err, def, name);
        }
      } catch (err) {
        // What a cached copy led to, other than a write the store accepted, is decided again from
        // storage (see Registry): never an error or a conflict a fresh read would not give.
        if (src.fromCache && !wrote) continue;
        throw err;
      }
    }
  }

  /** The objects of `def` in `namespace` ('' for all namespaces / cluster-scoped), as a list. */
  async list(def: ResourceDef, namespace: string, opts: ListOptions = {}): Promise<KubeList> {
    const prefix = def.namespaced && namespace ? `${storagePrefix(def)}${namespace}/` : storagePrefix(def);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const rv = parseResourceVersion(opts.resourceVersion);
    let revision: number | undefined;
    if (rv !== undefined && rv > 0 && !opts.continue) {
      if (opts.resourceVersionMatch === 'Exact') revision = rv;
      else {
        const current = await this.#store.currentRevision();
        if (rv > current) {
          throw ApiError.timeout(`Too large resource version: ${rv}, current: ${current}`);
        }
      }
    }
    const items: KubeObject[] = [];
    let token = opts.continue || undefined;
    let readAt = 0;
    let next: string | undefined;
    try {
      for (;;) {
        const page = await this.#store.range(prefix, {
          revision,
          // With a filter, read ahead: many stored objects may not match.
          limit: limit ? (opts.filter ? Math.max(limit - items.length, 500) : limit - items.length) : 0,
          continue: token,
        });
        readAt = page.revision;
        revision = page.revision;
        let i = 0;
        for (; i < page.items.length; i++) {
          const obj = this.#decode(def, page.items[i]!);
          if (opts.filter && !opts.filter(obj)) continue;
          items.push(obj);
          if (limit && items.length >= limit) break;
        }
        if (limit && items.length >= limit) {
          // More remain if this page had unread items or the store has further pages.
          const lastKey = page.items[Math.min(i, page.items.length - 1)]!.key;
          const moreInPage = i < page.items.length - 1;
          if (moreInPage || page.continue) next = continueAfter(prefix, page.revision, lastKey);
          break;
        }
        if (!page.continue) break;
        token = page.continue;
      }
    } catch (err) {
      if (err instanceof CompactedError && opts.continue) {
        throw ApiError.gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      if (err instanceof InvalidArgumentError && opts.continue) {
        throw ApiError.badRequest(`continue key is not valid: ${err.message}`);
      }
      storageError(err, def, '');
    }
    const meta: KubeList['metadata'] = { resourceVersion: String(readAt) };
    if (next) meta.continue = next;
    return { apiVersion: apiVersionOf(def), kind: def.listKind, metadata: meta, items };
  }

  /** Events of `def` in `namespace`, as the watch API delivers them. See {@link WatchOptions}. */
  async *watch(def: ResourceDef, namespace: string, opts: WatchOptions = {}): AsyncGenerator<ApiWatchEvent> {
    const prefix = def.namespaced && namespace ? `${storagePrefix(def)}${namespace}/` : storagePrefix(def);
    const filter = opts.filter ?? (() => true);
    const rv = parseResourceVersion(opts.resourceVersion);
    let after: number;
    const bookmark = (revision: number, initialEnd = false): ApiWatchEvent => ({
      type: 'BOOKMARK',
      object: {
        kind: def.kind,
        apiVersion: apiVersionOf(def),
        metadata: {
          resourceVersion: String(revision),
          ...(initialEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
        },
      },
    });
    if (opts.sendInitialEvents || rv === undefined || rv === 0) {
      // The current state as ADDED events, then changes after it.
      let listed: KubeList;
      try {
        listed = await this.list(def, namespace, { filter });
      } catch (err) {
        yield errorEvent(err);
        return;
      }
      for (const obj of listed.items) yield { type: 'ADDED', object: obj };
      after = Number(listed.metadata.resourceVersion);
      if (opts.sendInitialEvents && opts.allowBookmarks) yield bookmark(after, true);
    } else {
      after = rv;
    }
    try {
      for await (const e of this.#store.watch(prefix, {
        afterRevision: after,
        signal: opts.signal,
        progressIntervalMs: opts.allowBookmarks ? (opts.bookmarkIntervalMs ?? 60_000) : 0,
      })) {
        if (e.type === 'progress') {
          yield bookmark(e.revision);
          continue;
        }
        const prev = e.prev ? this.#decode(def, e.prev) : null;
        const prevMatched = prev !== null && filter(prev);
        if (e.type === 'delete') {
          if (!prevMatched) continue;
          prev.metadata.resourceVersion = String(e.revision);
          yield { type: 'DELETED', object: prev };
          continue;
        }
        const obj = this.#decode(def, e.kv);
        const matches = filter(obj);
        if (matches) yield { type: prevMatched ? 'MODIFIED' : 'ADDED', object: obj };
        else if (prevMatched) yield { type: 'DELETED', object: obj };
      }
    } catch (err) {
      yield errorEvent(err);
    }
  }
}

/** Whether a namespace is being deleted. */
function terminating(ns: KubeObject): boolean {
  return (
    !!ns.metadata.deletionTimestamp || (ns.status as { phase?: string } | undefined)?.phase === 'Terminating'
  );
}

/** A continue token for the next page after `lastKey` (the store's own token format). */
function continueAfter(prefix: string, revision: number, lastKey: string): string {
  return encodeContinue({ revision, after: lastKey, prefix });
}

function errorEvent(err: unknown): ApiWatchEvent {
  let api: ApiError;
  if (err instanceof ApiError) api = err;
  else if (err instanceof CompactedError) {
    api = ApiError.gone(`too old resource version: ${err.requestedRevision} (${err.compactRevision})`);
  } else api = ApiError.internal((err as Error)?.message ?? String(err), err);
  return { type: 'ERROR', object: api.toStatus() as unknown as Record<string, unknown> };
}
