/**
 * An in-memory RestClient for unit tests (client-go's fake clientset, roughly): objects kept per
 * resource with one global resourceVersion counter, conditional updates, lists with label/field
 * selectors and pagination, and watches replayed from a resourceVersion — plus the failures a real
 * server produces, on demand: injected errors, expired history (410), watches closed or broken.
 *
 * It is not the API server: no defaulting, validation, admission, finalizers or graceful deletion;
 * strategic merge and apply patches are applied as JSON merge patches.
 */
import fastJsonPatch from 'fast-json-patch';
import { ApiError } from '../api/errors.ts';
import { parseSelector } from '../api/labels.ts';
import { rfc3339Micro } from '../apiserver/object.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import type {
  DeleteOptions,
  KubeObject,
  ListOptions,
  ListResult,
  PatchOptions,
  PatchType,
  ResourceRef,
  RestClient,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from './types.ts';

export type FakeVerb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'createSubresource';

export interface FakeCall {
  verb: FakeVerb;
  resource: string;
  namespace: string;
  name?: string;
  opts?: unknown;
}

interface HistoryEvent {
  rv: number;
  resource: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

interface FakeWatcher {
  resource: string;
  match: (obj: KubeObject) => boolean;
  bookmarks: boolean;
  push(e: WatchEvent | { end: 'close' } | { end: 'error'; err: Error }): void;
}

function resourceKey(ref: ResourceRef): string {
  return `${ref.group}/${ref.resource}`;
}

function gr(ref: ResourceRef) {
  return { group: ref.group, resource: ref.resource };
}

export class FakeRestClient implements RestClient {
  /** Every call made, in order. */
  readonly calls: FakeCall[] = [];
  readonly #clock: Clock;
  #rv = 0;
  /** resource → key → object */
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  #history: HistoryEvent[] = [];
  /** Watches from before this resourceVersion get 410. */
  #compacted = 0;
  readonly #watchers = new Set<FakeWatcher>();
  #failures: { verb: FakeVerb; err: Error; when?: (call: FakeCall) => boolean }[] = [];
  #uid = 0;

  constructor(opts: { clock?: Clock } = {}) {
    this.#clock = opts.clock ?? systemClock;
  }

  /** The current resourceVersion. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Open watches. */
  get watchers(): number {
    return this.#watchers.size;
  }

  /**
   * The next call of `verb` (for which `when`, if given, holds) fails with `err`. Queued: several
   * failures hit successive calls.
   */
  failNext(verb: FakeVerb, err: Error, when?: (call: FakeCall) => boolean): void {
    this.#failures.push({ verb, err, when });
  }

  /** Forgets the event history: watches from any earlier resourceVersion get 410 Expired. */
  compact(): void {
    this.#compacted = this.#rv;
    this.#history = [];
  }

  /** Ends every open watch as a server does at its timeout. */
  closeWatches(): void {
    for (const w of this.#watchers) w.push({ end: 'close' });
  }

  /** Breaks every open watch with a transport error. */
  breakWatches(message = 'connection reset'): void {
    for (const w of this.#watchers) w.push({ end: 'error', err: new Error(message) });
  }

  /** Sends a BOOKMARK at the current resourceVersion to watches that asked for them. */
  bookmark(): void {
    for (const w of this.#watchers) {
      if (w.bookmarks) {
        w.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.#rv) } } });
      }
    }
  }

  /** The stored objects of a resource (copies), in key order. */
  objects<T extends KubeObject = KubeObject>(ref: ResourceRef): T[] {
    const m = this.#objects.get(resourceKey(ref));
    if (!m) return [];
    return [...m.keys()].sort().map((k) => structuredClone(m.get(k)) as T);
  }

  #fail(verb: FakeVerb): void {
    const call = this.calls.at(-1)!;
    const i = this.#failures.findIndex((f) => f.verb === verb && (!f.when || f.when(call)));
    if (i < 0) return;
    const [f] = this.#failures.splice(i, 1);
    throw f!.err;
  }

  #store(ref: ResourceRef): Map<string, KubeObject> {
    const k = resourceKey(ref);
    let m = this.#objects.get(k);
    if (!m) {
      m = new Map();
      this.#objects.set(k, m);
    }
    return m;
  }

  #record(ref: ResourceRef, type: HistoryEvent['type'], object: KubeObject): void {
    const e: HistoryEvent = {
      rv: this.#rv,
      resource: resourceKey(ref),
      type,
      object: structuredClone(object),
    };
    this.#history.push(e);
    for (const w of this.#watchers) {
      if (w.resource === e.resource && w.match(e.object)) w.push({ type, object: structuredClone(e.object) });
    }
  }

  async get<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    name: string,
  ): Promise<T> {
    this.calls.push({ verb: 'get', resource: ref.resource, namespace, name });
    this.#fail('get');
    const obj = this.#store(ref).get(key(ref, namespace, name));
    if (!obj) throw ApiError.notFound(gr(ref), name);
    return structuredClone(obj) as T;
  }

  async list<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    opts: ListOptions = {},
  ): Promise<ListResult<T>> {
    this.calls.push({ verb: 'list', resource: ref.resource, namespace, opts });
    this.#fail('list');
    const match = matcher(ref, namespace, opts);
    let offset = 0;
    let rv = this.#rv;
    if (opts.continue) {
      const [r, o] = opts.continue.split(':').map(Number);
      if (r === undefined || o === undefined || r < this.#compacted) {
        throw ApiError.gone(
          'The provided continue parameter is too old to display a consistent list result.',
        );
      }
      rv = r;
      offset = o;
    }
    const items = this.objects<T>(ref).filter(match);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : items.length;
    const page = items.slice(offset, offset + limit);
    const result: ListResult<T> = { items: page, resourceVersion: String(rv) };
    if (offset + limit < items.length) result.continue = `${rv}:${offset + limit}`;
    return result;
  }

  async *watch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    opts: WatchOptions = {},
  ): AsyncIterable<WatchEvent<T>> {
    this.calls.push({
      verb: 'watch',
      resource: ref.resource,
      namespace,
      opts: { ...opts, signal: undefined },
    });
    this.#fail('watch');
    const { signal } = opts;
    if (signal?.aborted) return;
    const match = matcher(ref, namespace, opts);
    const queue: (WatchEvent | { end: 'close' } | { end: 'error'; err: Error })[] = [];
    let wake: (() => void) | null = null;
    const watcher: FakeWatcher = {
      resource: resourceKey(ref),
      match,
      bookmarks: !!opts.allowWatchBookmarks,
      push(e) {
        queue.push(e);
        const w = wake;
        wake = null;
        w?.();
      },
    };
    const from = opts.resourceVersion;
    if (!from || from === '0') {
      for (const obj of this.objects(ref).filter(match)) queue.push({ type: 'ADDED', object: obj });
    } else if (Number(from) < this.#compacted) {
      yield {
        type: 'ERROR',
        object: ApiError.gone(`too old resource version: ${from} (${this.#compacted})`).toStatus() as never,
      };
      return;
    } else {
      for (const e of this.#history) {
        if (e.rv > Number(from) && e.resource === watcher.resource && match(e.object)) {
          queue.push({ type: e.type, object: structuredClone(e.object) });
        }
      }
    }
    this.#watchers.add(watcher);
    const onAbort = () => watcher.push({ end: 'close' });
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const e = queue.shift();
        if (!e) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          continue;
        }
        if (signal?.aborted) return;
        if ('end' in e) {
          if (e.end === 'error') throw e.err;
          return;
        }
        yield e as WatchEvent<T>;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#watchers.delete(watcher);
    }
  }

  async create<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T> {
    this.calls.push({ verb: 'create', resource: ref.resource, namespace, name: obj.metadata.name, opts });
    this.#fail('create');
    const o = structuredClone(obj) as KubeObject;
    if (!o.metadata.name && o.metadata.generateName) {
      o.metadata.name = `${o.metadata.generateName}${(++this.#uid).toString(36).padStart(5, '0')}`;
    }
    const name = o.metadata.name ?? '';
    if (!name) throw ApiError.invalid(ref.group, ref.kind, '', []);
    if (ref.namespaced) o.metadata.namespace = namespace || o.metadata.namespace;
    const store = this.#store(ref);
    const k = key(ref, o.metadata.namespace ?? '', name);
    if (store.has(k)) throw ApiError.alreadyExists(gr(ref), name);
    if (opts.dryRun) return o as T;
    o.metadata.uid = `fake-uid-${++this.#uid}`;
    o.metadata.creationTimestamp = rfc3339Micro(this.#clock.now()).replace(/\.\d+Z$/, 'Z');
    o.metadata.resourceVersion = String(++this.#rv);
    o.apiVersion ??= ref.group ? `${ref.group}/${ref.version}` : ref.version;
    o.kind ??= ref.kind;
    store.set(k, o);
    this.#record(ref, 'ADDED', o);
    return structuredClone(o) as T;
  }

  async update<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T> {
    const name = obj.metadata.name ?? '';
    this.calls.push({ verb: 'update', resource: ref.resource, namespace, name, opts });
    this.#fail('update');
    return this.#write(
      ref,
      namespace || obj.metadata.namespace || '',
      name,
      () => structuredClone(obj),
      opts,
      true,
    ) as Promise<T>;
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    name: string,
    type: PatchType,
    body: unknown,
    opts: PatchOptions = {},
  ): Promise<T> {
    this.calls.push({ verb: 'patch', resource: ref.resource, namespace, name, opts: { ...opts, type } });
    this.#fail('patch');
    return this.#write(
      ref,
      namespace,
      name,
      (current) => {
        if (type === 'json') {
          return fastJsonPatch.applyPatch(current, body as fastJsonPatch.Operation[], false, false)
            .newDocument as KubeObject;
        }
        return mergePatch(current, body) as KubeObject;
      },
      opts,
      false,
    ) as Promise<T>;
  }

  async #write(
    ref: ResourceRef,
    namespace: string,
    name: string,
    next: (current: KubeObject) => KubeObject,
    opts: WriteOptions,
    conditional: boolean,
  ): Promise<KubeObject> {
    const store = this.#store(ref);
    const k = key(ref, namespace, name);
    const current = store.get(k);
    if (!current) throw ApiError.notFound(gr(ref), name);
    const o = next(structuredClone(current));
    const wantRv = o.metadata.resourceVersion;
    if (conditional && wantRv && wantRv !== current.metadata.resourceVersion) {
      throw ApiError.conflict(
        gr(ref),
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    o.metadata = {
      ...o.metadata,
      name,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
    };
    if (ref.namespaced) o.metadata.namespace = current.metadata.namespace;
    if (opts.dryRun) return o;
    o.metadata.resourceVersion = String(++this.#rv);
    store.set(k, o);
    this.#record(ref, 'MODIFIED', o);
    return structuredClone(o);
  }

  async delete(
    ref: ResourceRef,
    namespace: string,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<KubeObject | null> {
    this.calls.push({ verb: 'delete', resource: ref.resource, namespace, name, opts });
    this.#fail('delete');
    const store = this.#store(ref);
    const k = key(ref, namespace, name);
    const current = store.get(k);
    if (!current) throw ApiError.notFound(gr(ref), name);
    const pre = opts.preconditions;
    if (
      (pre?.uid && pre.uid !== current.metadata.uid) ||
      (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)
    ) {
      throw ApiError.conflict(gr(ref), name, 'the precondition does not match');
    }
    if (opts.dryRun) return null;
    store.delete(k);
    const gone = structuredClone(current);
    gone.metadata.resourceVersion = String(++this.#rv);
    this.#record(ref, 'DELETED', gone);
    return null;
  }

  async createSubresource<T = unknown>(
    ref: ResourceRef,
    namespace: string,
    name: string,
    subresource: string,
    body: unknown,
  ): Promise<T> {
    this.calls.push({
      verb: 'createSubresource',
      resource: `${ref.resource}/${subresource}`,
      namespace,
      name,
      opts: body,
    });
    this.#fail('createSubresource');
    if (!this.#store(ref).has(key(ref, namespace, name))) throw ApiError.notFound(gr(ref), name);
    return structuredClone(body) as T;
  }
}

function key(ref: ResourceRef, namespace: string, name: string): string {
  return ref.namespaced ? `${namespace}/${name}` : name;
}

/** Whether an object is in `namespace` and matches the selectors of `opts`. */
function matcher(
  ref: ResourceRef,
  namespace: string,
  opts: { labelSelector?: string; fieldSelector?: string },
): (obj: KubeObject) => boolean {
  const labels = opts.labelSelector ? parseSelector(opts.labelSelector) : null;
  const fields = (opts.fieldSelector ?? '')
    .split(',')
    .filter(Boolean)
    .map((term) => {
      const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
      if (!m) throw ApiError.badRequest(`invalid field selector: ${term}`);
      return { path: m[1]!.split('.'), neg: m[2] === '!=', value: m[3]! };
    });
  return (obj) => {
    if (ref.namespaced && namespace && obj.metadata.namespace !== namespace) return false;
    if (labels && !labels.matches(obj.metadata.labels)) return false;
    return fields.every((f) => {
      let v: unknown = obj;
      for (const p of f.path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
      const s = v === undefined || v === null ? '' : String(v);
      return f.neg ? s !== f.value : s === f.value;
    });
  };
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
