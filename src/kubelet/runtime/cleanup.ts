/**
 * Removing everything a skiff node made on this machine: `skiff uninstall` (src/cli/uninstall.ts)
 * and the test helpers' clean-up (test/helpers/containerd.ts) both call {@link uninstallNode}.
 *
 * What the node made is read from DIR/agent/node.json (the kubelet's NodeRecord), then the CNI
 * conflist in containerd's conf_dir (network, bridge, host-local's lease dir), then the defaults
 * (network skiff, bridge cni0, cgroup root skiff, our containerd's socket). In order:
 *
 *   1. Pods, through the CRI: our containerd is adopted (pid file) or started, and every pod
 *      sandbox is stopped and removed, so CNI DEL releases its IP, veth, portmap/masquerade
 *      iptables rules and netns. containerd is then stopped. (An external runtime given with
 *      --container-runtime-endpoint is left alone.)
 *   2. What the CRI could not remove: tasks still in containerd's state dir, and runc containers
 *      whose bundle is there, are force-deleted with runc (processes, cgroup,
 *      /run/containerd/runc/<ns>/<id>; a pid is only killed when its start time is runc's, so a
 *      stale pid file never kills an unrelated process), every process still tied to our
 *      containerd (shims carry `-address <socket>`, containerd `--config <file>`) is killed by PID,
 *      and the shims' stale sockets in /run/containerd/s are removed.
 *   3. Mounts under DIR (and the socket's dir), deepest first: rootfs overlays, shm, netns, volumes.
 *   4. The network: the bridge, host-local's lease dir, libcni's cached results, nat rules and
 *      chains tagged with the network's name (left behind only when CNI DEL failed), portmap's
 *      shared CNI-HOSTPORT-* chains once no network uses them, kube-proxy's SKIFF- chains and its
 *      nftables table (`ip skiff-proxy`), and the pod network's routes to other nodes and its
 *      SKIFFNET- chains (DIR/agent/network.json).
 *   5. The pod cgroup tree /<cgroupRoot> in every hierarchy (processes left in it are killed).
 *   6. DIR itself (unless `removeData: false`), never while anything is still mounted under it:
 *      `rm -r` would otherwise reach through a bind mount into the files it shows.
 *
 * Idempotent: anything already gone is skipped silently. It never throws: what could not be removed
 * is logged (warn) and listed in the summary's `problems`.
 *
 * Facts (containerd 1.6.20): runc keeps its state in /run/containerd/runc/<ns>/<id> and shims listen
 * on /run/containerd/s/<sha256(address/ns/id)>, both shared by every containerd on the machine; a
 * killed shim leaves both behind (a later container with that id then fails "container with given
 * ID already exists"). The bridge plugin's CNI DEL fails when its per-sandbox chain is already gone,
 * so chains are only removed by the network's own tag, never by a broader pattern.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { cleanupPodNetwork, type NetworkCleanupResult } from '../../network/index.ts';
import { type CleanupResult, cleanupRules } from '../../proxy/cleanup.ts';
import { ExecIptablesRunner, type IptablesRunner } from '../../proxy/iptables.ts';
import { cleanupNftables } from '../../proxy/nftables/cleanup.ts';
import { ExecNftRunner, type NftRunner } from '../../proxy/nftables/runner.ts';
import { lexists as exists } from '../../util/fs.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import { detectCgroups, removeTree } from '../cm/cgroupfs.ts';
import { createCriRuntime } from '../cri/client.ts';
import type { CriRuntime } from '../cri/types.ts';
import type { NodeRecord } from '../kubelet.ts';
import { CNI_CONFLIST_NAME } from './cni.ts';
import { containerdPaths } from './config.ts';
import { ContainerdSupervisor } from './containerd.ts';

const execFileAsync = promisify(execFile);

/** Runs a command; resolves with its stdout, rejects when it fails. */
export type CommandRunner = (cmd: string, args: string[]) => Promise<string>;

const SBIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const execCommand: CommandRunner = async (cmd, args) => {
  const { stdout } = await execFileAsync(cmd, args, {
    env: { ...process.env, PATH: `${SBIN_PATH}:${process.env.PATH ?? ''}` },
    maxBuffer: 64 << 20,
  });
  return stdout;
};

export interface UninstallOptions {
  /** skiff's data dir (DIR). */
  dataDir: string;
  logger?: Logger;
  /** Remove DIR at the end (default true). */
  removeData?: boolean;
  /** What the node made, overriding DIR/agent/node.json (and the defaults). */
  node?: Partial<NodeRecord>;
  /**
   * A supervisor already running this data dir's containerd (test helpers): used for the CRI
   * step, then stopped. Without it, the containerd left running is adopted or one is started.
   */
  supervisor?: ContainerdSupervisor;
  /** How long a containerd started (or adopted) for the clean-up may take to answer (default 15 s). */
  readyTimeoutMs?: number;
  /** Remove the pod cgroup tree /<cgroupRoot> (default true). */
  cgroups?: boolean;
  /** Where kube-proxy's SKIFF- chains are removed: default the host's iptables; false: left alone. */
  proxyRules?: IptablesRunner | false;
  /**
   * Where kube-proxy's nftables table is removed: default the host's nft when `proxyRules` is not
   * given either; left alone when `proxyRules` is false or a runner (then only when given here).
   */
  proxyNft?: NftRunner;
  /**
   * Remove the pod network's routes and iptables chains, as recorded in DIR/agent/network.json
   * (default true; nothing recorded: nothing to do).
   */
  podNetwork?: boolean;
  /**
   * Remove portmap's CNI-HOSTPORT-* chains (shared by every CNI network on the host) when no rule
   * of any network is left in them (default true). Tests running CNI networks in parallel pass
   * false: another network may be adding its first hostPort at that moment.
   */
  sharedCniChains?: boolean;
  /** libcni's and host-local's state dir (default /var/lib/cni). */
  cniStateDir?: string;
  /** Runs ip, iptables, umount, runc (default: the real commands). */
  exec?: CommandRunner;
}

/** What {@link uninstallNode} did. */
export interface UninstallSummary {
  /** What it cleaned up after. */
  node: NodeRecord;
  /** Pod sandboxes removed through the CRI. */
  sandboxes: string[];
  /** Tasks force-deleted with runc (`<ns>/<id>`). */
  tasks: string[];
  /** Processes killed (shims, containerd, container processes). */
  processes: number[];
  /** Mount points unmounted. */
  mounts: string[];
  /** Whether the bridge was there and was removed. */
  bridge: boolean;
  /** nat rules deleted and chains removed (tagged with the network's name, and portmap's shared ones). */
  iptables: { rules: number; chains: string[] };
  /** kube-proxy's rules removed (undefined when not asked or failed). */
  proxy: CleanupResult | undefined;
  /** The pod network's routes and chains removed (absent when not asked). */
  podNetwork?: NetworkCleanupResult;
  /** Pod cgroup trees removed. */
  cgroups: string[];
  /** Files and directories removed (sockets, leases, cached results, the data dir). */
  paths: string[];
  /** Whether DIR was removed. */
  dataRemoved: boolean;
  /** What could not be removed (also logged at warn level). */
  problems: string[];
}

export const DEFAULT_CNI_STATE_DIR = '/var/lib/cni';
/** containerd 1.6's shims listen here (shim.SocketAddress), whatever containerd's state dir. */
export const SHIM_SOCKET_DIR = '/run/containerd/s';
/** runc's state for containerd's tasks, per namespace. */
export const RUNC_ROOT = '/run/containerd/runc';

// ---------------------------------------------------------------------------------------------
// Pure helpers (unit-tested)
// ---------------------------------------------------------------------------------------------

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** Mount points at or under `dir` in a mountinfo text, deepest first, without duplicates. */
export function mountPointsUnder(mountinfo: string, dir: string): string[] {
  const base = dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
  const points = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const point = unescapeMount(field);
    if (point === base || point.startsWith(`${base}/`)) points.add(point);
  }
  return [...points].sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

/** Splits one `iptables -S` line into arguments (a quoted comment stays one argument). */
export function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) =>
    m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] as string),
  );
}

/** What to delete from a table: rules (as `-D` argument lists) and chains to flush and remove. */
export interface RuleCleanup {
  deletes: string[][];
  chains: string[];
}

/**
 * The nat rules the CNI plugins tagged with `network` (comments `name: "<network>" id: "<id>"`
 * from bridge's ipMasq, `dnat name: "<network>" id: …` from portmap), and the per-sandbox chains
 * they jump to (CNI-<hash>, CNI-DN-<hash>). Portmap's shared CNI-HOSTPORT-* chains are never
 * included here (see {@link sharedHostportCleanup}).
 */
export function cniRuleCleanup(rulesText: string, network: string): RuleCleanup {
  const tag = `name: \\"${network}\\"`;
  const deletes: string[][] = [];
  const chains = new Set<string>();
  for (const rule of rulesText.split('\n')) {
    if (!rule.startsWith('-A ') || !rule.includes(tag)) continue;
    const args = splitRule(rule);
    const target = args[args.indexOf('-j') + 1];
    if (args.includes('-j') && target?.startsWith('CNI-') && !target.startsWith('CNI-HOSTPORT'))
      chains.add(target);
    args[0] = '-D';
    deletes.push(args);
  }
  return { deletes, chains: [...chains] };
}

const HOSTPORT_CHAINS = ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ'];

/**
 * Portmap's shared chains, once no network has a hostPort left (CNI-HOSTPORT-DNAT is empty): the
 * jumps into them from other chains, then the chains. Nothing while any network still uses them.
 */
export function sharedHostportCleanup(rulesText: string): RuleCleanup {
  const lines = rulesText.split('\n');
  const declared = new Set(lines.filter((l) => l.startsWith('-N ')).map((l) => l.slice(3).trim()));
  if (!declared.has('CNI-HOSTPORT-DNAT')) return { deletes: [], chains: [] };
  if (lines.some((l) => l.startsWith('-A CNI-HOSTPORT-DNAT '))) return { deletes: [], chains: [] };
  const ours = HOSTPORT_CHAINS.filter((c) => declared.has(c));
  const deletes: string[][] = [];
  for (const rule of lines) {
    if (!rule.startsWith('-A ')) continue;
    const args = splitRule(rule);
    if (ours.includes(args[1] ?? '')) continue; // flushed with the chain
    const target = args.includes('-j') ? args[args.indexOf('-j') + 1] : undefined;
    if (!target || !ours.includes(target)) continue;
    args[0] = '-D';
    deletes.push(args);
  }
  return { deletes, chains: ours };
}

/**
 * The socket a containerd 1.6 shim listens on: /run/containerd/s/<sha256(address/ns/id)>
 * (shim.SocketAddress, with containerd's own gRPC address).
 */
export function shimSocketPath(address: string, ns: string, id: string): string {
  return join(
    SHIM_SOCKET_DIR,
    createHash('sha256')
      .update(join(address, ns, id))
      .digest('hex'),
  );
}

/** A shim's socket from its argv (`-namespace NS -id ID -address ADDR`), if it has those flags. */
export function shimSocketFromArgv(argv: string[]): string | undefined {
  const arg = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const [ns, id, address] = [arg('-namespace'), arg('-id'), arg('-address')];
  return ns && id && address ? shimSocketPath(address, ns, id) : undefined;
}

/**
 * libcni's cached results of `network` among a results dir's file names (`<network>-<id>-<ifname>`),
 * and those of containerd's loopback network (`cni-loopback-<id>-lo`) for the same sandboxes and
 * for `sandboxIds`.
 */
export function cachedResultsOf(
  names: string[],
  network: string,
  sandboxIds: Iterable<string> = [],
): string[] {
  const re = new RegExp(`^${network.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-([0-9a-f]{64})-[^/]+$`);
  const ids = new Set(sandboxIds);
  const out: string[] = [];
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    out.push(name);
    ids.add(m[1] as string);
  }
  for (const name of names) {
    const m = /^cni-loopback-([0-9a-f]{64})-[^/]+$/.exec(name);
    if (m && ids.has(m[1] as string) && network !== 'cni-loopback') out.push(name);
  }
  return out;
}

/** Where things are, as far as the clean-up knows. */
export interface NodeFacts {
  node: NodeRecord;
  /** Whether the socket is our own containerd's (false: an external runtime, left alone). */
  ownContainerd: boolean;
  /** host-local's lease dir parent (the conflist's ipam.dataDir, default <cniStateDir>/networks). */
  ipamDataDir: string;
}

/**
 * Reads what the node made: `overrides`, else DIR/agent/node.json, else the conflist in
 * containerd's CNI conf_dir, else the defaults.
 */
export async function readNodeFacts(
  dataDir: string,
  overrides: Partial<NodeRecord> = {},
  cniStateDir = DEFAULT_CNI_STATE_DIR,
  cniConfDir?: string,
): Promise<NodeFacts> {
  const paths = containerdPaths(dataDir, cniConfDir);
  let record: Partial<NodeRecord> = {};
  try {
    record = JSON.parse(await readFile(join(dataDir, 'agent', 'node.json'), 'utf8')) as Partial<NodeRecord>;
  } catch {
    // never written (no kubelet ran) or already removed
  }
  let conflist: {
    name?: unknown;
    plugins?: { type?: unknown; bridge?: unknown; ipam?: { dataDir?: unknown } }[];
  } = {};
  try {
    conflist = JSON.parse(await readFile(join(paths.cniConfDir, CNI_CONFLIST_NAME), 'utf8'));
  } catch {
    // no pod network configured yet
  }
  const bridgePlugin = Array.isArray(conflist.plugins)
    ? conflist.plugins.find((p) => p?.type === 'bridge')
    : undefined;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const node: NodeRecord = {
    nodeName: overrides.nodeName ?? str(record.nodeName) ?? '',
    cniBridge: overrides.cniBridge ?? str(record.cniBridge) ?? str(bridgePlugin?.bridge) ?? 'cni0',
    cniNetwork: overrides.cniNetwork ?? str(record.cniNetwork) ?? str(conflist.name) ?? 'skiff',
    cgroupRoot: overrides.cgroupRoot ?? str(record.cgroupRoot) ?? 'skiff',
    socket: overrides.socket ?? str(record.socket) ?? paths.socket,
  };
  return {
    node,
    ownContainerd: resolve(node.socket.replace(/^unix:\/\//, '')) === resolve(paths.socket),
    ipamDataDir: str(bridgePlugin?.ipam?.dataDir) ?? join(cniStateDir, 'networks'),
  };
}

/** A cgroup root name safe to remove: relative, no `..`, not empty. */
export function safeCgroupRoot(root: string): string | undefined {
  const clean = root.replace(/^\/+|\/+$/g, '');
  if (!clean || clean.split('/').some((p) => p === '..' || p === '.' || p === '')) return undefined;
  return clean;
}

// ---------------------------------------------------------------------------------------------
// Host inspection
// ---------------------------------------------------------------------------------------------

/** Processes (other than this one) whose argv contains `needle` as a whole argument. */
export async function processesMentioning(needle: string): Promise<{ pid: number; argv: string[] }[]> {
  const found: { pid: number; argv: string[] }[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (argv.includes(needle)) found.push({ pid: Number(entry), argv });
    } catch {
      // gone
    }
  }
  return found;
}

/** The tasks (namespace, id, init pid; 0 when unknown) whose bundles are in containerd's state dir. */
export async function tasksIn(stateDir: string): Promise<{ ns: string; id: string; pid: number }[]> {
  const base = join(stateDir, 'io.containerd.runtime.v2.task');
  const tasks: { ns: string; id: string; pid: number }[] = [];
  for (const ns of await readdir(base).catch(() => [] as string[])) {
    for (const id of await readdir(join(base, ns)).catch(() => [] as string[])) {
      const pid = Number.parseInt(await readFile(join(base, ns, id, 'init.pid'), 'utf8').catch(() => ''), 10);
      tasks.push({ ns, id, pid: Number.isInteger(pid) ? pid : 0 });
    }
  }
  return tasks;
}

/** A container in runc's state: its init process and that process's start time (clock ticks). */
export interface RuncContainer {
  ns: string;
  id: string;
  pid: number;
  start: number;
}

/** A process's start time in clock ticks since boot (/proc/<pid>/stat field 22), if it exists. */
export async function processStart(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/**
 * The containers runc knows (its state in `runcRoot`/<ns>/<id>/state.json, shared by every
 * containerd on the machine) whose bundle is in containerd's state dir `stateDir`: found even when
 * the bundle, its shim or containerd is gone.
 */
export async function runcContainersUnder(stateDir: string, runcRoot = RUNC_ROOT): Promise<RuncContainer[]> {
  const found: RuncContainer[] = [];
  const prefix = `${stateDir.replace(/\/+$/, '')}/`;
  for (const ns of await readdir(runcRoot).catch(() => [] as string[])) {
    for (const id of await readdir(join(runcRoot, ns)).catch(() => [] as string[])) {
      try {
        const state = JSON.parse(await readFile(join(runcRoot, ns, id, 'state.json'), 'utf8')) as {
          init_process_pid?: number;
          init_process_start?: number;
          config?: { rootfs?: string; labels?: string[] };
        };
        const bundle = state.config?.labels?.find((l) => l.startsWith('bundle='))?.slice('bundle='.length);
        if (!`${bundle ?? state.config?.rootfs ?? ''}`.startsWith(prefix)) continue;
        found.push({ ns, id, pid: state.init_process_pid ?? 0, start: state.init_process_start ?? 0 });
      } catch {
        // not a container dir, or gone
      }
    }
  }
  return found;
}

/** Mount points at or under `dir`, deepest first (this process's mount namespace). */
export async function mountsUnder(dir: string): Promise<string[]> {
  try {
    return mountPointsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir);
  } catch {
    return [];
  }
}

function kill(pid: number): boolean {
  if (pid <= 1 || pid === process.pid) return false;
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false; // already gone
  }
}

function message(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e?.stderr?.trim() || e?.message || String(err)).split('\n')[0] ?? '';
}

// ---------------------------------------------------------------------------------------------
// uninstallNode
// ---------------------------------------------------------------------------------------------

/** Removes everything the node on `dataDir` made; see the file comment. Never throws. */
export async function uninstallNode(opts: UninstallOptions): Promise<UninstallSummary> {
  const log = opts.logger ?? silentLogger;
  const exec = opts.exec ?? execCommand;
  const cniStateDir = opts.cniStateDir ?? DEFAULT_CNI_STATE_DIR;
  const dataDir = resolve(opts.dataDir);
  const t0 = performance.now();
  const facts = await readNodeFacts(dataDir, opts.node, cniStateDir, opts.supervisor?.paths.cniConfDir);
  const { node } = facts;
  const paths = opts.supervisor?.paths ?? containerdPaths(dataDir);
  const socket = node.socket.replace(/^unix:\/\//, '');
  const s: UninstallSummary = {
    node,
    sandboxes: [],
    tasks: [],
    processes: [],
    mounts: [],
    bridge: false,
    iptables: { rules: 0, chains: [] },
    proxy: undefined,
    cgroups: [],
    paths: [],
    dataRemoved: false,
    problems: [],
  };
  const problem = (what: string, err?: unknown) => {
    const text = err === undefined ? what : `${what}: ${message(err)}`;
    s.problems.push(text);
    log.warn(text);
  };
  const removePath = async (path: string, recursive = false) => {
    if (!(await exists(path))) return;
    try {
      await rm(path, { recursive, force: true, maxRetries: 3 });
      s.paths.push(path);
      log.debug({ path }, 'removed');
    } catch (err) {
      problem(`removing ${path}`, err);
    }
  };

  // 1. Pods, through the CRI.
  const staleSockets = new Set<string>();
  if (!facts.ownContainerd) {
    log.warn(
      { socket },
      'the node used an external container runtime; its containers are left alone (remove them with its own tools)',
    );
  } else {
    let sup = opts.supervisor;
    let running = sup?.pid !== undefined;
    if (!sup && (await exists(paths.root))) {
      sup = new ContainerdSupervisor({ dataDir, logger: log, readyTimeoutMs: opts.readyTimeoutMs ?? 15_000 });
      try {
        await sup.start();
        running = true;
      } catch (err) {
        problem('starting containerd to remove the pods', err);
      }
    }
    if (sup && running) {
      const cri = createCriRuntime(socket, { timeoutMs: 60_000 });
      try {
        const ids = await removeSandboxes(
          cri,
          await exists(join(paths.cniConfDir, CNI_CONFLIST_NAME)),
          problem,
        );
        s.sandboxes.push(...ids);
        for (const id of ids) staleSockets.add(shimSocketPath(socket, 'k8s.io', id));
      } finally {
        cri.close();
      }
    }
    if (sup) await sup.stop().catch((err: unknown) => problem('stopping containerd', err));
  }

  // 2. What the CRI could not remove.
  if (facts.ownContainerd) {
    // Task bundles in the state dir, and runc's containers with a bundle there (even when the
    // bundle is gone). A pid is only killed when its start time is runc's (never a reused pid).
    const tasks = new Map<string, RuncContainer>();
    for (const task of await tasksIn(paths.state))
      tasks.set(`${task.ns}/${task.id}`, { ...task, pid: 0, start: 0 });
    for (const c of await runcContainersUnder(paths.state)) tasks.set(`${c.ns}/${c.id}`, c);
    for (const task of tasks.values()) {
      await exec('runc', ['--root', join(RUNC_ROOT, task.ns), 'delete', '--force', task.id]).catch(() => {});
      if (task.pid > 1 && task.start > 0 && (await processStart(task.pid)) === task.start && kill(task.pid))
        s.processes.push(task.pid);
      s.tasks.push(`${task.ns}/${task.id}`);
      staleSockets.add(shimSocketPath(socket, task.ns, task.id));
      await removePath(join(RUNC_ROOT, task.ns, task.id), true);
    }
    for (const needle of [socket, paths.configFile]) {
      for (const { pid, argv } of await processesMentioning(needle)) {
        if (kill(pid)) s.processes.push(pid);
        const shim = shimSocketFromArgv(argv);
        if (shim) staleSockets.add(shim);
      }
    }
    // No shim of this containerd is left alive, so any socket named after its address is stale (a
    // shim exiting while containerd stops leaves its socket behind).
    for (const path of staleSockets) await removePath(path);
    await removePath(paths.pidFile);
  }

  // 3. Mounts, deepest first.
  const socketDir = dirname(socket);
  const ownSocketDir = facts.ownContainerd && socketDir !== dataDir && !socketDir.startsWith(`${dataDir}/`);
  for (const dir of ownSocketDir ? [dataDir, socketDir] : [dataDir]) {
    for (const mount of await mountsUnder(dir)) {
      try {
        await exec('umount', ['-l', mount]);
        s.mounts.push(mount);
        log.debug({ mount }, 'unmounted');
      } catch (err) {
        problem(`unmounting ${mount}`, err);
      }
    }
  }

  // 4. The network.
  try {
    await exec('ip', ['link', 'show', 'dev', node.cniBridge]);
    try {
      await exec('ip', ['link', 'delete', 'dev', node.cniBridge]);
      s.bridge = true;
      log.debug({ bridge: node.cniBridge }, 'bridge removed');
    } catch (err) {
      problem(`removing bridge ${node.cniBridge}`, err);
    }
  } catch {
    // no such bridge
  }
  await removePath(join(facts.ipamDataDir, node.cniNetwork), true);
  const results = join(cniStateDir, 'results');
  const ids = [...s.sandboxes, ...s.tasks.map((t) => t.slice(t.indexOf('/') + 1))];
  for (const name of cachedResultsOf(
    await readdir(results).catch(() => [] as string[]),
    node.cniNetwork,
    ids,
  )) {
    await removePath(join(results, name));
  }
  for (const iptables of ['iptables', 'ip6tables']) {
    await removeNatRules(exec, iptables, node.cniNetwork, opts.sharedCniChains ?? true, s, problem);
  }
  if (opts.proxyRules !== false) {
    try {
      s.proxy = await cleanupRules(opts.proxyRules ?? new ExecIptablesRunner());
    } catch (err) {
      problem("removing kube-proxy's rules", err);
    }
    const nft = opts.proxyNft ?? (opts.proxyRules === undefined ? new ExecNftRunner() : undefined);
    if (nft) {
      try {
        const r = await cleanupNftables(nft);
        if (r.table) s.proxy = { jumps: s.proxy?.jumps ?? 0, chains: (s.proxy?.chains ?? 0) + r.chains };
      } catch (err) {
        problem("removing kube-proxy's nftables table", err);
      }
    }
  }
  if (opts.podNetwork !== false) {
    s.podNetwork = await cleanupPodNetwork({ dataDir, exec, logger: log });
    for (const p of s.podNetwork.problems) s.problems.push(p);
  }

  // 5. Pod cgroups.
  if (opts.cgroups ?? true) {
    const root = safeCgroupRoot(node.cgroupRoot);
    if (!root) {
      problem(`not removing cgroup root ${JSON.stringify(node.cgroupRoot)}: not a sub-tree`);
    } else {
      try {
        for (const h of (await detectCgroups()).hierarchies) {
          const dir = join(h.mount, root);
          if (!(await exists(dir))) continue;
          try {
            await removeTree(dir, { busyTimeoutMs: 5000 });
            s.cgroups.push(dir);
          } catch (err) {
            problem(`removing cgroup ${dir}`, err);
          }
        }
      } catch (err) {
        problem('reading the cgroup hierarchies', err);
      }
    }
  }

  // 6. The data.
  if (ownSocketDir) {
    await removePath(socketDir, true);
    if (socketDir.startsWith('/run/skiff/')) await rmdir('/run/skiff').catch(() => {});
  }
  if (opts.removeData ?? true) {
    const left = await mountsUnder(dataDir);
    if (left.length > 0) {
      problem(`not removing ${dataDir}: still mounted under it: ${left.join(', ')}`);
    } else if (await exists(dataDir)) {
      try {
        await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
        s.dataRemoved = true;
        s.paths.push(dataDir);
      } catch (err) {
        problem(`removing ${dataDir}`, err);
      }
    }
  }

  log.info(
    {
      dataDir,
      sandboxes: s.sandboxes.length,
      tasks: s.tasks.length,
      processes: s.processes.length,
      mounts: s.mounts.length,
      bridge: s.bridge ? node.cniBridge : undefined,
      iptablesRules: s.iptables.rules,
      iptablesChains: s.iptables.chains.length,
      proxyChains: s.proxy?.chains,
      cgroups: s.cgroups.length,
      dataRemoved: s.dataRemoved,
      problems: s.problems.length,
      ms: Math.round(performance.now() - t0),
    },
    s.problems.length ? 'uninstalled, with problems' : 'uninstalled',
  );
  return s;
}

/** Waits for NetworkReady (CNI DEL needs the network config loaded), then removes every sandbox. */
async function removeSandboxes(
  cri: CriRuntime,
  hasNetwork: boolean,
  problem: (what: string, err?: unknown) => void,
): Promise<string[]> {
  if (hasNetwork) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const conds = await cri.status().catch(() => []);
      if (conds.some((c) => c.type === 'NetworkReady' && c.status)) break;
      if (Date.now() > deadline) {
        problem('containerd did not load the CNI config in 10 s; pod networks may not be released');
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let sandboxes: string[];
  try {
    sandboxes = (await cri.listPodSandbox()).map((p) => p.id);
  } catch (err) {
    problem('listing pod sandboxes', err);
    return [];
  }
  const removed: string[] = [];
  const queue = [...sandboxes];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        await cri.stopPodSandbox(id);
        await cri.removePodSandbox(id);
        removed.push(id);
      } catch (err) {
        problem(`removing pod sandbox ${id.slice(0, 12)}`, err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, sandboxes.length) }, worker));
  return removed;
}

/** Deletes the nat rules and chains of `network`, then portmap's shared chains if unused. */
async function removeNatRules(
  exec: CommandRunner,
  iptables: string,
  network: string,
  shared: boolean,
  s: UninstallSummary,
  problem: (what: string, err?: unknown) => void,
): Promise<void> {
  const list = () => exec(iptables, ['-w', '-t', 'nat', '-S']);
  let text: string;
  try {
    text = await list();
  } catch {
    return; // no such command or table
  }
  const apply = async (cleanup: RuleCleanup) => {
    for (const args of cleanup.deletes) {
      try {
        await exec(iptables, ['-w', '-t', 'nat', ...args]);
        s.iptables.rules++;
      } catch (err) {
        problem(`${iptables} -t nat ${args.join(' ')}`, err);
      }
    }
    for (const chain of cleanup.chains) {
      try {
        await exec(iptables, ['-w', '-t', 'nat', '-F', chain]);
        await exec(iptables, ['-w', '-t', 'nat', '-X', chain]);
        s.iptables.chains.push(chain);
      } catch (err) {
        problem(`${iptables} -t nat -X ${chain}`, err);
      }
    }
  };
  await apply(cniRuleCleanup(text, network));
  if (!shared) return;
  try {
    text = await list();
  } catch {
    return;
  }
  await apply(sharedHostportCleanup(text));
}
