import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import {
  linuxResources,
  milliCpuToQuota,
  milliCpuToShares,
  oomScoreAdj,
  upstreamOomScoreAdj,
} from './resources.ts';

const GiB = 1024 ** 3;

function pod(c: Partial<Container>): [Pod, Container] {
  const container = { name: 'c', ...c } as Container;
  return [{ spec: { containers: [container] } }, container];
}

test('cpu shares and quota follow the kubelet formulas', () => {
  assert.equal(milliCpuToShares(0), 2);
  assert.equal(milliCpuToShares(1), 2);
  assert.equal(milliCpuToShares(100), 102);
  assert.equal(milliCpuToShares(1000), 1024);
  assert.equal(milliCpuToShares(1_000_000), 262144);
  assert.equal(milliCpuToQuota(0), 0);
  assert.equal(milliCpuToQuota(1), 1000);
  assert.equal(milliCpuToQuota(250), 25000);
  assert.equal(milliCpuToQuota(2000), 200000);
});

test('linuxResources: requests → shares, limits → quota and memory', () => {
  const [p, c] = pod({
    resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
  });
  assert.deepEqual(linuxResources(p, c, 8 * GiB), {
    cpuShares: 256,
    cpuPeriod: 100000,
    cpuQuota: 50000,
    memoryLimitInBytes: 128 * 1024 * 1024,
    oomScoreAdj: 1000 - Math.floor((1000 * 64 * 1024 * 1024) / (8 * GiB)),
  });
  // No request but a limit: shares from the limit (requests default to limits).
  const [p2, c2] = pod({ resources: { limits: { cpu: '2', memory: '1Gi' } } });
  const r2 = linuxResources(p2, c2, 8 * GiB);
  assert.equal(r2.cpuShares, 2048);
  const [p4, c4] = pod({
    resources: { requests: { cpu: '2', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } },
  });
  assert.equal(linuxResources(p4, c4, 8 * GiB).oomScoreAdj, 0, 'Guaranteed: -997 upstream, clamped to 0');
  // Nothing: minimum shares, no quota, no memory limit, BestEffort 1000.
  const [p3, c3] = pod({});
  assert.deepEqual(linuxResources(p3, c3, 8 * GiB), { cpuShares: 2, oomScoreAdj: 1000 });
});

test('oomScoreAdj: the burstable formula, never negative', () => {
  const [g, gc] = pod({
    resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
  });
  assert.equal(upstreamOomScoreAdj(g, gc, 8 * GiB), -997);
  assert.equal(oomScoreAdj(g, gc, 8 * GiB), 0);
  const [b, bc] = pod({ resources: { requests: { memory: '4Gi' } } });
  assert.equal(oomScoreAdj(b, bc, 8 * GiB), 500);
  // A request of nearly the whole node: at least 3 (above Guaranteed).
  const [b2, bc2] = pod({ resources: { requests: { memory: '8Gi' } } });
  assert.equal(oomScoreAdj(b2, bc2, 8 * GiB), 3);
  // A tiny request: 999, just below BestEffort.
  const [b3, bc3] = pod({ resources: { requests: { cpu: '10m' } } });
  assert.equal(oomScoreAdj(b3, bc3, 8 * GiB), 999);
  for (const [p, c] of [g, b, b2, b3].map((x) => [x, x.spec!.containers[0]!] as const)) {
    assert.ok(oomScoreAdj(p, c, 8 * GiB) >= 0);
  }
});
