/**
 * Crash safety of the SQLite store: a child process writes with many concurrent writers and reports
 * every acknowledged write; we SIGKILL it at a random moment, reopen the database, and check that
 * every acknowledged write is there at exactly its revision, that the revisions have no gaps, and that
 * the store resumes at the next revision. The same database goes through every trial, so recovery is
 * also tested on top of earlier recoveries.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/storage/sqlite/store.ts';
import type { DeleteEvent, KeyValue, PutEvent } from '../../src/storage/store.ts';
import { type AckLine, valueHash } from '../fixtures/storage-crash-lines.ts';

const WRITER = fileURLToPath(new URL('../fixtures/storage-writer.ts', import.meta.url));
const TRIALS = 20;
const LOOPS = 32;
const KILL_MIN_MS = 50;
const KILL_MAX_MS = 400;

type Ack = Exclude<AckLine, { o: 'ready' } | { o: 'err' }>;

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

interface RunResult {
  ready: number | undefined;
  acks: Ack[];
  errors: string[];
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/** Runs the writer on `path` and SIGKILLs it `delayMs` after it reported that it started writing. */
async function runAndKill(path: string, delayMs: number): Promise<RunResult> {
  const child = spawn(process.execPath, [WRITER, path, String(LOOPS)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let stderr = '';
  let timer: NodeJS.Timeout | undefined;
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr += d;
  });
  try {
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    child.stdout!.on('data', (d: string) => {
      out += d;
      // The first line is "ready": the writer starts writing now.
      if (timer === undefined && out.includes('\n')) {
        timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    // A writer that never gets going is killed too, so the test cannot hang.
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const { code, signal } = await exited;
    clearTimeout(guard);
    // Only complete lines count: the last one may have been cut by the kill.
    const lines = out.split('\n');
    lines.pop();
    let ready: number | undefined;
    const acks: Ack[] = [];
    const errors: string[] = [];
    for (const line of lines) {
      const l = JSON.parse(line) as AckLine;
      if (l.o === 'ready') ready = l.rev;
      else if (l.o === 'err') errors.push(l.msg);
      else acks.push(l);
    }
    return { ready, acks, errors, signal, code, stderr };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.delete(child);
  }
}

function checkKv(kv: KeyValue, ack: Extract<Ack, { o: 'c' | 'u' }>, where: string): void {
  assert.equal(kv.key, ack.k, `${where}: key`);
  assert.equal(kv.modRevision, ack.r, `${where}: modRevision`);
  assert.equal(kv.createRevision, ack.cr, `${where}: createRevision`);
  assert.equal(kv.version, ack.v, `${where}: version`);
  assert.equal(valueHash(kv.value), ack.h, `${where}: value`);
}

/**
 * Reopens the store and checks it against every write acknowledged so far; returns the revision the
 * store resumed at (after one write of its own).
 */
async function verify(path: string, acks: Map<number, Ack>, newAcks: Ack[], trial: number): Promise<number> {
  const store = new SqliteStore({ path, maintenanceIntervalMs: 0 });
  try {
    const cur = await store.currentRevision();
    let maxAck = 0;
    for (const r of acks.keys()) maxAck = Math.max(maxAck, r);
    assert.ok(
      cur >= maxAck,
      `trial ${trial}: store reopened at ${cur}, below acknowledged revision ${maxAck}`,
    );

    // (b) Every revision 1..cur exactly once, in order, and (a) each acknowledged write's event is
    // the one reported (a watch from revision 0 replays the whole history).
    const seen = new Set<number>();
    const checkEvent = (ev: PutEvent | DeleteEvent): void => {
      const key = ev.type === 'put' ? ev.kv.key : ev.key;
      if (ev.type === 'put') {
        assert.equal(ev.kv.modRevision, ev.revision);
        if (ev.prev) {
          assert.equal(ev.kv.createRevision, ev.prev.createRevision, `rev ${ev.revision}: createRevision`);
          assert.equal(ev.kv.version, ev.prev.version + 1, `rev ${ev.revision}: version`);
          assert.ok(ev.prev.modRevision < ev.revision);
        } else {
          assert.equal(ev.kv.createRevision, ev.revision);
          assert.equal(ev.kv.version, 1);
        }
      } else {
        assert.ok(ev.prev.modRevision < ev.revision);
      }
      const ack = acks.get(ev.revision);
      if (!ack) return;
      seen.add(ev.revision);
      const where = `trial ${trial}: acknowledged ${ack.o} of ${ack.k} at ${ack.r}`;
      assert.equal(key, ack.k, `${where}: the event at that revision is for another key`);
      if (ack.o === 'd') {
        assert.equal(ev.type, 'delete', `${where}: the event at that revision is a put`);
        if (ev.type === 'delete') assert.equal(ev.prev.modRevision, ack.p, `${where}: prev`);
      } else {
        assert.equal(ev.type, 'put', `${where}: the event at that revision is a delete`);
        if (ev.type === 'put') {
          checkKv(ev.kv, ack, where);
          if (ack.o === 'u') assert.equal(ev.prev?.modRevision, ack.p, `${where}: prev`);
        }
      }
    };
    let next = 1;
    if (cur >= 1) {
      const signal = AbortSignal.timeout(20_000);
      for await (const ev of store.watch('', { afterRevision: 0, signal })) {
        assert.notEqual(ev.type, 'progress');
        if (ev.type === 'progress') continue;
        assert.equal(ev.revision, next, `trial ${trial}: expected revision ${next}, got ${ev.revision}`);
        checkEvent(ev);
        next++;
        if (ev.revision === cur) break;
      }
    }
    // A kill before the first commit leaves revision 0 and no history.
    assert.equal(next, cur + 1, `trial ${trial}: history ends at ${next - 1}, not ${cur}`);
    assert.equal(seen.size, acks.size, `trial ${trial}: some acknowledged writes are not in the history`);

    // (a) Point reads at each write's revision, for this trial's writes.
    for (const ack of newAcks) {
      const where = `trial ${trial}: acknowledged ${ack.o} of ${ack.k} at ${ack.r}`;
      const kv = await store.get(ack.k, ack.r);
      if (ack.o === 'd') assert.equal(kv, null, `${where}: key present at the delete's revision`);
      else {
        assert.ok(kv, `${where}: key absent at its revision`);
        checkKv(kv, ack, where);
      }
    }

    // (c) The store resumes right after the last revision.
    const marker = await store.create(`/marker/${trial}`, new TextEncoder().encode(`trial ${trial}`));
    assert.equal(marker.modRevision, cur + 1, `trial ${trial}: the next write got ${marker.modRevision}`);
    acks.set(marker.modRevision, {
      o: 'c',
      k: marker.key,
      r: marker.modRevision,
      cr: marker.createRevision,
      v: marker.version,
      h: valueHash(marker.value),
    });
    return marker.modRevision;
  } finally {
    await store.close();
  }
}

describe('SqliteStore crash safety', () => {
  test(`${TRIALS} SIGKILLs at random moments lose no acknowledged write`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-crash-'));
    const path = join(dir, 'state.db');
    const acks = new Map<number, Ack>();
    let resumedAt = 0;
    let total = 0;
    try {
      for (let trial = 1; trial <= TRIALS; trial++) {
        const delay = KILL_MIN_MS + Math.floor(Math.random() * (KILL_MAX_MS - KILL_MIN_MS));
        const run = await runAndKill(path, delay);
        const diag = `trial ${trial} (kill after ${delay} ms)\nstderr: ${run.stderr}`;
        assert.equal(run.signal, 'SIGKILL', `the writer exited by itself (code ${run.code}): ${diag}`);
        assert.deepEqual(run.errors, [], `the writer saw unexpected errors: ${diag}`);
        assert.equal(run.ready, resumedAt, `the writer opened the store at ${run.ready}, not ${resumedAt}`);
        for (const ack of run.acks) {
          assert.ok(!acks.has(ack.r), `revision ${ack.r} acknowledged twice`);
          assert.ok(
            ack.r > resumedAt,
            `revision ${ack.r} acknowledged again after reopening at ${resumedAt}`,
          );
          acks.set(ack.r, ack);
        }
        total += run.acks.length;
        resumedAt = await verify(path, acks, run.acks, trial);
        t.diagnostic(`trial ${trial}: killed after ${delay} ms, ${run.acks.length} acknowledged writes`);
      }
      t.diagnostic(`${total} acknowledged writes over ${TRIALS} trials; final revision ${resumedAt}`);
      assert.ok(total > 0, 'no write was acknowledged in any trial');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
