import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makePod } from '../testing.ts';
import type { Container } from '../types.ts';
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, podRequests, quantityValue } from './resource.ts';

const c = (name: string, cpu: string, memory: string, restartPolicy?: string): Container => ({
  name,
  resources: { requests: { cpu, memory } },
  restartPolicy,
});

describe('pod requests', () => {
  it('sums containers and takes the max with each init container', () => {
    const pod = makePod('p', {
      containers: [c('c1', '2', '1G'), c('c2', '1', '1G')],
      initContainers: [c('i1', '2', '1G'), c('i2', '2', '3G')],
    });
    const r = podRequests(pod);
    assert.equal(r.milliCPU, 3000);
    assert.equal(r.memory, 3e9);
  });

  it('counts sidecars with the containers and under every later init container', () => {
    // init: sidecar s1 (1 cpu), then i1 (3 cpu) runs with s1 → 4; then containers 1 + s1 1 = 2.
    const pod = makePod('p', {
      containers: [c('c1', '1', '1Gi')],
      initContainers: [c('s1', '1', '1Gi', 'Always'), c('i1', '3', '1Gi')],
    });
    assert.equal(podRequests(pod).milliCPU, 4000);
    // An init container before the sidecar does not add it: max(2, 1 + 1) = 2 containers+sidecars.
    const pod2 = makePod('p', {
      containers: [c('c1', '1', '1Gi')],
      initContainers: [c('i1', '1500m', '1Gi'), c('s1', '1', '1Gi', 'Always')],
    });
    assert.equal(podRequests(pod2).milliCPU, 2000);
    assert.equal(podRequests(pod2).memory, 2 * 1024 ** 3);
  });

  it('adds the pod overhead', () => {
    const pod = makePod('p', {
      cpu: '1',
      memory: '1Gi',
      spec: { overhead: { cpu: '250m', memory: '120Mi' } },
    });
    const r = podRequests(pod);
    assert.equal(r.milliCPU, 1250);
    assert.equal(r.memory, 1024 ** 3 + 120 * 1024 ** 2);
  });

  it('counts extended resources and ephemeral storage, and defaults missing cpu/memory for scoring', () => {
    const pod = makePod('p', { requests: { 'nvidia.com/gpu': '2', 'ephemeral-storage': '1Gi' } });
    const r = podRequests(pod);
    assert.equal(r.scalar.get('nvidia.com/gpu'), 2);
    assert.equal(r.ephemeralStorage, 1024 ** 3);
    assert.equal(r.milliCPU, 0);
    const nz = podRequests(pod, { nonMissing: true });
    assert.equal(nz.milliCPU, DEFAULT_MILLI_CPU_REQUEST);
    assert.equal(nz.memory, DEFAULT_MEMORY_REQUEST);
  });

  it('uses pod-level requests where set', () => {
    const pod = makePod('p', { cpu: '1', memory: '1Gi', spec: { resources: { requests: { cpu: '3' } } } });
    assert.equal(podRequests(pod).milliCPU, 3000);
    assert.equal(podRequests(pod).memory, 1024 ** 3);
  });

  it('reads quantities as Kubernetes counts them', () => {
    assert.equal(quantityValue('cpu', '100m'), 100);
    assert.equal(quantityValue('cpu', '0.5'), 500);
    assert.equal(quantityValue('cpu', 2), 2000);
    assert.equal(quantityValue('memory', '1Ki'), 1024);
    assert.equal(quantityValue('memory', '1.5'), 2);
    assert.equal(quantityValue('memory', 'bogus'), 0);
  });
});
