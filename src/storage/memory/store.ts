/**
 * An in-memory Store for other components' unit tests. It keeps the same model as the SQLite store
 * (it passes the same conformance suite) but nothing is durable beyond its {@link MemoryBackend},
 * which a test can hand to a new MemoryStore to simulate a restart.
 */
import { type Clock, systemClock } from '../../util/clock.ts';
import {
  checkKey,
  checkPrefix,
  checkRevision,
  checkTtl,
  checkValue,
  compareKeys,
  decodeContinue,
  encodeContinue,
} from '../keys.ts';
import {
  CompactedError,
  ConflictError,
  type DeleteOptions,
  type DeleteResult,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  type KeyValue,
  type RangeOptions,
  type RangeResult,
  type Store,
  StoreClosedError,
  type StoreStats,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from '../store.ts';
import { type ChangeEvent, type HistorySource, WatchHub } from '../watchhub.ts';

/** The state that outlives a MemoryStore: its log of events. */
export interface MemoryBackend {
  /** Every event with revision > compactRevision, in revision order, plus older events still live. */
  log: ChangeEvent[];
  revision: number;
  compactRevision: number;
}

export function newMemoryBackend(): MemoryBackend {
  return { log: [], revision: 0, compactRevision: 0 };
}

export interface MemoryStoreOptions {
  backend?: MemoryBackend;
  clock?: Clock;
  /** How often expired TTL keys are deleted, in ms; 0 disables. Default 1000. */
  ttlSweepIntervalMs?: number;
}

export class MemoryStore implements Store, HistorySource {
  /** Only this process writes it. */
  readonly soleWriter = true;
  readonly backend: MemoryBackend;
  readonly #clock: Clock;
  readonly #hub: WatchHub;
  /** Latest live version of every key. */
  readonly #live = new Map<string, KeyValue>();
  #closed = false;
  #cancelSweep: (() => void) | null = null;

  constructor(options: MemoryStoreOptions = {}) {
    this.backend = options.backend ?? newMemoryBackend();
    this.#clock = options.clock ?? systemClock;
    for (const e of this.backend.log) {
      if (e.type === 'put') this.#live.set(e.kv.key, e.kv);
      else this.#live.delete(e.key);
    }
    this.#hub = new WatchHub(this, { clock: this.#clock });
    const sweep = options.ttlSweepIntervalMs ?? 1000;
    if (sweep > 0) this.#scheduleSweep(sweep);
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  async currentRevision(): Promise<number> {
    return this.backend.revision;
  }

  headRevision(): number {
    return this.backend.revision;
  }

  async compactRevision(): Promise<number> {
    return this.backend.compactRevision;
  }

  #checkReadRevision(revision: number): void {
    if (revision > this.backend.revision) throw new FutureRevisionError(revision, this.backend.revision);
    if (revision < this.backend.compactRevision) {
      throw new CompactedError(revision, this.backend.compactRevision);
    }
  }

  /** The live keys as of `revision`. */
  #stateAt(revision: number): Map<string, KeyValue> {
    if (revision === this.backend.revision) return this.#live;
    const state = new Map<string, KeyValue>();
    for (const e of this.backend.log) {
      if (e.revision > revision) break;
      if (e.type === 'put') state.set(e.kv.key, e.kv);
      else state.delete(e.key);
    }
    return state;
  }

  async get(key: string, revision?: number): Promise<KeyValue | null> {
    this.#checkOpen();
    checkKey(key);
    checkRevision(revision);
    const at = revision || this.backend.revision;
    this.#checkReadRevision(at);
    return this.#stateAt(at).get(key) ?? null;
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    this.#checkOpen();
    checkPrefix(prefix);
    checkRevision(options.revision);
    checkRevision(options.limit, 'limit');
    let at = options.revision || this.backend.revision;
    let after: string | null = null;
    if (options.continue) {
      const c = decodeContinue(options.continue, prefix);
      at = c.revision;
      after = c.after;
    }
    this.#checkReadRevision(at);
    const all = [...this.#stateAt(at).values()]
      .filter((kv) => kv.key.startsWith(prefix) && (after === null || compareKeys(kv.key, after) > 0))
      .sort((a, b) => compareKeys(a.key, b.key));
    const limit = options.limit || 0;
    const items = limit > 0 ? all.slice(0, limit) : all;
    const more = limit > 0 && all.length > limit;
    const last = items[items.length - 1];
    return {
      items,
      revision: at,
      continue: more && last ? encodeContinue({ revision: at, after: last.key, prefix }) : undefined,
    };
  }

  async count(prefix: string): Promise<{ count: number; revision: number }> {
    this.#checkOpen();
    checkPrefix(prefix);
    let count = 0;
    for (const key of this.#live.keys()) if (key.startsWith(prefix)) count++;
    return { count, revision: this.backend.revision };
  }

  readHistory(prefix: string, afterRevision: number, untilRevision: number, limit: number): ChangeEvent[] {
    if (afterRevision < this.backend.compactRevision) {
      throw new CompactedError(afterRevision, this.backend.compactRevision);
    }
    const out: ChangeEvent[] = [];
    for (const e of this.backend.log) {
      if (e.revision <= afterRevision) continue;
      if (e.revision > untilRevision || out.length >= limit) break;
      if ((e.type === 'put' ? e.kv.key : e.key).startsWith(prefix)) out.push(e);
    }
    return out;
  }

  watch(prefix: string, options: WatchOptions): AsyncIterable<WatchEvent> {
    this.#checkOpen();
    return this.#hub.watch(prefix, options);
  }

  #commit(e: ChangeEvent): void {
    this.backend.log.push(e);
    this.backend.revision = e.revision;
    if (e.type === 'put') this.#live.set(e.kv.key, e.kv);
    else this.#live.delete(e.key);
    this.#hub.publish([e]);
  }

  #expiry(options: WriteOptions): number | undefined {
    checkTtl(options.ttlSeconds);
    return options.ttlSeconds ? this.#clock.now() + options.ttlSeconds * 1000 : undefined;
  }

  async create(key: string, value: Uint8Array, options: WriteOptions = {}): Promise<KeyValue> {
    this.#checkOpen();
    checkKey(key);
    checkValue(value);
    const expiresAt = this.#expiry(options);
    const current = this.#live.get(key);
    if (current) throw new KeyExistsError(current);
    const revision = this.backend.revision + 1;
    const kv: KeyValue = {
      key,
      value: new Uint8Array(value), // a copy, of a Buffer too (Buffer#slice would be a view)
      createRevision: revision,
      modRevision: revision,
      version: 1,
      expiresAt,
    };
    this.#commit({ type: 'put', revision, kv, prev: null });
    return kv;
  }

  #current(key: string, expected: number | undefined): KeyValue {
    const current = this.#live.get(key);
    if (!current) throw new KeyNotFoundError(key);
    if (expected !== undefined && expected !== current.modRevision)
      throw new ConflictError(current, expected);
    return current;
  }

  async update(
    key: string,
    value: Uint8Array,
    expectedModRevision?: number,
    options: WriteOptions = {},
  ): Promise<KeyValue> {
    this.#checkOpen();
    checkKey(key);
    checkValue(value);
    checkRevision(expectedModRevision, 'expectedModRevision');
    const expiresAt = this.#expiry(options);
    const prev = this.#current(key, expectedModRevision);
    const revision = this.backend.revision + 1;
    const kv: KeyValue = {
      key,
      value: new Uint8Array(value), // a copy, of a Buffer too (Buffer#slice would be a view)
      createRevision: prev.createRevision,
      modRevision: revision,
      version: prev.version + 1,
      expiresAt,
    };
    this.#commit({ type: 'put', revision, kv, prev });
    return kv;
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    this.#checkOpen();
    checkKey(key);
    checkRevision(options.expectedModRevision, 'expectedModRevision');
    const prev = this.#current(key, options.expectedModRevision);
    const revision = this.backend.revision + 1;
    this.#commit({ type: 'delete', revision, key, prev });
    return { revision, prev };
  }

  async compact(revision: number): Promise<void> {
    this.#checkOpen();
    checkRevision(revision);
    if (revision > this.backend.revision) throw new FutureRevisionError(revision, this.backend.revision);
    if (revision <= this.backend.compactRevision) return;
    // Keep events above the compacted revision, and the put that is each key's state at it.
    const stateAt = this.#stateAt(revision);
    const keep = new Set([...stateAt.values()].map((kv) => kv.modRevision));
    this.backend.log = this.backend.log.filter(
      (e) => e.revision > revision || (e.type === 'put' && keep.has(e.revision)),
    );
    this.backend.compactRevision = revision;
  }

  requestProgress(): void {
    this.#hub.requestProgress();
  }

  stats(): StoreStats {
    return {
      revision: this.backend.revision,
      compactRevision: this.backend.compactRevision,
      keys: this.#live.size,
      watchers: this.#hub.size,
    };
  }

  #scheduleSweep(intervalMs: number): void {
    this.#cancelSweep = this.#clock.setTimeout(() => {
      const now = this.#clock.now();
      for (const kv of [...this.#live.values()]) {
        if (kv.expiresAt !== undefined && kv.expiresAt <= now) {
          void this.delete(kv.key, { expectedModRevision: kv.modRevision }).catch(() => {});
        }
      }
      if (!this.#closed) this.#scheduleSweep(intervalMs);
    }, intervalMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelSweep?.();
    this.#hub.close();
  }
}
