/**
 * The Store: a revisioned key-value store with etcd's model. Every component's state lives here,
 * reached only through the API server.
 *
 * The model, which every implementation keeps exactly (the conformance suite checks each rule):
 * - The store has one revision, a positive integer that starts at 0 (empty) and grows by exactly one
 *   with every successful write (create, update, delete). Writes are totally ordered by it.
 * - Each live key carries `createRevision` (the write that created it), `modRevision` (the last write
 *   that changed it) and `version` (1 on create, +1 per update). A key deleted and created again
 *   starts over with a new createRevision and version 1.
 * - Writes are conditional the way the API server needs them: create fails if the key exists;
 *   update and delete can demand the key's current modRevision and fail with a {@link ConflictError}
 *   carrying the current value when it differs.
 * - An acknowledged write is durable for durable implementations: once the returned promise resolves,
 *   the write survives a crash of the process (and, for SQLite, of the machine).
 * - History older than the compacted revision is gone: reads and watches below it fail with
 *   {@link CompactedError}.
 *
 * Keys are non-empty, well-formed Unicode strings; they are ordered by their UTF-8 bytes.
 * Values are opaque bytes of at most {@link MAX_VALUE_BYTES}.
 */

/** The largest value the store accepts: Kubernetes objects are limited to 3 MiB by the API server,
 * and etcd's default request limit is 1.5 MiB; we take 3 MiB plus room for the envelope. */
export const MAX_VALUE_BYTES = 3 * 1024 * 1024 + 64 * 1024;

/** The largest key the store accepts, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 4096;

/** One version of one key. Immutable once returned. */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of the write that created this key (this incarnation of it). */
  readonly createRevision: number;
  /** Revision of the write that produced this version. */
  readonly modRevision: number;
  /** 1 for the creating write, +1 for each update since. */
  readonly version: number;
  /** Absolute expiry in clock milliseconds, when the write set a TTL. */
  readonly expiresAt?: number | undefined;
}

export interface WriteOptions {
  /**
   * Time to live in seconds, counted from the write. When it passes the store deletes the key
   * (a normal delete, seen by watchers), unless the key was written again meanwhile; a later write
   * without a TTL makes the key permanent, as an etcd put without a lease does.
   */
  readonly ttlSeconds?: number | undefined;
}

export interface DeleteOptions {
  /** Delete only if the key's current modRevision equals this; otherwise {@link ConflictError}. */
  readonly expectedModRevision?: number | undefined;
}

export interface RangeOptions {
  /** Read the state as of this revision; 0 or absent means the latest. Below the compacted
   * revision it fails with {@link CompactedError}; above the current one with {@link FutureRevisionError}. */
  readonly revision?: number | undefined;
  /** At most this many items; 0 or absent means no limit. */
  readonly limit?: number | undefined;
  /** A token from a previous page. It pins the revision of the first page, so the pages of one
   * listing are consistent with each other; `revision` is ignored when it is given. */
  readonly continue?: string | undefined;
}

export interface RangeResult {
  /** Matching live keys in key order. */
  readonly items: KeyValue[];
  /** The revision the range was read at. */
  readonly revision: number;
  /** Present when more items follow: pass it back as `continue` to read the next page. */
  readonly continue?: string | undefined;
}

export interface WatchOptions {
  /** Deliver every event with a revision greater than this one: history first, then live writes
   * (0 replays all retained history). Absent means "from now on": only writes after the call. Below
   * the compacted revision the watch fails with {@link CompactedError} (thrown by the iterator). */
  readonly afterRevision?: number | undefined;
  /** Ends the watch: the iterator finishes normally. */
  readonly signal?: AbortSignal | undefined;
  /** After this long without an event, emit a `progress` event with the current revision; it repeats
   * while the watch stays idle. 0 or absent disables progress notifications. */
  readonly progressIntervalMs?: number | undefined;
}

/** A new or changed key. `prev` is the version it replaced, or null when the write created it. */
export interface PutEvent {
  readonly type: 'put';
  readonly revision: number;
  readonly kv: KeyValue;
  readonly prev: KeyValue | null;
}

/** A deleted key, with the last version it had. */
export interface DeleteEvent {
  readonly type: 'delete';
  readonly revision: number;
  readonly key: string;
  readonly prev: KeyValue;
}

/**
 * Sent on an idle watch: every event matching the watch with revision ≤ `revision` has been
 * delivered. The API server turns these into bookmarks.
 */
export interface ProgressEvent {
  readonly type: 'progress';
  readonly revision: number;
}

export type WatchEvent = PutEvent | DeleteEvent | ProgressEvent;

/** Result of a delete: the revision of the delete and the last version of the key. */
export interface DeleteResult {
  readonly revision: number;
  readonly prev: KeyValue;
}

/** Statistics every store reports, for metrics and benchmarks. */
export interface StoreStats {
  readonly revision: number;
  readonly compactRevision: number;
  /** Live keys. */
  readonly keys: number;
  readonly watchers: number;
}

export interface Store {
  /**
   * True when every write to this store goes through this process (an embedded store). The API
   * server then trusts a watch cache that has applied all of its own writes as current (see
   * Registry). A store that other processes write too (etcd shared by several API servers) must
   * leave it false or absent.
   */
  readonly soleWriter?: boolean;

  /** The latest revision: the revision of the most recent successful write (0 when empty). */
  currentRevision(): Promise<number>;

  /** The revision below which history is gone (0 when nothing was compacted). */
  compactRevision(): Promise<number>;

  /** The key's version as of `revision` (latest when 0 or absent), or null when absent then. */
  get(key: string, revision?: number): Promise<KeyValue | null>;

  /** Creates the key. Fails with {@link KeyExistsError} (carrying the current value) if it exists. */
  create(key: string, value: Uint8Array, options?: WriteOptions): Promise<KeyValue>;

  /**
   * Replaces the key's value. When `expectedModRevision` is given it must equal the key's current
   * modRevision, else {@link ConflictError}. Fails with {@link KeyNotFoundError} if the key is absent.
   */
  update(
    key: string,
    value: Uint8Array,
    expectedModRevision?: number,
    options?: WriteOptions,
  ): Promise<KeyValue>;

  /** Deletes the key. {@link KeyNotFoundError} if absent; {@link ConflictError} if the condition fails. */
  delete(key: string, options?: DeleteOptions): Promise<DeleteResult>;

  /** Live keys starting with `prefix`, in key order, consistent at one revision. */
  range(prefix: string, options?: RangeOptions): Promise<RangeResult>;

  /** Number of live keys starting with `prefix`, at the latest revision. */
  count(prefix: string): Promise<{ count: number; revision: number }>;

  /**
   * Events for keys starting with `prefix`, in revision order, with no gaps: every write with a
   * revision above `afterRevision` that matches the prefix is delivered exactly once. A consumer that
   * falls far behind does not grow memory without bound: the store re-reads history for it, and if
   * that history was compacted meanwhile the iterator throws {@link CompactedError}.
   */
  watch(prefix: string, options: WatchOptions): AsyncIterable<WatchEvent>;

  /**
   * Discards history below `revision`: afterwards, reads and watches at revisions below it fail
   * with {@link CompactedError}. Live keys are never lost. Compacting at or below the current
   * compacted revision does nothing; above the current revision fails with {@link FutureRevisionError}.
   */
  compact(revision: number): Promise<void>;

  /**
   * Asks every watch that has delivered all its events to send a progress event with the current
   * revision now, instead of at its next interval (etcd's RequestProgress). Optional.
   */
  requestProgress?(): void;

  stats(): StoreStats;

  /** Finishes pending writes, ends all watches (their iterators finish) and releases resources.
   * Later calls fail with {@link StoreClosedError}. Idempotent. */
  close(): Promise<void>;
}

// ---- errors --------------------------------------------------------------------------------------

/** Base class of every error a Store reports. `code` is stable and meant for mapping to HTTP. */
export abstract class StoreError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A create found the key already present. */
export class KeyExistsError extends StoreError {
  readonly code = 'KeyExists';
  readonly current: KeyValue;
  constructor(current: KeyValue) {
    super(`key ${JSON.stringify(current.key)} already exists (modRevision ${current.modRevision})`);
    this.current = current;
  }
}

/** An update or delete found the key absent. */
export class KeyNotFoundError extends StoreError {
  readonly code = 'KeyNotFound';
  readonly key: string;
  constructor(key: string) {
    super(`key ${JSON.stringify(key)} not found`);
    this.key = key;
  }
}

/** An update or delete found a different modRevision than the one it was conditioned on. */
export class ConflictError extends StoreError {
  readonly code = 'Conflict';
  readonly current: KeyValue;
  readonly expectedModRevision: number;
  constructor(current: KeyValue, expectedModRevision: number) {
    super(
      `key ${JSON.stringify(current.key)} was modified: expected modRevision ${expectedModRevision}, found ${current.modRevision}`,
    );
    this.current = current;
    this.expectedModRevision = expectedModRevision;
  }
}

/** A read, continue token or watch asked for history that compaction removed (HTTP 410 Gone). */
export class CompactedError extends StoreError {
  readonly code = 'Compacted';
  readonly requestedRevision: number;
  readonly compactRevision: number;
  constructor(requestedRevision: number, compactRevision: number) {
    super(`revision ${requestedRevision} has been compacted (history starts at ${compactRevision})`);
    this.requestedRevision = requestedRevision;
    this.compactRevision = compactRevision;
  }
}

/** A read asked for a revision the store has not reached yet. */
export class FutureRevisionError extends StoreError {
  readonly code = 'FutureRevision';
  readonly requestedRevision: number;
  readonly currentRevision: number;
  constructor(requestedRevision: number, currentRevision: number) {
    super(`revision ${requestedRevision} is newer than the current revision ${currentRevision}`);
    this.requestedRevision = requestedRevision;
    this.currentRevision = currentRevision;
  }
}

/** A key, value, continue token or option is malformed or too large. Nothing was written. */
export class InvalidArgumentError extends StoreError {
  readonly code = 'InvalidArgument';
}

/** The store was closed. */
export class StoreClosedError extends StoreError {
  readonly code = 'Closed';
  constructor() {
    super('the store is closed');
  }
}

/** The disk is full: the write was not applied; everything acknowledged before is intact. */
export class StorageFullError extends StoreError {
  readonly code = 'StorageFull';
}

/** The database file is damaged, or is not a skiff database. It is never modified. */
export class StorageCorruptError extends StoreError {
  readonly code = 'StorageCorrupt';
}

/** Any other failure of the underlying storage (I/O error, etcd unavailable). The write may or may
 * not have been applied only where the implementation says so; SQLite never applies it. */
export class StorageUnavailableError extends StoreError {
  readonly code = 'StorageUnavailable';
}
