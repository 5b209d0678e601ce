import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCapacity } from './capacity.ts';
import {
  chooseNodeIP,
  defaultRouteInterface,
  goArch,
  machineIds,
  osImage,
  readMeminfo,
  realHost,
} from './host.ts';
import { hostSignals } from './signals.ts';
import { fakeHost, GiB } from './testing.ts';

test('Go arch names', () => {
  assert.equal(goArch('x64'), 'amd64');
  assert.equal(goArch('arm64'), 'arm64');
  assert.equal(goArch('ia32'), '386');
});

test('InternalIP: configured, else the default route interface, else the first usable one', async () => {
  const host = fakeHost();
  assert.equal(await defaultRouteInterface(host), 'eth0');
  assert.equal(await chooseNodeIP(host), '10.0.0.5');
  assert.equal(await chooseNodeIP(host, '192.168.1.9'), '192.168.1.9');
  const noRoute = fakeHost({ files: { '/proc/net/route': 'Iface\tDestination\n' } });
  assert.equal(await chooseNodeIP(noRoute), '172.17.0.1');
});

test('meminfo, os-release and ids', async () => {
  const host = fakeHost();
  assert.equal((await readMeminfo(host)).get('MemTotal'), 24 * GiB);
  assert.equal(await osImage(host), 'Debian GNU/Linux 12 (bookworm)');
  assert.equal(await osImage(fakeHost({ files: { '/etc/os-release': 'NAME=x\n' } })), 'Linux');
  const ids = await machineIds(
    fakeHost({ files: { '/sys/class/dmi/id/product_uuid': undefined as unknown as string } }),
  );
  assert.equal(ids.systemUUID, '');
  assert.equal(ids.machineID, '0123456789abcdef0123456789abcdef');
});

test('signals from a fake host: cgroup working set, statfs, pids', async () => {
  const host = fakeHost({
    files: {
      '/sys/fs/cgroup/memory/memory.usage_in_bytes': String(10 * GiB),
      '/sys/fs/cgroup/memory/memory.stat': `cache 1\ntotal_inactive_file ${2 * GiB}\n`,
      '/proc/sys/kernel/pid_max': '4194304\n',
      '/proc/sys/kernel/threads-max': '200000\n',
      '/proc/loadavg': '0.10 0.20 0.30 2/345 6789\n',
    },
    fs: {
      '/var/lib/containerd': { capacityBytes: 10 * GiB, availableBytes: 1 * GiB, inodes: 10, inodesFree: 5 },
    },
    devices: { '/var/lib/skiff': 1, '/var/lib/containerd': 2 },
  });
  const s = await hostSignals({ host, rootDir: '/var/lib/skiff', imageFsDir: '/var/lib/containerd' })();
  assert.deepEqual(s.memory, { availableBytes: 16 * GiB, workingSetBytes: 8 * GiB });
  assert.equal(s.nodefs?.availableBytes, 60 * GiB);
  assert.equal(s.imagefs?.availableBytes, 1 * GiB);
  assert.equal(s.dedicatedImageFs, true);
  assert.deepEqual(s.pid, { maxPids: 200000, processes: 345 });
  // Without the cgroup files: MemTotal − MemAvailable.
  const v2 = await hostSignals({ host: fakeHost(), rootDir: '/var/lib/skiff' })();
  assert.deepEqual(v2.memory, { availableBytes: 20 * GiB, workingSetBytes: 4 * GiB });
  assert.equal(v2.dedicatedImageFs, false);
});

test('the real host yields a plausible capacity and signals', async () => {
  const cap = await readCapacity(realHost, { rootDir: '/' });
  assert.match(cap.cpu ?? '', /^\d+$/);
  assert.match(cap.memory ?? '', /^\d+(Ki|Mi|Gi)?$/);
  assert.equal(cap.pods, '110');
  const s = await hostSignals({ host: realHost, rootDir: '/' })();
  assert.ok((s.memory?.availableBytes ?? 0) > 0);
  assert.ok((s.nodefs?.capacityBytes ?? 0) > 0);
  assert.ok((s.pid?.processes ?? 0) > 0);
});
