/**
 * `skiff uninstall`: removes everything skiff made on this machine (like k3s-uninstall.sh) —
 * containers, mounts, the pod network, iptables rules, pod cgroups and the data dir. The work is
 * src/kubelet/runtime/cleanup.ts; this checks that no skiff server or agent still runs on the data
 * dir, runs it and prints what was removed.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type UninstallSummary, uninstallNode } from '../kubelet/runtime/cleanup.ts';
import { createLogger } from '../util/log.ts';
import { DEFAULT_DATA_DIR } from './defaults.ts';

export const uninstallHelp = `Usage: skiff uninstall [flags]

Removes everything skiff made on this machine: every pod's containers (stopped and removed through
containerd, so their IPs, veths, netns and port mappings are released), the containerd skiff runs
and any shim or container process left from it, every mount under the data dir, the CNI bridge,
host-local's IP leases and libcni's cached results, the routes to other nodes' pods, the pod
network's and kube-proxy's iptables rules, the pod cgroups, and finally the data dir (datastore,
certificates, images).

Stop 'skiff server' and 'skiff agent' first: uninstall refuses to run while one uses the data dir.
Needs root.

Flags:
  --data-dir DIR   skiff's data dir (default ${DEFAULT_DATA_DIR})
  --keep-data      keep the data dir (datastore, certificates, images); remove everything else
  -h, --help       show this help`;

/** A skiff server/agent process and the data dir it runs on. */
export interface SkiffProcess {
  pid: number;
  command: string;
  dataDir: string;
}

/**
 * The skiff command and data dir of a process's argv, if it is `skiff server` or `skiff agent`
 * (bin/skiff runs `node …/src/cli/main.ts COMMAND …`). A relative --data-dir is resolved against
 * `cwd`.
 */
export function skiffCommandOf(argv: string[], cwd = '/'): { command: string; dataDir: string } | undefined {
  // node [node flags] …/src/cli/main.ts COMMAND, or a skiff executable.
  const i = argv.findIndex(
    (a, n) =>
      (n < 4 && (a.endsWith('/src/cli/main.ts') || a === 'src/cli/main.ts')) ||
      (n === 0 && basename(a) === 'skiff'),
  );
  if (i < 0) return undefined;
  const command = argv[i + 1];
  if (command !== 'server' && command !== 'agent') return undefined;
  let dataDir = DEFAULT_DATA_DIR;
  for (let j = i + 2; j < argv.length; j++) {
    const a = argv[j] as string;
    if (a === '--') break;
    if (a === '--data-dir' && argv[j + 1] !== undefined) dataDir = argv[j + 1] as string;
    else if (a.startsWith('--data-dir=')) dataDir = a.slice('--data-dir='.length);
  }
  return { command, dataDir: resolve(cwd, dataDir) };
}

/** Running `skiff server`/`skiff agent` processes using `dataDir` (from /proc). */
export async function skiffProcessesUsing(dataDir: string, proc = '/proc'): Promise<SkiffProcess[]> {
  const want = resolve(dataDir);
  const found: SkiffProcess[] = [];
  for (const entry of await readdir(proc).catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = (await readFile(`${proc}/${entry}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
      const cwd = await readlink(`${proc}/${entry}/cwd`).catch(() => '/');
      const cmd = skiffCommandOf(argv, cwd);
      if (cmd && cmd.dataDir === want) found.push({ pid: Number(entry), ...cmd });
    } catch {
      // gone
    }
  }
  return found;
}

/** What was removed, for people. */
export function describeSummary(s: UninstallSummary, dataDir: string): string[] {
  const lines: string[] = [];
  const n = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
  if (s.sandboxes.length) lines.push(`removed ${n(s.sandboxes.length, 'pod sandbox', 'pod sandboxes')}`);
  if (s.tasks.length) lines.push(`force-deleted ${n(s.tasks.length, 'leftover container')}`);
  if (s.processes.length)
    lines.push(`killed ${n(s.processes.length, 'leftover process', 'leftover processes')}`);
  if (s.mounts.length) lines.push(`unmounted ${n(s.mounts.length, 'mount')}`);
  if (s.bridge) lines.push(`removed bridge ${s.node.cniBridge}`);
  if (s.iptables.rules || s.iptables.chains.length)
    lines.push(
      `removed ${n(s.iptables.rules, 'iptables rule')} and ${n(s.iptables.chains.length, 'chain')} of the pod network`,
    );
  if (s.proxy && (s.proxy.chains || s.proxy.jumps))
    lines.push(`removed kube-proxy's ${n(s.proxy.chains, 'chain')} and ${n(s.proxy.jumps, 'jump')}`);
  if (s.podNetwork && (s.podNetwork.routes.length || s.podNetwork.chains.length))
    lines.push(
      `removed ${n(s.podNetwork.routes.length, 'route')} to other nodes' pods and ${n(s.podNetwork.chains.length, 'chain')} of the pod network`,
    );
  if (s.cgroups.length) lines.push(`removed the pod cgroups (${s.cgroups.length} hierarchies)`);
  if (s.dataRemoved) lines.push(`removed ${dataDir}`);
  if (lines.length === 0) lines.push('nothing to remove');
  for (const p of s.problems) lines.push(`could not clean up: ${p}`);
  return lines;
}

export async function runUninstall(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      'keep-data': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const dataDir = resolve(values['data-dir']);
  if (process.getuid?.() !== 0) {
    process.stderr.write('skiff uninstall: must run as root\n');
    return 1;
  }
  if (dataDir === '/') throw new Error('--data-dir must not be /');
  const running = await skiffProcessesUsing(dataDir);
  if (running.length > 0) {
    for (const p of running)
      process.stderr.write(
        `skiff uninstall: skiff ${p.command} (pid ${p.pid}) is running on ${dataDir}; stop it first\n`,
      );
    return 1;
  }
  const log = createLogger('skiff');
  const summary = await uninstallNode({ dataDir, logger: log, removeData: !values['keep-data'] });
  for (const line of describeSummary(summary, dataDir)) process.stdout.write(`${line}\n`);
  return summary.problems.length ? 1 : 0;
}
