/** A fake machine for node tests: files, statfs results and interfaces as given. */
import type os from 'node:os';
import type { FsStats, HostReader } from './host.ts';

export interface FakeHostOptions {
  files?: Record<string, string>;
  fs?: Record<string, FsStats>;
  devices?: Record<string, number>;
  cpus?: number;
  arch?: string;
  interfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

export const GiB = 1024 ** 3;

/** A 2-core, 24 GiB amd64 machine with a 100 GiB disk on eth0 10.0.0.5, unless told otherwise. */
export function fakeHost(
  opts: FakeHostOptions = {},
): HostReader & { files: Record<string, string>; fs: Record<string, FsStats> } {
  const files: Record<string, string> = {
    '/proc/meminfo':
      'MemTotal:       25165824 kB\nMemFree:         1000000 kB\nMemAvailable:   20971520 kB\n',
    '/etc/machine-id': '0123456789abcdef0123456789abcdef\n',
    '/sys/class/dmi/id/product_uuid': 'EC2A1B2C-0000-1111-2222-333344445555\n',
    '/proc/sys/kernel/random/boot_id': 'b0b0b0b0-1111-2222-3333-444455556666\n',
    '/etc/os-release': 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
    '/proc/net/route':
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
      'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n' +
      'eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n',
    ...opts.files,
  };
  const fs: Record<string, FsStats> = {
    '/var/lib/skiff': {
      capacityBytes: 100 * GiB,
      availableBytes: 60 * GiB,
      inodes: 6_553_600,
      inodesFree: 6_000_000,
    },
    ...opts.fs,
  };
  const interfaces = opts.interfaces ?? {
    lo: [
      {
        address: '127.0.0.1',
        netmask: '255.0.0.0',
        family: 'IPv4',
        mac: '00:00:00:00:00:00',
        internal: true,
        cidr: '127.0.0.1/8',
      },
    ],
    docker0: [
      {
        address: '172.17.0.1',
        netmask: '255.255.0.0',
        family: 'IPv4',
        mac: '02:42:00:00:00:01',
        internal: false,
        cidr: '172.17.0.1/16',
      },
    ],
    eth0: [
      {
        address: 'fe80::1',
        netmask: 'ffff:ffff:ffff:ffff::',
        family: 'IPv6',
        mac: '02:00:00:00:00:05',
        internal: false,
        cidr: 'fe80::1/64',
        scopeid: 2,
      },
      {
        address: '10.0.0.5',
        netmask: '255.255.255.0',
        family: 'IPv4',
        mac: '02:00:00:00:00:05',
        internal: false,
        cidr: '10.0.0.5/24',
      },
    ],
  };
  return {
    files,
    fs,
    async readFile(path) {
      const v = files[path];
      if (v === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return v;
    },
    async statfs(path) {
      const v = fs[path];
      if (!v) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return { ...v };
    },
    async device(path) {
      return opts.devices?.[path] ?? 1;
    },
    hostname: () => 'node-a',
    kernelRelease: () => '6.1.0-13-amd64',
    arch: () => opts.arch ?? 'x64',
    cpuCount: () => opts.cpus ?? 2,
    networkInterfaces: () => interfaces,
  };
}
