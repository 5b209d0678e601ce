/**
 * A node and its pods made of network namespaces, for the proxy's e2e test and benchmark (root
 * only). Everything lives in namespaces named `skiffpx-<tag>-*` and is created from inside them, so
 * the host's own interfaces and iptables are never touched:
 *
 * - `<prefix>node`: the node. A bridge `spxbr0` with the pods' gateway (`.1` of the pod subnet),
 *   forwarding on, bridged traffic through iptables (br_netfilter), and an "uplink" veth to
 *   `<prefix>ext` carrying the node IP.
 * - `<prefix>ext`: a host outside the cluster on the node's link (for NodePort tests).
 * - `<prefix>p<i>`: pods, each a veth (hairpin on, so a pod can reach itself through a Service) on
 *   the node's bridge.
 *
 * {@link NetLab.destroy} kills the processes it started and deletes the namespaces (their veths and
 * bridge go with them); {@link destroyLabs} removes leftovers of a crashed run by name.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Why netns tests cannot run here, or null. */
export function netlabSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  return null;
}

async function sh(...argv: string[]): Promise<string> {
  const { stdout } = await exec(argv[0]!, argv.slice(1));
  return stdout;
}

export interface NetLabOptions {
  /** Short tag making the names unique: namespaces `skiffpx-<tag>-*`. */
  tag: string;
  /** Number of pods. */
  pods: number;
  /** First three octets of the pod subnet /24 (default 10.99.0): gateway .1, pods .10, .11, ... */
  podNet?: string;
  /** First three octets of the node's uplink /24 (default 192.168.77): node .1, ext .2. */
  linkNet?: string;
}

export interface Pod {
  netns: string;
  ip: string;
}

/** A running TCP server in a namespace. */
export interface Server {
  proc: ChildProcess;
}

/**
 * Answers every connection with `reply` and a newline, then closes it; listens on each port of a
 * comma-separated list, and prints "listening" once it listens on all of them.
 */
const SERVER_SCRIPT = `
const net = require('node:net');
const [ports, reply] = process.argv.slice(1);
const list = ports.split(',').map(Number);
let left = list.length;
for (const port of list) {
  net.createServer((s) => { s.on('error', () => {}); s.end(reply + '\\n'); })
    .listen(port, '0.0.0.0', () => { if (--left === 0) process.stdout.write('listening\\n'); });
}
`;

/** Opens `n` connections one after the other, prints a JSON array of what each got (or ERR:code). */
const PROBE_SCRIPT = `
const net = require('node:net');
const [host, port, n, timeout] = process.argv.slice(1);
const one = () => new Promise((resolve) => {
  let data = '';
  const s = net.connect({ host, port: Number(port) });
  const t = setTimeout(() => { s.destroy(); resolve('ERR:TIMEOUT'); }, Number(timeout));
  s.on('data', (d) => (data += d));
  s.on('end', () => { clearTimeout(t); resolve(data.trim()); });
  s.on('error', (e) => { clearTimeout(t); resolve('ERR:' + (e.code || e.message)); });
});
(async () => { const out = []; for (let i = 0; i < Number(n); i++) out.push(await one()); console.log(JSON.stringify(out)); })();
`;

export class NetLab {
  readonly prefix: string;
  readonly nodeNs: string;
  readonly extNs: string;
  readonly podNet: string;
  readonly gateway: string;
  readonly nodeIP: string;
  readonly extIP: string;
  readonly pods: Pod[] = [];
  readonly #procs: ChildProcess[] = [];
  readonly #namespaces: string[] = [];

  private constructor(o: NetLabOptions) {
    this.prefix = `skiffpx-${o.tag}-`;
    this.nodeNs = `${this.prefix}node`;
    this.extNs = `${this.prefix}ext`;
    this.podNet = o.podNet ?? '10.99.0';
    this.gateway = `${this.podNet}.1`;
    const link = o.linkNet ?? '192.168.77';
    this.nodeIP = `${link}.1`;
    this.extIP = `${link}.2`;
  }

  /** Builds the namespaces; on failure removes what it made and rethrows. */
  static async create(o: NetLabOptions): Promise<NetLab> {
    const lab = new NetLab(o);
    try {
      await lab.#build(o.pods);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  async #addNs(name: string): Promise<void> {
    await sh('ip', 'netns', 'add', name);
    this.#namespaces.push(name);
    await sh('ip', '-n', name, 'link', 'set', 'lo', 'up');
  }

  async #build(pods: number): Promise<void> {
    const n = this.nodeNs;
    await this.#addNs(n);
    await this.#addNs(this.extNs);
    await sh('ip', 'netns', 'exec', n, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    await sh('ip', 'netns', 'exec', n, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1');
    await sh('ip', '-n', n, 'link', 'add', 'spxbr0', 'type', 'bridge');
    await sh('ip', '-n', n, 'addr', 'add', `${this.gateway}/24`, 'dev', 'spxbr0');
    await sh('ip', '-n', n, 'link', 'set', 'spxbr0', 'up');
    // The uplink to the "outside" host.
    await sh(
      'ip',
      '-n',
      n,
      'link',
      'add',
      'uplink',
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      this.extNs,
    );
    await sh('ip', '-n', n, 'addr', 'add', `${this.nodeIP}/24`, 'dev', 'uplink');
    await sh('ip', '-n', n, 'link', 'set', 'uplink', 'up');
    await sh('ip', '-n', this.extNs, 'addr', 'add', `${this.extIP}/24`, 'dev', 'eth0');
    await sh('ip', '-n', this.extNs, 'link', 'set', 'eth0', 'up');
    for (let i = 0; i < pods; i++) {
      const ns = `${this.prefix}p${i}`;
      const ip = `${this.podNet}.${10 + i}`;
      const host = `vpod${i}`;
      await this.#addNs(ns);
      await sh('ip', '-n', n, 'link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await sh('ip', '-n', n, 'link', 'set', host, 'master', 'spxbr0');
      await sh('ip', '-n', n, 'link', 'set', host, 'type', 'bridge_slave', 'hairpin', 'on');
      await sh('ip', '-n', n, 'link', 'set', host, 'up');
      await sh('ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
      await sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
      await sh('ip', '-n', ns, 'route', 'add', 'default', 'via', this.gateway);
      this.pods.push({ netns: ns, ip });
    }
  }

  /**
   * Starts a TCP server in `netns` answering `reply` on `port` (or on each of several ports, one
   * process); resolves once it listens.
   */
  async serve(netns: string, port: number | number[], reply: string): Promise<Server> {
    const ports = (Array.isArray(port) ? port : [port]).join(',');
    const proc = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', SERVER_SCRIPT, ports, reply], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.#procs.push(proc);
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.once('data', () => resolve());
      proc.once('exit', (code) => reject(new Error(`server in ${netns} exited (${code})`)));
    });
    return { proc };
  }

  /** Connects `n` times from `netns` to host:port; what each connection got, or ERR:<code>. */
  async probe(netns: string, host: string, port: number, n = 1, timeoutMs = 2000): Promise<string[]> {
    const out = await sh(
      'ip',
      'netns',
      'exec',
      netns,
      process.execPath,
      '-e',
      PROBE_SCRIPT,
      host,
      String(port),
      String(n),
      String(timeoutMs),
    );
    return JSON.parse(out) as string[];
  }

  /** Spawns a process in `netns` that destroy() kills. */
  spawn(netns: string, argv: string[]): ChildProcess {
    const proc = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#procs.push(proc);
    return proc;
  }

  /** Kills the servers it started and deletes its namespaces. Idempotent. */
  async destroy(): Promise<void> {
    for (const p of this.#procs.splice(0)) {
      if (p.exitCode === null && p.signalCode === null) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGKILL');
        await gone;
      }
    }
    for (const ns of this.#namespaces.splice(0).reverse()) {
      await sh('ip', 'netns', 'del', ns).catch(() => {});
    }
  }
}

/** Deletes namespaces named `skiffpx-<tag>-*` (leftovers of a crashed run with that tag). */
export async function destroyLabs(tag: string): Promise<void> {
  const list = await sh('ip', 'netns', 'list').catch(() => '');
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(`skiffpx-${tag}-`)) await sh('ip', 'netns', 'del', name).catch(() => {});
  }
}
