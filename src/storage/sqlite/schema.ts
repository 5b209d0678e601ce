/**
 * Opening a skiff SQLite database: recognising our own file, refusing foreign or damaged ones without
 * touching them, creating the schema in a new one, and the pragmas every connection uses.
 *
 * The log table holds one row per write, in the spirit of kine: `id` is the store revision; a row is a
 * creation, an update, or a deletion (a tombstone). The latest row of a name is its current state.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { StorageCorruptError, StorageUnavailableError } from '../store.ts';

export const FORMAT = 'skiff-kv';
export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE skiff_meta (
  k TEXT PRIMARY KEY NOT NULL,
  v ANY
) STRICT;
CREATE TABLE skiff_kv (
  id INTEGER PRIMARY KEY NOT NULL,       -- the revision of this write
  name BLOB NOT NULL,                    -- the key, UTF-8
  deleted INTEGER NOT NULL,              -- 1 for a tombstone
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,        -- the row this one replaced, 0 for a creation
  version INTEGER NOT NULL,
  expires_at INTEGER,                    -- clock ms when the write set a TTL
  value BLOB NOT NULL
) STRICT;
CREATE INDEX skiff_kv_name_id ON skiff_kv (name, id);
CREATE INDEX skiff_kv_expires ON skiff_kv (expires_at) WHERE expires_at IS NOT NULL;
`;

/** A row of skiff_kv, as node:sqlite returns it. */
export interface Row {
  id: number;
  name: Uint8Array;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  version: number;
  expires_at: number | null;
  value: Uint8Array;
}

/** Every column of skiff_kv, in the order of {@link Row} (and of the INSERTs). */
export const COLS = 'id, name, deleted, create_revision, prev_revision, version, expires_at, value';

/** The value of a tombstone. */
export const EMPTY = new Uint8Array(0);

export interface Meta {
  compactRevision: number;
  /** How far compaction has removed superseded rows (≤ compactRevision). */
  sweptRevision: number;
}

/** SQLite's primary result code of an error thrown by node:sqlite, or undefined. */
export function sqliteCode(err: unknown): number | undefined {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

export const SQLITE_BUSY = 5;
export const SQLITE_IOERR = 10;
export const SQLITE_CORRUPT = 11;
export const SQLITE_FULL = 13;
export const SQLITE_NOTADB = 26;

/**
 * Opens (or creates) the database at `path`. A file that is not a SQLite database, or is one without
 * skiff's format marker, is refused with {@link StorageCorruptError} before anything is written to it.
 */
export function openDatabase(path: string): { db: DatabaseSync; meta: Meta } {
  checkHeader(path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { timeout: 0 });
  } catch (err) {
    throw new StorageUnavailableError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    let tables: string[];
    try {
      tables = db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
        .all()
        .map((r) => String(r.name));
    } catch (err) {
      const code = sqliteCode(err);
      if (code === SQLITE_NOTADB || code === SQLITE_CORRUPT) {
        throw new StorageCorruptError(
          `${path} is not a SQLite database (${(err as Error).message}); skiff leaves it untouched — move it away or choose another --data-dir`,
          { cause: err },
        );
      }
      throw err;
    }
    if (tables.length > 0 && !tables.includes('skiff_meta')) {
      throw new StorageCorruptError(
        `${path} is a SQLite database of something else (tables: ${tables.slice(0, 5).join(', ')}); skiff leaves it untouched — choose another --data-dir`,
      );
    }
    // Check that the file is ours before anything (even a pragma) writes to it.
    const meta = tables.length > 0 ? readMeta(db, path) : null;
    // 8 KiB pages hold Kubernetes objects (mostly 1–10 KiB of JSON) with less slack than 4 KiB
    // ones. The page size of a database is fixed once it is in WAL mode, so it is set first.
    // Incremental auto-vacuum lets maintenance hand free pages back to the file system after churn;
    // like the page size, it can only be chosen before the first table exists.
    if (!meta) db.exec('PRAGMA page_size = 8192; PRAGMA auto_vacuum = INCREMENTAL');
    applyPragmas(db);
    if (!meta) {
      // A new file, or an empty SQLite database (e.g. a crash before the schema was written).
      db.exec('BEGIN IMMEDIATE');
      db.exec(SCHEMA);
      const put = db.prepare('INSERT INTO skiff_meta (k, v) VALUES (?, ?)');
      put.run('format', FORMAT);
      put.run('schema', SCHEMA_VERSION);
      put.run('compact_rev', 0);
      put.run('swept_rev', 0);
      db.exec('COMMIT');
    }
    return { db, meta: meta ?? readMeta(db, path) };
  } catch (err) {
    try {
      db.close();
    } catch {
      // already failing; the first error is the one to report
    }
    if (err instanceof StorageCorruptError) throw err;
    const code = sqliteCode(err);
    if (code === SQLITE_CORRUPT || code === SQLITE_NOTADB) {
      throw new StorageCorruptError(`${path} is damaged: ${(err as Error).message}`, { cause: err });
    }
    throw new StorageUnavailableError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
}

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** Refuses a non-empty file that does not start with SQLite's magic header (SQLite itself would
 * treat a file shorter than its header as empty, and overwrite it). */
function checkHeader(path: string): void {
  if (!existsSync(path)) return;
  const size = statSync(path).size;
  if (size === 0) return;
  const head = Buffer.alloc(MAGIC.length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (size < MAGIC.length || !head.equals(MAGIC)) {
    throw new StorageCorruptError(
      `${path} is not a SQLite database (no SQLite header); skiff leaves it untouched — move it away or choose another --data-dir`,
    );
  }
}

function applyPragmas(db: DatabaseSync): void {
  // WAL with a sync on every commit: an acknowledged write survives power loss.
  const mode = db.prepare('PRAGMA journal_mode = WAL').get();
  if (String(mode?.journal_mode).toLowerCase() !== 'wal') {
    throw new StorageUnavailableError(
      `cannot switch the database to WAL mode (got ${String(mode?.journal_mode)})`,
    );
  }
  db.exec(`
    PRAGMA synchronous = FULL;
    PRAGMA foreign_keys = OFF;
    PRAGMA temp_store = MEMORY;
    PRAGMA cache_size = -32000;
    PRAGMA wal_autocheckpoint = 1000;
    PRAGMA journal_size_limit = 2097152;
  `);
}

function readMeta(db: DatabaseSync, path: string): Meta {
  const rows = db.prepare('SELECT k, v FROM skiff_meta').all();
  const m = new Map(rows.map((r) => [String(r.k), r.v]));
  if (m.get('format') !== FORMAT) {
    throw new StorageCorruptError(`${path} is not a skiff database (format ${String(m.get('format'))})`);
  }
  const schema = Number(m.get('schema'));
  if (schema !== SCHEMA_VERSION) {
    throw new StorageCorruptError(
      `${path} has schema version ${schema}; this skiff reads version ${SCHEMA_VERSION} — use the skiff release that wrote it`,
    );
  }
  return {
    compactRevision: Number(m.get('compact_rev') ?? 0),
    sweptRevision: Number(m.get('swept_rev') ?? 0),
  };
}
