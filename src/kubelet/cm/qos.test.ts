import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { computePodQOS, qosClass } from './qos.ts';

type R = Record<string, string>;
const c = (name: string, requests?: R, limits?: R, extra: Partial<Container> = {}): Container => ({
  name,
  image: 'busybox',
  resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) },
  ...extra,
});
const pod = (containers: Container[], initContainers: Container[] = []): Pod => ({
  metadata: { name: 'p', uid: 'u' },
  spec: { containers, initContainers },
});

test('no cpu or memory anywhere is BestEffort (other resources do not count)', () => {
  assert.equal(computePodQOS(pod([c('a'), c('b', { 'ephemeral-storage': '1Gi' })])), 'BestEffort');
  assert.equal(computePodQOS(pod([c('a', { cpu: '0' }, { memory: '0' })])), 'BestEffort');
});

test('limits on cpu and memory equal to requests in every container is Guaranteed', () => {
  const g = { cpu: '500m', memory: '64Mi' };
  assert.equal(
    computePodQOS(pod([c('a', g, g), c('b', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })])),
    'Guaranteed',
  );
  // Without the API server's defaulting (requests = limits), limits alone do not match requests.
  assert.equal(
    computePodQOS(pod([c('a', g, g), c('b', undefined, { cpu: '1', memory: '1Gi' })])),
    'Burstable',
  );
  assert.equal(
    computePodQOS(pod([c('a', { cpu: '0.5', memory: '64Mi' }, { cpu: '500m', memory: '67108864' })])),
    'Guaranteed',
  );
});

test('a request differing from its limit, or a missing limit, is Burstable', () => {
  assert.equal(
    computePodQOS(pod([c('a', { cpu: '100m', memory: '64Mi' }, { cpu: '500m', memory: '64Mi' })])),
    'Burstable',
  );
  assert.equal(computePodQOS(pod([c('a', { cpu: '100m' })])), 'Burstable');
  assert.equal(computePodQOS(pod([c('a', undefined, { cpu: '1' })])), 'Burstable');
  const g = { cpu: '1', memory: '1Gi' };
  assert.equal(computePodQOS(pod([c('a', g, g), c('b')])), 'Burstable');
});

test('init containers count: a limitless init container breaks Guaranteed; sums compare per resource', () => {
  const g = { cpu: '1', memory: '1Gi' };
  assert.equal(computePodQOS(pod([c('a', g, g)], [c('init')])), 'Burstable');
  assert.equal(computePodQOS(pod([c('a', g, g)], [c('init', g, g)])), 'Guaranteed');
  assert.equal(computePodQOS(pod([c('a')], [c('init', { memory: '1Mi' })])), 'Burstable');
});

test('pod-level resources decide alone when set', () => {
  const p = pod([c('a')]);
  (p.spec as unknown as Record<string, unknown>).resources = {
    requests: { cpu: '1', memory: '1Gi' },
    limits: { cpu: '1', memory: '1Gi' },
  };
  assert.equal(computePodQOS(p), 'Guaranteed');
  (p.spec as unknown as Record<string, unknown>).resources = { requests: { cpu: '1' } };
  assert.equal(computePodQOS(p), 'Burstable');
});

test('qosClass prefers status.qosClass', () => {
  const p: Pod = { ...pod([c('a')]), status: { qosClass: 'Burstable' } };
  assert.equal(qosClass(p), 'Burstable');
  assert.equal(computePodQOS(p), 'BestEffort');
});
