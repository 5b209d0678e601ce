/**
 * The writing side of the SQLite store, on whichever thread owns the write connection (the store's
 * writer thread, or the store's own thread without one): group-commit transactions of writes, and
 * the compaction sweep and free-page vacuum that maintenance runs. Only one connection ever writes.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { COLS, EMPTY, type Row } from './schema.ts';

/** One write of a group commit, conditions included. */
export interface WriteOp {
  kind: 'create' | 'update' | 'delete';
  /** The key, UTF-8. */
  name: Uint8Array;
  /** The new value (empty for a delete). */
  value: Uint8Array;
  /** The modRevision the key must have (update and delete), or -1 for none. */
  expected: number;
  /** Clock ms when the value expires (creates and updates with a TTL), or null. */
  expiresAt: number | null;
}

/** A row of the log as a write's result carries it. */
export interface LogRow {
  value: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  expiresAt: number | null;
}

/**
 * What a write did: `ok` with its revision (and the row it replaced, for updates and deletes), or why
 * it was refused (with the key's current row, when it has one).
 */
export type WriteResult =
  | { ok: true; revision: number; createRevision: number; version: number; prev: LogRow | null }
  | { ok: false; reason: 'exists' | 'notfound' | 'conflict'; live: LogRow | null };

function logRow(row: Row): LogRow {
  return {
    value: row.value,
    createRevision: row.create_revision,
    modRevision: row.id,
    version: row.version,
    expiresAt: row.expires_at,
  };
}

/** Counters of the sweep and the vacuum. */
export interface CompactionMetrics {
  compactionChunks: number;
  rowsCompacted: number;
  /** Longest single compaction chunk or vacuum step, in ms. */
  maxCompactionPauseMs: number;
}

/** Most revisions one compaction chunk covers. */
const MAX_COMPACT_CHUNK = 4096;

export class LogWriter {
  readonly #db: DatabaseSync;
  readonly #latest: StatementSync;
  readonly #insert: StatementSync;
  #compactChunk = 512;
  readonly metrics: CompactionMetrics = { compactionChunks: 0, rowsCompacted: 0, maxCompactionPauseMs: 0 };

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#latest = db.prepare(`SELECT ${COLS} FROM skiff_kv WHERE name = ? ORDER BY id DESC LIMIT 1`);
    this.#insert = db.prepare(`INSERT INTO skiff_kv (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  /**
   * Applies `ops` in one transaction, in order, the first taking revision `revision + 1`; conditions
   * are checked against what the earlier ones wrote. Returns once COMMIT returned (the sync done).
   * Throws, after rolling back, if the transaction fails: then nothing in it was applied.
   */
  apply(ops: readonly WriteOp[], revision: number): WriteResult[] {
    const results: WriteResult[] = [];
    let rev = revision;
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const op of ops) {
        const latest = this.#latest.get(op.name) as Row | undefined;
        const live = latest && !latest.deleted ? latest : undefined;
        const id = rev + 1;
        if (op.kind === 'create') {
          if (live) {
            results.push({ ok: false, reason: 'exists', live: logRow(live) });
            continue;
          }
          this.#insert.run(id, op.name, 0, id, 0, 1, op.expiresAt, op.value);
          rev = id;
          results.push({ ok: true, revision: id, createRevision: id, version: 1, prev: null });
          continue;
        }
        if (!live) {
          results.push({ ok: false, reason: 'notfound', live: null });
          continue;
        }
        if (op.expected >= 0 && op.expected !== live.id) {
          results.push({ ok: false, reason: 'conflict', live: logRow(live) });
          continue;
        }
        if (op.kind === 'update') {
          const version = live.version + 1;
          this.#insert.run(id, op.name, 0, live.create_revision, live.id, version, op.expiresAt, op.value);
          results.push({
            ok: true,
            revision: id,
            createRevision: live.create_revision,
            version,
            prev: logRow(live),
          });
        } else {
          this.#insert.run(id, op.name, 1, live.create_revision, live.id, live.version, null, EMPTY);
          results.push({
            ok: true,
            revision: id,
            createRevision: live.create_revision,
            version: live.version,
            prev: logRow(live),
          });
        }
        rev = id;
      }
      this.#db.exec('COMMIT');
      return results;
    } catch (err) {
      try {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      } catch {
        // the original error is the one that matters
      }
      throw err;
    }
  }

  /** Records the compacted revision (durably, before anything below it is removed). */
  setCompactRevision(revision: number): void {
    this.#db.prepare(`UPDATE skiff_meta SET v = ? WHERE k = 'compact_rev'`).run(revision);
  }

  /**
   * Removes rows that no read at or above the compacted revision can see, in the manner of kine: for
   * each row up to it, the row it replaced (its prev_revision) is superseded, and tombstones are
   * dead. Every superseded row has its successor at or below the compacted revision, so one pass in
   * revision order finds them all. Works in chunks of ids sized to take about 2 ms each, yielding to
   * the event loop between them. Chunks commit without their own sync (synchronous=NORMAL): a chunk
   * lost in a crash is simply redone, because swept_rev commits with it, and the next write's sync
   * makes it durable anyway. Returns the swept revision reached; throws if a chunk failed.
   */
  async sweep(sweptRev: number, compactRev: number, closed: () => boolean): Promise<number> {
    const delPrev = this.#db.prepare(
      `DELETE FROM skiff_kv WHERE id IN
         (SELECT prev_revision FROM skiff_kv WHERE id > ? AND id <= ? AND prev_revision > 0)`,
    );
    const delTombstones = this.#db.prepare('DELETE FROM skiff_kv WHERE id > ? AND id <= ? AND deleted = 1');
    const saveSwept = this.#db.prepare(`UPDATE skiff_meta SET v = ? WHERE k = 'swept_rev'`);
    let swept = sweptRev;
    while (!closed() && swept < compactRev) {
      const from = swept;
      const to = Math.min(compactRev, from + this.#compactChunk);
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
        throw err;
      } finally {
        this.#db.exec('PRAGMA synchronous = FULL');
      }
      const ms = performance.now() - t0;
      swept = to;
      this.metrics.compactionChunks++;
      this.metrics.rowsCompacted += removed;
      this.metrics.maxCompactionPauseMs = Math.max(this.metrics.maxCompactionPauseMs, ms);
      // Keep each chunk near 2 ms: grow gently, shrink fast.
      if (ms < 1.5 && this.#compactChunk < MAX_COMPACT_CHUNK) {
        this.#compactChunk = Math.min(MAX_COMPACT_CHUNK, Math.ceil(this.#compactChunk * 1.25));
      } else if (ms > 3 && this.#compactChunk > 16) this.#compactChunk = Math.floor(this.#compactChunk / 2);
      await new Promise((r) => setImmediate(r));
    }
    return swept;
  }

  /**
   * Returns free pages to the file system when more than a quarter of the file is free (after
   * compaction caught up with a burst), 64 pages at a time so no step holds the event
   * loop long. Steps commit without their own sync, like compaction chunks.
   */
  async vacuumFreePages(closed: () => boolean): Promise<void> {
    const count = (pragma: string) =>
      Number(Object.values(this.#db.prepare(`PRAGMA ${pragma}`).get() ?? {})[0] ?? 0);
    for (let step = 0; step < 64 && !closed(); step++) {
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
}
