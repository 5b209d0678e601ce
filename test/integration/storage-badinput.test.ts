/**
 * The SQLite store against bad input: files that are not its own, keys and values at and beyond the
 * API's limits, malformed keys and continue tokens, and a full disk.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { SqliteStore } from '../../src/storage/sqlite/store.ts';
import {
  InvalidArgumentError,
  type KeyValue,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  StorageCorruptError,
  StorageFullError,
  type WatchEvent,
} from '../../src/storage/store.ts';

const encoder = new TextEncoder();

function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `skiff-${name}-`));
}

/** Every file in `dir` with the sha256 of its bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) {
    out[f] = createHash('sha256')
      .update(readFileSync(join(dir, f)))
      .digest('hex');
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

// ---- files that are not skiff databases ------------------------------------------------------------

describe('SqliteStore refuses files that are not its own, and leaves them untouched', () => {
  /** Puts a file at dir/state.db with `make`, then checks that opening it fails and changes nothing. */
  function expectRefused(name: string, make: (path: string) => void, message: RegExp): void {
    const dir = tempDir(name);
    try {
      const path = join(dir, 'state.db');
      make(path);
      const before = snapshot(dir);
      assert.throws(
        () => new SqliteStore({ path, maintenanceIntervalMs: 0 }),
        (err: unknown) => {
          assert.ok(err instanceof StorageCorruptError, `expected StorageCorruptError, got ${String(err)}`);
          assert.equal(err.code, 'StorageCorrupt');
          assert.ok(err.message.includes(path), `the message names the file: ${err.message}`);
          assert.match(err.message, message);
          return true;
        },
      );
      // Same files (no -wal, -shm or -journal left behind), same bytes.
      assert.deepEqual(snapshot(dir), before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('random bytes', () => {
    expectRefused('random', (p) => writeFileSync(p, randomBytes(64 * 1024)), /not a SQLite database/);
  });

  test('a text file', () => {
    expectRefused(
      'text',
      (p) => writeFileSync(p, 'apiVersion: v1\nkind: Config\nclusters: []\n'),
      /not a SQLite database/,
    );
  });

  test('a one-byte file', () => {
    // SQLite reports a 1-byte file as empty (it writes one byte into new files itself), so only a
    // check before SQLite sees the file keeps it from being taken over.
    expectRefused('onebyte', (p) => writeFileSync(p, '\n'), /not a SQLite database/);
  });

  test('a SQLite header followed by garbage', () => {
    expectRefused(
      'header',
      (p) => writeFileSync(p, Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(16 * 1024)])),
      /SQLite/,
    );
  });

  test('a SQLite database of another program (rollback journal)', () => {
    expectRefused(
      'foreign',
      (p) => {
        const db = new DatabaseSync(p);
        db.exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                 INSERT INTO users (name) VALUES ('alice'), ('bob');`);
        db.close();
      },
      /something else/,
    );
  });

  test('a SQLite database of another program (WAL)', () => {
    expectRefused(
      'foreignwal',
      (p) => {
        const db = new DatabaseSync(p);
        db.exec(`PRAGMA journal_mode = WAL;
                 CREATE TABLE kine (id INTEGER PRIMARY KEY, name TEXT, value BLOB);
                 INSERT INTO kine (name, value) VALUES ('/registry/x', x'00ff');`);
        db.close();
      },
      /something else/,
    );
  });

  test('a SQLite database with a skiff_meta table of another format', () => {
    expectRefused(
      'othermeta',
      (p) => {
        const db = new DatabaseSync(p);
        db.exec(`CREATE TABLE skiff_meta (k TEXT PRIMARY KEY NOT NULL, v ANY);
                 INSERT INTO skiff_meta VALUES ('format', 'something-else'), ('schema', 1);`);
        db.close();
      },
      /not a skiff database/,
    );
  });

  test('a skiff database whose log table is damaged', async () => {
    const dir = tempDir('damaged');
    try {
      const path = join(dir, 'state.db');
      const store = new SqliteStore({ path, maintenanceIntervalMs: 0 });
      for (let i = 0; i < 200; i++) await store.create(`/registry/pods/p${i}`, randomBytes(500));
      await store.close();
      const probe = new DatabaseSync(path, { readOnly: true });
      const root = Number(
        probe.prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'skiff_kv'`).get()!.rootpage,
      );
      const pageSize = Number(probe.prepare('PRAGMA page_size').get()!.page_size);
      probe.close();
      const fd = openSync(path, 'r+');
      writeSync(fd, randomBytes(pageSize), 0, pageSize, (root - 1) * pageSize);
      closeSync(fd);
      const before = snapshot(dir);
      assert.throws(
        () => new SqliteStore({ path, maintenanceIntervalMs: 0 }),
        (err: unknown) => {
          assert.ok(err instanceof StorageCorruptError, `expected StorageCorruptError, got ${String(err)}`);
          assert.ok(err.message.includes(path), `the message names the file: ${err.message}`);
          return true;
        },
      );
      // The database file is untouched; SQLite may remove the empty WAL and shared-memory files the
      // probe left behind when it closes, but creates nothing.
      const after = snapshot(dir);
      assert.equal(after['state.db'], before['state.db']);
      for (const name of Object.keys(after)) assert.ok(name in before, `${name} was created`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- keys and values at the limits -----------------------------------------------------------------

/** Asserts that `fn` fails with InvalidArgumentError, whether it throws or returns a rejected promise. */
async function rejectsInvalid(what: string, fn: () => unknown): Promise<void> {
  await assert.rejects(
    async () => {
      await fn();
    },
    (err: unknown) => {
      assert.ok(
        err instanceof InvalidArgumentError,
        `${what}: expected InvalidArgumentError, got ${String(err)}`,
      );
      assert.equal(err.code, 'InvalidArgument');
      return true;
    },
  );
}

describe('SqliteStore with keys and values at and beyond the limits', () => {
  let dir: string;
  let store: SqliteStore;
  before(() => {
    dir = tempDir('limits');
    store = new SqliteStore({ path: join(dir, 'state.db'), maintenanceIntervalMs: 0 });
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes `value` with `write` and checks that get, range and a watch all return it exactly. */
  async function roundTrip(key: string, value: Uint8Array, write: () => Promise<KeyValue>): Promise<void> {
    const rev = await store.currentRevision();
    const ac = new AbortController();
    const it = store.watch(key, { afterRevision: rev, signal: ac.signal })[Symbol.asyncIterator]();
    const next = it.next();
    try {
      const kv = await write();
      assert.equal(kv.modRevision, rev + 1);
      assert.ok(sameBytes(kv.value, value), 'the returned value');
      const got = await store.get(key);
      assert.ok(got, `get ${key}`);
      assert.equal(got.value.length, value.length);
      assert.ok(sameBytes(got.value, value), 'get returns the value');
      const atRev = await store.get(key, kv.modRevision);
      assert.ok(atRev && sameBytes(atRev.value, value), 'get at the revision returns the value');
      const listed = await store.range(key);
      const item = listed.items.find((i) => i.key === key);
      assert.ok(item, `range ${key} returns the key`);
      assert.ok(sameBytes(item.value, value), 'range returns the value');
      const { value: ev } = (await next) as IteratorResult<WatchEvent>;
      assert.equal(ev.type, 'put');
      assert.equal(ev.revision, kv.modRevision);
      if (ev.type === 'put') {
        assert.equal(ev.kv.key, key);
        assert.ok(sameBytes(ev.kv.value, value), 'the watch delivers the value');
      }
    } finally {
      ac.abort();
      await it.return?.();
    }
  }

  test('values of every allowed size round-trip through create, update, get, range and watch', async () => {
    const sizes = [0, 1, 3 * 1024 * 1024, MAX_VALUE_BYTES];
    for (const size of sizes) {
      const key = `/values/${size}`;
      const v1 = randomBytes(size);
      await roundTrip(key, v1, () => store.create(key, v1));
      const v2 = randomBytes(size);
      const cur = (await store.get(key))!.modRevision;
      await roundTrip(key, v2, () => store.update(key, v2, cur));
    }
    // A 3 MiB value survives reopening too.
    const path = join(dir, 'state.db');
    const big = (await store.get(`/values/${3 * 1024 * 1024}`))!;
    await store.close();
    store = new SqliteStore({ path, maintenanceIntervalMs: 0 });
    const again = await store.get(big.key);
    assert.ok(again && sameBytes(again.value, big.value) && again.modRevision === big.modRevision);
  });

  test('a value over MAX_VALUE_BYTES is refused and nothing is written', async () => {
    const rev = await store.currentRevision();
    const keys = store.stats().keys;
    const tooBig = new Uint8Array(MAX_VALUE_BYTES + 1);
    await rejectsInvalid('create', () => store.create('/toobig', tooBig));
    const existing = await store.create('/toobig-update', encoder.encode('small'));
    await rejectsInvalid('update', () => store.update('/toobig-update', tooBig, existing.modRevision));
    await rejectsInvalid('create 8 MiB', () => store.create('/toobig', new Uint8Array(8 * 1024 * 1024)));
    await rejectsInvalid('create with a string value', () =>
      store.create('/notbytes', 'text' as unknown as Uint8Array),
    );
    assert.equal(await store.currentRevision(), rev + 1, 'only the small create was written');
    assert.equal(store.stats().keys, keys + 1);
    assert.equal(await store.get('/toobig'), null);
    assert.equal(await store.get('/notbytes'), null);
    const kept = await store.get('/toobig-update');
    assert.equal(kept?.modRevision, existing.modRevision);
    assert.equal(new TextDecoder().decode(kept?.value), 'small');
  });

  test('keys of every allowed size and alphabet round-trip', async () => {
    const longest = `/${'€'.repeat((MAX_KEY_BYTES - 1) / 3)}`; // 1 + 3 × 1365 = 4096 UTF-8 bytes
    assert.equal(encoder.encode(longest).length, MAX_KEY_BYTES);
    const keys = ['k', longest, '/emoji/🦀🚢', '/nul/a\u0000b', '/bmp/\uffff', '/astral/\u{10ffff}'];
    for (const key of keys) {
      const v = randomBytes(64);
      await roundTrip(key, v, () => store.create(key, v));
    }
    // Keys sort by their UTF-8 bytes; a prefix with a NUL byte in it works.
    const nul = await store.range('/nul/a\u0000');
    assert.deepEqual(
      nul.items.map((i) => i.key),
      ['/nul/a\u0000b'],
    );
    const del = await store.delete(longest);
    assert.equal(del.prev.key, longest);
    assert.equal(await store.get(longest), null);
  });

  test('empty, malformed and oversized keys are refused and nothing is written', async () => {
    await store.create('/present', encoder.encode('x'));
    const rev = await store.currentRevision();
    const keys = store.stats().keys;
    const v = encoder.encode('v');
    const tooLong = `/${'a'.repeat(MAX_KEY_BYTES)}`;
    const bad: [string, string][] = [
      ['empty', ''],
      ['lone high surrogate', '\ud800'],
      ['lone low surrogate inside', '/a\udc00b'],
      ['reversed pair', '/\udc00\ud800'],
      ['trailing high surrogate', '/present\ud83e'],
      [`${MAX_KEY_BYTES + 1} bytes`, tooLong],
      ['not a string', 42 as unknown as string],
    ];
    for (const [what, key] of bad) {
      await rejectsInvalid(`create (${what})`, () => store.create(key, v));
      await rejectsInvalid(`update (${what})`, () => store.update(key, v));
      await rejectsInvalid(`delete (${what})`, () => store.delete(key));
      await rejectsInvalid(`get (${what})`, () => store.get(key));
    }
    for (const [what, prefix] of bad.filter(([, k]) => typeof k === 'string' && !k.isWellFormed())) {
      await rejectsInvalid(`range (${what})`, () => store.range(prefix));
      await rejectsInvalid(`count (${what})`, () => store.count(prefix));
      await rejectsInvalid(`watch (${what})`, async () => {
        for await (const _ of store.watch(prefix, {})) break;
      });
    }
    assert.equal(await store.currentRevision(), rev);
    assert.equal(store.stats().keys, keys);
    assert.equal((await store.get('/present'))?.modRevision, rev);
  });

  test('malformed continue tokens are refused', async () => {
    for (let i = 0; i < 3; i++) await store.create(`/page/${i}`, encoder.encode(String(i)));
    const first = await store.range('/page/', { limit: 1 });
    assert.ok(first.continue);
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const tokens: [string, string][] = [
      ['not base64', '!!not a token!!'],
      ['base64 of garbage', b64('\u0000\u0001garbage')],
      ['JSON array', b64('[]')],
      ['JSON null', b64('null')],
      ['revision zero', b64(JSON.stringify({ r: 0, a: '/page/0', p: '/page/' }))],
      ['revision negative', b64(JSON.stringify({ r: -5, a: '/page/0', p: '/page/' }))],
      ['revision a string', b64(JSON.stringify({ r: '2', a: '/page/0', p: '/page/' }))],
      ['revision fractional', b64(JSON.stringify({ r: 1.5, a: '/page/0', p: '/page/' }))],
      ['key missing', b64(JSON.stringify({ r: 1, p: '/page/' }))],
      ['truncated', first.continue.slice(0, first.continue.length - 3)],
    ];
    for (const [what, token] of tokens) {
      await rejectsInvalid(`continue (${what})`, () => store.range('/page/', { continue: token }));
    }
    await rejectsInvalid('continue for another prefix', () =>
      store.range('/other/', { continue: first.continue }),
    );
    // The real token still works.
    const second = await store.range('/page/', { limit: 1, continue: first.continue });
    assert.deepEqual(
      second.items.map((i) => i.key),
      ['/page/1'],
    );
  });
});

// ---- a full disk -----------------------------------------------------------------------------------

const isRoot = process.getuid?.() === 0;

describe('SqliteStore on a full disk', () => {
  test('a write that does not fit fails with StorageFullError; reads go on; nothing acknowledged is lost', {
    skip: isRoot ? false : 'needs root to mount a tmpfs',
  }, async (t) => {
    const dir = tempDir('full');
    let mounted = false;
    let store: SqliteStore | undefined;
    try {
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'skiff-test-tmpfs', dir], { stdio: 'pipe' });
        mounted = true;
      } catch (err) {
        t.skip(`cannot mount a tmpfs: ${String((err as Error).message).trim()}`);
        return;
      }
      const path = join(dir, 'state.db');
      // Ballast we delete later to free space.
      writeFileSync(join(dir, 'ballast'), new Uint8Array(512 * 1024));
      store = new SqliteStore({ path, maintenanceIntervalMs: 0 });
      const acked = new Map<string, KeyValue>();
      let failure: unknown;
      for (let i = 0; i < 1000; i++) {
        const key = `/fill/${String(i).padStart(4, '0')}`;
        const value = randomBytes(64 * 1024);
        const rev = await store.currentRevision();
        try {
          acked.set(key, await store.create(key, value));
        } catch (err) {
          failure = err;
          assert.equal(await store.currentRevision(), rev, 'the failed write did not take a revision');
          assert.equal(await store.get(key), null, 'the failed write is not visible');
          break;
        }
      }
      assert.ok(failure, 'a 4 MiB tmpfs never filled up');
      assert.ok(
        failure instanceof StorageFullError,
        `expected StorageFullError, got ${(failure as Error)?.name}: ${(failure as Error)?.message}`,
      );
      assert.equal(failure.code, 'StorageFull');
      assert.ok(acked.size > 10, `only ${acked.size} writes fit before the disk was full`);
      t.diagnostic(`${acked.size} writes of 64 KiB acknowledged before: ${failure.message}`);

      // Several writes in one transaction fail together and cleanly.
      const rev = await store.currentRevision();
      const batch = await Promise.allSettled(
        [0, 1, 2, 3].map((i) => store!.create(`/batch/${i}`, randomBytes(64 * 1024))),
      );
      for (const r of batch) {
        assert.equal(r.status, 'rejected');
        if (r.status === 'rejected') assert.ok(r.reason instanceof StorageFullError, String(r.reason));
      }
      assert.equal(await store.currentRevision(), rev);

      // Reads still work, and see every acknowledged write.
      const listed = await store.range('/fill/');
      assert.equal(listed.items.length, acked.size);
      for (const item of listed.items) {
        const kv = acked.get(item.key);
        assert.ok(kv && sameBytes(item.value, kv.value) && item.modRevision === kv.modRevision, item.key);
      }
      assert.equal((await store.count('/fill/')).count, acked.size);

      // Freeing space lets writes go on, at the next revision.
      rmSync(join(dir, 'ballast'));
      const after = await store.create('/after-free', encoder.encode('room again'));
      assert.equal(after.modRevision, rev + 1);
      acked.set(after.key, after);

      // Everything acknowledged is there after closing and reopening.
      await store.close();
      store = new SqliteStore({ path, maintenanceIntervalMs: 0 });
      assert.equal(await store.currentRevision(), rev + 1);
      for (const [key, kv] of acked) {
        const got = await store.get(key);
        assert.ok(got, `${key} is lost after reopening`);
        assert.equal(got.modRevision, kv.modRevision);
        assert.ok(sameBytes(got.value, kv.value), `${key} has other bytes after reopening`);
      }
    } finally {
      await store?.close().catch(() => {});
      if (mounted) execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
