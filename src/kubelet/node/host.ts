/**
 * What the node agent and the eviction manager read from the host, behind one interface so tests
 * can inject a fake machine: files under /proc, /sys and /etc, statfs of a directory, the kernel
 * release, the CPU count and the network interfaces.
 */
import { readFile, stat, statfs } from 'node:fs/promises';
import os from 'node:os';

export interface FsStats {
  /** Bytes in the filesystem (f_blocks × f_bsize). */
  capacityBytes: number;
  /** Bytes available to unprivileged users (f_bavail × f_bsize). */
  availableBytes: number;
  inodes: number;
  inodesFree: number;
}

export interface HostReader {
  /** Rejects when the file is missing or unreadable. */
  readFile(path: string): Promise<string>;
  statfs(path: string): Promise<FsStats>;
  /** The device id of the filesystem holding `path` (to tell whether two dirs share one). */
  device(path: string): Promise<number>;
  hostname(): string;
  /** `uname -r`. */
  kernelRelease(): string;
  /** Node's process.arch naming ('x64', 'arm64', …). */
  arch(): string;
  cpuCount(): number;
  networkInterfaces(): NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

/** The real machine. */
export const realHost: HostReader = {
  readFile: (path) => readFile(path, 'utf8'),
  async statfs(path) {
    const s = await statfs(path);
    return {
      capacityBytes: s.blocks * s.bsize,
      availableBytes: s.bavail * s.bsize,
      inodes: s.files,
      inodesFree: s.ffree,
    };
  },
  device: async (path) => (await stat(path)).dev,
  hostname: () => os.hostname(),
  kernelRelease: () => os.release(),
  arch: () => process.arch,
  cpuCount: () => os.availableParallelism?.() ?? os.cpus().length,
  networkInterfaces: () => os.networkInterfaces(),
};

/** runtime.GOARCH for a Node.js arch name. */
export function goArch(nodeArch: string): string {
  switch (nodeArch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    case 'ppc64':
      return 'ppc64le';
    case 'mipsel':
      return 'mipsle';
    default:
      return nodeArch; // arm64, arm, s390x, riscv64, loong64, mips
  }
}

/** /proc/meminfo in bytes, by key (MemTotal, MemAvailable, …). */
export async function readMeminfo(host: HostReader): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await host.readFile('/proc/meminfo')).split('\n')) {
    const m = /^([^:]+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m?.[1] && m[2]) out.set(m[1], Number(m[2]) * (line.trimEnd().endsWith('kB') ? 1024 : 1));
  }
  return out;
}

/** Hugepage pools: page size in bytes → total bytes (nr_hugepages × size). */
export async function readHugepages(host: HostReader): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const [sizeKb, dir] of [
    [2048, 'hugepages-2048kB'],
    [1048576, 'hugepages-1048576kB'],
  ] as const) {
    let pages = 0;
    try {
      pages = Number((await host.readFile(`/sys/kernel/mm/hugepages/${dir}/nr_hugepages`)).trim()) || 0;
    } catch {
      // the pool does not exist on this kernel: 0
    }
    out.set(sizeKb * 1024, pages * sizeKb * 1024);
  }
  return out;
}

/** PRETTY_NAME from /etc/os-release (as cadvisor reports osImage); "Linux" when absent. */
export async function osImage(host: HostReader): Promise<string> {
  try {
    const text = await host.readFile('/etc/os-release');
    const m = /^PRETTY_NAME=(.*)$/m.exec(text);
    if (m?.[1]) return m[1].trim().replace(/^["']|["']$/g, '');
  } catch {
    // fall through
  }
  return 'Linux';
}

async function firstLine(host: HostReader, path: string): Promise<string> {
  try {
    return (await host.readFile(path)).trim();
  } catch {
    return '';
  }
}

export interface MachineIds {
  machineID: string;
  systemUUID: string;
  bootID: string;
}

/** machine-id (/etc/machine-id, else /var/lib/dbus/machine-id), product_uuid, boot_id. */
export async function machineIds(host: HostReader): Promise<MachineIds> {
  const machineID =
    (await firstLine(host, '/etc/machine-id')) || (await firstLine(host, '/var/lib/dbus/machine-id'));
  return {
    machineID,
    systemUUID: await firstLine(host, '/sys/class/dmi/id/product_uuid'),
    bootID: await firstLine(host, '/proc/sys/kernel/random/boot_id'),
  };
}

/** The interface of the default IPv4 route (lowest metric) from /proc/net/route. */
export async function defaultRouteInterface(host: HostReader): Promise<string | undefined> {
  let text: string;
  try {
    text = await host.readFile('/proc/net/route');
  } catch {
    return undefined;
  }
  let best: { iface: string; metric: number } | undefined;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , metric, mask] = f;
    // RTF_UP (0x1) and RTF_GATEWAY (0x2), destination and mask 0.0.0.0
    if (dest !== '00000000' || mask !== '00000000' || (Number.parseInt(flags ?? '0', 16) & 0x3) !== 0x3)
      continue;
    const m = Number(metric);
    if (!best || m < best.metric) best = { iface: iface as string, metric: m };
  }
  return best?.iface;
}

/**
 * The node's InternalIP: `configured` when given; else the first global IPv4 (then IPv6) address of
 * the default-route interface; else the first non-loopback, non-link-local address of any interface.
 */
export async function chooseNodeIP(host: HostReader, configured?: string): Promise<string | undefined> {
  if (configured && configured !== '0.0.0.0' && configured !== '::') return configured;
  const ifaces = host.networkInterfaces();
  const usable = (infos: os.NetworkInterfaceInfo[] | undefined) =>
    (infos ?? [])
      .filter((i) => !i.internal && !i.address.startsWith('fe80:') && !i.address.startsWith('169.254.'))
      .sort((a, b) => Number(a.family !== 'IPv4') - Number(b.family !== 'IPv4'));
  const dflt = await defaultRouteInterface(host);
  if (dflt) {
    const ip = usable(ifaces[dflt])[0];
    if (ip) return ip.address;
  }
  for (const name of Object.keys(ifaces).sort()) {
    const ip = usable(ifaces[name])[0];
    if (ip) return ip.address;
  }
  return undefined;
}
