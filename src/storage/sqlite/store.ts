/**
 * The embedded Store: one append-only log table in SQLite (WAL, synchronous=FULL), in the spirit of
 * kine, on node:sqlite.
 *
 * - Group commit: writes that arrive in the same turn of the event loop are applied in one
 *   transaction, in arrival order, and share its one sync. Each is acknowledged only after COMMIT
 *   returned, so an acknowledged write survives kill -9 and power loss.
 * - The write connection lives on a writer thread (writer-thread.ts) by default: commits, their
 *   syncs, compaction and checkpoints take none of the caller's thread. Reads use the store's own
 *   connection, bounded by the revision the store has acknowledged.
 * - Watchers are fed synchronously right after the commit (see WatchHub); slow ones re-read the log.
 * - Compaction runs in the background in small chunks (a few ms each), so the log stays bounded under
 *   churn without stalling writers; see {@link SqliteStoreOptions.retainRevisions}.
 * - Keys with a TTL are deleted by a sweeper (a normal delete that watchers see).
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { type Clock, systemClock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import {
  checkKey,
  checkPrefix,
  checkRevision,
  checkTtl,
  checkValue,
  decodeContinue,
  encodeContinue,
  prefixEnd,
} from '../keys.ts';
import {
  CompactedError,
  ConflictError,
  type DeleteOptions,
  type DeleteResult,
  FutureRevisionError,
  InvalidArgumentError,
  KeyExistsError,
  KeyNotFoundError,
  type KeyValue,
  type RangeOptions,
  type RangeResult,
  StorageCorruptError,
  StorageFullError,
  StorageUnavailableError,
  type Store,
  StoreClosedError,
  StoreError,
  type StoreStats,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from '../store.ts';
import { type ChangeEvent, type HistorySource, WatchHub } from '../watchhub.ts';
import { Checkpointer } from './checkpointer.ts';
import { COLS, EMPTY, openDatabase, type Row, SQLITE_CORRUPT, SQLITE_FULL, sqliteCode } from './schema.ts';
import { type LogRow, LogWriter, type WriteOp, type WriteResult } from './writer.ts';
import { type WriterError, WriterThread } from './writer-thread.ts';

export interface SqliteStoreOptions {
  /** The database file. Its directory must exist. */
  path: string;
  clock?: Clock;
  logger?: Logger;
  /**
   * Revisions of history kept for watches and reads at old revisions. Compaction starts when history
   * exceeds twice this and brings it back to this. Default 1000 (kine's default).
   */
  retainRevisions?: number;
  /** How often background compaction and TTL expiry look for work, in ms; 0 disables both timers. Default 1000. */
  maintenanceIntervalMs?: number;
  /** Most writes in one transaction. Default 1024. */
  maxBatch?: number;
  /** Checkpoint the WAL from a worker thread instead of inside commits. Default true. */
  checkpointWorker?: boolean;
  /** Commit on a writer thread (see writer-thread.ts) instead of the store's own. Default true. */
  writerThread?: boolean;
}

/** Counters for benchmarks and metrics. */
export interface SqliteStoreMetrics {
  commits: number;
  writes: number;
  compactionChunks: number;
  rowsCompacted: number;
  /** Longest single compaction chunk, in ms: how long compaction held the event loop at once. */
  maxCompactionPauseMs: number;
  /** Longest checkpoint tail run on the writing connection, in ms. */
  maxCheckpointPauseMs: number;
}

const decoder = new TextDecoder();

interface Op {
  kind: 'create' | 'update' | 'delete';
  key: string;
  name: Uint8Array;
  value: Uint8Array;
  expected: number | undefined;
  ttl: number | undefined;
  /** Clock ms when it expires (set when its batch is committed: now + ttl). */
  expiresAt?: number | null;
}

interface Pending {
  op: Op;
  resolve: (v: KeyValue | DeleteResult) => void;
  reject: (e: Error) => void;
}

function logKv(row: LogRow, key: string): KeyValue {
  return {
    key,
    value: row.value,
    createRevision: row.createRevision,
    modRevision: row.modRevision,
    version: row.version,
    expiresAt: row.expiresAt ?? undefined,
  };
}

function toKv(row: Row, key = decoder.decode(row.name)): KeyValue {
  return {
    key,
    value: row.value,
    createRevision: row.create_revision,
    modRevision: row.id,
    version: row.version,
    expiresAt: row.expires_at ?? undefined,
  };
}

export class SqliteStore implements Store, HistorySource {
  /** Only this process writes it. */
  readonly soleWriter = true;
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #hub: WatchHub;
  readonly #retain: number;
  readonly #maxBatch: number;
  readonly #stmts = new Map<string, StatementSync>();
  #rev: number;
  #compactRev: number;
  #sweptRev: number;
  #liveKeys: number;
  #queue: Pending[] = [];
  #flushScheduled = false;
  #closed = false;
  #maintenanceTimer: (() => void) | null = null;
  #maintenanceRunning = false;
  #idle: Promise<void> = Promise.resolve();
  readonly #path: string;
  /** The write connection's side when this thread writes (no writer thread, or it failed). */
  #logWriter: LogWriter | null = null;
  #writer: WriterThread | null = null;
  /** Batches posted to the writer thread, oldest first, awaiting its answer. */
  #inFlight: Pending[][] = [];
  #drained: (() => void) | null = null;
  readonly metrics: SqliteStoreMetrics = {
    commits: 0,
    writes: 0,
    compactionChunks: 0,
    rowsCompacted: 0,
    maxCompactionPauseMs: 0,
    maxCheckpointPauseMs: 0,
  };
  #checkpointer: Checkpointer | null = null;

  /** Opens or creates the store. Throws {@link StorageCorruptError} for foreign or damaged files. */
  constructor(options: SqliteStoreOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger ?? silentLogger;
    this.#retain = options.retainRevisions ?? 1000;
    this.#maxBatch = options.maxBatch ?? 1024;
    if (!Number.isSafeInteger(this.#retain) || this.#retain < 0) {
      throw new InvalidArgumentError('retainRevisions must be a non-negative integer');
    }
    const { db, meta } = openDatabase(options.path);
    this.#db = db;
    this.#compactRev = meta.compactRevision;
    this.#sweptRev = meta.sweptRevision;
    try {
      const maxId = Number(this.#stmt('SELECT COALESCE(MAX(id), 0) AS m FROM skiff_kv').get()?.m ?? 0);
      // Compaction may have removed the newest rows if they were tombstones; it never goes past the
      // compacted revision, which is persisted first.
      this.#rev = Math.max(maxId, this.#compactRev);
      this.#liveKeys = Number(
        this.#stmt(
          `SELECT COUNT(*) AS c FROM skiff_kv k WHERE k.deleted = 0
             AND k.id = (SELECT MAX(id) FROM skiff_kv WHERE name = k.name)`,
        ).get()?.c ?? 0,
      );
    } catch (err) {
      this.#stmts.clear();
      db.close();
      const mapped = this.#mapError(err);
      throw mapped instanceof StorageCorruptError
        ? new StorageCorruptError(`${options.path}: ${mapped.message}; skiff leaves it untouched`, {
            cause: err,
          })
        : mapped;
    }
    this.#hub = new WatchHub(this, { clock: this.#clock });
    this.#path = options.path;
    if (options.writerThread !== false) {
      // This connection only reads from now on; the writer thread checkpoints.
      this.#db.exec('PRAGMA wal_autocheckpoint = 0');
      this.#writer = new WriterThread(
        {
          path: options.path,
          revision: this.#rev,
          checkpointWorker: options.checkpointWorker !== false,
          maxBatch: this.#maxBatch,
        },
        {
          log: this.#log,
          onBatch: (results, error, pauseMs) => this.#onWriterBatch(results, error, pauseMs),
          onFailure: (err) => this.#onWriterFailure(err),
        },
      );
    } else this.#writeHere(options.checkpointWorker !== false);
    const interval = options.maintenanceIntervalMs ?? 1000;
    if (interval > 0) this.#scheduleMaintenance(interval);
    this.#log.debug(
      { path: options.path, revision: this.#rev, compactRevision: this.#compactRev, keys: this.#liveKeys },
      'sqlite store opened',
    );
  }

  /** Makes this thread's connection the writing one. */
  #writeHere(checkpointWorker: boolean): void {
    this.#logWriter = new LogWriter(this.#db);
    if (checkpointWorker) {
      this.#db.exec('PRAGMA wal_autocheckpoint = 0');
      this.#checkpointer = new Checkpointer({
        path: this.#path,
        log: this.#log,
        onFailure: () => {
          if (!this.#closed) this.#db.exec('PRAGMA wal_autocheckpoint = 1000');
        },
        finishOnWriter: () => {
          if (this.#closed) return;
          const t0 = performance.now();
          try {
            this.#db.exec('PRAGMA wal_checkpoint(PASSIVE)');
          } catch (err) {
            this.#log.debug({ err }, 'finishing a WAL checkpoint failed; will retry');
          }
          this.metrics.maxCheckpointPauseMs = Math.max(
            this.metrics.maxCheckpointPauseMs,
            performance.now() - t0,
          );
        },
      });
    } else this.#db.exec('PRAGMA wal_autocheckpoint = 1000');
  }

  #stmt(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }

  // ---- reads -------------------------------------------------------------------------------------

  async currentRevision(): Promise<number> {
    return this.#rev;
  }

  /** HistorySource: the revision of the latest commit. */
  headRevision(): number {
    return this.#rev;
  }

  async compactRevision(): Promise<number> {
    return this.#compactRev;
  }

  #checkReadRevision(revision: number): void {
    if (revision > this.#rev) throw new FutureRevisionError(revision, this.#rev);
    if (revision < this.#compactRev) throw new CompactedError(revision, this.#compactRev);
  }

  async get(key: string, revision?: number): Promise<KeyValue | null> {
    this.#checkOpen();
    const name = checkKey(key);
    checkRevision(revision);
    const at = revision || this.#rev;
    this.#checkReadRevision(at);
    const row = this.#run(
      () =>
        this.#stmt(`SELECT ${COLS} FROM skiff_kv WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1`).get(
          name,
          at,
        ) as Row | undefined,
    );
    return row && !row.deleted ? toKv(row, key) : null;
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    this.#checkOpen();
    const start = checkPrefix(prefix);
    checkRevision(options.revision);
    checkRevision(options.limit, 'limit');
    let at = options.revision || this.#rev;
    let after: Uint8Array | null = null;
    if (options.continue) {
      const c = decodeContinue(options.continue, prefix);
      at = c.revision;
      after = new TextEncoder().encode(c.after);
    }
    this.#checkReadRevision(at);
    const limit = options.limit || -1;
    const end = prefixEnd(start);
    const conds = ['k.name >= ?'];
    const params: SQLInputValue[] = [after ?? start];
    if (after) conds[0] = 'k.name > ?';
    if (end) {
      conds.push('k.name < ?');
      params.push(end);
    }
    const sql = `SELECT ${COLS.replace(/(\w+)/g, 'k.$1')} FROM skiff_kv k
      WHERE ${conds.join(' AND ')} AND k.deleted = 0 AND k.id <= ?
        AND k.id = (SELECT MAX(id) FROM skiff_kv WHERE name = k.name AND id <= ?)
      ORDER BY k.name LIMIT ?`;
    // Read one more than asked to learn whether another page follows.
    const rows = this.#run(
      () => this.#stmt(sql).all(...params, at, at, limit > 0 ? limit + 1 : -1) as unknown as Row[],
    );
    let more = false;
    if (limit > 0 && rows.length > limit) {
      rows.length = limit;
      more = true;
    }
    const items = rows.map((r) => toKv(r));
    const last = items[items.length - 1];
    return {
      items,
      revision: at,
      continue: more && last ? encodeContinue({ revision: at, after: last.key, prefix }) : undefined,
    };
  }

  async count(prefix: string): Promise<{ count: number; revision: number }> {
    this.#checkOpen();
    const start = checkPrefix(prefix);
    const end = prefixEnd(start);
    // At the acknowledged revision: the writer thread may have committed more already.
    const at = this.#rev;
    const sql = `SELECT COUNT(*) AS c FROM skiff_kv k WHERE k.name >= ? ${end ? 'AND k.name < ?' : ''}
      AND k.deleted = 0 AND k.id <= ? AND k.id = (SELECT MAX(id) FROM skiff_kv WHERE name = k.name AND id <= ?)`;
    const row = this.#run(() => this.#stmt(sql).get(...(end ? [start, end] : [start]), at, at));
    return { count: Number(row?.c ?? 0), revision: at };
  }

  /** HistorySource: events from the log, with their previous versions. */
  readHistory(prefix: string, afterRevision: number, untilRevision: number, limit: number): ChangeEvent[] {
    if (afterRevision < this.#compactRev) throw new CompactedError(afterRevision, this.#compactRev);
    const start = checkPrefix(prefix);
    const end = prefixEnd(start);
    const sql = `SELECT ${COLS} FROM skiff_kv WHERE id > ? AND id <= ?
      ${prefix ? 'AND name >= ?' : ''} ${end ? 'AND name < ?' : ''} ORDER BY id LIMIT ?`;
    const params: SQLInputValue[] = [afterRevision, untilRevision];
    if (prefix) params.push(start);
    if (end) params.push(end);
    params.push(limit);
    const rows = this.#run(() => this.#stmt(sql).all(...params) as unknown as Row[]);
    const byId = this.#stmt(`SELECT ${COLS} FROM skiff_kv WHERE id = ?`);
    return rows.map((row): ChangeEvent => {
      const key = decoder.decode(row.name);
      const prevRow = row.prev_revision ? (byId.get(row.prev_revision) as Row | undefined) : undefined;
      if (row.prev_revision && !prevRow) {
        // Only possible if compaction ran past this point meanwhile.
        throw new CompactedError(afterRevision, this.#compactRev);
      }
      const prev = prevRow ? toKv(prevRow, key) : null;
      if (row.deleted) return { type: 'delete', revision: row.id, key, prev: prev! };
      return { type: 'put', revision: row.id, kv: toKv(row, key), prev };
    });
  }

  watch(prefix: string, options: WatchOptions): AsyncIterable<WatchEvent> {
    this.#checkOpen();
    return this.#hub.watch(prefix, options);
  }

  requestProgress(): void {
    this.#hub.requestProgress();
  }

  stats(): StoreStats {
    return {
      revision: this.#rev,
      compactRevision: this.#compactRev,
      keys: this.#liveKeys,
      watchers: this.#hub.size,
    };
  }

  // ---- writes ------------------------------------------------------------------------------------

  create(key: string, value: Uint8Array, options: WriteOptions = {}): Promise<KeyValue> {
    return this.#enqueue(() => {
      checkValue(value);
      checkTtl(options.ttlSeconds);
      return {
        kind: 'create',
        key,
        name: checkKey(key),
        value: new Uint8Array(value), // a copy, of a Buffer too (Buffer#slice would be a view)
        expected: undefined,
        ttl: options.ttlSeconds,
      };
    }) as Promise<KeyValue>;
  }

  update(
    key: string,
    value: Uint8Array,
    expectedModRevision?: number,
    options: WriteOptions = {},
  ): Promise<KeyValue> {
    return this.#enqueue(() => {
      checkValue(value);
      checkTtl(options.ttlSeconds);
      checkRevision(expectedModRevision, 'expectedModRevision');
      return {
        kind: 'update',
        key,
        name: checkKey(key),
        value: new Uint8Array(value), // a copy, of a Buffer too (Buffer#slice would be a view)
        expected: expectedModRevision,
        ttl: options.ttlSeconds,
      };
    }) as Promise<KeyValue>;
  }

  delete(key: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    return this.#enqueue(() => {
      checkRevision(options.expectedModRevision, 'expectedModRevision');
      return {
        kind: 'delete',
        key,
        name: checkKey(key),
        value: EMPTY,
        expected: options.expectedModRevision,
        ttl: undefined,
      };
    }) as Promise<DeleteResult>;
  }

  #enqueue(build: () => Op): Promise<KeyValue | DeleteResult> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new StoreClosedError());
      let op: Op;
      try {
        op = build();
      } catch (err) {
        return reject(err);
      }
      this.#queue.push({ op, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Applies queued writes in transactions of at most maxBatch, one sync each. */
  #flush(): void {
    this.#flushScheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      const ops = this.#ops(batch);
      if (this.#writer) {
        this.#inFlight.push(batch);
        this.#writer.send(ops);
        continue;
      }
      let results: WriteResult[];
      try {
        results = this.#logWriter!.apply(ops, this.#rev);
      } catch (err) {
        this.#failBatch(batch, this.#mapError(err));
        continue;
      }
      this.#finishBatch(batch, results);
    }
  }

  #ops(batch: readonly Pending[]): WriteOp[] {
    const now = this.#clock.now();
    return batch.map(({ op }) => {
      op.expiresAt = op.ttl ? now + op.ttl * 1000 : null;
      return {
        kind: op.kind,
        name: op.name,
        value: op.value,
        expected: op.expected ?? -1,
        expiresAt: op.expiresAt,
      };
    });
  }

  #failBatch(batch: readonly Pending[], err: StoreError): void {
    this.#log.error({ err }, 'write transaction failed; nothing in it was applied');
    for (const p of batch) p.reject(err);
  }

  /** Acknowledges a committed batch: watchers first (in revision order), then the writers' promises. */
  #finishBatch(batch: readonly Pending[], results: readonly WriteResult[]): void {
    const events: ChangeEvent[] = [];
    const outcomes: { p: Pending; result?: KeyValue | DeleteResult; err?: Error }[] = [];
    let writes = 0;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const r = results[i]!;
      const { op } = p;
      if (!r.ok) {
        const live = r.live ? logKv(r.live, op.key) : null;
        const err =
          r.reason === 'exists'
            ? new KeyExistsError(live!)
            : r.reason === 'conflict'
              ? new ConflictError(live!, op.expected!)
              : new KeyNotFoundError(op.key);
        outcomes.push({ p, err });
        continue;
      }
      writes++;
      this.#rev = r.revision;
      const prev = r.prev ? logKv(r.prev, op.key) : null;
      if (op.kind === 'delete') {
        this.#liveKeys--;
        events.push({ type: 'delete', revision: r.revision, key: op.key, prev: prev! });
        outcomes.push({ p, result: { revision: r.revision, prev: prev! } });
        continue;
      }
      if (op.kind === 'create') this.#liveKeys++;
      const kv: KeyValue = {
        key: op.key,
        value: op.value,
        createRevision: r.createRevision,
        modRevision: r.revision,
        version: r.version,
        expiresAt: op.expiresAt ?? undefined,
      };
      events.push({ type: 'put', revision: r.revision, kv, prev });
      outcomes.push({ p, result: kv });
    }
    this.metrics.commits++;
    this.metrics.writes += writes;
    this.#hub.publish(events);
    for (const o of outcomes) {
      if (o.err) o.p.reject(o.err);
      else o.p.resolve(o.result!);
    }
  }

  #onWriterBatch(results: WriteResult[] | undefined, error: WriterError | undefined, pauseMs: number): void {
    const batch = this.#inFlight.shift();
    this.metrics.maxCheckpointPauseMs = Math.max(this.metrics.maxCheckpointPauseMs, pauseMs);
    if (batch) {
      if (results) this.#finishBatch(batch, results);
      else this.#failBatch(batch, this.#mapError(Object.assign(new Error(error?.message), error)));
    }
    if (this.#inFlight.length === 0) {
      const drained = this.#drained;
      this.#drained = null;
      drained?.();
    }
  }

  /**
   * The writer thread died. What it had not answered may or may not be committed: those writes fail
   * as unavailable (a client retries, as after an etcd timeout), the log is read for what they did
   * commit (so watchers miss nothing), and this thread writes from now on.
   */
  #onWriterFailure(err: Error): void {
    this.#log.error({ err }, 'the SQLite writer thread failed; writing from the main thread');
    this.#writer = null;
    const lost = this.#inFlight.flat();
    this.#inFlight = [];
    const unknown = new StorageUnavailableError(
      `storage failed: the writer thread stopped (${err.message}); the write may or may not have been applied`,
      { cause: err },
    );
    for (const p of lost) p.reject(unknown);
    try {
      const maxId = Number(this.#stmt('SELECT COALESCE(MAX(id), 0) AS m FROM skiff_kv').get()?.m ?? 0);
      if (maxId > this.#rev) {
        const events = this.readHistory('', this.#rev, maxId, Number.MAX_SAFE_INTEGER);
        for (const e of events) {
          if (e.type === 'delete') this.#liveKeys--;
          else if (!e.prev) this.#liveKeys++;
        }
        this.#rev = maxId;
        this.#hub.publish(events);
      }
    } catch (e) {
      this.#log.error({ err: e }, 'reading what the writer thread committed failed');
    }
    if (!this.#closed) this.#writeHere(true);
    const drained = this.#drained;
    this.#drained = null;
    drained?.();
    if (this.#queue.length > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #mapError(err: unknown): StoreError {
    if (err instanceof StoreError) return err;
    const code = sqliteCode(err);
    const msg = (err as Error)?.message ?? String(err);
    if (code === SQLITE_FULL) {
      return new StorageFullError(`the disk is full: ${msg}; free space and retry`, { cause: err });
    }
    if (code === SQLITE_CORRUPT)
      return new StorageCorruptError(`the database is damaged: ${msg}`, { cause: err });
    return new StorageUnavailableError(`storage failed: ${msg}`, { cause: err });
  }

  /** Runs a read, mapping SQLite failures to typed errors. */
  #run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.#mapError(err);
    }
  }

  // ---- compaction and TTL --------------------------------------------------------------------------

  async compact(revision: number): Promise<void> {
    this.#checkOpen();
    checkRevision(revision);
    if (revision > this.#rev) throw new FutureRevisionError(revision, this.#rev);
    if (revision <= this.#compactRev) return;
    await this.#compactTo(revision);
  }

  /**
   * Moves the compacted revision to `revision` (reads below it fail from now on, and it is recorded
   * durably before anything below it is removed), then removes what it made unreachable (see
   * {@link LogWriter.sweep}) and hands free pages back, on the writing connection.
   */
  async #compactTo(revision: number): Promise<void> {
    if (revision > this.#compactRev) this.#compactRev = revision;
    if (this.#writer) {
      // Nothing compacted since the last sweep: no round trip to the writer thread.
      if (this.#compactRev <= this.#sweptRev) return;
      const target = this.#compactRev;
      const { metrics, error } = await this.#writer.compact(target);
      Object.assign(this.metrics, metrics);
      if (error) this.#log.warn({ err: error }, 'compaction failed; will retry');
      else this.#sweptRev = Math.max(this.#sweptRev, target);
      return;
    }
    const writer = this.#logWriter!;
    const closed = () => this.#closed;
    try {
      this.#run(() => writer.setCompactRevision(this.#compactRev));
      this.#sweptRev = await writer.sweep(this.#sweptRev, this.#compactRev, closed);
      await writer.vacuumFreePages(closed);
    } catch (err) {
      this.#log.warn({ err: this.#mapError(err) }, 'compaction chunk failed; will retry');
    } finally {
      Object.assign(this.metrics, writer.metrics);
    }
  }

  /** Deletes keys whose TTL has passed, each conditioned on the version that carried the TTL. */
  async #expireKeys(): Promise<void> {
    const rows = this.#run(
      () =>
        this.#stmt(
          `SELECT k.id AS id, k.name AS name FROM skiff_kv k
           WHERE k.expires_at IS NOT NULL AND k.expires_at <= ? AND k.deleted = 0
             AND k.id = (SELECT MAX(id) FROM skiff_kv WHERE name = k.name)
           LIMIT 1000`,
        ).all(this.#clock.now()) as unknown as { id: number; name: Uint8Array }[],
    );
    await Promise.all(
      rows.map((r) =>
        this.delete(decoder.decode(r.name), { expectedModRevision: r.id }).catch((err: unknown) => {
          if (
            !(
              err instanceof ConflictError ||
              err instanceof KeyNotFoundError ||
              err instanceof StoreClosedError
            )
          ) {
            this.#log.warn({ err }, 'expiring a key failed; will retry');
          }
        }),
      ),
    );
  }

  /** Runs one round of maintenance: TTL expiry, then compaction when history exceeds twice the retention. */
  async maintain(): Promise<void> {
    if (this.#closed || this.#maintenanceRunning) return;
    this.#maintenanceRunning = true;
    try {
      await this.#expireKeys();
      if (this.#closed) return;
      await this.#compactTo(
        this.#rev - this.#compactRev > 2 * this.#retain ? this.#rev - this.#retain : this.#compactRev,
      );
    } catch (err) {
      this.#log.warn({ err }, 'maintenance failed; will retry');
    } finally {
      this.#maintenanceRunning = false;
    }
  }

  #scheduleMaintenance(intervalMs: number): void {
    this.#maintenanceTimer = this.#clock.setTimeout(() => {
      this.#idle = this.maintain().finally(() => {
        if (!this.#closed) this.#scheduleMaintenance(intervalMs);
      });
    }, intervalMs);
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.#closed) return;
    // Let queued writes commit first: they were accepted before close.
    if (this.#queue.length > 0) this.#flush();
    this.#closed = true;
    this.#maintenanceTimer?.();
    if (this.#inFlight.length > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#hub.close();
    await this.#idle.catch(() => {});
    await this.#writer?.stop();
    await this.#checkpointer?.stop();
    this.#stmts.clear();
    if (this.#logWriter) {
      try {
        this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      } catch {
        // best effort: the WAL is replayed on the next open anyway
      }
    }
    this.#db.close();
  }
}
