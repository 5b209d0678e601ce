/**
 * PodCgroups on this machine's real cgroup filesystem, under a root owned by the test
 * (`skiff-test-<pid>`), removed at the end. Skips when not root.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { type CgroupLayout, detectCgroups, removeTree } from './cgroupfs.ts';
import { CgroupfsPodCgroups } from './pod-cgroups.ts';

const ROOT = `skiff-test-${process.pid}`;
const skip = process.getuid?.() !== 0 ? 'needs root to write cgroups' : false;
let layout: CgroupLayout;

const pod = (uid: string, containers: Container[]): Pod => ({
  metadata: { name: uid, uid },
  spec: { containers },
});
const res = (requests?: Record<string, string>, limits?: Record<string, string>): Container => ({
  name: 'c',
  resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) },
});

before(async () => {
  if (!skip) layout = await detectCgroups();
});

after(async () => {
  if (skip) return;
  for (const h of layout.hierarchies) await removeTree(join(h.mount, ROOT));
  for (const h of layout.hierarchies)
    assert.equal(existsSync(join(h.mount, ROOT)), false, `${h.mount}/${ROOT} left behind`);
});

function read(controller: string, rel: string, file: string): string {
  const h =
    layout.mode === 'v2'
      ? layout.hierarchies[0]
      : layout.hierarchies.find((x) => x.version === 1 && x.controllers.includes(controller));
  assert.ok(h, `no ${controller} hierarchy`);
  return readFileSync(join(h.mount, rel, file), 'utf8').trim();
}

test('detects the hierarchies of this machine', { skip }, () => {
  assert.ok(layout.hierarchies.length > 0);
  if (layout.mode === 'v1') {
    for (const c of ['cpu', 'memory', 'pids', 'cpuset']) {
      assert.ok(
        layout.hierarchies.some((h) => h.controllers.includes(c)),
        `${c} hierarchy found`,
      );
    }
  }
});

test('ensure lays pods out by QoS class and sets the kubelet limits', { skip }, async () => {
  const cg = new CgroupfsPodCgroups({ rootName: ROOT, layout });
  const g = { cpu: '500m', memory: '64Mi' };
  const guaranteed = pod('g-1', [res(g, g)]);
  const burstable = pod('b-1', [res({ cpu: '250m' }, { cpu: '1', memory: '32Mi' })]);
  const besteffort = pod('e-1', [res()]);

  assert.equal(await cg.ensure(guaranteed), `/${ROOT}/podg-1`);
  assert.equal(await cg.ensure(burstable), `/${ROOT}/burstable/podb-1`);
  assert.equal(await cg.ensure(besteffort), `/${ROOT}/besteffort/pode-1`);
  assert.deepEqual(await cg.list(), ['b-1', 'e-1', 'g-1']);

  if (layout.mode === 'v1') {
    assert.equal(read('cpu', `${ROOT}/podg-1`, 'cpu.shares'), '512');
    assert.equal(read('cpu', `${ROOT}/podg-1`, 'cpu.cfs_quota_us'), '50000');
    assert.equal(read('cpu', `${ROOT}/podg-1`, 'cpu.cfs_period_us'), '100000');
    assert.equal(read('memory', `${ROOT}/podg-1`, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
    assert.equal(read('cpu', `${ROOT}/burstable/podb-1`, 'cpu.shares'), '256');
    assert.equal(read('cpu', `${ROOT}/burstable/podb-1`, 'cpu.cfs_quota_us'), '100000');
    assert.equal(
      read('memory', `${ROOT}/burstable/podb-1`, 'memory.limit_in_bytes'),
      String(32 * 1024 * 1024),
    );
    assert.equal(read('cpu', `${ROOT}/besteffort/pode-1`, 'cpu.shares'), '2');
    assert.equal(read('cpu', `${ROOT}/besteffort`, 'cpu.shares'), '2');
    // The burstable QoS cgroup's shares follow the sum of its pods' requests.
    assert.equal(read('cpu', `${ROOT}/burstable`, 'cpu.shares'), '256');
    await cg.ensure(pod('b-2', [res({ cpu: '750m' })]));
    assert.equal(read('cpu', `${ROOT}/burstable`, 'cpu.shares'), '1024');
    // cpuset levels were populated so tasks can join them.
    assert.notEqual(read('cpuset', `${ROOT}/burstable/podb-1`, 'cpuset.cpus'), '');
  } else {
    assert.equal(read('cpu', `${ROOT}/podg-1`, 'cpu.max'), '50000 100000');
    assert.equal(read('memory', `${ROOT}/podg-1`, 'memory.max'), String(64 * 1024 * 1024));
  }
  await cg.remove('b-2');
  if (layout.mode === 'v1') assert.equal(read('cpu', `${ROOT}/burstable`, 'cpu.shares'), '256');
});

test('node allocatable is enforced on the root cgroup', { skip }, async () => {
  const cg = new CgroupfsPodCgroups({
    rootName: `${ROOT}-alloc`,
    layout,
    nodeAllocatable: { cpuMilli: 1900, memoryBytes: 2 * 1024 ** 3 },
  });
  try {
    await cg.init();
    if (layout.mode === 'v1') {
      assert.equal(read('cpu', `${ROOT}-alloc`, 'cpu.shares'), '1945');
      assert.equal(read('memory', `${ROOT}-alloc`, 'memory.limit_in_bytes'), String(2 * 1024 ** 3));
    } else {
      assert.equal(read('memory', `${ROOT}-alloc`, 'memory.max'), String(2 * 1024 ** 3));
    }
  } finally {
    for (const h of layout.hierarchies) await removeTree(join(h.mount, `${ROOT}-alloc`));
  }
});

test('remove kills what is left in the pod cgroup and removes it (children first) everywhere', {
  skip,
}, async () => {
  const cg = new CgroupfsPodCgroups({ rootName: ROOT, layout });
  const p = pod('r-1', [res({ cpu: '100m' })]);
  const parent = await cg.ensure(p);
  // A "container" cgroup below the pod, as runc makes, with a live process in it.
  const child = spawn('/bin/sleep', ['300'], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (const h of layout.hierarchies) {
    const dir = join(h.mount, parent, 'ctr-1');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    if (h.version === 1 && h.controllers.includes('cpuset')) {
      for (const f of ['cpuset.cpus', 'cpuset.mems'])
        writeFileSync(join(dir, f), readFileSync(join(h.mount, parent, f)));
    }
    if (layout.mode === 'v2' || h.version === 1) writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  }
  const usage = await cg.usage('r-1');
  assert.equal(usage?.processes, 1);
  assert.ok((usage?.memoryWorkingSetBytes ?? -1) >= 0);

  await cg.remove('r-1');
  await exited;
  for (const h of layout.hierarchies)
    assert.equal(existsSync(join(h.mount, parent)), false, `${h.mount}${parent} removed`);
  assert.deepEqual((await cg.list()).includes('r-1'), false);
  await cg.remove('r-1'); // idempotent
});

test('v2 code path on the cgroup2 mount: tree created with controllers enabled where available, listed, removed', {
  skip: skip || (!existsSync('/sys/fs/cgroup/unified/cgroup.procs') && 'no cgroup2 mount besides the root'),
}, async () => {
  const unified = layout.hierarchies.find((h) => h.version === 2);
  if (!unified || layout.mode === 'v2') return; // pure v2 machines run the main tests in v2 mode
  const v2 = new CgroupfsPodCgroups({
    rootName: `${ROOT}-v2`,
    layout: { mode: 'v2', hierarchies: [unified] },
  });
  try {
    const parent = await v2.ensure(pod('v2-1', [res({ cpu: '100m' }, { memory: '16Mi' })]));
    assert.equal(parent, `/${ROOT}-v2/burstable/podv2-1`);
    assert.ok(existsSync(join(unified.mount, parent)));
    assert.deepEqual(await v2.list(), ['v2-1']);
    await v2.remove('v2-1');
    assert.equal(existsSync(join(unified.mount, parent)), false);
  } finally {
    await removeTree(join(unified.mount, `${ROOT}-v2`));
  }
});
