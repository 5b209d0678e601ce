/**
 * API server benchmark: a real `skiff server` child process, driven over HTTPS with the admin client
 * certificate, against the raw SqliteStore measured in-process in the same run.
 *
 *   node_modules/.bin/node bench/apiserver/run.ts [--seconds 1.5] [--rounds 3] [--pods 10000] …
 *   npm run bench:apiserver -- --pods 2000
 *
 * Sections: 1. create/get/update/list/watch throughput and latency with 1 and 50 clients vs the raw
 * store; 2. a list of 10,000 pods (whole, paginated, as a Table); 3. one event fanned out to 1,000
 * watchers; 4. the server process's RSS (idle, after the 10,000 pods, at the end).
 *
 * Progress goes to stderr; the report (markdown) goes to stdout. Targets are printed, never asserted.
 * The bench process is never measured for memory: the server runs as a child (bin/skiff, which execs
 * the pinned node, so the child's PID is the server's) and its RSS is read from /proc/PID/status.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadKubeconfig } from '../../src/apiserver/auth/kubeconfig.ts';
import { SqliteStore } from '../../src/storage/sqlite/store.ts';

// ---- options -------------------------------------------------------------------------------------

const USAGE = `usage: node bench/apiserver/run.ts [options]
  --seconds S           length of one measured round per case in section 1 (default 1.5)
  --rounds N            interleaved rounds per case in section 1; medians are reported (default 3)
  --clients LIST        concurrencies for section 1 (default 1,50)
  --ops LIST            operations of section 1 (default create,get,update,list,watch)
  --watch-writers N     concurrent writers feeding the watch case of section 1 (default 10)
  --pods N              pods for the big list of section 2 (default 10000)
  --list-runs N         timed runs of each list request in section 2 (default 5)
  --watchers N          watch streams for the fan-out of section 3 (default 1000)
  --watch-agents N      HTTPS agents the watchers are spread over (default 4)
  --events N            events written in section 3 (default 20)
  --event-gap-ms MS     pause between those events (default 100)
  --idle-seconds S      idle time before the idle RSS reading (default 5)
  --sections LIST       which of 1,2,3 to run (default 1,2,3; 4 — RSS — always runs)
  --server-node-options="FLAGS"  NODE_OPTIONS for the server process, e.g. --server-node-options="--cpu-prof --cpu-prof-dir=/tmp/p"
  --keep                keep the temporary directory (server data, logs) instead of removing it`;

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1.5' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '1,50' },
    ops: { type: 'string', default: 'create,get,update,list,watch' },
    'watch-writers': { type: 'string', default: '10' },
    pods: { type: 'string', default: '10000' },
    'list-runs': { type: 'string', default: '5' },
    watchers: { type: 'string', default: '1000' },
    'watch-agents': { type: 'string', default: '4' },
    events: { type: 'string', default: '20' },
    'event-gap-ms': { type: 'string', default: '100' },
    'idle-seconds': { type: 'string', default: '5' },
    sections: { type: 'string', default: '1,2,3' },
    'server-node-options': { type: 'string', default: '' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

function positiveInt(s: string | undefined, name: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}
function positiveNum(s: string | undefined, name: string): number {
  const n = Number(s);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--${name} must be a positive number`);
  return n;
}

const ROUND_MS = positiveNum(args.seconds, 'seconds') * 1000;
const ROUNDS = positiveInt(args.rounds, 'rounds');
const CLIENTS = args.clients.split(',').map((s) => positiveInt(s.trim(), 'clients'));
const OPS = args.ops.split(',').map((s) => s.trim());
for (const op of OPS) {
  if (!['create', 'get', 'update', 'list', 'watch'].includes(op))
    throw new Error(`--ops: unknown operation ${op}`);
}
const WATCH_WRITERS = positiveInt(args['watch-writers'], 'watch-writers');
const PODS = positiveInt(args.pods, 'pods');
const LIST_RUNS = positiveInt(args['list-runs'], 'list-runs');
const WATCHERS = positiveInt(args.watchers, 'watchers');
const WATCH_AGENTS = positiveInt(args['watch-agents'], 'watch-agents');
const EVENTS = positiveInt(args.events, 'events');
const EVENT_GAP_MS = Number(args['event-gap-ms']);
const IDLE_MS = positiveNum(args['idle-seconds'], 'idle-seconds') * 1000;
const SECTIONS = new Set(args.sections.split(',').map((s) => s.trim()));

const REQUEST_TIMEOUT_MS = 60_000;
const LIST_OBJECTS = 100; // pods in the namespace the list case reads
const WARMUP_MS = 300;

// Targets.
const CREATE_RATIO_TARGET = 0.4;
const CREATE_P99_TARGET_MS = 50;
const CREATE_P99_AT_CLIENTS = 50;
const BIG_LIST_TARGET_MS = 500;
const FANOUT_P99_TARGET_MS = 100;
const IDLE_RSS_TARGET_MB = 150;

const ROOT = join(import.meta.dirname, '..', '..');
const SKIFF = join(ROOT, 'bin', 'skiff');

// ---- helpers -------------------------------------------------------------------------------------

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
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const fmtInt = (n: number) => (Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (n: number) =>
  Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0);
const fmtPct = (n: number) => (Number.isNaN(n) ? '–' : `${(n * 100).toFixed(0)}%`);
const fmtBytes = (n: number) =>
  n >= 1 << 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
const fmtMB = (kib: number) => `${((kib * 1024) / 1e6).toFixed(1)} MB`;
const met = (ok: boolean) => (ok ? 'yes' : '**no**');

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Runs `fn` for ids 0..n-1 with at most `concurrency` in flight. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

// ---- the pod ------------------------------------------------------------------------------------

/** A realistic pod as a Deployment would create it: ~2 KiB of JSON. */
function podObject(namespace: string, name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: {
        app: 'checkout',
        tier: 'frontend',
        'pod-template-hash': '7c9f8d6b5d',
        'app.kubernetes.io/name': 'checkout',
        'app.kubernetes.io/instance': 'checkout-prod',
        'app.kubernetes.io/version': '1.24.3',
      },
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9090',
        'kubectl.kubernetes.io/default-container': 'app',
      },
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'registry.example.com/shop/checkout:1.24.3',
          args: ['--config=/etc/checkout/config.yaml', '--listen=:8080', '--metrics=:9090'],
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
          ],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'DB_HOST', value: 'postgres.shop.svc.cluster.local' },
            { name: 'DB_PORT', value: '5432' },
            { name: 'CACHE_URL', value: 'redis://redis.shop.svc.cluster.local:6379/0' },
            { name: 'GOMAXPROCS', value: '2' },
          ],
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
          readinessProbe: {
            httpGet: { path: '/readyz', port: 8080 },
            periodSeconds: 5,
            failureThreshold: 3,
          },
          livenessProbe: {
            httpGet: { path: '/livez', port: 8080 },
            initialDelaySeconds: 10,
            periodSeconds: 10,
          },
          volumeMounts: [
            { name: 'config', mountPath: '/etc/checkout', readOnly: true },
            { name: 'cache', mountPath: '/var/cache/checkout' },
          ],
          imagePullPolicy: 'IfNotPresent',
        },
        {
          name: 'log-shipper',
          image: 'registry.example.com/platform/log-shipper:3.1.0',
          args: ['--input=/var/log/app', '--output=http://logs.platform.svc.cluster.local:8080'],
          resources: { requests: { cpu: '20m', memory: '32Mi' }, limits: { memory: '64Mi' } },
          volumeMounts: [{ name: 'cache', mountPath: '/var/log/app', subPath: 'logs' }],
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: 'checkout-config' } },
        { name: 'cache', emptyDir: { sizeLimit: '1Gi' } },
      ],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
      terminationGracePeriodSeconds: 30,
    },
  };
}
const podJson = (ns: string, name: string) => JSON.stringify(podObject(ns, name));

// ---- the server process --------------------------------------------------------------------------

class ServerProcess {
  readonly dataDir: string;
  readonly logPath: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  constructor(dataDir: string, nodeOptions: string) {
    this.dataDir = dataDir;
    this.logPath = join(dataDir, 'server.log');
    // Logs to a file rather than a pipe, so the bench process does no work for them.
    const fd = openSync(this.logPath, 'a');
    const env: NodeJS.ProcessEnv = { ...process.env, SKIFF_LOG_LEVEL: 'info' };
    if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
    this.#child = spawn(
      SKIFF,
      ['server', '--data-dir', join(dataDir, 'server'), '--https-listen-port', '0'],
      {
        stdio: ['ignore', fd, fd],
        env,
      },
    );
    closeSync(fd);
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** Waits for the kubeconfig the server writes once ready. */
  async ready(): Promise<string> {
    const kubeconfig = join(this.dataDir, 'server', 'kubeconfig.yaml');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      // A failed start prints `skiff: <error>` (and may leave the process running).
      if (this.#child.exitCode !== null || /^skiff: /m.test(this.logs())) {
        throw new Error(`skiff server failed to start:\n${this.logs()}`);
      }
      if (existsSync(kubeconfig) && this.logs().includes('API server ready')) return kubeconfig;
      await sleep(50);
    }
    throw new Error(`skiff server not ready after 60 s:\n${this.logs()}`);
  }

  logs(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** VmRSS and VmHWM in KiB, from /proc/PID/status. */
  memory(): { rssKiB: number; hwmKiB: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
  }

  /** CPU time (user + system) the server process has used, in ms (clock ticks of 10 ms). */
  cpuMs(): number {
    const { user, system } = this.cpuSplit();
    return user + system;
  }

  /** User and system CPU time of the server process, in ms. */
  cpuSplit(): { user: number; system: number } {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime); f[0] is field 3.
    return { user: Number(f[11]) * 10, system: Number(f[12]) * 10 };
  }

  /** The command line of the process behind the PID (to check it is node, not a shell). */
  cmdline(): string {
    return readFileSync(`/proc/${this.pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  }

  /** SIGTERM to this PID, SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {}
    }, 10_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

// ---- the HTTPS client ----------------------------------------------------------------------------

interface Response {
  status: number;
  body: Buffer;
}

class Client {
  readonly host: string;
  readonly port: number;
  readonly #tls: { ca: string; cert: string; key: string };

  constructor(kubeconfig: string) {
    const cfg = loadKubeconfig(kubeconfig);
    const url = new URL(cfg.server);
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port);
    if (!cfg.ca || !cfg.cert || !cfg.key) throw new Error('kubeconfig has no client certificate');
    this.#tls = { ca: cfg.ca, cert: cfg.cert, key: cfg.key };
  }

  /** A keep-alive agent presenting the admin client certificate. */
  agent(maxSockets: number): Agent {
    return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ...this.#tls });
  }

  send(
    agent: Agent,
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return new Promise((resolve, reject) => {
      const h: Record<string, string | number> = { Accept: 'application/json', ...headers };
      if (body !== undefined) {
        h['Content-Type'] = 'application/json';
        h['Content-Length'] = Buffer.byteLength(body);
      }
      const req = request({ host: this.host, port: this.port, method, path, agent, headers: h }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(new Error(`${method} ${path}: no response in ${REQUEST_TIMEOUT_MS / 1000} s`)),
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Like send(), but fails unless the status is `ok` (a number or a list). */
  async must(
    agent: Agent,
    method: string,
    path: string,
    body?: string,
    headers?: Record<string, string>,
    ok: number[] = [200, 201],
  ): Promise<Response> {
    const r = await this.send(agent, method, path, body, headers);
    if (!ok.includes(r.status)) {
      throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 500)}`);
    }
    return r;
  }
}

const RV_RE = /"resourceVersion":"(\d+)"/;
const rvOf = (body: Buffer) => RV_RE.exec(body.toString('latin1', 0, 4096))?.[1] ?? '';

async function createNamespace(client: Client, agent: Agent, name: string): Promise<void> {
  await client.must(
    agent,
    'POST',
    '/api/v1/namespaces',
    JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
  );
}

async function createPods(
  client: Client,
  agent: Agent,
  ns: string,
  names: string[],
  concurrency: number,
): Promise<void> {
  await pool(names.length, concurrency, async (i) => {
    await client.must(agent, 'POST', `/api/v1/namespaces/${ns}/pods`, podJson(ns, names[i]!));
  });
}

/** A watch stream whose event lines are handed to `onLine` with the time their last chunk arrived. */
function openWatch(
  client: Client,
  agent: Agent,
  path: string,
  onLine: (line: string, at: number) => void,
): Promise<{ close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: client.host,
        port: client.port,
        method: 'GET',
        path,
        agent,
        headers: { Accept: 'application/json' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          const at = performance.now();
          buf += chunk;
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            onLine(buf.slice(0, nl), at);
            buf = buf.slice(nl + 1);
            nl = buf.indexOf('\n');
          }
        });
        res.on('error', () => {});
        resolve({ close: () => req.destroy() });
      },
    );
    req.on('error', (err) => {
      if (!(err as NodeJS.ErrnoException).code?.includes('ECONNRESET')) reject(err);
    });
    req.end();
  });
}

/** The name of the pod in a watch event line (the watched pods' names start with `wev-`). */
const EVENT_NAME_RE = /"name":"(wev-[^"]*)"/;

// ---- 1. operations vs the raw store --------------------------------------------------------------

interface Round {
  opsPerSec: number;
  p50: number;
  p99: number;
  /** Operations done (watch: writes). */
  ops: number;
  elapsedMs: number;
  /** Server CPU time (user + system) during the round, when measured. */
  serverCpuMs?: number;
  /** The bench process's own CPU time during the round. */
  benchCpuMs?: number;
}

interface OpCase {
  op: 'create' | 'get' | 'update' | 'list' | 'watch';
  clients: number;
  skiff: Round[];
  raw: Round[];
}

/** `clients` loops each running `step` back to back for `ms`; every step's latency is a sample. */
async function closedLoop(
  clients: number,
  ms: number,
  step: (client: number, i: number) => Promise<void>,
): Promise<Round> {
  const lat = new Samples();
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; performance.now() < end; i++) {
        const s = performance.now();
        await step(c, i);
        lat.add(performance.now() - s);
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const { p50, p99 } = lat.summary();
  return { opsPerSec: (lat.count / elapsed) * 1000, p50, p99, ops: lat.count, elapsedMs: elapsed };
}

/**
 * `watchers` watches on one namespace while WATCH_WRITERS loops create pods in it for `ms`. Reports
 * delivered events per second (summed over watchers) and, per (event, watcher), the time from the
 * create call to the event's arrival.
 */
async function watchRound(
  watchers: number,
  ms: number,
  open: (onEvent: (name: string, at: number) => void) => Promise<{ close: () => void }>,
  write: (name: string) => Promise<void>,
  tag: string,
): Promise<Round> {
  const started = new Map<string, number>();
  const lat = new Samples();
  let delivered = 0;
  let lastAt = 0;
  const onEvent = (name: string, at: number) => {
    const s = started.get(name);
    if (s === undefined) return;
    lat.add(at - s);
    delivered++;
    lastAt = at;
  };
  const streams = await Promise.all(Array.from({ length: watchers }, () => open(onEvent)));
  await sleep(50);
  let writes = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: WATCH_WRITERS }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const name = `wev-${tag}-${w}-${i}`;
        started.set(name, performance.now());
        await write(name);
        writes++;
      }
    }),
  );
  // Let the last events arrive.
  const expected = writes * watchers;
  const deadline = performance.now() + 5000;
  while (delivered < expected && performance.now() < deadline) await sleep(5);
  for (const s of streams) s.close();
  if (delivered < expected) log(`  watch ${tag}: only ${delivered} of ${expected} events arrived`);
  const { p50, p99 } = lat.summary();
  const elapsed = Math.max(lastAt, end) - t0;
  return { opsPerSec: (delivered / elapsed) * 1000, p50, p99, ops: writes, elapsedMs: elapsed };
}

async function benchOps(client: Client, dataDir: string, server: ServerProcess): Promise<string> {
  log('1. create/get/update/list/watch vs the raw store');
  const maxClients = Math.max(...CLIENTS);
  const agent = client.agent(maxClients + 8);
  // Setup on the server: namespaces, 100 pods to get and list, one pod per client to update.
  for (const ns of ['bench-create', 'bench-list', 'bench-update', 'bench-watch']) {
    await createNamespace(client, agent, ns);
  }
  const listNames = Array.from({ length: LIST_OBJECTS }, (_, i) => `pod-${String(i).padStart(3, '0')}`);
  await createPods(client, agent, 'bench-list', listNames, 20);
  const updNames = Array.from({ length: maxClients }, (_, c) => `upd-${c}`);
  await createPods(client, agent, 'bench-update', updNames, 20);
  const updRv = new Map<number, string>();
  const updObj = updNames.map((n) => podObject('bench-update', n));
  for (let c = 0; c < maxClients; c++) {
    const r = await client.must(agent, 'GET', `/api/v1/namespaces/bench-update/pods/${updNames[c]}`);
    updRv.set(c, rvOf(r.body));
  }
  // The same value size in the raw store: what the server returns for a created pod (it stores
  // the same JSON without resourceVersion).
  const sample = await client.must(agent, 'GET', '/api/v1/namespaces/bench-list/pods/pod-000');
  const storedValue = new Uint8Array(sample.body);
  const sentBytes = Buffer.byteLength(podJson('bench-list', 'pod-000'));
  log(`  pod JSON: ${sentBytes} B sent, ${storedValue.length} B as returned (the raw store's value size)`);

  // The raw store: a temporary database with the server's options, laid out the same way.
  const rawDir = join(dataDir, 'raw');
  mkdirSync(rawDir, { recursive: true });
  const store = new SqliteStore({ path: join(rawDir, 'state.db'), retainRevisions: 1000 });
  const rawKey = (ns: string, name: string) => `/registry/pods/${ns}/${name}`;
  await pool(
    LIST_OBJECTS,
    20,
    async (i) => void (await store.create(rawKey('bench-list', listNames[i]!), storedValue)),
  );
  const rawUpdRev = new Map<number, number>();
  for (let c = 0; c < maxClients; c++) {
    rawUpdRev.set(c, (await store.create(rawKey('bench-update', updNames[c]!), storedValue)).modRevision);
  }
  if (SECTIONS.has('2')) {
    // The server holds the big list by now; give the raw store as many keys too.
    await pool(PODS, 64, async (i) => void (await store.create(rawKey('bench-big', `p${i}`), storedValue)));
  }

  let seq = 0;
  const skiffStep: Record<OpCase['op'], (c: number, i: number) => Promise<void>> = {
    create: async () => {
      await client.must(
        agent,
        'POST',
        '/api/v1/namespaces/bench-create/pods',
        podJson('bench-create', `c${seq++}`),
      );
    },
    get: async (_c, i) => {
      await client.must(agent, 'GET', `/api/v1/namespaces/bench-list/pods/${listNames[i % LIST_OBJECTS]}`);
    },
    update: async (c, i) => {
      const obj = updObj[c]!;
      (obj.metadata as { resourceVersion?: string; annotations: Record<string, string> }).resourceVersion =
        updRv.get(c)!;
      (obj.metadata as { annotations: Record<string, string> }).annotations['bench/counter'] = String(i);
      const r = await client.must(
        agent,
        'PUT',
        `/api/v1/namespaces/bench-update/pods/${updNames[c]}`,
        JSON.stringify(obj),
      );
      updRv.set(c, rvOf(r.body));
    },
    list: async () => {
      await client.must(agent, 'GET', '/api/v1/namespaces/bench-list/pods');
    },
    watch: async () => {},
  };
  let rawSeq = 0;
  const rawStep: Record<OpCase['op'], (c: number, i: number) => Promise<void>> = {
    create: async () => {
      await store.create(rawKey('bench-create', `c${rawSeq++}`), storedValue);
    },
    get: async (_c, i) => {
      await store.get(rawKey('bench-list', listNames[i % LIST_OBJECTS]!));
    },
    update: async (c) => {
      const kv = await store.update(rawKey('bench-update', updNames[c]!), storedValue, rawUpdRev.get(c));
      rawUpdRev.set(c, kv.modRevision);
    },
    list: async () => {
      await store.range(rawKey('bench-list', ''));
    },
    watch: async () => {},
  };

  let watchSeq = 0;
  const skiffWatch = async (watchers: number, ms: number) => {
    const tag = `s${watchSeq++}`;
    const wAgent = client.agent(watchers);
    const list = await client.must(agent, 'GET', '/api/v1/namespaces/bench-watch/pods?limit=1');
    const rv = rvOf(list.body);
    try {
      return await watchRound(
        watchers,
        ms,
        (onEvent) =>
          openWatch(
            client,
            wAgent,
            `/api/v1/namespaces/bench-watch/pods?watch=true&resourceVersion=${rv}`,
            (line, at) => {
              const name = EVENT_NAME_RE.exec(line)?.[1];
              if (name) onEvent(name, at);
            },
          ),
        async (name) => {
          await client.must(
            agent,
            'POST',
            '/api/v1/namespaces/bench-watch/pods',
            podJson('bench-watch', name),
          );
        },
        tag,
      );
    } finally {
      wAgent.destroy();
    }
  };
  const rawWatch = async (watchers: number, ms: number) => {
    const tag = `r${watchSeq++}`;
    const ac = new AbortController();
    try {
      return await watchRound(
        watchers,
        ms,
        async (onEvent) => {
          const it = store.watch(rawKey('bench-watch', ''), { signal: ac.signal });
          void (async () => {
            for await (const ev of it) {
              if (ev.type === 'put')
                onEvent(ev.kv.key.slice(ev.kv.key.lastIndexOf('/') + 1), performance.now());
            }
          })();
          return { close: () => ac.abort() };
        },
        async (name) => {
          await store.create(rawKey('bench-watch', name), storedValue);
        },
        tag,
      );
    } finally {
      ac.abort();
    }
  };

  const cases: OpCase[] = [];
  for (const op of OPS as OpCase['op'][])
    for (const clients of CLIENTS) cases.push({ op, clients, skiff: [], raw: [] });
  const run = async (c: OpCase, which: 'skiff' | 'raw', ms: number): Promise<Round> => {
    if (which === 'raw') {
      return c.op === 'watch' ? rawWatch(c.clients, ms) : closedLoop(c.clients, ms, rawStep[c.op]);
    }
    const cpu0 = server.cpuMs();
    const own0 = process.cpuUsage();
    const r =
      c.op === 'watch' ? await skiffWatch(c.clients, ms) : await closedLoop(c.clients, ms, skiffStep[c.op]);
    const own = process.cpuUsage(own0);
    return { ...r, serverCpuMs: server.cpuMs() - cpu0, benchCpuMs: (own.user + own.system) / 1000 };
  };
  // Warm-up (JIT on both sides), not counted.
  for (const c of cases) {
    await run(c, 'skiff', WARMUP_MS);
    await run(c, 'raw', WARMUP_MS);
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) {
      c.skiff.push(await run(c, 'skiff', ROUND_MS));
      await sleep(100);
      c.raw.push(await run(c, 'raw', ROUND_MS));
      const last = c.skiff.at(-1)!;
      log(
        `  round ${r + 1}: ${c.op} ×${c.clients}: skiff ${fmtInt(last.opsPerSec)}/s p99 ${fmtMs(last.p99)} ms, server CPU ${fmtPct(last.serverCpuMs! / last.elapsedMs)}, bench CPU ${fmtPct(last.benchCpuMs! / last.elapsedMs)}; raw ${fmtInt(c.raw.at(-1)!.opsPerSec)}/s`,
      );
      await sleep(100);
    }
  }
  await store.close();
  agent.destroy();

  const med = (rs: Round[]) => ({
    opsPerSec: median(rs.map((x) => x.opsPerSec)),
    p50: median(rs.map((x) => x.p50)),
    p99: median(rs.map((x) => x.p99)),
    cpuPerOp: median(rs.map((x) => (x.serverCpuMs ?? Number.NaN) / x.ops)),
    cpuShare: median(rs.map((x) => (x.serverCpuMs ?? Number.NaN) / x.elapsedMs)),
    benchShare: median(rs.map((x) => (x.benchCpuMs ?? Number.NaN) / x.elapsedMs)),
  });
  const rows = cases.map((c) => {
    const s = med(c.skiff);
    const w = med(c.raw);
    const ratio = s.opsPerSec / w.opsPerSec;
    let target = '';
    let ok = '';
    if (c.op === 'create') {
      target = `≥ ${fmtPct(CREATE_RATIO_TARGET)} of raw`;
      let good = ratio >= CREATE_RATIO_TARGET;
      if (c.clients === CREATE_P99_AT_CLIENTS) {
        target += `, p99 ≤ ${CREATE_P99_TARGET_MS} ms`;
        good &&= s.p99 <= CREATE_P99_TARGET_MS;
      }
      ok = met(good);
    }
    const what =
      c.op === 'watch'
        ? `watch (${c.clients} watcher${c.clients > 1 ? 's' : ''}, ${WATCH_WRITERS} writers)`
        : c.op === 'list'
          ? `list (${LIST_OBJECTS} pods)`
          : c.op;
    return [
      what,
      c.op === 'watch' ? '–' : String(c.clients),
      fmtInt(s.opsPerSec),
      fmtMs(s.p50),
      fmtMs(s.p99),
      fmtInt(w.opsPerSec),
      fmtMs(w.p50),
      fmtMs(w.p99),
      fmtPct(ratio),
      `${fmtMs(s.cpuPerOp)} (${fmtPct(s.cpuShare)})`,
      fmtPct(s.benchShare),
      target,
      ok,
    ];
  });
  return [
    '### 1. Pods: requests vs the raw store',
    '',
    table(
      [
        'operation',
        'clients',
        'skiff /s',
        'p50 ms',
        'p99 ms',
        'raw store /s',
        'raw p50 ms',
        'raw p99 ms',
        'skiff / raw',
        'server CPU ms/op (busy)',
        'bench CPU busy',
        'target',
        'met',
      ],
      rows,
    ),
    '',
    `Medians of ${ROUNDS} rounds of ${(ROUND_MS / 1000).toFixed(1)} s per case (after a ${WARMUP_MS} ms warm-up each), skiff and raw interleaved. ` +
      `Each client is a loop awaiting one request at a time over its own keep-alive HTTPS connection (admin client certificate); latency is from the request call to the last byte of the response. ` +
      `The pod is ${sentBytes} B of JSON as sent and ${storedValue.length} B as returned; the raw store (an in-process \`SqliteStore\` on a temporary database, same options as the server's) writes values of the returned size under the same keys. ` +
      `create: new pods in one namespace; get: one of ${LIST_OBJECTS} pods; update: PUT of the client's own pod (an annotation changes) with its last resourceVersion, raw: update with the expected mod revision; list: the namespace's ${LIST_OBJECTS} pods (skiff serves it from the watch cache; raw: \`range\`). ` +
      `watch: N watch streams on a namespace while ${WATCH_WRITERS} loops create pods in it; /s is events delivered per second summed over the watchers, latency is from the create call to the event line's arrival, for every (event, watcher) pair; raw: \`store.watch\` iterators and \`store.create\`. ` +
      `Server CPU: user + system time of the server process during the round (from /proc/PID/stat, 10 ms ticks) per operation (watch: per create, fan-out included), and in parentheses as a share of one CPU over the round — it counts all the process's threads (GC helpers, the WAL checkpoint worker), so ~100% or more means the server's JavaScript thread was saturated. Bench CPU busy: the same share for the bench process (its clients), which competes for the same CPUs. ` +
      `The bench process (clients) and the server share the machine's ${cpus().length} CPUs.`,
  ].join('\n');
}

// ---- 2. the big list ------------------------------------------------------------------------------

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
const CONTINUE_RE = /"continue":"([^"]+)"/;

async function benchBigList(
  client: Client,
  server: ServerProcess,
): Promise<{ report: string; afterCreate: { rssKiB: number; hwmKiB: number } }> {
  log(`2. a list of ${PODS.toLocaleString('en-US')} pods`);
  const agent = client.agent(64);
  await createNamespace(client, agent, 'bench-big');
  const names = Array.from({ length: PODS }, (_, i) => `p${String(i).padStart(5, '0')}`);
  const t0 = performance.now();
  await createPods(client, agent, 'bench-big', names, 50);
  const createS = (performance.now() - t0) / 1000;
  log(`  created ${PODS} pods in ${createS.toFixed(1)} s`);
  await sleep(2000);
  const afterCreate = server.memory();

  /** One whole listing (following continue tokens); returns its items and bytes. */
  const listAll = async (path: string, headers: Record<string, string>) => {
    let bytes = 0;
    let pages = 0;
    let cont: string | undefined;
    const bodies: Buffer[] = [];
    do {
      const sep = path.includes('?') ? '&' : '?';
      const p = cont ? `${path}${sep}continue=${encodeURIComponent(cont)}` : path;
      const r = await client.must(agent, 'GET', p, undefined, headers);
      bytes += r.body.length;
      pages++;
      bodies.push(r.body);
      cont = CONTINUE_RE.exec(r.body.toString('latin1', 0, 2048))?.[1];
    } while (cont);
    return { bytes, pages, bodies };
  };
  const countItems = (bodies: Buffer[], table: boolean) =>
    bodies.reduce((n, b) => {
      const doc = JSON.parse(b.toString('utf8')) as { items?: unknown[]; rows?: unknown[] };
      return n + ((table ? doc.rows : doc.items)?.length ?? 0);
    }, 0);

  const cases = [
    { name: '`GET /api/v1/pods` (whole, from the watch cache)', path: '/api/v1/pods', table: false },
    { name: '`GET /api/v1/pods?limit=500`, all pages', path: '/api/v1/pods?limit=500', table: false },
    { name: 'as a Table, whole', path: '/api/v1/pods', table: true },
    {
      name: 'as a Table, `limit=500`, all pages (what `kubectl get pods -A` does)',
      path: '/api/v1/pods?limit=500',
      table: true,
    },
  ];
  const rows: string[][] = [];
  for (const c of cases) {
    const headers: Record<string, string> = c.table ? { Accept: TABLE_ACCEPT } : {};
    // Warm-up, and a check that the listing is complete (parsed outside the timing).
    const warm = await listAll(c.path, headers);
    const items = countItems(warm.bodies, c.table);
    if (items < PODS) log(`  ${c.path}: only ${items} items`);
    const times: number[] = [];
    for (let i = 0; i < LIST_RUNS; i++) {
      const s = performance.now();
      await listAll(c.path, headers);
      times.push(performance.now() - s);
    }
    const m = median(times);
    log(`  ${c.path}${c.table ? ' (Table)' : ''}: ${times.map(fmtMs).join(', ')} ms`);
    rows.push([
      c.name,
      fmtInt(items),
      String(warm.pages),
      fmtBytes(warm.bytes),
      fmtMs(m),
      fmtMs(Math.min(...times)),
      fmtMs(Math.max(...times)),
      `≤ ${BIG_LIST_TARGET_MS} ms`,
      met(m <= BIG_LIST_TARGET_MS),
    ]);
  }
  agent.destroy();
  return {
    afterCreate,
    report: [
      `### 2. A list of ${PODS.toLocaleString('en-US')} pods`,
      '',
      `${PODS.toLocaleString('en-US')} pods created first by 50 concurrent clients: ${createS.toFixed(1)} s (${fmtInt(PODS / createS)} creates/s).`,
      '',
      table(['request', 'items', 'pages', 'bytes', 'median ms', 'min ms', 'max ms', 'target', 'met'], rows),
      '',
      `Median of ${LIST_RUNS} runs each, after one warm-up run, one client over a keep-alive connection; time from the first request to the last byte of the last page (the client does not parse the bodies in the timed runs). ` +
        'Table requests send `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json`. Unpaginated lists are served from the watch cache; paginated ones (`limit`) read the store, as kube-apiserver does.',
    ].join('\n'),
  };
}

// ---- 3. fan-out ------------------------------------------------------------------------------------

async function benchFanout(client: Client, server: ServerProcess): Promise<string> {
  log(`3. one event to ${WATCHERS} watchers`);
  const agent = client.agent(4);
  await createNamespace(client, agent, 'bench-fan');
  const rv = rvOf((await client.must(agent, 'GET', '/api/v1/namespaces/bench-fan/pods?limit=1')).body);
  const perAgent = Math.ceil(WATCHERS / WATCH_AGENTS);
  const agents = Array.from({ length: WATCH_AGENTS }, () => client.agent(perAgent));
  const started = new Map<string, number>();
  /** Per event: when the first and the last watcher got it. */
  const arrivals = new Map<string, { first: number; last: number }>();
  const lat = new Samples();
  let delivered = 0;
  const tOpen = performance.now();
  const streams: { close: () => void }[] = [];
  // Open in batches so that TLS handshakes do not all queue at once.
  await pool(WATCHERS, 100, async (w) => {
    streams[w] = await openWatch(
      client,
      agents[w % WATCH_AGENTS]!,
      `/api/v1/namespaces/bench-fan/pods?watch=true&resourceVersion=${rv}`,
      (line, at) => {
        const name = EVENT_NAME_RE.exec(line)?.[1];
        const s = name === undefined ? undefined : started.get(name);
        if (s === undefined) return;
        lat.add(at - s);
        delivered++;
        const a = arrivals.get(name!);
        if (a) a.last = Math.max(a.last, at);
        else arrivals.set(name!, { first: at, last: at });
      },
    );
  });
  const openS = (performance.now() - tOpen) / 1000;
  log(`  ${WATCHERS} watches open in ${openS.toFixed(1)} s`);
  await sleep(1000);
  const writeLat = new Samples();
  const cpu0 = server.cpuMs();
  const split0 = server.cpuSplit();
  const own0 = process.cpuUsage();
  for (let i = 0; i < EVENTS; i++) {
    const name = `wev-fan-${i}`;
    const s = performance.now();
    started.set(name, s);
    await client.must(agent, 'POST', '/api/v1/namespaces/bench-fan/pods', podJson('bench-fan', name));
    writeLat.add(performance.now() - s);
    await sleep(EVENT_GAP_MS);
  }
  const expected = EVENTS * WATCHERS;
  const deadline = performance.now() + 10_000;
  while (delivered < expected && performance.now() < deadline) await sleep(10);
  const serverCpuPerEvent = (server.cpuMs() - cpu0) / EVENTS;
  const split = server.cpuSplit();
  const serverSysShare = (split.system - split0.system) / (serverCpuPerEvent * EVENTS);
  const own = process.cpuUsage(own0);
  const benchCpuPerEvent = (own.user + own.system) / 1000 / EVENTS;
  const firsts = [...arrivals].map(([n, a]) => a.first - started.get(n)!);
  const spreads = [...arrivals.values()].map((a) => a.last - a.first);
  for (const s of streams) s?.close();
  for (const a of agents) a.destroy();
  agent.destroy();
  if (delivered < expected) log(`  only ${delivered} of ${expected} events arrived`);
  const { p50, p99, max } = lat.summary();
  const w = writeLat.summary();
  log(
    `  p50 ${fmtMs(p50)} p99 ${fmtMs(p99)} max ${fmtMs(max)} ms; first arrival p50 ${fmtMs(median(firsts))} ms, spread p50 ${fmtMs(median(spreads))} ms; CPU per event: server ${fmtMs(serverCpuPerEvent)} ms (${fmtPct(serverSysShare)} system), bench ${fmtMs(benchCpuPerEvent)} ms`,
  );
  return [
    `### 3. One event to ${WATCHERS.toLocaleString('en-US')} watchers`,
    '',
    table(
      [
        'watchers',
        'events',
        'delivered',
        'p50 ms',
        'p99 ms',
        'max ms',
        'create p50 / max ms',
        'first watcher p50 ms',
        'first → last p50 ms',
        'CPU ms/event: server / bench',
        'target',
        'met',
      ],
      [
        [
          fmtInt(WATCHERS),
          String(EVENTS),
          `${fmtInt(delivered)} of ${fmtInt(expected)}`,
          fmtMs(p50),
          fmtMs(p99),
          fmtMs(max),
          `${fmtMs(w.p50)} / ${fmtMs(w.max)}`,
          fmtMs(median(firsts)),
          fmtMs(median(spreads)),
          `${fmtMs(serverCpuPerEvent)} / ${fmtMs(benchCpuPerEvent)}`,
          `p99 ≤ ${FANOUT_P99_TARGET_MS} ms`,
          met(p99 <= FANOUT_P99_TARGET_MS && delivered === expected),
        ],
      ],
    ),
    '',
    `${WATCHERS} watch streams (\`GET /api/v1/namespaces/bench-fan/pods?watch=true&resourceVersion=RV\`) over ${WATCH_AGENTS} keep-alive agents, one HTTP/1.1 connection each, opened in ${openS.toFixed(1)} s; then ${EVENTS} pod creates, ${EVENT_GAP_MS} ms apart. ` +
      'Latency is from the create call to the event line arriving at each watcher, over every (event, watcher) pair; it includes the create itself (its own latency is in the "create" column) and the bench process reading the streams on the same CPUs as the server. ' +
      'Per event (medians over the events): when the first watcher got it, and how long after that the last one did; CPU: user + system time per event of the server process and of the bench process while the events were written and delivered.',
  ].join('\n');
}

// ---- main ------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-bench-api-'));
  const server = new ServerProcess(dataDir, args['server-node-options']);
  const cleanup = async () => {
    await server.stop();
    if (args.keep) log(`kept ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    void cleanup().then(() => process.exit(130));
  });
  const reports: string[] = [];
  const rss: string[][] = [];
  let cmd = '';
  try {
    const t0 = performance.now();
    const kubeconfig = await server.ready();
    const readyS = (performance.now() - t0) / 1000;
    cmd = server.cmdline();
    log(`server pid ${server.pid} ready in ${readyS.toFixed(1)} s (${cmd})`);
    const client = new Client(kubeconfig);

    await sleep(IDLE_MS);
    const idle = server.memory();
    log(`  idle RSS ${fmtMB(idle.rssKiB)}`);
    rss.push([
      `idle, ${(IDLE_MS / 1000).toFixed(0)} s after ready`,
      fmtMB(idle.rssKiB),
      fmtMB(idle.hwmKiB),
      `≤ ${IDLE_RSS_TARGET_MB} MB`,
      met(idle.rssKiB * 1.024 <= IDLE_RSS_TARGET_MB * 1000),
    ]);

    if (SECTIONS.has('2')) {
      const big = await benchBigList(client, server);
      reports.push(big.report);
      rss.push([
        `after creating the ${PODS.toLocaleString('en-US')} pods (2 s idle), before the lists`,
        fmtMB(big.afterCreate.rssKiB),
        fmtMB(big.afterCreate.hwmKiB),
        '',
        '',
      ]);
      const m = server.memory();
      rss.push([
        `after the lists of ${PODS.toLocaleString('en-US')} pods (section 2)`,
        fmtMB(m.rssKiB),
        fmtMB(m.hwmKiB),
        '',
        '',
      ]);
    }
    if (SECTIONS.has('1')) reports.unshift(await benchOps(client, dataDir, server));
    if (SECTIONS.has('3')) reports.push(await benchFanout(client, server));
    await sleep(2000);
    const end = server.memory();
    rss.push(['at the end (after all sections, 2 s idle)', fmtMB(end.rssKiB), fmtMB(end.hwmKiB), '', '']);
  } finally {
    await cleanup();
  }

  const argv = process.argv.slice(2).join(' ');
  const cpu = cpus();
  const out = [
    '### How this run was made',
    '',
    `- command: \`node_modules/.bin/node bench/apiserver/run.ts${argv ? ` ${argv}` : ''}\``,
    `- settings: ${ROUNDS} rounds × ${(ROUND_MS / 1000).toFixed(1)} s, clients ${CLIENTS.join(' and ')}, ops ${OPS.join(',')}, ${WATCH_WRITERS} watch writers, ${PODS.toLocaleString('en-US')} pods, ${LIST_RUNS} list runs, ${WATCHERS} watchers over ${WATCH_AGENTS} agents, ${EVENTS} events ${EVENT_GAP_MS} ms apart, sections ${[...SECTIONS].join(',')}`,
    `- server: \`bin/skiff server --data-dir DIR --https-listen-port 0\` (process: \`${cmd}\`)${args['server-node-options'] ? `, NODE_OPTIONS=\`${args['server-node-options']}\`` : ''}`,
    `- node ${process.version} (bench and server), ${platform()} ${release()}`,
    `- ${cpu.length} × ${cpu[0]?.model.trim() ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
    `- load average (1 min) ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end (other processes on the machine count too)`,
    `- started ${startedAt.toISOString()}, took ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`,
    '',
    ...reports.flatMap((r) => [r, '']),
    '### 4. Memory of the server process',
    '',
    table(['when', 'VmRSS', 'VmHWM (peak)', 'target', 'met'], rss),
    '',
    `From \`/proc/PID/status\` of the server process (MB = 10⁶ bytes). The bench process is not counted.`,
    '',
  ];
  process.stdout.write(out.join('\n'));
}

await main();
