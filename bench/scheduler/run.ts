/**
 * Scheduler benchmark, shaped like kube-scheduler's scheduler_perf: real `skiff server` child
 * processes (API server + scheduler in one process), driven over HTTPS with the admin client
 * certificate.
 *
 *   node_modules/.bin/node bench/scheduler/run.ts [--nodes 5000] [--pods 10000] …
 *   npm run bench:scheduler -- --pods 2000
 *
 * Cases (each on a fresh server with --disable-controller-manager and, as scheduler_perf's API server,
 * --disable-admission-plugins=ServiceAccount; Node objects created directly):
 * - SchedulingBasic: P simple pods onto N nodes; pods/s from the first create to the last bind seen
 *   through a watch on pods (spec.nodeName set). As scheduler_perf's workloads (createNodes, then
 *   createPods $initPods, then createPods $measurePods with collectMetrics), each scheduling case
 *   first creates --init-pods pods of its kind in another namespace and waits until they are all
 *   bound, unmeasured: the measured pods meet a cluster that has scheduled before.
 * - bind baseline: a server with --disable-scheduler too; the same pods created, then bound by the
 *   bench itself (POST pods/NAME/binding) at the same concurrency: binds/s, the raw cost of a bind.
 * - NodeAffinity (required, to a label half the nodes have), PodAntiAffinity (required, hostname,
 *   against the pods' own label), TopologySpreading (hard, maxSkew 1 over 10 zones): pods/s each.
 * - Deployment: controllers on, `skiff sim` nodes; a Deployment of R replicas from create to all R
 *   available (seconds).
 *
 * Progress goes to stderr; the report (markdown) to stdout. Targets are printed, never asserted.
 * Server CPU is read from /proc/PID/stat (bin/skiff execs the pinned node, so the PID is the server's),
 * its main thread's (the API server's; the scheduler has its own thread) from /proc/PID/task/PID/stat.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadKubeconfig } from '../../src/apiserver/auth/kubeconfig.ts';
import { Http1Pool, type TlsIdentity, watchLines } from './http1.ts';
import { benchNode, benchPodSpec, type PodKind } from './objects.ts';

// ---- options -------------------------------------------------------------------------------------

const USAGE = `usage: node bench/scheduler/run.ts [options]
  --nodes N             nodes for the scheduling cases (default 5000)
  --pods N              pods for SchedulingBasic and the bind baseline (default 10000)
  --init-pods N         pods created and bound before each scheduling case and the baseline, in
                        another namespace, unmeasured (scheduler_perf's initPods; default 1000, as its
                        SchedulingBasic and PodAntiAffinity 5,000-node workloads; 0: none)
  --affinity-pods N     pods for NodeAffinity (default 5000)
  --anti-pods N         pods for PodAntiAffinity (default 1000)
  --spread-pods N       pods for TopologySpreading (default 5000)
  --zones N             zones for TopologySpreading (default 10)
  --replicas N          Deployment replicas (default 1000)
  --sim-nodes N         simulated nodes for the Deployment case (default 100)
  --concurrency N       requests in flight when creating nodes/pods and binding (default 50)
  --case-timeout S      give up waiting for binds after S seconds (default 240)
  --cases LIST          basic,baseline,affinity,anti,spread,deployment (default all)
  --request-counts      print the API requests the server served during the Deployment case (stderr)
  --server-node-options=OPTS
                        NODE_OPTIONS for the server children only (e.g. "--cpu-prof --cpu-prof-dir=DIR")
  --skiff PATH          the skiff executable the children run (default bin/skiff of this tree; for A/B
                        runs of another build with the same bench)
  --keep                keep the temporary directory`;

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    pods: { type: 'string', default: '10000' },
    'init-pods': { type: 'string', default: '1000' },
    'affinity-pods': { type: 'string', default: '5000' },
    'anti-pods': { type: 'string', default: '1000' },
    'spread-pods': { type: 'string', default: '5000' },
    zones: { type: 'string', default: '10' },
    replicas: { type: 'string', default: '1000' },
    'sim-nodes': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '50' },
    'case-timeout': { type: 'string', default: '240' },
    cases: { type: 'string', default: 'basic,baseline,affinity,anti,spread,deployment' },
    'server-node-options': { type: 'string', default: '' },
    'request-counts': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    skiff: { type: 'string' },
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

const NODES = positiveInt(args.nodes, 'nodes');
const PODS = positiveInt(args.pods, 'pods');
const INIT_PODS = args['init-pods'] === '0' ? 0 : positiveInt(args['init-pods'], 'init-pods');
const AFFINITY_PODS = positiveInt(args['affinity-pods'], 'affinity-pods');
const ANTI_PODS = positiveInt(args['anti-pods'], 'anti-pods');
const SPREAD_PODS = positiveInt(args['spread-pods'], 'spread-pods');
const ZONES = positiveInt(args.zones, 'zones');
const REPLICAS = positiveInt(args.replicas, 'replicas');
const SIM_NODES = positiveInt(args['sim-nodes'], 'sim-nodes');
const CONCURRENCY = positiveInt(args.concurrency, 'concurrency');
const CASE_TIMEOUT_MS = positiveInt(args['case-timeout'], 'case-timeout') * 1000;
const CASES = new Set(args.cases.split(',').map((s) => s.trim()));
for (const c of CASES) {
  if (!['basic', 'baseline', 'affinity', 'anti', 'spread', 'deployment'].includes(c))
    throw new Error(`--cases: unknown case ${c}`);
}

const REQUEST_TIMEOUT_MS = 60_000;
const NS = 'sched-bench';
/** Where the unmeasured init pods go (scheduler_perf puts them in a namespace of their own too). */
const INIT_NS = 'sched-bench-init';

// Targets (upstream-derived; printed beside the figures, never asserted).
const BASIC_TARGET = { nodes: 5000, pods: 10000, podsPerSec: 1000 };
const ANTI_TARGET = { nodes: 5000, podsPerSec: 300 };
const DEPLOY_TARGET = { replicas: 1000, seconds: 10 };

const ROOT = join(import.meta.dirname, '..', '..');
const SKIFF = args.skiff ?? join(ROOT, 'bin', 'skiff');

// ---- helpers -------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const fmtInt = (n: number) => (Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const fmtPct = (n: number) => (Number.isNaN(n) ? '–' : `${(n * 100).toFixed(0)}%`);
const fmtS = (ms: number) => (Number.isNaN(ms) ? '–' : (ms / 1000).toFixed(1));
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

// ---- child processes -----------------------------------------------------------------------------

/** A bin/skiff child (server or sim), logging to a file, stopped by its PID. */
class SkiffProcess {
  readonly logPath: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  constructor(argv: string[], logPath: string, nodeOptions = '') {
    this.logPath = logPath;
    const fd = openSync(logPath, 'a');
    const env: NodeJS.ProcessEnv = { ...process.env, SKIFF_LOG_LEVEL: 'info' };
    if (nodeOptions) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} ${nodeOptions}`.trim();
    this.#child = spawn(SKIFF, argv, { stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.#child.pid!;
  }
  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  logs(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** User + system CPU time of the process (all its threads), or with `mainThread` of its main thread only, ms. */
  cpuMs(mainThread = false): number {
    try {
      const stat = readFileSync(
        mainThread ? `/proc/${this.pid}/task/${this.pid}/stat` : `/proc/${this.pid}/stat`,
        'utf8',
      );
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      return Number.NaN;
    }
  }

  /** CPU of each of the process's threads, ms, keyed `TID comm` (comm as the kernel names it). */
  threadCpuMs(): Map<string, number> {
    const out = new Map<string, number>();
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${this.pid}/task`);
    } catch {
      return out;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${this.pid}/task/${tid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(`${tid} ${comm}`, (Number(f[11]) + Number(f[12])) * 10);
      } catch {}
    }
    return out;
  }

  /** SIGTERM to this PID, SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
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

const running = new Set<SkiffProcess>();

/** `skiff server --help` of the skiff under test: which flags it has. */
const SERVER_HELP: string = (() => {
  try {
    return execFileSync(SKIFF, ['server', '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return `${(err as { stdout?: string }).stdout ?? ''}`;
  }
})();

/**
 * `--disable-agent` when this skiff's server has a node agent (kubelet + containerd) of its own: the
 * benchmark measures the control plane against Node objects and simulated nodes, so a real node
 * must neither take pods nor compete for the CPUs.
 */
const NO_AGENT: string[] = SERVER_HELP.includes('--disable-agent') ? ['--disable-agent'] : [];

/**
 * The admission plugins scheduler_perf's API server runs without (its mustSetupCluster passes
 * `--disable-admission-plugins=ServiceAccount,TaintNodesByCondition,Priority`; skiff has only the
 * first as a plugin): its pods get no service account and no projected token volume. For the
 * scheduling cases and the baseline. A skiff without the flag runs with all its plugins (warned).
 */
const SCHEDULER_PERF_ADMISSION: string[] = (() => {
  if (SERVER_HELP.includes('--disable-admission-plugins'))
    return ['--disable-admission-plugins=ServiceAccount'];
  process.stderr.write(
    `[bench] ${SKIFF} has no --disable-admission-plugins: its pods get the ServiceAccount plugin's token volume (scheduler_perf's do not)\n`,
  );
  return [];
})();

async function startServer(
  dir: string,
  flags: string[],
): Promise<{ proc: SkiffProcess; kubeconfig: string }> {
  const dataDir = join(dir, 'server');
  const proc = new SkiffProcess(
    ['server', '--data-dir', dataDir, '--https-listen-port', '0', ...NO_AGENT, ...flags],
    join(dir, 'server.log'),
    args['server-node-options'],
  );
  running.add(proc);
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const logs = proc.logs();
    if (proc.exited || /^skiff: /m.test(logs)) throw new Error(`skiff server failed to start:\n${logs}`);
    if (existsSync(kubeconfig) && logs.includes('API server ready')) return { proc, kubeconfig };
    await sleep(50);
  }
  throw new Error(`skiff server not ready after 60 s:\n${proc.logs()}`);
}

async function stopProc(proc: SkiffProcess): Promise<void> {
  await proc.stop();
  running.delete(proc);
}

// ---- the HTTPS client ----------------------------------------------------------------------------

interface Response {
  status: number;
  body: Buffer;
}

/**
 * The bench's HTTPS client (http1.ts): the load generator shares the machine's two cores with the
 * server, so it should take as little of them as it can. Requests go over a pool of CONCURRENCY
 * keep-alive connections, one request in flight on each; each watch has a connection of its own.
 * The bench's CPU per SchedulingBasic pod (its create and its watch events): node's https client
 * ~0.45 ms, undici 0.24–0.28 ms, this client 0.15–0.16 ms.
 */
class Client {
  readonly #origin: URL;
  readonly #tls: TlsIdentity;
  readonly #pool: Http1Pool;

  constructor(kubeconfig: string) {
    const cfg = loadKubeconfig(kubeconfig);
    this.#origin = new URL(cfg.server);
    if (!cfg.ca || !cfg.cert || !cfg.key) throw new Error('kubeconfig has no client certificate');
    this.#tls = { ca: cfg.ca, cert: cfg.cert, key: cfg.key };
    this.#pool = new Http1Pool(this.#origin, this.#tls, CONCURRENCY, REQUEST_TIMEOUT_MS);
  }

  send(method: string, path: string, body?: string): Promise<Response> {
    return this.#pool.request(
      method,
      path,
      body === undefined ? ACCEPT_JSON : SEND_JSON,
      body === undefined ? undefined : Buffer.from(body),
    );
  }

  async must(method: string, path: string, body?: unknown, ok: number[] = [200, 201]): Promise<Response> {
    const r = await this.send(method, path, body === undefined ? undefined : JSON.stringify(body));
    if (!ok.includes(r.status)) {
      throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 500)}`);
    }
    return r;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return JSON.parse((await this.must(method, path, body)).body.toString('utf8')) as T;
  }

  /** A watch stream; each event line is handed to `onLine`. Resolves once the response started. */
  watch(path: string, onLine: (line: string) => void): Promise<{ close: () => void }> {
    return watchLines(this.#origin, this.#tls, path, ACCEPT_JSON, onLine);
  }

  close(): void {
    this.#pool.close();
  }
}

const ACCEPT_JSON = { accept: 'application/json' };
const SEND_JSON = { accept: 'application/json', 'content-type': 'application/json' };

// ---- watch lines ----------------------------------------------------------------------------------

const NODE_NAME = '"nodeName":"';
/** Where skiff puts a pod's name in a plain-JSON watch line: first in metadata after resourceVersion. */
const NAME_AT_HEAD =
  /^\{"type":"(?:ADDED|MODIFIED)","object":\{"apiVersion":"v1","kind":"Pod","metadata":\{"resourceVersion":"\d+","name":"([^"\\]+)"/;

/**
 * The name of the pod in a watch line when it is bound (spec.nodeName set), else undefined. The bench
 * shares the cores with the server, so it reads as little as it can: lines of pods not yet bound are
 * not parsed, and a bound pod's name is read from where skiff writes it; any other line is parsed.
 */
/** Bound pods' watch lines {@link boundPodName} had to parse in full (reported: it should be 0). */
let fullParses = 0;

function boundPodName(line: string): string | undefined {
  const at = line.indexOf(NODE_NAME);
  if (at < 0 || line.charCodeAt(at + NODE_NAME.length) === 0x22) return undefined; // no nodeName, or ""
  const head = NAME_AT_HEAD.exec(line);
  if (head) return head[1];
  fullParses++;
  const ev = JSON.parse(line) as { object?: { metadata?: { name?: string }; spec?: { nodeName?: string } } };
  return ev.object?.spec?.nodeName ? ev.object.metadata?.name : undefined;
}

// ---- objects -------------------------------------------------------------------------------------

function nodeObject(i: number): unknown {
  return benchNode(i, ZONES, Date.now());
}

function podObject(kind: PodKind, name: string, namespace = NS): unknown {
  const { labels, spec } = benchPodSpec(kind);
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec };
}

/** Waits for `p` at most `ms`: true when the time ran out first. */
async function timesOut(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the bench POSTs to pods/NAME/binding to bind a pod itself (no scheduler). */
function bindingObject(name: string, namespace: string, node: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name, namespace },
    target: { apiVersion: 'v1', kind: 'Node', name: node },
  };
}

async function createNodes(client: Client, n: number): Promise<number> {
  const t0 = performance.now();
  await pool(n, CONCURRENCY, async (i) => {
    await client.must('POST', '/api/v1/nodes', nodeObject(i));
  });
  return performance.now() - t0;
}

// ---- scheduling cases ----------------------------------------------------------------------------

interface SchedResult {
  name: string;
  nodes: number;
  pods: number;
  scheduled: number;
  /** First create to last bind seen, ms. */
  elapsedMs: number;
  /** Time the creates alone took, ms. */
  createMs: number;
  nodeSetupMs: number;
  serverCpuMs: number;
  /** The server's main thread's CPU (API server, storage; not the scheduler's thread), ms. */
  mainCpuMs: number;
  /** This bench process's own CPU (creates, watch) in the same window: it shares the machine's cores. */
  benchCpuMs: number;
  timedOut: boolean;
}

/**
 * The bench namespace and its `default` ServiceAccount: without the controller manager nothing else
 * makes it, and the ServiceAccount admission plugin refuses pods whose service account is missing.
 */
async function createNamespace(client: Client, ns = NS): Promise<void> {
  await client.must('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns },
  });
  await client.must('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'default', namespace: ns },
  });
}

/**
 * scheduler_perf's unmeasured createPods step: `count` pods of `kind` in {@link INIT_NS}, then waits
 * until a watch has seen every one bound (`bind` set: the bench binds them itself, for a server
 * without a scheduler). Returns the milliseconds it took.
 */
async function initPods(
  client: Client,
  kind: PodKind,
  count: number,
  bind?: { nodes: number },
): Promise<number> {
  const t0 = performance.now();
  await createNamespace(client, INIT_NS);
  const bound = new Set<string>();
  let done: () => void = () => {};
  const allBound = new Promise<void>((r) => {
    done = r;
  });
  const w = await client.watch(`/api/v1/namespaces/${INIT_NS}/pods?watch=1`, (line) => {
    const n = boundPodName(line);
    if (n) bound.add(n);
    if (bound.size === count) done();
  });
  try {
    await pool(count, CONCURRENCY, async (i) => {
      await client.must('POST', `/api/v1/namespaces/${INIT_NS}/pods`, podObject(kind, `init-${i}`, INIT_NS));
    });
    if (bind) {
      await pool(count, CONCURRENCY, async (i) => {
        const name = `init-${i}`;
        await client.must(
          'POST',
          `/api/v1/namespaces/${INIT_NS}/pods/${name}/binding`,
          bindingObject(name, INIT_NS, `node-${i % bind.nodes}`),
        );
      });
    }
    if (await timesOut(allBound, CASE_TIMEOUT_MS))
      throw new Error(`init pods: ${bound.size}/${count} bound within ${CASE_TIMEOUT_MS / 1000} s`);
  } finally {
    w.close();
  }
  return performance.now() - t0;
}

/** Logs the server's threads that used ≥ 1% of its CPU between two `threadCpuMs` readings. */
function logThreads(name: string, before: Map<string, number>, after: Map<string, number>): void {
  const used = [...after].map(([t, ms]) => [t, ms - (before.get(t) ?? 0)] as const);
  const total = used.reduce((a, [, ms]) => a + ms, 0);
  const parts = used
    .filter(([, ms]) => total > 0 && ms >= total / 100)
    .sort((a, b) => b[1] - a[1])
    .map(([t, ms]) => `${t} ${fmtS(ms)} s`);
  log(`${name}: server CPU by thread: ${parts.join(', ')}`);
}

async function schedulingCase(root: string, name: string, kind: PodKind, nodes: number, pods: number) {
  const dir = mkdtempSync(join(root, `${kind}-`));
  log(`${name}: starting a server (scheduler on, controllers off)`);
  const { proc, kubeconfig } = await startServer(dir, [
    '--disable-controller-manager',
    ...SCHEDULER_PERF_ADMISSION,
  ]);
  const client = new Client(kubeconfig);
  try {
    const nodeSetupMs = await createNodes(client, nodes);
    log(`${name}: ${nodes} nodes created in ${fmtS(nodeSetupMs)} s`);
    if (INIT_PODS > 0) {
      const ms = await initPods(client, kind, INIT_PODS);
      log(`${name}: ${INIT_PODS} init pods (unmeasured) created and bound in ${fmtS(ms)} s`);
    }
    await createNamespace(client);
    const bound = new Set<string>();
    let lastBind = 0;
    let done: () => void = () => {};
    const allBound = new Promise<void>((r) => {
      done = r;
    });
    const w = await client.watch(`/api/v1/namespaces/${NS}/pods?watch=1`, (line) => {
      const n = boundPodName(line);
      if (n && !bound.has(n)) {
        bound.add(n);
        lastBind = performance.now();
        if (bound.size === pods) done();
      }
    });
    await sleep(200);
    const cpu0 = proc.cpuMs();
    const main0 = proc.cpuMs(true);
    const threads0 = proc.threadCpuMs();
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    await pool(pods, CONCURRENCY, async (i) => {
      await client.must('POST', `/api/v1/namespaces/${NS}/pods`, podObject(kind, `p-${i}`));
    });
    const createMs = performance.now() - t0;
    log(`${name}: ${pods} pods created in ${fmtS(createMs)} s; ${bound.size} bound so far`);
    const timedOut = await timesOut(allBound, Math.max(0, CASE_TIMEOUT_MS - createMs));
    const cpu1 = proc.cpuMs();
    const main1 = proc.cpuMs(true);
    logThreads(name, threads0, proc.threadCpuMs());
    if (fullParses > 0)
      log(`${name}: ${fullParses} bound pods' watch lines were parsed in full (not skiff's layout)`);
    fullParses = 0;
    const self1 = process.cpuUsage(self0);
    w.close();
    const end = timedOut ? performance.now() : lastBind;
    const r: SchedResult = {
      name,
      nodes,
      pods,
      scheduled: bound.size,
      elapsedMs: end - t0,
      createMs,
      nodeSetupMs,
      serverCpuMs: cpu1 - cpu0,
      mainCpuMs: main1 - main0,
      benchCpuMs: (self1.user + self1.system) / 1000,
      timedOut,
    };
    log(
      `${name}: ${r.scheduled}/${pods} bound in ${fmtS(r.elapsedMs)} s → ${fmtInt((r.scheduled / r.elapsedMs) * 1000)} pods/s${timedOut ? ' (TIMED OUT)' : ''}`,
    );
    return r;
  } finally {
    client.close();
    await stopProc(proc);
  }
}

interface BaselineResult {
  nodes: number;
  pods: number;
  createMs: number;
  bindMs: number;
  createCpuMs: number;
  bindCpuMs: number;
}

async function bindBaseline(root: string, nodes: number, pods: number): Promise<BaselineResult> {
  const dir = mkdtempSync(join(root, 'baseline-'));
  log('bind baseline: starting a server (scheduler and controllers off)');
  const { proc, kubeconfig } = await startServer(dir, [
    '--disable-controller-manager',
    '--disable-scheduler',
    ...SCHEDULER_PERF_ADMISSION,
  ]);
  const client = new Client(kubeconfig);
  try {
    await createNodes(client, nodes);
    if (INIT_PODS > 0) {
      const ms = await initPods(client, 'basic', INIT_PODS, { nodes });
      log(`bind baseline: ${INIT_PODS} init pods (unmeasured) created and bound in ${fmtS(ms)} s`);
    }
    await createNamespace(client);
    const c0 = proc.cpuMs();
    let t0 = performance.now();
    await pool(pods, CONCURRENCY, async (i) => {
      await client.must('POST', `/api/v1/namespaces/${NS}/pods`, podObject('basic', `p-${i}`));
    });
    const createMs = performance.now() - t0;
    const c1 = proc.cpuMs();
    t0 = performance.now();
    await pool(pods, CONCURRENCY, async (i) => {
      const name = `p-${i}`;
      await client.must(
        'POST',
        `/api/v1/namespaces/${NS}/pods/${name}/binding`,
        bindingObject(name, NS, `node-${i % nodes}`),
      );
    });
    const bindMs = performance.now() - t0;
    const c2 = proc.cpuMs();
    log(`bind baseline: ${pods} creates in ${fmtS(createMs)} s, ${pods} binds in ${fmtS(bindMs)} s`);
    return { nodes, pods, createMs, bindMs, createCpuMs: c1 - c0, bindCpuMs: c2 - c1 };
  } finally {
    client.close();
    await stopProc(proc);
  }
}

// ---- Deployment on simulated nodes ---------------------------------------------------------------

/** apiserver_request_total from the server's /metrics, by "verb resource[/subresource]" (codes summed). */
async function requestCounts(client: Client): Promise<Map<string, number>> {
  const text = (await client.must('GET', '/metrics')).body.toString('utf8');
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as [string, string]),
    );
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

interface DeployResult {
  replicas: number;
  simNodes: number;
  /** Create to status.availableReplicas == replicas, ms. */
  availableMs: number;
  /** Create to all replicas bound (scheduled), ms (from a watch). */
  scheduledMs: number;
  /** Create to the Available condition True (minimum availability), ms. */
  conditionMs: number;
  serverCpuMs: number;
  simCpuMs: number;
  timedOut: boolean;
}

async function deploymentCase(root: string, replicas: number, simNodes: number): Promise<DeployResult> {
  const dir = mkdtempSync(join(root, 'deploy-'));
  log('Deployment: starting a server (scheduler and controllers on)');
  const { proc, kubeconfig } = await startServer(dir, []);
  const client = new Client(kubeconfig);
  const sim = new SkiffProcess(
    [
      'sim',
      '--kubeconfig',
      kubeconfig,
      '--nodes',
      String(simNodes),
      '--cpu',
      '32',
      '--memory',
      '256Gi',
      '--pods',
      '110',
      '--name-prefix',
      'sim-',
    ],
    join(dir, 'sim.log'),
  );
  running.add(sim);
  try {
    const deadline = Date.now() + 120_000;
    while (!sim.logs().includes('simulated nodes registered')) {
      if (sim.exited) throw new Error(`skiff sim exited:\n${sim.logs()}`);
      if (Date.now() > deadline) throw new Error(`skiff sim not ready:\n${sim.logs()}`);
      await sleep(100);
    }
    log(`Deployment: ${simNodes} simulated nodes registered`);
    await sleep(1000);
    await client.must('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS },
    });
    const labels = { app: 'bench-deploy' };
    const bound = new Set<string>();
    let allBoundAt = Number.NaN;
    let t0 = 0;
    const w = await client.watch(`/api/v1/namespaces/${NS}/pods?watch=1`, (line) => {
      const n = boundPodName(line);
      if (n && !bound.has(n)) {
        bound.add(n);
        if (bound.size === replicas) allBoundAt = performance.now() - t0;
      }
    });
    await sleep(200);
    const counts0 = args['request-counts'] ? await requestCounts(client) : undefined;
    const s0 = proc.cpuMs();
    const m0 = sim.cpuMs();
    t0 = performance.now();
    await client.must('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'registry.k8s.io/pause:3.10',
                resources: { requests: { cpu: '10m', memory: '16Mi' } },
              },
            ],
          },
        },
      },
    });
    let conditionMs = Number.NaN;
    let availableMs = Number.NaN;
    let timedOut = false;
    let last = '';
    for (;;) {
      const d = await client.json<{
        status?: {
          availableReplicas?: number;
          readyReplicas?: number;
          updatedReplicas?: number;
          conditions?: { type: string; status: string }[];
        };
      }>('GET', `/apis/apps/v1/namespaces/${NS}/deployments/web`);
      const now = performance.now() - t0;
      const st = d.status ?? {};
      if (
        Number.isNaN(conditionMs) &&
        st.conditions?.some((c) => c.type === 'Available' && c.status === 'True')
      )
        conditionMs = now;
      if ((st.availableReplicas ?? 0) >= replicas) {
        availableMs = now;
        break;
      }
      const s = `available ${st.availableReplicas ?? 0}, bound ${bound.size}`;
      if (s !== last && Math.round(now) % 1000 < 120) log(`Deployment: ${(now / 1000).toFixed(1)} s: ${s}`);
      last = s;
      if (now > CASE_TIMEOUT_MS) {
        timedOut = true;
        availableMs = now;
        break;
      }
      await sleep(100);
    }
    const serverCpuMs = proc.cpuMs() - s0;
    const simCpuMs = sim.cpuMs() - m0;
    w.close();
    if (counts0) {
      const counts1 = await requestCounts(client);
      const rows = [...counts1]
        .map(([k, v]) => [k, v - (counts0.get(k) ?? 0)] as const)
        .filter(([, v]) => v > 0)
        .sort((a, b) => b[1] - a[1]);
      log(
        `Deployment: API requests during the case:\n${rows.map(([k, v]) => `  ${String(v).padStart(6)} ${k}`).join('\n')}`,
      );
    }
    log(
      `Deployment: ${replicas} replicas available in ${fmtS(availableMs)} s${timedOut ? ' (TIMED OUT)' : ''}`,
    );
    return {
      replicas,
      simNodes,
      availableMs,
      scheduledMs: allBoundAt,
      conditionMs,
      serverCpuMs,
      simCpuMs,
      timedOut,
    };
  } finally {
    client.close();
    await stopProc(sim);
    await stopProc(proc);
  }
}

// ---- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'skiff-sched-bench-'));
  const onSignal = () => {
    for (const p of running) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
    if (!args.keep) rmSync(root, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const startedAt = new Date();
  const sched: SchedResult[] = [];
  let baseline: BaselineResult | undefined;
  let deploy: DeployResult | undefined;
  try {
    if (CASES.has('basic')) sched.push(await schedulingCase(root, 'SchedulingBasic', 'basic', NODES, PODS));
    if (CASES.has('baseline')) baseline = await bindBaseline(root, NODES, PODS);
    if (CASES.has('affinity'))
      sched.push(
        await schedulingCase(root, 'NodeAffinity (required, ½ of nodes)', 'affinity', NODES, AFFINITY_PODS),
      );
    if (CASES.has('anti'))
      sched.push(
        await schedulingCase(root, 'PodAntiAffinity (required, hostname)', 'anti', NODES, ANTI_PODS),
      );
    if (CASES.has('spread'))
      sched.push(
        await schedulingCase(
          root,
          `TopologySpreading (hard, maxSkew 1, ${ZONES} zones)`,
          'spread',
          NODES,
          SPREAD_PODS,
        ),
      );
    if (CASES.has('deployment')) deploy = await deploymentCase(root, REPLICAS, SIM_NODES);
  } finally {
    for (const p of [...running]) await stopProc(p);
    if (args.keep) log(`kept ${root}`);
    else {
      try {
        rmSync(root, { recursive: true, force: true });
      } catch (err) {
        log(`could not remove ${root}: ${(err as Error).message}`);
      }
    }
  }

  // ---- report ----
  const out: string[] = [];
  const argv = process.argv.slice(2).join(' ');
  out.push(`Run: \`node bench/scheduler/run.ts${argv ? ` ${argv}` : ''}\``);
  out.push('');
  out.push(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, node ${process.version}; load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(
        ' ',
      )} at the end; started ${startedAt.toISOString()}. Client concurrency ${CONCURRENCY}. Init pods per scheduling case and baseline (created and bound first, unmeasured, as scheduler_perf's initPods): ${fmtInt(INIT_PODS)}.`,
  );
  out.push('');
  const bindRate = baseline ? (baseline.pods / baseline.bindMs) * 1000 : Number.NaN;
  const createRate = baseline ? (baseline.pods / baseline.createMs) * 1000 : Number.NaN;
  // Create then bind, back to back, by the bench: the API-only ceiling for "first create → last bind".
  const ceiling = baseline ? (baseline.pods / (baseline.createMs + baseline.bindMs)) * 1000 : Number.NaN;
  const rows = sched.map((r) => {
    const rate = (r.scheduled / r.elapsedMs) * 1000;
    let target = '–';
    if (r.name === 'SchedulingBasic') {
      const at = r.nodes === BASIC_TARGET.nodes && r.pods === BASIC_TARGET.pods;
      target = `≥ ${fmtInt(BASIC_TARGET.podsPerSec)} at 5,000/10,000: ${at ? met(rate >= BASIC_TARGET.podsPerSec) : `n/a (ran ${fmtInt(r.nodes)}/${fmtInt(r.pods)}${rate >= BASIC_TARGET.podsPerSec ? ', rate met' : ', rate not met'})`}`;
    } else if (r.name.startsWith('PodAntiAffinity')) {
      const at = r.nodes === ANTI_TARGET.nodes;
      target = `≥ ${ANTI_TARGET.podsPerSec} at 5,000 nodes: ${at ? met(rate >= ANTI_TARGET.podsPerSec) : `n/a (ran ${fmtInt(r.nodes)} nodes)`}`;
    }
    return [
      r.name,
      fmtInt(r.nodes),
      `${fmtInt(r.scheduled)}/${fmtInt(r.pods)}${r.timedOut ? ' (timed out)' : ''}`,
      fmtS(r.elapsedMs),
      fmtS(r.createMs),
      `**${fmtInt(rate)}**`,
      baseline ? fmtPct(rate / bindRate) : '–',
      baseline ? fmtPct(rate / ceiling) : '–',
      r.scheduled ? (r.serverCpuMs / r.scheduled).toFixed(2) : '–',
      r.scheduled ? (r.mainCpuMs / r.scheduled).toFixed(2) : '–',
      r.scheduled ? (r.benchCpuMs / r.scheduled).toFixed(2) : '–',
      target,
    ];
  });
  if (rows.length) {
    out.push('### Scheduling throughput (first create → last bind seen through a watch)');
    out.push('');
    out.push(
      table(
        [
          'case',
          'nodes',
          'pods bound',
          'elapsed s',
          'creates done s',
          'pods/s',
          '% of raw binds/s',
          '% of create+bind ceiling',
          'server CPU ms/pod',
          'main thread CPU ms/pod',
          'bench CPU ms/pod',
          'target',
        ],
        rows,
      ),
    );
    out.push('');
  }
  if (baseline) {
    out.push('### Baseline: the API alone (scheduler off; the bench creates, then binds, the same pods)');
    out.push('');
    out.push(
      table(
        ['step', 'pods', 'elapsed s', 'per s', 'server CPU ms/pod'],
        [
          [
            'create pods',
            fmtInt(baseline.pods),
            fmtS(baseline.createMs),
            fmtInt(createRate),
            (baseline.createCpuMs / baseline.pods).toFixed(2),
          ],
          [
            'POST pods/NAME/binding',
            fmtInt(baseline.pods),
            fmtS(baseline.bindMs),
            `**${fmtInt(bindRate)}**`,
            (baseline.bindCpuMs / baseline.pods).toFixed(2),
          ],
          [
            'create + bind (ceiling)',
            fmtInt(baseline.pods),
            fmtS(baseline.createMs + baseline.bindMs),
            fmtInt(ceiling),
            ((baseline.createCpuMs + baseline.bindCpuMs) / baseline.pods).toFixed(2),
          ],
        ],
      ),
    );
    out.push('');
  }
  if (deploy) {
    out.push(
      `### Deployment of ${fmtInt(deploy.replicas)} replicas on ${deploy.simNodes} simulated nodes (controllers on)`,
    );
    out.push('');
    const at = deploy.replicas === DEPLOY_TARGET.replicas;
    out.push(
      table(
        ['measure', 'seconds', 'target'],
        [
          ['create → all pods bound', fmtS(deploy.scheduledMs), '–'],
          ['create → Available condition True', fmtS(deploy.conditionMs), '–'],
          [
            `create → availableReplicas = ${fmtInt(deploy.replicas)}${deploy.timedOut ? ' (timed out)' : ''}`,
            `**${fmtS(deploy.availableMs)}**`,
            `≤ ${DEPLOY_TARGET.seconds} s: ${at ? met(!deploy.timedOut && deploy.availableMs <= DEPLOY_TARGET.seconds * 1000) : `n/a (ran ${fmtInt(deploy.replicas)})`}`,
          ],
          ['server CPU during it (s)', fmtS(deploy.serverCpuMs), '–'],
          ['sim CPU during it (s)', fmtS(deploy.simCpuMs), '–'],
        ],
      ),
    );
    out.push('');
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
