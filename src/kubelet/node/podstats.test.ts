import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerStats } from '../cri/types.ts';
import { podStatsFrom } from './podstats.ts';

const stat = (uid: string, name: string, ws: number, rootfs: number): ContainerStats => ({
  attributes: {
    id: `${uid}-${name}`,
    metadata: { name, attempt: 0 },
    labels: { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.container.name': name },
    annotations: {},
  },
  memory: { timestamp: 1, workingSetBytes: { value: ws } },
  writableLayer: { timestamp: 1, usedBytes: { value: rootfs }, inodesUsed: { value: 3 } },
});

test('pod usage: containers matched by pod uid; the pod cgroup wins for memory and processes', async () => {
  const stats = podStatsFrom({
    listContainerStats: async () => [stat('a', 'x', 100, 10), stat('a', 'y', 50, 5), stat('b', 'z', 7, 1)],
    podCgroupUsage: async (uid) => (uid === 'a' ? { memoryWorkingSetBytes: 200, processes: 4 } : undefined),
    extraDiskBytes: async () => 1000,
  });
  const pods = ['a', 'b', 'c'].map((uid) => ({ metadata: { uid, name: uid }, spec: { containers: [] } }));
  const m = await stats(pods);
  assert.deepEqual(m.get('a'), {
    memoryWorkingSetBytes: 200,
    ephemeralStorageBytes: 1015,
    writableLayerBytes: 15,
    inodesUsed: 6,
    processes: 4,
    containers: [
      { name: 'x', memoryWorkingSetBytes: 100, rootfsBytes: 10, logsBytes: 0 },
      { name: 'y', memoryWorkingSetBytes: 50, rootfsBytes: 5, logsBytes: 0 },
    ],
  });
  assert.equal(m.get('b')?.memoryWorkingSetBytes, 7);
  assert.equal(m.has('c'), false, 'no stats: absent (ranked first, as upstream)');
});
