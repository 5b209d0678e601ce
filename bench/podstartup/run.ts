/**
 * Pod start-up benchmark: real `skiff server` / `skiff agent` child processes running real pods on
 * their own containerd, against the bare CRI sequence timed in the same run on the same containerd.
 *
 *   node_modules/.bin/node bench/podstartup/run.ts [--pods 100] [--burst 30] [--starts 3] [--quick]
 *   npm run bench:podstartup -- --quick
 *
 * Sections:
 * 1. `skiff server` on a fresh data directory to a Ready node: wall time from spawn to the Node's
 *    Ready condition seen through a watch (`--starts` fresh starts, each torn down with
 *    `skiff uninstall`; the last one goes on to 2 and 3), with the start-up steps from its log.
 * 2. Pod start-up latency, image present: P pods created one at a time, each waited for, from the
 *    create call to the pod seen Running and Ready through a watch (a SharedInformer). Paired with
 *    it, P bare CRI sequences (RunPodSandbox, CreateContainer, StartContainer with the same image,
 *    on the same CNI network) on the same containerd, alternating with the pods; each bare sandbox
 *    is removed before the next step. The pods stay until the section ends (they accumulate on the
 *    node, as in Kubernetes' density test).
 * 3. B pods created at once on the node: time until all are Running and Ready; and B bare CRI
 *    sequences at once, for comparison.
 * 4. The agent's idle RSS: a `skiff server --disable-agent` and a `skiff agent` joined to it with its
 *    join token, `--agent-pods` pods running on the agent, then idle for `--idle` seconds; VmRSS of
 *    the agent process (containerd is a separate process, reported aside).
 *
 * The bare CRI sandboxes carry an empty pod UID and no io.kubernetes.* labels, so the kubelet's
 * runtime relist ignores them (it only adopts, or removes as orphans, sandboxes it can tie to a pod
 * UID). Their cgroups live under /skiffbench-cri, removed at the end.
 *
 * Clean-up: pods deleted, each skiff process stopped with SIGTERM (by its PID), then
 * `skiff uninstall --data-dir DIR` for each data dir (containers, mounts, bridge, cgroups, data).
 * Needs root, containerd, runc, the CNI plugins, busybox-static and catatonit (scripts/setup.sh).
 *
 * Progress goes to stderr; the report (markdown) goes to stdout. Targets are printed, never asserted.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
} from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { SharedInformer } from '../../src/client/informer.ts';
import { fromKubeconfig } from '../../src/client/kubeconfig.ts';
import { NAMESPACES, NODES, PODS, SERVICE_ACCOUNTS } from '../../src/client/resources.ts';
import { type HttpRestClient, isApiError } from '../../src/client/rest.ts';
import type { KubeObject } from '../../src/client/types.ts';
import { createCriRuntime } from '../../src/kubelet/cri/client.ts';
import type {
  ContainerConfig,
  CriRuntime,
  DNSConfig,
  PodSandboxConfig,
} from '../../src/kubelet/cri/types.ts';
import { buildBusyboxImage } from '../../src/kubelet/images/builder.ts';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../src/kubelet/pods/container-config.ts';
import { readResolvConf } from '../../src/kubelet/pods/dns.ts';
import { containerdPaths } from '../../src/kubelet/runtime/config.ts';

const run = promisify(execFile);

// ---- options -------------------------------------------------------------------------------------

const USAGE = `usage: node bench/podstartup/run.ts [options]
  --pods N              pods created one at a time, each waited for (default 100; at most 110,
                        the node's pod capacity)
  --burst N             pods created at once (default 30)
  --starts N            fresh 'skiff server' starts timed to a Ready node (default 3)
  --agent-pods N        pods running on the agent while its idle RSS is read (default 5)
  --idle S              seconds the agent idles before its RSS is read (default 30)
  --sections LIST       which of startup,pods,burst,agent to run (default all; startup always runs
                        once when pods or burst are asked for, to have a node)
  --quick               a smoke run: --pods 10 --burst 10 --starts 1 --agent-pods 2 --idle 5
  --bridge NAME         the CNI bridge of the server's node (default skiffbench0; the agent's is
                        NAME with its last character replaced by 1)
  --cluster-cidr CIDR   pod range (default 10.99.0.0/16)
  --server-node-options="FLAGS"
                        NODE_OPTIONS for the skiff server/agent children, e.g.
                        "--cpu-prof --cpu-prof-dir=/tmp/prof"
  --log-level LEVEL     SKIFF_LOG_LEVEL of the skiff children (default info; debug logs each CRI call
                        with its duration)
  --keep-logs           keep the skiff processes' logs (their directory is printed)`;

const { values: args } = parseArgs({
  options: {
    pods: { type: 'string' },
    burst: { type: 'string' },
    starts: { type: 'string' },
    'agent-pods': { type: 'string' },
    idle: { type: 'string' },
    sections: { type: 'string', default: 'startup,pods,burst,agent' },
    quick: { type: 'boolean', default: false },
    bridge: { type: 'string', default: 'skiffbench0' },
    'cluster-cidr': { type: 'string', default: '10.99.0.0/16' },
    'server-node-options': { type: 'string', default: '' },
    'log-level': { type: 'string', default: 'info' },
    'keep-logs': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

function positiveInt(s: string | undefined, fallback: number, name: string): number {
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

const Q = args.quick;
const PODS_N = positiveInt(args.pods, Q ? 10 : 100, 'pods');
const BURST = positiveInt(args.burst, Q ? 10 : 30, 'burst');
const STARTS = positiveInt(args.starts, Q ? 1 : 3, 'starts');
const AGENT_PODS = positiveInt(args['agent-pods'], Q ? 2 : 5, 'agent-pods');
const IDLE_S = positiveInt(args.idle, Q ? 5 : 30, 'idle');
const SECTIONS = new Set(args.sections.split(',').map((s) => s.trim()));
for (const s of SECTIONS) {
  if (!['startup', 'pods', 'burst', 'agent'].includes(s)) throw new Error(`--sections: unknown ${s}`);
}
if (PODS_N > 110 || BURST > 110)
  throw new Error('--pods and --burst must be ≤ 110 (the node holds 110 pods)');
const BRIDGE = args.bridge;
if (!/^[a-z][a-z0-9]{1,13}$/.test(BRIDGE)) throw new Error('--bridge must be a short interface name');
const AGENT_BRIDGE = `${BRIDGE.slice(0, -1)}${BRIDGE.endsWith('1') ? '2' : '1'}`;
const CLUSTER_CIDR = args['cluster-cidr'];

const ROOT = join(import.meta.dirname, '..', '..');
const SKIFF = join(ROOT, 'bin', 'skiff');
const IMAGE = 'skiff.local/busybox:1.36';
const NS = 'podstartup-bench';
const NODE_NAME = 'bench-node';
const AGENT_NODE_NAME = 'bench-agent';
/** cgroup parent of the bare CRI sandboxes (cgroupfs, every v1 hierarchy). */
const CRI_CGROUP = '/skiffbench-cri';
const CGROUP_ROOT = '/sys/fs/cgroup';
const WAIT_POD_MS = 60_000;

// Targets (from the issue; printed beside the figures, never asserted).
const TARGET = {
  p99Ms: 1000,
  ratio: 1.5,
  burstMs: 5000,
  agentRssBytes: 80e6,
  readyMs: 3000,
};

// ---- helpers -------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const fmtMs = (n: number) =>
  Number.isNaN(n)
    ? '–'
    : n < 10
      ? n.toFixed(1)
      : n < 1000
        ? n.toFixed(0)
        : Math.round(n).toLocaleString('en-US');
const fmtS = (ms: number) => (Number.isNaN(ms) ? '–' : (ms / 1000).toFixed(2));
const fmtX = (n: number) => (Number.isNaN(n) ? '–' : `${n.toFixed(2)}×`);
const fmtMB = (b: number) => (Number.isNaN(b) ? '–' : `${(b / 1e6).toFixed(1)} MB`);
const met = (ok: boolean) => (ok ? 'yes' : '**no**');

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Nearest-rank percentile of `xs` (NaNs dropped). */
function pct(xs: number[], q: number): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
const median = (xs: number[]) => pct(xs, 0.5);

interface Spread {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}
function spread(xs: number[]): Spread {
  const ok = xs.filter((x) => !Number.isNaN(x));
  return {
    n: ok.length,
    min: ok.length ? Math.min(...ok) : Number.NaN,
    p50: pct(ok, 0.5),
    p90: pct(ok, 0.9),
    p99: pct(ok, 0.99),
    max: ok.length ? Math.max(...ok) : Number.NaN,
  };
}

/** VmRSS and VmHWM of a process, bytes (NaN when it is gone). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
  } catch {
    return { rss: Number.NaN, hwm: Number.NaN };
  }
}

/** User + system CPU time of a process, ms. */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

// ---- skiff child processes -----------------------------------------------------------------------

/** A bin/skiff child (server or agent) logging to a file; stopped by its own PID only. */
class SkiffProcess {
  readonly logPath: string;
  readonly dataDir: string;
  /** Date.now() just before the spawn. */
  readonly spawnedAt: number;
  /** performance.now() just before the spawn. */
  readonly spawnedPerf: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  constructor(argv: string[], dataDir: string, logPath: string) {
    this.logPath = logPath;
    this.dataDir = dataDir;
    const fd = openSync(logPath, 'a');
    const env: NodeJS.ProcessEnv = { ...process.env, SKIFF_LOG_LEVEL: args['log-level'] };
    if (args['server-node-options'])
      env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} ${args['server-node-options']}`.trim();
    this.spawnedAt = Date.now();
    this.spawnedPerf = performance.now();
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

  /**
   * The first time (ms after the spawn, from the log's own timestamps) each message was logged:
   * the start-up steps.
   */
  steps(): Map<string, number> {
    const out = new Map<string, number>();
    for (const line of this.logs().split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const e = JSON.parse(line) as { msg?: string; time?: number };
        if (e.msg && typeof e.time === 'number' && !out.has(e.msg)) out.set(e.msg, e.time - this.spawnedAt);
      } catch {}
    }
    return out;
  }

  /** SIGTERM to this PID, SIGKILL after 20 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {}
    }, 20_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** Everything to stop and uninstall, in reverse order of creation. */
const processes: SkiffProcess[] = [];
const dataDirs: string[] = [];
let root = '';
let logDir = '';

async function uninstall(dir: string): Promise<void> {
  try {
    await run(SKIFF, ['uninstall', '--data-dir', dir], { maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    log(`skiff uninstall --data-dir ${dir} failed: ${e.stderr || e.message}`);
  }
}

/** Stops `p` (SIGTERM) and uninstalls its data dir. */
async function teardown(p: SkiffProcess): Promise<void> {
  await p.stop();
  const i = processes.indexOf(p);
  if (i >= 0) processes.splice(i, 1);
  await uninstall(p.dataDir);
  const j = dataDirs.indexOf(p.dataDir);
  if (j >= 0) dataDirs.splice(j, 1);
}

/** Removes the bare CRI sandboxes' cgroups (children first) in every v1 hierarchy. */
function removeCriCgroups(): void {
  let hierarchies: string[] = [];
  try {
    hierarchies = readdirSync(CGROUP_ROOT);
  } catch {
    return;
  }
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
    try {
      rmdirSync(dir);
    } catch (err) {
      log(`cannot remove cgroup ${dir}: ${(err as Error).message}`);
    }
  };
  for (const h of hierarchies) {
    const base = join(CGROUP_ROOT, h, CRI_CGROUP);
    if (existsSync(base)) walk(base);
  }
}

async function cleanupAll(): Promise<void> {
  for (const p of [...processes].reverse()) await p.stop();
  processes.length = 0;
  for (const d of [...dataDirs].reverse()) await uninstall(d);
  dataDirs.length = 0;
  removeCriCgroups();
  if (args['keep-logs']) log(`logs kept in ${logDir}`);
  else if (root) rmSync(logDir, { recursive: true, force: true });
  if (root) rmSync(root, { recursive: true, force: true });
}

let imageArchive = '';

/** A fresh data dir with the busybox test image archive in DIR/agent/images. */
function freshDataDir(name: string): string {
  const dir = mkdtempSync(join(root, `${name}-`));
  const images = join(dir, 'agent', 'images');
  mkdirSync(images, { recursive: true });
  copyFileSync(imageArchive, join(images, 'busybox.tar'));
  dataDirs.push(dir);
  return dir;
}

async function waitFor(
  what: string,
  p: SkiffProcess,
  cond: () => boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (p.exited) throw new Error(`${what}: the skiff process exited:\n${p.logs().slice(-4000)}`);
    if (/^skiff: /m.test(p.logs())) throw new Error(`${what}: skiff failed:\n${p.logs().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`${what}: timed out:\n${p.logs().slice(-4000)}`);
    await sleep(10);
  }
}

function isReady(n: Node | undefined): boolean {
  return n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * Watches Nodes and resolves with performance.now() when `name` is first seen Ready. The informer
 * starts as soon as the API answers, long before the kubelet has containerd up.
 */
function nodeReadyAt(client: HttpRestClient, name: string, signal: AbortSignal): Promise<number> {
  const inf = new SharedInformer<Node & KubeObject>(client, NODES, { watchTimeoutSeconds: 600 });
  return new Promise<number>((resolve) => {
    const check = (n: Node) => {
      if (n.metadata?.name === name && isReady(n)) resolve(performance.now());
    };
    inf.addEventHandler({ onAdd: check, onUpdate: (_, n) => check(n) });
    inf.run(signal);
  });
}

// ---- section 1: a fresh server to a Ready node ---------------------------------------------------

interface Started {
  proc: SkiffProcess;
  client: HttpRestClient;
  kubeconfig: string;
  /** Spawn → kubeconfig written and "API server ready" logged, ms. */
  apiMs: number;
  /** Spawn → the Node seen Ready through a watch, ms. */
  readyMs: number;
  steps: Map<string, number>;
  stopInformers: AbortController;
}

async function startServer(i: number): Promise<Started> {
  const dir = freshDataDir(`server${i}`);
  const proc = new SkiffProcess(
    [
      'server',
      '--data-dir',
      dir,
      '--https-listen-port',
      '0',
      '--kubelet-port',
      '0',
      '--cni-bridge',
      BRIDGE,
      '--cluster-cidr',
      CLUSTER_CIDR,
      '--node-name',
      NODE_NAME,
    ],
    dir,
    join(logDir, `server${i}.log`),
  );
  processes.push(proc);
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  await waitFor('API server', proc, () => existsSync(kubeconfig) && proc.logs().includes('API server ready'));
  const apiMs = performance.now() - proc.spawnedPerf;
  const client = fromKubeconfig(kubeconfig, { component: 'podstartup-bench' });
  const stopInformers = new AbortController();
  const readyPromise = nodeReadyAt(client, NODE_NAME, stopInformers.signal);
  let readyAt = 0;
  void readyPromise.then((t) => {
    readyAt = t;
  });
  await waitFor('node Ready', proc, () => readyAt > 0, 90_000);
  const readyMs = readyAt - proc.spawnedPerf;
  // Let the last steps reach the log.
  await sleep(300);
  return { proc, client, kubeconfig, apiMs, readyMs, steps: proc.steps(), stopInformers };
}

// ---- pods ----------------------------------------------------------------------------------------

function podObject(name: string): Pod & KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'podstartup-bench' } },
    spec: {
      containers: [
        { name: 'main', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
      ],
      restartPolicy: 'Never',
      // busybox sleep as PID 1 ignores SIGTERM: let deletions end after 1 s, not 30.
      terminationGracePeriodSeconds: 1,
    },
  } as Pod & KubeObject;
}

interface PodTimes {
  /** performance.now() of the create call. */
  t0: number;
  createdMs: number;
  scheduledMs: number;
  runningMs: number;
  readyMs: number;
  done: () => void;
  wait: Promise<void>;
}

/** Watches the bench namespace's pods and records, per pod, when it was bound, Running and Ready. */
class PodWatch {
  readonly #times = new Map<string, PodTimes>();
  readonly #gone = new Map<string, () => void>();
  readonly informer: SharedInformer<Pod & KubeObject>;

  constructor(client: HttpRestClient, signal: AbortSignal) {
    this.informer = new SharedInformer<Pod & KubeObject>(client, PODS, {
      namespace: NS,
      watchTimeoutSeconds: 3600,
    });
    const seen = (p: Pod) => {
      const t = this.#times.get(p.metadata?.name ?? '');
      if (!t) return;
      const now = performance.now() - t.t0;
      if (Number.isNaN(t.scheduledMs) && p.spec?.nodeName) t.scheduledMs = now;
      const running = p.status?.phase === 'Running';
      if (Number.isNaN(t.runningMs) && running) t.runningMs = now;
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (Number.isNaN(t.readyMs) && running && ready) {
        t.readyMs = now;
        t.done();
      }
    };
    this.informer.addEventHandler({
      onAdd: seen,
      onUpdate: (_, p) => seen(p),
      onDelete: (p) => this.#gone.get(p.metadata?.name ?? '')?.(),
    });
    this.informer.run(signal);
  }

  /** Starts timing `name`; call right before its create. */
  track(name: string): PodTimes {
    let done: () => void = () => {};
    const wait = new Promise<void>((r) => {
      done = r;
    });
    const t: PodTimes = {
      t0: performance.now(),
      createdMs: Number.NaN,
      scheduledMs: Number.NaN,
      runningMs: Number.NaN,
      readyMs: Number.NaN,
      done,
      wait,
    };
    this.#times.set(name, t);
    return t;
  }

  /** Resolves once `name` is deleted (or at once when it is not in the cache). */
  gone(name: string): Promise<void> {
    if (!this.informer.lister().get(`${NS}/${name}`)) return Promise.resolve();
    return new Promise((r) => this.#gone.set(name, r));
  }
}

async function createAndTime(client: HttpRestClient, watch: PodWatch, name: string): Promise<PodTimes> {
  const t = watch.track(name);
  await client.create(PODS, NS, podObject(name));
  t.createdMs = performance.now() - t.t0;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([t.wait, new Promise<void>((r) => (timer = setTimeout(r, WAIT_POD_MS)))]);
  clearTimeout(timer);
  if (Number.isNaN(t.readyMs)) log(`pod ${name}: not Running+Ready after ${WAIT_POD_MS / 1000} s`);
  return t;
}

async function deletePods(client: HttpRestClient, watch: PodWatch, names: string[]): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    names.map(async (n) => {
      const gone = watch.gone(n);
      try {
        await client.delete(PODS, NS, n);
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
      }
      await Promise.race([gone, sleep(60_000)]);
    }),
  );
  return performance.now() - t0;
}

async function prepareNamespace(client: HttpRestClient): Promise<void> {
  try {
    await client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  } catch (err) {
    if (!isApiError(err, 409)) throw err;
  }
  // Wait (bounded) for the namespace's default ServiceAccount, as a pod's token volume needs it.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      await client.get(SERVICE_ACCOUNTS, NS, 'default');
      return;
    } catch {
      await sleep(100);
    }
  }
  log('no default ServiceAccount in the namespace after 20 s; going on');
}

// ---- the bare CRI sequence -----------------------------------------------------------------------

interface CriTimes {
  runMs: number;
  createMs: number;
  startMs: number;
  totalMs: number;
}

class BareCri {
  readonly #cri: CriRuntime;
  readonly #dns: DNSConfig;
  readonly #logRoot: string;
  #seq = 0;

  constructor(socket: string, dns: DNSConfig, logRoot: string) {
    this.#cri = createCriRuntime(socket, { timeoutMs: 60_000 });
    this.#dns = dns;
    this.#logRoot = logRoot;
  }

  /** RunPodSandbox → CreateContainer → StartContainer, timed; returns the sandbox to remove. */
  async once(): Promise<{ times: CriTimes; sandboxId: string }> {
    const n = this.#seq++;
    const name = `bench-cri-${n}`;
    const logDirectory = join(this.#logRoot, name);
    mkdirSync(logDirectory, { recursive: true });
    const sandbox: PodSandboxConfig = {
      // No UID and no io.kubernetes.* labels: the kubelet's relist leaves this sandbox alone.
      metadata: { name, uid: '', namespace: 'podstartup-bench-cri', attempt: 0 },
      hostname: name,
      logDirectory,
      dnsConfig: this.#dns,
      portMappings: [],
      labels: { 'bench.skiff.io/cri': 'true' },
      annotations: {},
      linux: {
        cgroupParent: `${CRI_CGROUP}/pod${n}`,
        securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } },
      },
    };
    const container: ContainerConfig = {
      metadata: { name: 'main', attempt: 0 },
      image: { image: IMAGE },
      command: ['sleep', '3600'],
      envs: [],
      labels: { 'bench.skiff.io/cri': 'true' },
      annotations: {},
      logPath: 'main/0.log',
      linux: {
        securityContext: {
          namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' },
          maskedPaths: [...DEFAULT_MASKED_PATHS],
          readonlyPaths: [...DEFAULT_READONLY_PATHS],
        },
      },
    };
    const t0 = performance.now();
    const sandboxId = await this.#cri.runPodSandbox(sandbox);
    const t1 = performance.now();
    const id = await this.#cri.createContainer(sandboxId, container, sandbox);
    const t2 = performance.now();
    await this.#cri.startContainer(id);
    const t3 = performance.now();
    return {
      times: { runMs: t1 - t0, createMs: t2 - t1, startMs: t3 - t2, totalMs: t3 - t0 },
      sandboxId,
    };
  }

  /** Stops and removes a sandbox (its container goes with it); not timed. */
  async remove(sandboxId: string): Promise<void> {
    for (const c of await this.#cri.listContainers({ podSandboxId: sandboxId })) {
      await this.#cri.stopContainer(c.id, 0).catch(() => {});
      await this.#cri.removeContainer(c.id).catch(() => {});
    }
    await this.#cri.stopPodSandbox(sandboxId);
    await this.#cri.removePodSandbox(sandboxId);
  }

  close(): void {
    this.#cri.close();
  }
}

// ---- section 2 and 3 -----------------------------------------------------------------------------

interface SequentialResult {
  pods: PodTimes[];
  cri: CriTimes[];
  deleteMs: number;
}

async function sequential(s: Started, watch: PodWatch, bare: BareCri): Promise<SequentialResult> {
  const pods: PodTimes[] = [];
  const cri: CriTimes[] = [];
  const names: string[] = [];
  for (let i = 0; i < PODS_N; i++) {
    // Alternate which goes first, so that neither always follows the other's leftovers.
    const order = i % 2 === 0 ? ['cri', 'pod'] : ['pod', 'cri'];
    for (const what of order) {
      if (what === 'cri') {
        const r = await bare.once();
        cri.push(r.times);
        await bare.remove(r.sandboxId);
      } else {
        const name = `seq-${i}`;
        names.push(name);
        pods.push(await createAndTime(s.client, watch, name));
      }
      await sleep(100);
    }
    if ((i + 1) % 10 === 0 || i === PODS_N - 1) {
      log(
        `pods: ${i + 1}/${PODS_N}; last pod ${fmtMs(pods.at(-1)!.readyMs)} ms, last bare CRI ${fmtMs(cri.at(-1)!.totalMs)} ms`,
      );
    }
  }
  const deleteMs = await deletePods(s.client, watch, names);
  log(`pods: ${names.length} deleted in ${fmtS(deleteMs)} s`);
  return { pods, cri, deleteMs };
}

interface BurstResult {
  pods: PodTimes[];
  /** First create → last pod Running and Ready, ms. */
  allMs: number;
  createsMs: number;
  /** B bare CRI sequences at once: first call → last StartContainer returned, ms. */
  criAllMs: number;
  cri: CriTimes[];
  serverCpuMs: number;
}

async function burst(s: Started, watch: PodWatch, bare: BareCri): Promise<BurstResult> {
  await sleep(2000);
  const names = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
  const cpu0 = cpuMsOf(s.proc.pid);
  const t0 = performance.now();
  const pods = await Promise.all(names.map((n) => createAndTime(s.client, watch, n)));
  const allMs = Math.max(...pods.map((p) => p.t0 + p.readyMs)) - t0;
  const createsMs = Math.max(...pods.map((p) => p.t0 + p.createdMs)) - t0;
  const serverCpuMs = cpuMsOf(s.proc.pid) - cpu0;
  log(`burst: ${BURST} pods Running+Ready in ${fmtS(allMs)} s`);
  const deleteMs = await deletePods(s.client, watch, names);
  log(`burst: deleted in ${fmtS(deleteMs)} s`);
  await sleep(2000);
  const c0 = performance.now();
  const results = await Promise.all(names.map(() => bare.once()));
  const criAllMs = performance.now() - c0;
  log(`burst: ${BURST} bare CRI sequences at once in ${fmtS(criAllMs)} s`);
  for (const r of results) await bare.remove(r.sandboxId);
  return { pods, allMs, createsMs, criAllMs, cri: results.map((r) => r.times), serverCpuMs };
}

// ---- section 4: the agent's idle RSS -------------------------------------------------------------

/**
 * Where a process's resident memory lives, from /proc/PID/smaps: anonymous mappings (the V8 heap,
 * malloc arenas, thread stacks) versus file mappings (the node binary, libraries), the largest first.
 */
function rssByMapping(pid: number): string {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return 'unavailable';
  }
  const byName = new Map<string, number>();
  let name = '';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      name = head[1] ? (head[1].startsWith('/') ? basename(head[1]) : head[1]) : '[anon]';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) byName.set(name, (byName.get(name) ?? 0) + Number(rss[1]) * 1024);
  }
  return [...byName]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([n, b]) => `${n} ${fmtMB(b)}`)
    .join(', ');
}

interface AgentResult {
  serverIdle: { rss: number; hwm: number };
  agentReadyMs: number;
  samples: number[];
  end: { rss: number; hwm: number };
  containerd: number;
  shims: number;
  podsRunning: number;
  agentSteps: Map<string, number>;
  agentCpuMsIdle: number;
}

function containerdPid(dataDir: string): number {
  try {
    return Number(readFileSync(containerdPaths(dataDir).pidFile, 'utf8').trim());
  } catch {
    return Number.NaN;
  }
}

/** RSS of containerd-shim processes whose command line names `socket`, summed. */
function shimRss(socket: string): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.startsWith('/usr/bin/containerd-shim') && cmd.includes(socket))
        total += memoryOf(Number(pid)).rss;
    } catch {}
  }
  return total;
}

async function agentSection(): Promise<AgentResult> {
  const sdir = freshDataDir('cp');
  const server = new SkiffProcess(
    [
      'server',
      '--data-dir',
      sdir,
      '--https-listen-port',
      '0',
      '--disable-agent',
      '--cluster-cidr',
      CLUSTER_CIDR,
    ],
    sdir,
    join(logDir, 'cp.log'),
  );
  processes.push(server);
  const kubeconfig = join(sdir, 'kubeconfig.yaml');
  await waitFor(
    'API server',
    server,
    () => existsSync(kubeconfig) && server.logs().includes('API server ready'),
  );
  const client = fromKubeconfig(kubeconfig, { component: 'podstartup-bench' });
  const url = /server: (https:\/\/\S+)/.exec(readFileSync(kubeconfig, 'utf8'))?.[1];
  if (!url) throw new Error('no server URL in the kubeconfig');
  const token = readFileSync(join(sdir, 'token'), 'utf8').trim();
  const stop = new AbortController();
  try {
    const readyPromise = nodeReadyAt(client, AGENT_NODE_NAME, stop.signal);
    const adir = freshDataDir('agent');
    const agent = new SkiffProcess(
      [
        'agent',
        '--server',
        url,
        '--token',
        token,
        '--data-dir',
        adir,
        '--kubelet-port',
        '0',
        '--cni-bridge',
        AGENT_BRIDGE,
        '--node-name',
        AGENT_NODE_NAME,
      ],
      adir,
      join(logDir, 'agent.log'),
    );
    processes.push(agent);
    let readyAt = 0;
    void readyPromise.then((t) => {
      readyAt = t;
    });
    await waitFor('agent node Ready', agent, () => readyAt > 0, 90_000);
    const agentReadyMs = readyAt - agent.spawnedPerf;
    log(`agent: node Ready ${fmtS(agentReadyMs)} s after spawn`);
    await prepareNamespace(client);
    const watch = new PodWatch(client, stop.signal);
    await watch.informer.synced();
    const names = Array.from({ length: AGENT_PODS }, (_, i) => `agent-${i}`);
    const times = await Promise.all(names.map((n) => createAndTime(client, watch, n)));
    const podsRunning = times.filter((t) => !Number.isNaN(t.readyMs)).length;
    log(`agent: ${podsRunning}/${AGENT_PODS} pods running; idling ${IDLE_S} s`);
    const serverIdle = memoryOf(server.pid);
    const samples: number[] = [];
    const cpu0 = cpuMsOf(agent.pid);
    const idleStart = performance.now();
    for (let s = 0; s < IDLE_S; s++) {
      await sleep(1000);
      samples.push(memoryOf(agent.pid).rss);
    }
    const agentCpuMsIdle = ((cpuMsOf(agent.pid) - cpu0) / (performance.now() - idleStart)) * 1000;
    const end = memoryOf(agent.pid);
    const containerd = memoryOf(containerdPid(adir)).rss;
    const shims = shimRss(containerdPaths(adir).socket);
    log(`agent: VmRSS ${fmtMB(end.rss)} after ${IDLE_S} s idle (containerd ${fmtMB(containerd)})`);
    log(`agent: resident memory by mapping: ${rssByMapping(agent.pid)}`);
    await deletePods(client, watch, names);
    const agentSteps = agent.steps();
    stop.abort();
    client.close();
    await teardown(agent);
    await teardown(server);
    return {
      serverIdle,
      agentReadyMs,
      samples,
      end,
      containerd,
      shims,
      podsRunning,
      agentSteps,
      agentCpuMsIdle,
    };
  } finally {
    stop.abort();
    client.close();
  }
}

// ---- main ----------------------------------------------------------------------------------------

/** The start-up steps worth showing, in order, by their log message. */
const STEP_MESSAGES: [string, string][] = [
  ['datastore opened (first log line: Node.js start and module loading come before it)', 'datastore opened'],
  ['certificates issued', 'certificates issued'],
  ['API server ready', 'API server ready; try: '],
  ['containerd up', 'containerd up'],
  ['images imported', 'images imported'],
  ['node registered', 'node registered'],
  ['pod network configured', 'pod network configured'],
  ['node Ready (kubelet log)', 'node Ready'],
];

/** When `message` was first logged; a message ending in a space or "; " matches as a prefix. */
function stepAt(steps: Map<string, number>, message: string): number {
  const prefix = / $/.test(message);
  for (const [msg, t] of steps) if (prefix ? msg.startsWith(message) : msg === message) return t;
  return Number.NaN;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (containerd, CNI, cgroups)');
  root = mkdtempSync(join(tmpdir(), 'skiff-podstartup-'));
  logDir = mkdtempSync(join(tmpdir(), 'skiff-podstartup-logs-'));
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: cleaning up');
    void cleanupAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const startedAt = new Date();
  const load0 = loadavg()[0]!;
  const starts: Started[] = [];
  let seq: SequentialResult | undefined;
  let bursted: BurstResult | undefined;
  let agentRes: AgentResult | undefined;
  let serverIdle: { rss: number; hwm: number } | undefined;
  try {
    const built = await buildBusyboxImage({ cacheDir: join(root, 'image-cache'), ref: IMAGE });
    imageArchive = built.file;
    const needNode = SECTIONS.has('startup') || SECTIONS.has('pods') || SECTIONS.has('burst');
    const nStarts = needNode ? (SECTIONS.has('startup') ? STARTS : 1) : 0;
    let live: Started | undefined;
    for (let i = 0; i < nStarts; i++) {
      const s = await startServer(i);
      starts.push(s);
      log(`start ${i + 1}/${nStarts}: API ${fmtS(s.apiMs)} s, node Ready ${fmtS(s.readyMs)} s after spawn`);
      if (i < nStarts - 1) {
        s.stopInformers.abort();
        s.client.close();
        await teardown(s.proc);
      } else live = s;
    }
    if (live && (SECTIONS.has('pods') || SECTIONS.has('burst'))) {
      await prepareNamespace(live.client);
      const watch = new PodWatch(live.client, live.stopInformers.signal);
      await watch.informer.synced();
      const bare = new BareCri(
        containerdPaths(live.proc.dataDir).socket,
        await readResolvConf('/etc/resolv.conf'),
        join(root, 'cri-logs'),
      );
      try {
        if (SECTIONS.has('pods')) seq = await sequential(live, watch, bare);
        if (SECTIONS.has('burst')) bursted = await burst(live, watch, bare);
      } finally {
        bare.close();
      }
      await sleep(5000);
      serverIdle = memoryOf(live.proc.pid);
      const orphans = live.proc.logs().match(/no longer bound to this node/g)?.length ?? 0;
      if (orphans) log(`warning: the kubelet removed ${orphans} sandboxes as orphans`);
    }
    if (live) {
      live.stopInformers.abort();
      live.client.close();
      await teardown(live.proc);
    }
    if (SECTIONS.has('agent')) agentRes = await agentSection();
  } finally {
    await cleanupAll();
  }

  // ---- report ----
  const out: string[] = [];
  const argv = process.argv.slice(2).join(' ');
  out.push(`Run: \`node_modules/.bin/node bench/podstartup/run.ts${argv ? ` ${argv}` : ''}\``);
  out.push('');
  out.push(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}, node ${process.version}; load (1 min) ${load0.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end; started ${startedAt.toISOString()}.`,
  );
  out.push('');

  if (starts.length && SECTIONS.has('startup')) {
    out.push(`### 1. \`skiff server\` on a fresh data directory to a Ready node (${starts.length} starts)`);
    out.push('');
    const readyMs = starts.map((s) => s.readyMs);
    const rows = STEP_MESSAGES.map(([label, prefix]) => [
      label,
      ...starts.map((s) => fmtS(stepAt(s.steps, prefix))),
      fmtS(median(starts.map((s) => stepAt(s.steps, prefix)))),
    ]);
    rows.push([
      '**Node Ready seen through a watch**',
      ...starts.map((s) => fmtS(s.readyMs)),
      `**${fmtS(median(readyMs))}**`,
    ]);
    out.push(table(['seconds after spawn', ...starts.map((_, i) => `start ${i + 1}`), 'median'], rows));
    out.push('');
    out.push(
      `Target: ≤ ${TARGET.readyMs / 1000} s to a Ready node: ${met(median(readyMs) <= TARGET.readyMs)} (median ${fmtS(median(readyMs))} s; worst ${fmtS(Math.max(...readyMs))} s). Steps are the first log line of each, by the log's own timestamps.`,
    );
    out.push('');
  }

  if (seq) {
    const ready = spread(seq.pods.map((p) => p.readyMs));
    const running = spread(seq.pods.map((p) => p.runningMs));
    const created = spread(seq.pods.map((p) => p.createdMs));
    const sched = spread(seq.pods.map((p) => p.scheduledMs));
    const kubelet = spread(seq.pods.map((p) => p.readyMs - p.scheduledMs));
    const cri = spread(seq.cri.map((c) => c.totalMs));
    const run = spread(seq.cri.map((c) => c.runMs));
    const cre = spread(seq.cri.map((c) => c.createMs));
    const st = spread(seq.cri.map((c) => c.startMs));
    const failed = seq.pods.length - ready.n;
    out.push(
      `### 2. Pod start-up latency: ${seq.pods.length} pods one at a time, image present${failed ? ` (${failed} not Ready in ${WAIT_POD_MS / 1000} s)` : ''}`,
    );
    out.push('');
    const row = (label: string, s: Spread) => [
      label,
      String(s.n),
      fmtMs(s.min),
      fmtMs(s.p50),
      fmtMs(s.p90),
      fmtMs(s.p99),
      fmtMs(s.max),
    ];
    out.push(
      table(
        ['ms', 'n', 'min', 'p50', 'p90', 'p99', 'max'],
        [
          row('**pod: create → Running and Ready (watch)**', ready),
          row('pod: create → phase Running (watch)', running),
          row('pod: create call returned', created),
          row('pod: create → bound to the node (watch)', sched),
          row('pod: bound → Running and Ready', kubelet),
          row('**bare CRI: RunPodSandbox + CreateContainer + StartContainer**', cri),
          row('bare CRI: RunPodSandbox', run),
          row('bare CRI: CreateContainer', cre),
          row('bare CRI: StartContainer', st),
        ],
      ),
    );
    out.push('');
    out.push(
      table(
        ['target', 'figure', 'met'],
        [
          [`p99 ≤ ${TARGET.p99Ms} ms`, `${fmtMs(ready.p99)} ms`, met(ready.p99 <= TARGET.p99Ms)],
          [
            `≤ ${TARGET.ratio}× the bare CRI sequence (p99 / p99)`,
            fmtX(ready.p99 / cri.p99),
            met(ready.p99 / cri.p99 <= TARGET.ratio),
          ],
          [
            `≤ ${TARGET.ratio}× the bare CRI sequence (p50 / p50)`,
            fmtX(ready.p50 / cri.p50),
            met(ready.p50 / cri.p50 <= TARGET.ratio),
          ],
        ],
      ),
    );
    out.push('');
    out.push(
      `Pods alternate with bare CRI sequences (${seq.cri.length}) on the same containerd; pods stay (up to ${seq.pods.length} on the node), each bare sandbox is removed before the next step. Deleting the ${seq.pods.length} pods took ${fmtS(seq.deleteMs)} s.`,
    );
    out.push('');
  }

  if (bursted) {
    const b = bursted;
    const ready = spread(b.pods.map((p) => p.readyMs + p.t0 - b.pods[0]!.t0));
    const cri = spread(b.cri.map((c) => c.totalMs));
    out.push(`### 3. ${b.pods.length} pods created at once on one node`);
    out.push('');
    out.push(
      table(
        ['measure', 'seconds'],
        [
          [`first create → all ${b.pods.length} Running and Ready (watch)`, `**${fmtS(b.allMs)}**`],
          ['first create → first pod Running and Ready', fmtS(ready.min)],
          ['first create → half Running and Ready', fmtS(ready.p50)],
          ['all create calls returned', fmtS(b.createsMs)],
          [`${b.cri.length} bare CRI sequences at once: all started`, fmtS(b.criAllMs)],
          ['bare CRI at once: median sequence', fmtS(cri.p50)],
          ['skiff server CPU during the pod burst (s)', fmtS(b.serverCpuMs)],
        ],
      ),
    );
    out.push('');
    out.push(
      `Target: all ${b.pods.length} Running in ≤ ${TARGET.burstMs / 1000} s: ${b.pods.length === 30 ? met(b.allMs <= TARGET.burstMs) : `n/a (ran ${b.pods.length}${b.allMs <= TARGET.burstMs ? ', time met' : ', time not met'})`}; ${fmtX(b.allMs / b.criAllMs)} the bare CRI burst.`,
    );
    out.push('');
  }

  if (agentRes || serverIdle) {
    out.push('### 4. Memory: the agent idle');
    out.push('');
    const rows: string[][] = [];
    if (agentRes) {
      const a = agentRes;
      rows.push([
        `**\`skiff agent\` (kubelet), ${a.podsRunning} pods running, after ${a.samples.length} s idle**`,
        `**${fmtMB(a.end.rss)}**`,
        fmtMB(a.end.hwm),
        `≤ ${TARGET.agentRssBytes / 1e6} MB: ${met(a.end.rss <= TARGET.agentRssBytes)}`,
      ]);
      rows.push([
        '`skiff agent` over the idle period (median / max of 1 s samples)',
        `${fmtMB(median(a.samples))} / ${fmtMB(Math.max(...a.samples))}`,
        '',
        '',
      ]);
      rows.push(['its containerd (aside)', fmtMB(a.containerd), '', '']);
      rows.push([`its ${a.podsRunning} pods' containerd-shim processes (aside)`, fmtMB(a.shims), '', '']);
      rows.push([
        '`skiff server --disable-agent` (control plane alone), same time',
        fmtMB(a.serverIdle.rss),
        fmtMB(a.serverIdle.hwm),
        '',
      ]);
    }
    if (serverIdle) {
      rows.push([
        '`skiff server` (control plane + kubelet) after sections 2–3, 5 s idle',
        fmtMB(serverIdle.rss),
        fmtMB(serverIdle.hwm),
        '',
      ]);
    }
    out.push(table(['process', 'VmRSS', 'VmHWM (peak)', 'target'], rows));
    out.push('');
    if (agentRes) {
      out.push(
        `From /proc/PID/status (MB = 10⁶ bytes). The agent joined with the server's token (DIR/token); its node was Ready ${fmtS(agentRes.agentReadyMs)} s after spawn (containerd up ${fmtS(stepAt(agentRes.agentSteps, 'containerd up'))} s, images imported ${fmtS(stepAt(agentRes.agentSteps, 'images imported'))} s). Agent CPU while idle: ${(agentRes.agentCpuMsIdle / 10).toFixed(1)}% of a core.`,
      );
      out.push('');
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
