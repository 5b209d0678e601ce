/**
 * Test helper: "hosts" made from network namespaces on this machine, for multi-node tests. Each host
 * `<prefix>N` is a network namespace joined by a veth pair (`<prefix>Nh` in the root namespace,
 * `eth0` inside) to a Linux bridge `<prefix>0` in the root namespace (`<subnet>.1/24`); host N has
 * `<subnet>.(10+N)/24`, loopback up and a default route via the bridge. Hosts reach each other, and
 * the root namespace (where the test's `skiff server` listens), over that bridge.
 *
 * Each host runs one `skiff agent` (with its own containerd) inside its network namespace. Processes
 * enter only the network namespace (`nsenter --net`), not a new mount namespace as `ip netns exec`
 * would: containerd's mounts (rootfs overlays, pod netns bind mounts in /run/netns) then stay
 * visible to `skiff uninstall` run later, as on a real host.
 *
 * Everything is named with the prefix and removed by `destroy()` — by name and by PID, never by a
 * broad pattern: agents (SIGTERM, then SIGKILL), `skiff uninstall` inside each host, processes still
 * in a host's namespace (`ip netns pids`), the namespaces, veths, bridge, the root FORWARD rules and
 * the data dirs. `create()` first removes leftovers of a crashed run with the same names.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SKIFF } from './cluster.ts';

const execFileAsync = promisify(execFile);

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; never throws on exit codes. */
export async function sh(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(err),
    };
  }
}

async function shOk(cmd: string, args: string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export interface Host {
  /** Namespace name, e.g. skiffmh1. */
  name: string;
  index: number;
  ip: string;
  /** The agent's data dir. */
  dataDir: string;
  nodeName: string;
  agent?: ChildProcess;
  /** The agent's stderr (JSON log lines). */
  log: string;
}

export class TestHosts {
  readonly prefix: string;
  readonly bridge: string;
  readonly gateway: string;
  readonly hosts: Host[];
  readonly baseDir: string;
  readonly #forwardRule: string[];

  private constructor(prefix: string, subnet: string, count: number) {
    this.prefix = prefix;
    this.bridge = `${prefix}0`;
    this.gateway = `${subnet}.1`;
    this.baseDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    this.hosts = Array.from({ length: count }, (_, i) => ({
      name: `${prefix}${i + 1}`,
      index: i + 1,
      ip: `${subnet}.${11 + i}`,
      dataDir: join(this.baseDir, `host${i + 1}`),
      nodeName: `${prefix}-node${i + 1}`,
      log: '',
    }));
    this.#forwardRule = [
      'FORWARD',
      '-i',
      this.bridge,
      '-o',
      this.bridge,
      '-m',
      'comment',
      '--comment',
      `${prefix} test hosts`,
      '-j',
      'ACCEPT',
    ];
  }

  /** Builds `count` hosts on `<subnet>.0/24` (e.g. subnet 10.123.0). */
  static async create(opts: { prefix: string; subnet: string; count: number }): Promise<TestHosts> {
    const t = new TestHosts(opts.prefix, opts.subnet, opts.count);
    await t.#removeNetwork(); // leftovers of a crashed run, by our names only
    try {
      await shOk('ip', ['link', 'add', t.bridge, 'type', 'bridge']);
      await shOk('ip', ['addr', 'add', `${t.gateway}/24`, 'dev', t.bridge]);
      await shOk('ip', ['link', 'set', t.bridge, 'up']);
      // Bridged frames go through the root namespace's iptables (br_netfilter): let them pass even
      // when FORWARD's policy is DROP.
      await shOk('iptables', ['-I', ...t.#forwardRule]);
      for (const h of t.hosts) {
        mkdirSync(h.dataDir, { recursive: true });
        await shOk('ip', ['netns', 'add', h.name]);
        await shOk('ip', ['link', 'add', `${h.name}h`, 'type', 'veth', 'peer', 'name', `${h.name}c`]);
        await shOk('ip', ['link', 'set', `${h.name}c`, 'netns', h.name]);
        await shOk('ip', ['link', 'set', `${h.name}h`, 'master', t.bridge, 'up']);
        const inNs = (args: string[]) => shOk('ip', ['netns', 'exec', h.name, 'ip', ...args]);
        await inNs(['link', 'set', `${h.name}c`, 'name', 'eth0']);
        await inNs(['addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
        await inNs(['link', 'set', 'eth0', 'up']);
        await inNs(['link', 'set', 'lo', 'up']);
        await inNs(['route', 'add', 'default', 'via', t.gateway]);
      }
    } catch (err) {
      await t.destroy();
      throw err;
    }
    return t;
  }

  /** argv running `cmd` inside host `h`'s network namespace (only that namespace). */
  inHost(h: Host, cmd: string, args: string[]): [string, string[]] {
    return ['nsenter', [`--net=/run/netns/${h.name}`, '--', cmd, ...args]];
  }

  /** Runs a command inside host `h`'s network namespace. */
  run(h: Host, cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
    const [c, a] = this.inHost(h, cmd, args);
    return sh(c, a, timeoutMs);
  }

  /** Starts `skiff agent` on host `h`. */
  startAgent(h: Host, args: string[]): void {
    const [cmd, argv] = this.inHost(h, SKIFF, [
      'agent',
      '--data-dir',
      h.dataDir,
      '--node-name',
      h.nodeName,
      '--node-ip',
      h.ip,
      '--kubelet-port',
      '0',
      ...args,
    ]);
    const child = spawn(cmd, argv, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SKIFF_LOG_LEVEL: process.env.SKIFF_LOG_LEVEL ?? 'info' },
    });
    child.stderr?.on('data', (d: Buffer) => {
      h.log += d.toString();
    });
    h.agent = child;
  }

  /** The PID of host `h`'s containerd (from its pid file), if running. */
  containerdPid(h: Host): number | undefined {
    try {
      const pid = Number(readFileSync(join(h.dataDir, 'agent', 'run', 'containerd.pid'), 'utf8').trim());
      return pid > 0 && existsSync(`/proc/${pid}`) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Kills host `h`'s agent and its containerd with SIGKILL, as a host crash would (pods keep running). */
  async crash(h: Host): Promise<void> {
    const ctd = this.containerdPid(h);
    const agent = h.agent;
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const exited = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGKILL');
      await exited;
    }
    if (ctd) process.kill(ctd, 'SIGKILL');
  }

  /** Stops host `h`'s agent with SIGTERM (SIGKILL after 20 s). */
  async stopAgent(h: Host): Promise<void> {
    const agent = h.agent;
    if (!agent || agent.exitCode !== null || agent.signalCode !== null) return;
    const exited = new Promise((r) => agent.once('exit', r));
    agent.kill('SIGTERM');
    const timer = setTimeout(() => agent.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }

  /** Runs `skiff uninstall` for host `h`'s node inside its namespace (stop its agent first). */
  uninstall(h: Host): Promise<RunResult> {
    return this.run(h, SKIFF, ['uninstall', '--data-dir', h.dataDir], 120_000);
  }

  /**
   * Removes everything: agents stopped, `skiff uninstall` inside each host, processes left in the
   * hosts' namespaces killed by PID, namespaces, veths, bridge, the FORWARD rule, data dirs. Never
   * throws; returns what went wrong.
   */
  async destroy(): Promise<string[]> {
    const problems: string[] = [];
    await Promise.all(this.hosts.map((h) => this.stopAgent(h).catch((e) => problems.push(String(e)))));
    for (const h of this.hosts) {
      if (!existsSync(h.dataDir) || !existsSync(`/run/netns/${h.name}`)) continue;
      const r = await this.uninstall(h);
      if (r.code !== 0)
        problems.push(`skiff uninstall on ${h.name} exited ${r.code}: ${r.stderr.slice(-2000)}`);
    }
    await this.#removeNetwork(problems);
    rmSync(this.baseDir, { recursive: true, force: true });
    return problems;
  }

  async #removeNetwork(problems: string[] = []): Promise<void> {
    for (const h of this.hosts) {
      if (!existsSync(`/run/netns/${h.name}`)) continue;
      // Whatever still runs in the namespace (the uninstall stops containerd and the pods; this is
      // the last resort): by PID, from the namespace's own process list.
      const pids = (await sh('ip', ['netns', 'pids', h.name])).stdout.split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
          problems.push(`killed process ${pid} left in ${h.name}`);
        } catch {
          // gone
        }
      }
      const r = await sh('ip', ['netns', 'del', h.name]);
      if (r.code !== 0) problems.push(`ip netns del ${h.name}: ${r.stderr}`);
    }
    for (const h of this.hosts) {
      // Gone with the namespace normally (its peer was inside).
      if ((await sh('ip', ['link', 'show', `${h.name}h`])).code === 0)
        await sh('ip', ['link', 'del', `${h.name}h`]);
    }
    if ((await sh('ip', ['link', 'show', this.bridge])).code === 0) {
      const r = await sh('ip', ['link', 'del', this.bridge]);
      if (r.code !== 0) problems.push(`ip link del ${this.bridge}: ${r.stderr}`);
    }
    while ((await sh('iptables', ['-C', ...this.#forwardRule])).code === 0) {
      const r = await sh('iptables', ['-D', ...this.#forwardRule]);
      if (r.code !== 0) {
        problems.push(`iptables -D ${this.#forwardRule.join(' ')}: ${r.stderr}`);
        break;
      }
    }
  }
}
