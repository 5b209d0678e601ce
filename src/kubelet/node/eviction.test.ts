import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../util/clock.ts';
import { type EvictionDetails, EvictionManager, type EvictionManagerOptions } from './eviction.ts';
import type { PodUsage } from './rank.ts';
import type { NodeSignals } from './signals.ts';
import { parseThresholds, ThresholdError } from './thresholds.ts';

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function pod(
  name: string,
  opts: { memReq?: string; priority?: number; annotations?: Record<string, string> } = {},
): Pod {
  const c: Container = {
    name: 'c',
    image: 'busybox',
    ...(opts.memReq ? { resources: { requests: { memory: opts.memReq } } } : {}),
  };
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: { containers: [c], ...(opts.priority !== undefined ? { priority: opts.priority } : {}) },
  };
}

function healthy(): NodeSignals {
  return {
    memory: { availableBytes: 8 * Gi, workingSetBytes: 16 * Gi },
    nodefs: { capacityBytes: 100 * Gi, availableBytes: 50 * Gi, inodes: 1_000_000, inodesFree: 900_000 },
    imagefs: { capacityBytes: 100 * Gi, availableBytes: 50 * Gi, inodes: 1_000_000, inodesFree: 900_000 },
    pid: { maxPids: 4_194_304, processes: 300 },
    dedicatedImageFs: false,
  };
}

function setup(over: Partial<EvictionManagerOptions> = {}) {
  const clock = new FakeClock();
  const state = { signals: healthy(), pods: [] as Pod[], usage: new Map<string, PodUsage>() };
  const evicted: { uid: string; message: string; details: EvictionDetails }[] = [];
  const changes: string[][] = [];
  const m = new EvictionManager({
    signals: async () => structuredClone(state.signals),
    activePods: () => state.pods,
    podStats: async () => state.usage,
    evict: async (uid, message, details) => {
      evicted.push({ uid, message, details });
      state.pods = state.pods.filter((p) => p.metadata?.uid !== uid);
    },
    onConditionsChanged: (c) => changes.push(c),
    clock,
    ...over,
  });
  return { clock, state, evicted, changes, m };
}

test('parses thresholds as the kubelet does', () => {
  const t = parseThresholds({
    'memory.available': '100Mi',
    'nodefs.available': '10%',
    'imagefs.available': '0%',
  });
  assert.equal(t.length, 2);
  assert.equal(t[0]?.quantity?.toString(), '100Mi');
  assert.equal(t[1]?.percentage, 0.1);
  assert.throws(() => parseThresholds({ 'memory.free': '1Mi' }), ThresholdError);
  assert.throws(() => parseThresholds({ 'memory.available': '-1Mi' }), ThresholdError);
  assert.throws(() => parseThresholds({ 'nodefs.available': '120%' }), ThresholdError);
});

test('no pressure: no condition, no eviction', async () => {
  const { m, state, evicted } = setup();
  state.pods = [pod('a')];
  assert.equal(await m.synchronize(), undefined);
  assert.equal(m.isUnderMemoryPressure(), false);
  assert.deepEqual(evicted, []);
  assert.deepEqual(m.admit(pod('x')), { admit: true });
});

test('memory pressure: condition on, pods ranked (over request, then priority, then usage), one per interval', async () => {
  const { m, state, evicted, clock, changes } = setup();
  state.signals.memory = { availableBytes: 50 * Mi, workingSetBytes: 24 * Gi };
  state.pods = [
    pod('under-request', { memReq: '500Mi' }),
    pod('over-high-prio', { memReq: '100Mi', priority: 1000 }),
    pod('over-low-prio-small', { memReq: '100Mi' }),
    pod('over-low-prio-big', { memReq: '100Mi' }),
    pod('static', { annotations: { 'kubernetes.io/config.source': 'file' } }),
  ];
  state.usage = new Map([
    [
      'uid-under-request',
      { memoryWorkingSetBytes: 400 * Mi, containers: [{ name: 'c', memoryWorkingSetBytes: 400 * Mi }] },
    ],
    [
      'uid-over-high-prio',
      { memoryWorkingSetBytes: 900 * Mi, containers: [{ name: 'c', memoryWorkingSetBytes: 900 * Mi }] },
    ],
    [
      'uid-over-low-prio-small',
      { memoryWorkingSetBytes: 200 * Mi, containers: [{ name: 'c', memoryWorkingSetBytes: 200 * Mi }] },
    ],
    [
      'uid-over-low-prio-big',
      { memoryWorkingSetBytes: 300 * Mi, containers: [{ name: 'c', memoryWorkingSetBytes: 300 * Mi }] },
    ],
    ['uid-static', { memoryWorkingSetBytes: 5 * Gi }],
  ]);
  m.start();
  await settle();
  assert.equal(m.isUnderMemoryPressure(), true);
  assert.deepEqual(changes, [['MemoryPressure']]);
  assert.equal(evicted.length, 1);
  assert.equal(evicted[0]?.uid, 'uid-over-low-prio-big');
  assert.equal(
    evicted[0]?.message,
    'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. ' +
      'Container c was using 300Mi, request is 100Mi, has larger consumption of memory. ',
  );
  assert.deepEqual(evicted[0]?.details.annotations, {
    offending_containers: 'c',
    offending_containers_usage: '300Mi',
    starved_resource: 'memory',
  });
  assert.equal(evicted[0]?.details.gracePeriodSeconds, 1);
  assert.equal(evicted[0]?.details.condition.reason, 'TerminationByKubelet');
  // One pod per interval.
  clock.advance(9_999);
  await settle();
  assert.equal(evicted.length, 1);
  clock.advance(1);
  await settle();
  clock.advance(10_000);
  await settle();
  clock.advance(10_000);
  await settle();
  assert.deepEqual(
    evicted.map((e) => e.uid),
    ['uid-over-low-prio-big', 'uid-over-low-prio-small', 'uid-over-high-prio', 'uid-under-request'],
  );
  // The static pod is critical: never evicted.
  clock.advance(10_000);
  await settle();
  assert.equal(evicted.length, 4);
  // BestEffort pods are refused while under memory pressure; others are admitted.
  assert.equal(m.admit(pod('be')).admit, false);
  assert.deepEqual(m.admit(pod('be')), {
    admit: false,
    reason: 'Evicted',
    message: 'The node had condition: [MemoryPressure]. ',
  });
  assert.deepEqual(m.admit(pod('bu', { memReq: '1Mi' })), { admit: true });
  m.stop();
});

test('the condition stays for the transition period after the pressure ends', async () => {
  const { m, state, clock } = setup({ pressureTransitionMs: 60_000 });
  state.signals.memory = { availableBytes: 50 * Mi, workingSetBytes: 24 * Gi };
  await m.synchronize();
  assert.equal(m.isUnderMemoryPressure(), true);
  state.signals = healthy();
  clock.advance(30_000);
  await m.synchronize();
  assert.equal(m.isUnderMemoryPressure(), true);
  clock.advance(30_000);
  await m.synchronize();
  assert.equal(m.isUnderMemoryPressure(), false);
});

test('disk pressure: node-level reclaim first; pods evicted only when it is not enough', async () => {
  const reclaimed: string[] = [];
  const ctx = setup({
    reclaimDisk: async (signal) => {
      reclaimed.push(signal);
      if (ctx.state.signals.nodefs) ctx.state.signals.nodefs.availableBytes = 40 * Gi;
      if (ctx.state.signals.imagefs) ctx.state.signals.imagefs.availableBytes = 40 * Gi;
    },
  });
  const { m, state, evicted } = ctx;
  state.pods = [pod('a')];
  state.signals.nodefs = {
    capacityBytes: 100 * Gi,
    availableBytes: 5 * Gi,
    inodes: 1_000_000,
    inodesFree: 900_000,
  };
  state.signals.imagefs = state.signals.nodefs;
  await m.synchronize();
  assert.equal(m.isUnderDiskPressure(), true);
  assert.deepEqual(reclaimed, ['nodefs.available']);
  assert.deepEqual(evicted, []);
  assert.equal(m.admit(pod('b', { memReq: '1Mi' })).admit, false, 'disk pressure refuses every pod');

  // Reclaim that frees nothing: a pod goes.
  ctx.state.signals.nodefs = {
    capacityBytes: 100 * Gi,
    availableBytes: 5 * Gi,
    inodes: 1_000_000,
    inodesFree: 900_000,
  };
  ctx.state.signals.imagefs = ctx.state.signals.nodefs;
  const noReclaim = setup({ reclaimDisk: async () => {} });
  noReclaim.state.signals = ctx.state.signals;
  noReclaim.state.pods = [pod('a'), pod('b', { annotations: {} })];
  noReclaim.state.usage = new Map([
    ['uid-a', { ephemeralStorageBytes: 1 * Gi }],
    ['uid-b', { ephemeralStorageBytes: 3 * Gi }],
  ]);
  await noReclaim.m.synchronize();
  assert.equal(noReclaim.evicted[0]?.uid, 'uid-b');
  assert.match(
    noReclaim.evicted[0]?.message ?? '',
    /^The node was low on resource: ephemeral-storage\. Threshold quantity: 10Gi, available: 5Gi\. $/,
  );
});

test('pid pressure ranks by priority then process count', async () => {
  const { m, state, evicted } = setup({ thresholds: parseThresholds({ 'pid.available': '1000' }) });
  state.signals.pid = { maxPids: 32768, processes: 32000 };
  state.pods = [pod('few'), pod('many'), pod('important', { priority: 10 })];
  state.usage = new Map([
    ['uid-few', { processes: 10 }],
    ['uid-many', { processes: 500 }],
    ['uid-important', { processes: 5000 }],
  ]);
  await m.synchronize();
  assert.equal(m.isUnderPIDPressure(), true);
  assert.equal(evicted[0]?.uid, 'uid-many');
  assert.match(
    evicted[0]?.message ?? '',
    /^The node was low on resource: pids\. Threshold quantity: 1k, available: 768\. $/,
  );
});

test('dedicated imagefs: nodefs pressure evicts by logs and volumes without GC; imagefs pressure GCs first', async () => {
  const reclaimed: string[] = [];
  const { m, state, evicted } = setup({ reclaimDisk: async (s) => void reclaimed.push(s) });
  state.signals.dedicatedImageFs = true;
  state.signals.nodefs = {
    capacityBytes: 100 * Gi,
    availableBytes: 5 * Gi,
    inodes: 1_000_000,
    inodesFree: 900_000,
  };
  state.pods = [pod('big-layer'), pod('big-logs')];
  state.usage = new Map([
    ['uid-big-layer', { ephemeralStorageBytes: 5 * Gi, writableLayerBytes: 4.5 * Gi }],
    ['uid-big-logs', { ephemeralStorageBytes: 2 * Gi, writableLayerBytes: 0 }],
  ]);
  await m.synchronize();
  assert.equal(reclaimed.length, 0, 'no GC for nodefs pressure');
  assert.equal(evicted[0]?.uid, 'uid-big-logs');

  const img = setup({ reclaimDisk: async (s) => void reclaimed.push(s) });
  img.state.signals.dedicatedImageFs = true;
  img.state.signals.imagefs = {
    capacityBytes: 100 * Gi,
    availableBytes: 5 * Gi,
    inodes: 1_000_000,
    inodesFree: 900_000,
  };
  img.state.pods = state.pods;
  img.state.usage = state.usage;
  await img.m.synchronize();
  assert.deepEqual(reclaimed, ['imagefs.available']);
  assert.equal(img.evicted[0]?.uid, 'uid-big-layer');
});
