import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import {
  milliCpuToQuota,
  milliCpuToShares,
  podLimits,
  podRequests,
  resourceConfigForPod,
  sharesToWeight,
} from './resources.ts';

type R = Record<string, string>;
const c = (name: string, requests?: R, limits?: R, restartPolicy?: string): Container => ({
  name,
  resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) },
  ...(restartPolicy ? { restartPolicy } : {}),
});
const pod = (containers: Container[], initContainers: Container[] = [], overhead?: R): Pod => ({
  metadata: { name: 'p', uid: 'u' },
  spec: { containers, initContainers, ...(overhead ? { overhead } : {}) },
});

test('shares and quota conversions match the kubelet', () => {
  assert.equal(milliCpuToShares(0), 2);
  assert.equal(milliCpuToShares(1), 2);
  assert.equal(milliCpuToShares(250), 256);
  assert.equal(milliCpuToShares(1000), 1024);
  assert.equal(milliCpuToShares(1_000_000), 262144);
  assert.equal(milliCpuToQuota(0, 100000), 0);
  assert.equal(milliCpuToQuota(5, 100000), 1000);
  assert.equal(milliCpuToQuota(500, 100000), 50000);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(1024), 39);
});

test('requests: containers and sidecars summed, at least the largest init container (with earlier sidecars)', () => {
  const p = pod(
    [c('a', { cpu: '100m', memory: '10Mi' }), c('b', { cpu: '200m' })],
    [c('side', { cpu: '50m' }, undefined, 'Always'), c('init', { cpu: '1', memory: '5Mi' })],
    { cpu: '10m' },
  );
  const r = podRequests(p);
  // max(100+200+50, 50+1000) + overhead 10
  assert.equal(r.get('cpu')?.toString(), '1060m');
  assert.equal(r.get('memory')?.toString(), '10Mi');
});

test('limits: overhead added only to non-zero limits', () => {
  const p = pod([c('a', undefined, { cpu: '1' })], [], { cpu: '100m', memory: '1Mi' });
  const l = podLimits(p);
  assert.equal(l.get('cpu')?.toString(), '1100m');
  assert.equal(l.has('memory'), false);
});

test('Guaranteed pod: shares, quota and memory limit', () => {
  const g = { cpu: '500m', memory: '64Mi' };
  const cfg = resourceConfigForPod(pod([c('a', g, g), c('b', g, g)]));
  assert.deepEqual(cfg, {
    cpuShares: 1024,
    cpuQuota: 100000,
    cpuPeriod: 100000,
    memoryLimitBytes: 128 * 1024 * 1024,
  });
});

test('Burstable pod: quota only when every container limits cpu, memory only when every one limits memory', () => {
  const cfg = resourceConfigForPod(
    pod([c('a', { cpu: '250m' }, { cpu: '500m', memory: '32Mi' }), c('b', { memory: '1Mi' })]),
  );
  assert.deepEqual(cfg, { cpuShares: 256 });
  const both = resourceConfigForPod(pod([c('a', { cpu: '250m' }, { cpu: '500m', memory: '32Mi' })]));
  assert.deepEqual(both, {
    cpuShares: 256,
    cpuQuota: 50000,
    cpuPeriod: 100000,
    memoryLimitBytes: 32 * 1024 * 1024,
  });
  // An init container without a cpu limit turns the pod quota off.
  const init = resourceConfigForPod(
    pod([c('a', { cpu: '250m' }, { cpu: '500m' })], [c('i', { memory: '1Mi' })]),
  );
  assert.deepEqual(init, { cpuShares: 256 });
});

test('BestEffort pod gets the minimum shares; pids limit when configured', () => {
  assert.deepEqual(resourceConfigForPod(pod([c('a')])), { cpuShares: 2 });
  assert.deepEqual(resourceConfigForPod(pod([c('a')]), { podPidsLimit: 100 }), {
    cpuShares: 2,
    pidsLimit: 100,
  });
});

test('enforceCpuLimits false writes an unlimited quota', () => {
  const g = { cpu: '1', memory: '1Gi' };
  assert.equal(resourceConfigForPod(pod([c('a', g, g)]), { enforceCpuLimits: false }).cpuQuota, -1);
});
