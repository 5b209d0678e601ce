/**
 * The embedded Store: one append-only log table in SQLite (WAL, synchronous=FULL), in the spirit of
 * kine, on node:sqlite.
 *
 * - Group commit: writes that arrive in the same turn of the event loop are applied in one
 *   transaction, in arrival order, and share its one sync. Each is acknowledged only after COMMIT
 *   returned, so an acknowledged write survives kill -9 and power loss.
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
import { openDatabase, SQLITE_CORRUPT, SQLITE_FULL, sqliteCode } from './schema.ts';

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

type Op =
  | { kind: 'create'; key: string; name: Uint8Array; value: Uint8Array; ttl: number | undefined }
  | {
      kind: 'update';
      key: string;
      name: Uint8Array;
      value: Uint8Array;
      expected: number | undefined;
      ttl: number | undefined;
    }
  | { kind: 'delete'; key: string; name: Uint8Array; expected: number | undefined };

interface Pending {
  op: Op;
  resolve: (v: KeyValue | DeleteResult) => void;
  reject: (e: Error) => void;
}

interface Row {
  id: number;
  name: Uint8Array;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  version: number;
  expires_at: number | null;
  value: Uint8Array;
}

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
/** Most revisions one compaction chunk covers. */
const MAX_COMPACT_CHUNK = 4096;
const COLS = 'id, name, deleted, create_revision, prev_revision, version, expires_at, value';

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
  readonly metrics: SqliteStoreMetrics = {
    commits: 0,
    writes: 0,
    compactionChunks: 0,
    rowsCompacted: 0,
    maxCompactionPauseMs: 0,
    maxCheckpointPauseMs: 0,
  };
  #compactChunk = 512;
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
    if (options.checkpointWorker !== false) {
      this.#db.exec('PRAGMA wal_autocheckpoint = 0');
      this.#checkpointer = new Checkpointer({
        path: options.path,
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
    }
    const interval = options.maintenanceIntervalMs ?? 1000;
    if (interval > 0) this.#scheduleMaintenance(interval);
    this.#log.debug(
      { path: options.path, revision: this.#rev, compactRevision: this.#compactRev, keys: this.#liveKeys },
      'sqlite store opened',
    );
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
    const sql = `SELECT COUNT(*) AS c FROM skiff_kv k WHERE k.name >= ? ${end ? 'AND k.name < ?' : ''}
      AND k.deleted = 0 AND k.id = (SELECT MAX(id) FROM skiff_kv WHERE name = k.name)`;
    const row = this.#run(() => this.#stmt(sql).get(...(end ? [start, end] : [start])));
    return { count: Number(row?.c ?? 0), revision: this.#rev };
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
        value: Uint8Array.from(value),
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
        value: Uint8Array.from(value),
        expected: expectedModRevision,
        ttl: options.ttlSeconds,
      };
    }) as Promise<KeyValue>;
  }

  delete(key: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    return this.#enqueue(() => {
      checkRevision(options.expectedModRevision, 'expectedModRevision');
      return { kind: 'delete', key, name: checkKey(key), expected: options.expectedModRevision };
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
      this.#commitBatch(batch);
    }
  }

  #commitBatch(batch: Pending[]): void {
    const startRev = this.#rev;
    const startKeys = this.#liveKeys;
    const done: { p: Pending; result: KeyValue | DeleteResult }[] = [];
    const failed: { p: Pending; err: Error }[] = [];
    const events: ChangeEvent[] = [];
    const latestStmt = this.#stmt(`SELECT ${COLS} FROM skiff_kv WHERE name = ? ORDER BY id DESC LIMIT 1`);
    const insert = this.#stmt(`INSERT INTO skiff_kv (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    const now = this.#clock.now();
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const p of batch) {
        const { op } = p;
        const latest = latestStmt.get(op.name) as Row | undefined;
        const live = latest && !latest.deleted ? latest : undefined;
        const id = this.#rev + 1;
        if (op.kind === 'create') {
          if (live) {
            failed.push({ p, err: new KeyExistsError(toKv(live, op.key)) });
            continue;
          }
          const expiresAt = op.ttl ? now + op.ttl * 1000 : null;
          insert.run(id, op.name, 0, id, 0, 1, expiresAt, op.value);
          const kv: KeyValue = {
            key: op.key,
            value: op.value,
            createRevision: id,
            modRevision: id,
            version: 1,
            expiresAt: expiresAt ?? undefined,
          };
          this.#rev = id;
          this.#liveKeys++;
          events.push({ type: 'put', revision: id, kv, prev: null });
          done.push({ p, result: kv });
          continue;
        }
        if (!live) {
          failed.push({ p, err: new KeyNotFoundError(op.key) });
          continue;
        }
        if (op.expected !== undefined && op.expected !== live.id) {
          failed.push({ p, err: new ConflictError(toKv(live, op.key), op.expected) });
          continue;
        }
        const prev = toKv(live, op.key);
        if (op.kind === 'update') {
          const expiresAt = op.ttl ? now + op.ttl * 1000 : null;
          const version = live.version + 1;
          insert.run(id, op.name, 0, live.create_revision, live.id, version, expiresAt, op.value);
          const kv: KeyValue = {
            key: op.key,
            value: op.value,
            createRevision: live.create_revision,
            modRevision: id,
            version,
            expiresAt: expiresAt ?? undefined,
          };
          this.#rev = id;
          events.push({ type: 'put', revision: id, kv, prev });
          done.push({ p, result: kv });
        } else {
          insert.run(id, op.name, 1, live.create_revision, live.id, live.version, null, EMPTY);
          this.#rev = id;
          this.#liveKeys--;
          events.push({ type: 'delete', revision: id, key: op.key, prev });
          done.push({ p, result: { revision: id, prev } });
        }
      }
      this.#db.exec('COMMIT');
    } catch (err) {
      try {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      } catch {
        // the original error is the one that matters
      }
      this.#rev = startRev;
      this.#liveKeys = startKeys;
      const mapped = this.#mapError(err);
      this.#log.error({ err: mapped }, 'write transaction failed; nothing in it was applied');
      for (const { p } of done) p.reject(mapped);
      for (const { p, err: e } of failed) p.reject(e);
      return;
    }
    this.metrics.commits++;
    this.metrics.writes += done.length;
    // Watchers first (synchronously with the commit), then the writers' promises.
    this.#hub.publish(events);
    for (const { p, result } of done) p.resolve(result);
    for (const { p, err } of failed) p.reject(err);
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
    this.#setCompactRevision(revision);
    await this.#sweepCompacted();
  }

  #setCompactRevision(revision: number): void {
    this.#run(() => {
      this.#stmt(`UPDATE skiff_meta SET v = ? WHERE k = 'compact_rev'`).run(revision);
    });
    this.#compactRev = revision;
  }

  /**
   * Removes rows that no read at or above the compacted revision can see, in the manner of kine: for
   * each row up to it, the row it replaced (its prev_revision) is superseded, and tombstones are
   * dead. Every superseded row has its successor at or below the compacted revision, so one pass in
   * revision order finds them all. Works in chunks of ids sized to take about 2 ms each, yielding to
   * the event loop between them. Chunks commit without their own sync (synchronous=NORMAL): a chunk
   * lost in a crash is simply redone, because swept_rev commits with it, and the next write's sync
   * makes it durable anyway.
   */
  async #sweepCompacted(): Promise<void> {
    const delPrev = this.#stmt(
      `DELETE FROM skiff_kv WHERE id IN
         (SELECT prev_revision FROM skiff_kv WHERE id > ? AND id <= ? AND prev_revision > 0)`,
    );
    const delTombstones = this.#stmt('DELETE FROM skiff_kv WHERE id > ? AND id <= ? AND deleted = 1');
    const saveSwept = this.#stmt(`UPDATE skiff_meta SET v = ? WHERE k = 'swept_rev'`);
    while (!this.#closed && this.#sweptRev < this.#compactRev) {
      const from = this.#sweptRev;
      const to = Math.min(this.#compactRev, from + this.#compactChunk);
      const t0 = performance.now();
      let removed = 0;
      try {
        this.#db.exec('PRAGMA synchronous = NORMAL');
        this.#db.exec('BEGIN IMMEDIATE');
        removed = Number(delPrev.run(from, to).changes) + Number(delTombstones.run(from, to).changes);
        saveSwept.run(to);
        this.#db.exec('COMMIT');
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        const mapped = this.#mapError(err);
        this.#log.warn({ err: mapped }, 'compaction chunk failed; will retry');
        return;
      } finally {
        this.#db.exec('PRAGMA synchronous = FULL');
      }
      const ms = performance.now() - t0;
      this.#sweptRev = to;
      this.metrics.compactionChunks++;
      this.metrics.rowsCompacted += removed;
      this.metrics.maxCompactionPauseMs = Math.max(this.metrics.maxCompactionPauseMs, ms);
      // Keep each chunk near 2 ms: grow gently, shrink fast.
      if (ms < 1.5 && this.#compactChunk < MAX_COMPACT_CHUNK) {
        this.#compactChunk = Math.min(MAX_COMPACT_CHUNK, Math.ceil(this.#compactChunk * 1.25));
      } else if (ms > 3 && this.#compactChunk > 16) this.#compactChunk = Math.floor(this.#compactChunk / 2);
      await new Promise((r) => setImmediate(r));
    }
  }

  /**
   * Returns free pages to the file system when more than a quarter of the file is free (after
   * compaction caught up with a burst), 64 pages at a time so no step holds the event
   * loop long. Steps commit without their own sync, like compaction chunks.
   */
  async #vacuumFreePages(): Promise<void> {
    const count = (pragma: string) =>
      Number(Object.values(this.#db.prepare(`PRAGMA ${pragma}`).get() ?? {})[0] ?? 0);
    for (let step = 0; step < 64 && !this.#closed; step++) {
      const free = count('freelist_count');
      const pages = count('page_count');
      if (free < 256 || free * 4 < pages) return;
      const t0 = performance.now();
      try {
        this.#db.exec('PRAGMA synchronous = NORMAL');
        this.#db.exec('PRAGMA incremental_vacuum(64)');
      } finally {
        this.#db.exec('PRAGMA synchronous = FULL');
      }
      this.metrics.maxCompactionPauseMs = Math.max(this.metrics.maxCompactionPauseMs, performance.now() - t0);
      await new Promise((r) => setImmediate(r));
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
      if (this.#rev - this.#compactRev > 2 * this.#retain && !this.#closed) {
        this.#setCompactRevision(this.#rev - this.#retain);
      }
      await this.#sweepCompacted();
      await this.#vacuumFreePages();
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
    this.#hub.close();
    await this.#idle.catch(() => {});
    await this.#checkpointer?.stop();
    this.#stmts.clear();
    try {
      this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // best effort: the WAL is replayed on the next open anyway
    }
    this.#db.close();
  }
}
