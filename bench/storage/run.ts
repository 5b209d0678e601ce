/**
 * Storage benchmark: the SQLite Store against raw node:sqlite baselines measured in the same run.
 *
 *   node_modules/.bin/node bench/storage/run.ts [--updates N] [--seconds S] [--churn-writers N]
 *   npm run bench:storage -- --updates 100000
 *
 * Sections: 1. put throughput and latency (1 and 64 writers) vs raw inserts; 2. range of 10,000 keys
 * vs a raw SELECT; 3. delivery of writes to 100 watchers vs a raw commit + callbacks; 4. database size
 * after N updates (default 1,000,000) to 10,000 keys with background compaction.
 *
 * Progress goes to stderr; the report (markdown) goes to stdout. Targets are printed, never asserted.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../../src/storage/sqlite/store.ts';

// ---- options -------------------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    updates: { type: 'string', default: process.env.BENCH_UPDATES ?? '1000000' },
    seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '5' },
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '5' },
    'churn-writers': { type: 'string', default: process.env.BENCH_CHURN_WRITERS ?? '128' },
    'watch-writes': { type: 'string', default: '1000' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: node bench/storage/run.ts [--updates 1000000] [--seconds 5] [--rounds 5] [--churn-writers 128] [--watch-writes 1000]\n',
  );
  process.exit(0);
}
const UPDATES = positiveInt(args.updates, 'updates');
const ROUNDS = positiveInt(args.rounds, 'rounds');
const ROUND_MS = (Number(args.seconds) * 1000) / ROUNDS;
const CHURN_WRITERS = positiveInt(args['churn-writers'], 'churn-writers');
const WATCH_WRITES = positiveInt(args['watch-writes'], 'watch-writes');
if (!(ROUND_MS > 0)) throw new Error('--seconds must be a positive number');

function positiveInt(s: string | undefined, name: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const VALUE_BYTES = 1024;
const RANGE_KEYS = 10_000;
const CHURN_KEYS = 10_000;
const WATCHERS = 100;

// ---- helpers -------------------------------------------------------------------------------------

/** Incompressible bytes; values are 1 KiB windows into it at varying offsets. */
const pool = randomBytes(4 << 20);
let valueSeq = 0;
function nextValue(): Uint8Array {
  const off = ((valueSeq++ * 7919) % (pool.length - VALUE_BYTES)) | 0;
  return pool.subarray(off, off + VALUE_BYTES);
}

/** Growable list of latency samples in ms. */
class Samples {
  #a = new Float64Array(1024);
  #n = 0;
  add(v: number): void {
    if (this.#n === this.#a.length) {
      const b = new Float64Array(this.#a.length * 2);
      b.set(this.#a);
      this.#a = b;
    }
    this.#a[this.#n++] = v;
  }
  get count(): number {
    return this.#n;
  }
  summary(): { p50: number; p99: number; max: number } {
    if (this.#n === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
    const s = this.#a.slice(0, this.#n).sort();
    // Nearest-rank percentiles.
    const at = (q: number) => s[Math.min(this.#n - 1, Math.max(0, Math.ceil(q * this.#n) - 1))]!;
    return { p50: at(0.5), p99: at(0.99), max: s[this.#n - 1]! };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const immediate = () => new Promise<void>((r) => setImmediate(r));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number) =>
  Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0);
const fmtPct = (n: number) => `${(n * 100).toFixed(0)}%`;
const fmtX = (n: number) => `${n.toFixed(2)}×`;
const fmtMiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const met = (ok: boolean) => (ok ? 'yes' : '**no**');

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

let dirSeq = 0;
let root = '';
function freshPath(name: string): string {
  return join(root, `${String(dirSeq++).padStart(2, '0')}-${name}.db`);
}

function fileSize(p: string): number {
  return existsSync(p) ? statSync(p).size : 0;
}

/** The mount (and its type) holding `path`, from /proc/mounts. */
function mountOf(path: string): string {
  try {
    let best = { dir: '', type: '?', dev: '?' };
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [dev, dir, type] = line.split(' ');
      if (!dev || !dir || !type) continue;
      if (
        (path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`)) &&
        dir.length >= best.dir.length
      ) {
        best = { dir, type, dev };
      }
    }
    return `${best.type} (${best.dev} on ${best.dir})`;
  } catch {
    return 'unknown';
  }
}

// The same table the store uses, for the raw baselines: identical row shape and index maintenance.
const RAW_SCHEMA = `
CREATE TABLE skiff_kv (
  id INTEGER PRIMARY KEY NOT NULL, name BLOB NOT NULL, deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL, prev_revision INTEGER NOT NULL, version INTEGER NOT NULL,
  expires_at INTEGER, value BLOB NOT NULL
) STRICT;
CREATE INDEX skiff_kv_name_id ON skiff_kv (name, id);`;

/** A raw node:sqlite database with the store's durability: WAL, synchronous=FULL. */
function openRaw(path: string): { db: DatabaseSync; insert: StatementSync } {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
  db.exec(RAW_SCHEMA);
  const insert = db.prepare(
    'INSERT INTO skiff_kv (id, name, deleted, create_revision, prev_revision, version, expires_at, value) VALUES (?, ?, 0, ?, 0, 1, NULL, ?)',
  );
  return { db, insert };
}

const enc = new TextEncoder();

// ---- 1. put throughput and latency --------------------------------------------------------------

interface PutRound {
  writesPerSec: number;
  p50: number;
  p99: number;
}

const KEYS_PER_WRITER = 16;

/** `writers` concurrent loops, each creating then updating its own 16 keys, for `ms`. */
async function storePutRound(writers: number, ms: number): Promise<PutRound> {
  const store = new SqliteStore({ path: freshPath(`put-${writers}`) });
  const lat = new Samples();
  let writes = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  const loop = async (w: number) => {
    for (let i = 0; performance.now() < end; i++) {
      const key = `/registry/bench/put/w${w}/k${i % KEYS_PER_WRITER}`;
      const s = performance.now();
      if (i < KEYS_PER_WRITER) await store.create(key, nextValue());
      else await store.update(key, nextValue());
      lat.add(performance.now() - s);
      writes++;
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => loop(w)));
  const elapsed = performance.now() - t0;
  await store.close();
  const { p50, p99 } = lat.summary();
  return { writesPerSec: (writes / elapsed) * 1000, p50, p99 };
}

/** Raw inserts, `perTx` per transaction (1 = autocommit: one transaction and sync per insert). Latency
 * is that of one commit: what each insert of the batch waited for. */
async function rawPutRound(perTx: number, ms: number): Promise<PutRound> {
  const { db, insert } = openRaw(freshPath(`raw-${perTx}`));
  const lat = new Samples();
  let id = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  while (performance.now() < end) {
    const s = performance.now();
    if (perTx > 1) db.exec('BEGIN IMMEDIATE');
    for (let j = 0; j < perTx; j++) {
      id++;
      insert.run(
        id,
        enc.encode(`/registry/bench/put/w${id % 64}/k${(id >> 6) % KEYS_PER_WRITER}`),
        id,
        nextValue(),
      );
    }
    if (perTx > 1) db.exec('COMMIT');
    lat.add(performance.now() - s);
    // Let the event loop turn, as a server would between batches.
    if (id % (perTx * 16) === 0) await immediate();
  }
  const elapsed = performance.now() - t0;
  db.close();
  const { p50, p99 } = lat.summary();
  return { writesPerSec: (id / elapsed) * 1000, p50, p99 };
}

function summarize(name: string, rounds: PutRound[]): PutRound {
  log(
    `${name}: ${rounds.map((x) => fmtInt(x.writesPerSec)).join(', ')} writes/s; p99 ${rounds.map((x) => fmtMs(x.p99)).join(', ')} ms`,
  );
  return {
    writesPerSec: median(rounds.map((x) => x.writesPerSec)),
    p50: median(rounds.map((x) => x.p50)),
    p99: median(rounds.map((x) => x.p99)),
  };
}

async function benchPut(): Promise<string> {
  log('1. put throughput');
  const cases: { name: string; fn: (ms: number) => Promise<PutRound>; rounds: PutRound[] }[] = [
    { name: 'raw, 1 insert per transaction', fn: (ms) => rawPutRound(1, ms), rounds: [] },
    { name: 'raw, 64 inserts per transaction', fn: (ms) => rawPutRound(64, ms), rounds: [] },
    { name: 'skiff, 1 writer', fn: (ms) => storePutRound(1, ms), rounds: [] },
    { name: 'skiff, 64 writers', fn: (ms) => storePutRound(64, ms), rounds: [] },
  ];
  for (const c of cases) await c.fn(Math.min(300, ROUND_MS)); // warm-up, not counted
  // Rounds are interleaved (and their order rotated) so that every case sees the same disk: a shared
  // VM's fsync latency drifts by several times within minutes.
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + r) % cases.length]!;
      c.rounds.push(await c.fn(ROUND_MS));
    }
  }
  const [rawA, rawB, s1, s64] = cases.map((c) => summarize(c.name, c.rounds)) as [
    PutRound,
    PutRound,
    PutRound,
    PutRound,
  ];
  const row = (name: string, r: PutRound, target: string, ok: string) => [
    name,
    fmtInt(r.writesPerSec),
    fmtMs(r.p50),
    fmtMs(r.p99),
    fmtPct(r.writesPerSec / rawA.writesPerSec),
    fmtPct(r.writesPerSec / rawB.writesPerSec),
    target,
    ok,
  ];
  return [
    '### 1. Durable puts (~1 KiB values)',
    '',
    table(
      ['case', 'writes/s', 'p50 ms', 'p99 ms', '% of raw 1/tx', '% of raw 64/tx', 'target', 'met'],
      [
        row('skiff, 1 writer', s1, 'p99 ≤ 5 ms', met(s1.p99 <= 5)),
        row(
          'skiff, 64 writers',
          s64,
          '≥ 30,000/s, ≥ 25% of raw 64/tx, p99 ≤ 5 ms',
          met(s64.writesPerSec >= 30_000 && s64.writesPerSec >= 0.25 * rawB.writesPerSec && s64.p99 <= 5),
        ),
        row('raw node:sqlite, 1 insert/tx (baseline a)', rawA, '', ''),
        row('raw node:sqlite, 64 inserts/tx (baseline b)', rawB, '', ''),
      ],
    ),
    '',
    `Medians of ${ROUNDS} interleaved rounds of ${(ROUND_MS / 1000).toFixed(1)} s per case (after a warm-up). Each skiff writer creates, then updates, its own ${KEYS_PER_WRITER} keys, awaiting each write; latency is from the call to the resolved promise. Raw latency is one commit (for 64/tx: what every insert in the batch waits).`,
  ].join('\n');
}

// ---- 2. range ------------------------------------------------------------------------------------

const RANGE_RUNS = 30;

async function benchRange(): Promise<string> {
  log('2. range of 10,000 keys');
  const path = freshPath('range');
  const store = new SqliteStore({ path, maintenanceIntervalMs: 0 });
  const raw = openRaw(freshPath('range-raw'));
  const prefix = '/registry/pods/default/';
  const keys: string[] = [];
  for (let i = 0; i < RANGE_KEYS; i++) keys.push(`${prefix}pod-${String(i).padStart(5, '0')}`);
  const others: string[] = [];
  for (let i = 0; i < RANGE_KEYS / 2; i++) others.push(`/registry/configmaps/default/cm-${i}`);
  // Live rows, plus one update of every 5th pod so the log holds history as a running store's does.
  const live = new Map<string, Uint8Array>();
  for (const batch of chunks([...keys, ...others], 1000)) {
    await Promise.all(
      batch.map((k) => {
        const v = nextValue();
        live.set(k, v);
        return store.create(k, v);
      }),
    );
  }
  for (const batch of chunks(
    keys.filter((_, i) => i % 5 === 0),
    1000,
  )) {
    await Promise.all(
      batch.map((k) => {
        const v = nextValue();
        live.set(k, v);
        return store.update(k, v);
      }),
    );
  }
  raw.db.exec('BEGIN');
  let id = 0;
  for (const [k, v] of live) raw.insert.run(++id, enc.encode(k), id, v);
  raw.db.exec('COMMIT');
  const end = enc.encode('/registry/pods/default0'); // '/' + 1
  const rawFull = raw.db.prepare(
    'SELECT id, name, deleted, create_revision, prev_revision, version, expires_at, value FROM skiff_kv WHERE name >= ? AND name < ? ORDER BY name',
  );
  const rawPage = raw.db.prepare(
    'SELECT id, name, deleted, create_revision, prev_revision, version, expires_at, value FROM skiff_kv WHERE name > ? AND name < ? ORDER BY name LIMIT ?',
  );
  const start = enc.encode(prefix);

  const fns: (() => Promise<number>)[] = [
    async () => (await store.range(prefix)).items.length,
    async () => {
      let n = 0;
      let cont: string | undefined;
      do {
        const r = await store.range(prefix, { limit: 500, continue: cont });
        n += r.items.length;
        cont = r.continue;
      } while (cont);
      return n;
    },
    async () => rawFull.all(start, end).length,
    async () => {
      let n = 0;
      let after: Uint8Array = start; // no key equals the bare prefix here, so '>' it is fine
      for (;;) {
        const rows = await Promise.resolve(rawPage.all(after, end, 501));
        const page = rows.slice(0, 500);
        n += page.length;
        if (rows.length <= 500) break;
        after = page[page.length - 1]!.name as Uint8Array;
      }
      return n;
    },
  ];
  // Interleaved, order rotated each run, so garbage collection and the page cache hit all cases alike.
  const samples = fns.map(() => new Samples());
  for (let r = 0; r < RANGE_RUNS + 3; r++) {
    for (let i = 0; i < fns.length; i++) {
      const j = (i + r) % fns.length;
      const t = performance.now();
      const n = await fns[j]!();
      if (r >= 3) samples[j]!.add(performance.now() - t);
      if (n !== RANGE_KEYS) throw new Error(`range returned ${n} items, expected ${RANGE_KEYS}`);
      await immediate();
    }
  }
  const [storeFull, storePaged, rawFullT, rawPagedT] = samples.map((x) => x.summary());
  await store.close();
  raw.db.close();
  log(
    `range: skiff full p50 ${fmtMs(storeFull?.p50 ?? Number.NaN)} ms, raw ${fmtMs(rawFullT?.p50 ?? Number.NaN)} ms`,
  );
  const row = (
    name: string,
    s = { p50: Number.NaN, p99: Number.NaN },
    r = { p50: Number.NaN, p99: Number.NaN },
  ) => [name, fmtMs(s.p50), fmtMs(s.p99), fmtMs(r.p50), fmtMs(r.p99), fmtX(s.p50 / r.p50)];
  return [
    '### 2. Range of 10,000 keys (~1 KiB values)',
    '',
    table(
      ['case', 'skiff p50 ms', 'skiff p99 ms', 'raw SELECT p50 ms', 'raw SELECT p99 ms', 'skiff / raw (p50)'],
      [row('full list', storeFull, rawFullT), row('paginated, limit 500 (20 pages)', storePaged, rawPagedT)],
    ),
    '',
    `${RANGE_RUNS} interleaved runs of each case after 3 warm-ups. The store holds 10,000 keys under the prefix, 5,000 under another, and one older version of every 5th key; the raw table holds only the 15,000 live rows, read with a plain \`SELECT … WHERE name >= ? AND name < ? ORDER BY name\` (paged: \`name > last LIMIT 501\`).`,
  ].join('\n');
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

// ---- 3. watch delivery ---------------------------------------------------------------------------

interface Delivery {
  spaced: { p50: number; p99: number; max: number };
  burst: { p50: number; p99: number; max: number };
}

const BURSTS = 10;
const BURST_SIZE = 100;

async function storeWatchDelivery(): Promise<Delivery> {
  const store = new SqliteStore({ path: freshPath('watch') });
  const prefix = '/registry/bench/watch/';
  const sent = new Map<string, number>();
  let lat = new Samples();
  let received = 0;
  const ac = new AbortController();
  const watchers = Array.from({ length: WATCHERS }, async () => {
    for await (const ev of store.watch(prefix, { signal: ac.signal })) {
      if (ev.type !== 'put') continue;
      const t = sent.get(ev.kv.key);
      if (t !== undefined) lat.add(performance.now() - t);
      received++;
    }
  });
  await sleep(20);
  if (store.stats().watchers !== WATCHERS) throw new Error(`only ${store.stats().watchers} watchers started`);
  let seq = 0;
  // Warm-up writes.
  for (let i = 0; i < 50; i++) {
    await store.create(`${prefix}warm-${i}`, nextValue());
    await sleep(1);
  }
  lat = new Samples();
  received = 0;
  // Spaced: one write at a time, each in its own transaction, 1 ms apart.
  for (let i = 0; i < WATCH_WRITES; i++) {
    const key = `${prefix}k${seq++}`;
    const v = nextValue();
    sent.set(key, performance.now());
    await store.create(key, v);
    await sleep(1);
  }
  if (received !== WATCH_WRITES * WATCHERS) throw new Error(`watchers received ${received} events`);
  const spaced = lat.summary();
  // Burst: BURST_SIZE writes issued in one turn (one transaction), then a pause.
  lat = new Samples();
  for (let b = 0; b < BURSTS; b++) {
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < BURST_SIZE; i++) {
      const key = `${prefix}k${seq++}`;
      const v = nextValue();
      sent.set(key, performance.now());
      ps.push(store.create(key, v));
    }
    await Promise.all(ps);
    await sleep(5);
  }
  const burst = lat.summary();
  ac.abort();
  await Promise.all(watchers);
  await store.close();
  return { spaced, burst };
}

/** The floor: a raw durable commit, then 100 consumers woken through promises, as a minimal hub would. */
async function rawWatchDelivery(): Promise<Delivery> {
  const { db, insert } = openRaw(freshPath('watch-raw'));
  let lat = new Samples();
  const consumers = Array.from({ length: WATCHERS }, () => ({
    queue: [] as number[],
    wake: null as (() => void) | null,
  }));
  let stop = false;
  const loops = consumers.map(async (c) => {
    while (!stop) {
      const t = c.queue.shift();
      if (t !== undefined) {
        lat.add(performance.now() - t);
        continue;
      }
      await new Promise<void>((r) => {
        c.wake = r;
      });
    }
  });
  const publish = (ts: number[]) => {
    for (const c of consumers) {
      c.queue.push(...ts);
      const w = c.wake;
      c.wake = null;
      w?.();
    }
  };
  let id = 0;
  for (let i = 0; i < 50 + WATCH_WRITES; i++) {
    if (i === 50) lat = new Samples();
    const t = performance.now();
    id++;
    insert.run(id, enc.encode(`/registry/bench/watch/k${id}`), id, nextValue());
    publish([t]);
    await sleep(1);
  }
  const spaced = lat.summary();
  lat = new Samples();
  for (let b = 0; b < BURSTS; b++) {
    const ts: number[] = [];
    db.exec('BEGIN IMMEDIATE');
    for (let i = 0; i < BURST_SIZE; i++) {
      ts.push(performance.now());
      id++;
      insert.run(id, enc.encode(`/registry/bench/watch/k${id}`), id, nextValue());
    }
    db.exec('COMMIT');
    publish(ts);
    await sleep(5);
  }
  const burst = lat.summary();
  stop = true;
  for (const c of consumers) c.wake?.();
  await Promise.all(loops);
  db.close();
  return { spaced, burst };
}

async function benchWatch(): Promise<string> {
  log('3. watch delivery to 100 watchers');
  const raw = await rawWatchDelivery();
  const s = await storeWatchDelivery();
  log(
    `watch: spaced p99 ${fmtMs(s.spaced.p99)} ms (raw ${fmtMs(raw.spaced.p99)}), burst p99 ${fmtMs(s.burst.p99)} ms`,
  );
  const row = (
    name: string,
    a: { p50: number; p99: number; max: number },
    b: { p50: number; p99: number; max: number },
    target: string,
    ok: string,
  ) => [name, fmtMs(a.p50), fmtMs(a.p99), fmtMs(a.max), fmtMs(b.p50), fmtMs(b.p99), target, ok];
  return [
    '### 3. Write → 100 watchers (same prefix)',
    '',
    table(
      ['case', 'skiff p50 ms', 'skiff p99 ms', 'skiff max ms', 'raw p50 ms', 'raw p99 ms', 'target', 'met'],
      [
        row(
          `spaced: ${fmtInt(WATCH_WRITES)} writes, 1 ms apart`,
          s.spaced,
          raw.spaced,
          'p99 ≤ 5 ms',
          met(s.spaced.p99 <= 5),
        ),
        row(`burst: ${BURSTS} × ${BURST_SIZE} writes in one turn`, s.burst, raw.burst, '', ''),
      ],
    ),
    '',
    `Latency from just before the write call to each watcher's \`for await\` receiving the event (performance.now()), over every (write, watcher) pair: ${fmtInt(WATCH_WRITES * WATCHERS)} samples spaced, ${fmtInt(BURSTS * BURST_SIZE * WATCHERS)} in bursts. Raw: a node:sqlite insert committed with the same durability, then 100 promise-woken consumers.`,
  ].join('\n');
}

// ---- 4. size under churn -------------------------------------------------------------------------

async function benchChurn(): Promise<string> {
  log(`4. ${fmtInt(UPDATES)} updates to ${fmtInt(CHURN_KEYS)} keys, ${CHURN_WRITERS} writers`);
  const path = freshPath('churn');
  const store = new SqliteStore({ path, maintenanceIntervalMs: 100 });
  const keys = Array.from(
    { length: CHURN_KEYS },
    (_, i) => `/registry/bench/churn/key-${String(i).padStart(5, '0')}`,
  );
  const liveValueBytes = new Int32Array(CHURN_KEYS);
  const keyBytes = keys.map((k) => enc.encode(k).length);
  // Sizes vary a little (960–1087 bytes) so rows do not all pack identically.
  const value = (i: number) => {
    const v = nextValue();
    return v.subarray(0, 960 + ((i * 31) & 127));
  };
  for (const batch of chunks(
    keys.map((k, i) => [k, i] as const),
    1000,
  )) {
    await Promise.all(
      batch.map(([k, i]) => {
        const v = value(i);
        liveValueBytes[i] = v.length;
        return store.create(k, v);
      }),
    );
  }
  const lat = new Samples();
  const eld = monitorEventLoopDelay({ resolution: 1 });
  let maxOnDisk = 0;
  let maxWal = 0;
  const sampleSizes = () => {
    const wal = fileSize(`${path}-wal`);
    maxWal = Math.max(maxWal, wal);
    maxOnDisk = Math.max(maxOnDisk, fileSize(path) + wal);
  };
  const sizeTimer = setInterval(sampleSizes, 100);
  let done = 0;
  let nextReport = 100_000;
  const t0 = performance.now();
  eld.enable();
  const writer = async (w: number) => {
    // Writer w owns keys w, w + C, w + 2C, … and updates them round-robin.
    const mine = keys.length > w ? Math.ceil((keys.length - w) / CHURN_WRITERS) : 0;
    const count = Math.floor(UPDATES / CHURN_WRITERS) + (w < UPDATES % CHURN_WRITERS ? 1 : 0);
    for (let j = 0; j < count; j++) {
      const i = w + (j % mine) * CHURN_WRITERS;
      const v = value(i + j);
      const s = performance.now();
      await store.update(keys[i]!, v);
      lat.add(performance.now() - s);
      liveValueBytes[i] = v.length;
      if (++done >= nextReport) {
        nextReport += 100_000;
        log(
          `  ${fmtInt(done)} updates, ${((performance.now() - t0) / 1000).toFixed(1)} s, db+wal ${fmtMiB(fileSize(path) + fileSize(`${path}-wal`))}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: CHURN_WRITERS }, (_, w) => writer(w)));
  const elapsed = performance.now() - t0;
  eld.disable();
  sampleSizes();
  // The state right after the churn, then after maintenance has caught up (a few intervals of quiet).
  const dbEnd = fileSize(path);
  const walEnd = fileSize(`${path}-wal`);
  await sleep(1000);
  await store.maintain();
  const dbSettled = fileSize(path);
  const walSettled = fileSize(`${path}-wal`);
  clearInterval(sizeTimer);
  const stats = store.stats();
  const m = { ...store.metrics };
  await store.close();
  // Page accounting of the closed file (read-only; close already checkpointed and truncated the WAL).
  const ro = new DatabaseSync(path, { readOnly: true });
  const pageSize = Number(ro.prepare('PRAGMA page_size').get()?.page_size);
  const pageCount = Number(ro.prepare('PRAGMA page_count').get()?.page_count);
  const freePages = Number(ro.prepare('PRAGMA freelist_count').get()?.freelist_count);
  const rows = Number(ro.prepare('SELECT COUNT(*) AS c FROM skiff_kv').get()?.c);
  ro.close();
  const dbClosed = fileSize(path);

  let live = 0;
  for (let i = 0; i < CHURN_KEYS; i++) live += keyBytes[i]! + liveValueBytes[i]!;
  const w = lat.summary();
  const ratioEnd = (dbEnd + walEnd) / live;
  const ratioMax = maxOnDisk / live;
  log(`churn: ${(elapsed / 1000).toFixed(1)} s, db+wal ${fmtMiB(dbEnd + walEnd)} (${fmtX(ratioEnd)} live)`);
  const rowsOut: string[][] = [
    ['updates / writers', `${fmtInt(UPDATES)} / ${CHURN_WRITERS}`, '', ''],
    [
      'total time (updates only)',
      `${(elapsed / 1000).toFixed(1)} s (${fmtInt((UPDATES / elapsed) * 1000)} updates/s)`,
      '',
      '',
    ],
    [
      'write latency p50 / p99 / max',
      `${fmtMs(w.p50)} / ${fmtMs(w.p99)} / ${fmtMs(w.max)} ms`,
      'p99 ≤ 5 ms',
      met(w.p99 <= 5),
    ],
    ['live data (10,000 keys: key + value bytes)', fmtMiB(live), '', ''],
    [
      'db + WAL at the end of the churn',
      `${fmtMiB(dbEnd)} + ${fmtMiB(walEnd)} = ${fmtMiB(dbEnd + walEnd)} (**${fmtX(ratioEnd)}** live)`,
      '≤ 2×',
      met(ratioEnd <= 2),
    ],
    [
      'db + WAL, largest seen during the churn (sampled every 100 ms)',
      `${fmtMiB(maxOnDisk)} (${fmtX(ratioMax)} live; WAL max ${fmtMiB(maxWal)})`,
      '≤ 2×',
      met(ratioMax <= 2),
    ],
    [
      'db + WAL after 1 s idle + maintain()',
      `${fmtMiB(dbSettled)} + ${fmtMiB(walSettled)} (${fmtX((dbSettled + walSettled) / live)} live)`,
      '',
      '',
    ],
    [
      'db after close (WAL checkpointed)',
      `${fmtMiB(dbClosed)}: ${fmtInt(pageCount)} pages of ${pageSize} B, ${fmtInt(freePages)} free; ${fmtInt(rows)} rows`,
      '',
      '',
    ],
    [
      'max compaction pause (metrics.maxCompactionPauseMs)',
      `${fmtMs(m.maxCompactionPauseMs)} ms`,
      '≤ 10 ms',
      met(m.maxCompactionPauseMs <= 10),
    ],
    [
      'compaction chunks / rows removed',
      `${fmtInt(m.compactionChunks)} / ${fmtInt(m.rowsCompacted)}`,
      '',
      '',
    ],
    [
      'commits (avg writes per commit)',
      `${fmtInt(m.commits)} (${(m.writes / m.commits).toFixed(1)})`,
      '',
      '',
    ],
    ['event-loop delay p99 / max', `${fmtMs(eld.percentile(99) / 1e6)} / ${fmtMs(eld.max / 1e6)} ms`, '', ''],
    [
      'revision / compacted revision / live keys',
      `${fmtInt(stats.revision)} / ${fmtInt(stats.compactRevision)} / ${fmtInt(stats.keys)}`,
      '',
      '',
    ],
  ];
  return [
    `### 4. Size under churn: ${fmtInt(UPDATES)} updates to ${fmtInt(CHURN_KEYS)} keys`,
    '',
    table(['measure', 'value', 'target', 'met'], rowsOut),
    '',
    `Values 960–1087 random bytes; ${CHURN_WRITERS} concurrent writers, each updating its own keys round-robin; maintenanceIntervalMs 100, retainRevisions 1000 (default), other options default.`,
  ].join('\n');
}

/** The disk's own durable-write latency: 4 KiB written and fdatasync'ed, 200 times. */
function fsyncProbe(): string {
  const p = join(root, 'fsync-probe');
  const fd = openSync(p, 'w');
  const buf = randomBytes(4096);
  const s = new Samples();
  try {
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      writeSync(fd, buf, 0, buf.length, i * 4096);
      fdatasyncSync(fd);
      s.add(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(p, { force: true });
  }
  const r = s.summary();
  return `4 KiB write + fdatasync p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms, max ${fmtMs(r.max)} ms`;
}

// ---- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  root = mkdtempSync(join(tmpdir(), 'skiff-bench-'));
  const cpu = cpus();
  const header = [
    '## Storage benchmark (SqliteStore vs raw node:sqlite)',
    '',
    `- command: \`${['node_modules/.bin/node bench/storage/run.ts', ...process.argv.slice(2)].join(' ')}\`` +
      ` (updates ${fmtInt(UPDATES)}, ${ROUNDS} rounds × ${(ROUND_MS / 1000).toFixed(1)} s, ${CHURN_WRITERS} churn writers)`,
    `- node ${process.version} (SQLite ${String(new DatabaseSync(':memory:').prepare('SELECT sqlite_version() AS v').get()?.v)}), ${platform()} ${release()}`,
    `- ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${fmtInt(totalmem() / 2 ** 30)} GiB RAM`,
    `- data in ${root}: ${mountOf(root)}`,
    `- disk at start: ${fsyncProbe()}`,
    `- started ${new Date().toISOString()}`,
  ].join('\n');
  log(header.replaceAll('\n', '\n[bench] '));
  const sections: string[] = [header];
  const t0 = performance.now();
  try {
    sections.push(await benchPut());
    sections.push(await benchRange());
    sections.push(await benchWatch());
    sections.push(await benchChurn());
    sections.push(`Disk at the end: ${fsyncProbe()}.`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  sections.push(`Total run time ${((performance.now() - t0) / 1000).toFixed(0)} s.`);
  process.stdout.write(`${sections.join('\n\n')}\n`);
}

await main();
