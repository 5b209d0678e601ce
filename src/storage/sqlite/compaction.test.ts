import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { SqliteStore } from './store.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function rowCount(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number(db.prepare('SELECT COUNT(*) AS c FROM skiff_kv').get()?.c);
  } finally {
    db.close();
  }
}

test('background compaction removes every superseded row, however rarely its key changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-compact-'));
  const path = join(dir, 'state.db');
  const store = new SqliteStore({
    path,
    clock: new FakeClock(),
    retainRevisions: 10,
    maintenanceIntervalMs: 0,
  });
  try {
    const keys = 100;
    for (let i = 0; i < keys; i++) await store.create(`/k/${i}`, enc('0'));
    await store.create('/gone', enc('x'));
    await store.delete('/gone');
    // Round-robin updates: each key changes only every 100 revisions, far less often than the
    // retention, so its old versions are superseded long before compaction reaches them.
    for (let round = 1; round <= 20; round++) {
      for (let i = 0; i < keys; i++) await store.update(`/k/${i}`, enc(String(round)));
      await store.maintain();
    }
    const rev = await store.currentRevision();
    const compacted = await store.compactRevision();
    assert.ok(compacted >= rev - 20, `compaction keeps up: compacted ${compacted} of ${rev}`);
    // Live rows, plus at most the history above the compacted revision.
    const rows = rowCount(path);
    assert.ok(
      rows <= keys + (rev - compacted),
      `${rows} rows remain for ${keys} keys and ${rev - compacted} retained revisions`,
    );
    const all = await store.range('/k/');
    assert.equal(all.items.length, keys);
    assert.ok(all.items.every((kv) => new TextDecoder().decode(kv.value) === '20'));
    assert.equal(await store.get('/gone'), null);
    // History above the compacted revision is whole: every event has its previous version.
    const events = [];
    for await (const e of store.watch('/k/', { afterRevision: compacted })) {
      events.push(e);
      if (e.revision === rev) break;
    }
    assert.equal(events.length, rev - compacted);
    assert.ok(events.every((e) => e.type === 'put' && e.prev !== null));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a compaction waiting for the writer thread keeps the process alive until it is answered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-compact-alive-'));
  try {
    // A child whose only pending work is the compaction: with the writer thread unreferenced, Node
    // would exit before the answer (code 13, an unsettled top-level await).
    const script = `
      import { SqliteStore } from ${JSON.stringify(new URL('./store.ts', import.meta.url).href)};
      const store = new SqliteStore({ path: ${JSON.stringify(join(dir, 'state.db'))}, maintenanceIntervalMs: 0 });
      const enc = (s) => new TextEncoder().encode(s);
      await store.create('/k', enc('0'));
      for (let i = 1; i <= 20; i++) await store.update('/k', enc(String(i)));
      await store.compact(15);
      process.stdout.write('compacted\\n');
      await store.close();
    `;
    const file = join(dir, 'child.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'compacted\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
