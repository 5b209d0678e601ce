import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, defaulted } from './testing.ts';

const ns = (spec: unknown = {}, status: unknown = { phase: 'Active' }) => ({
  metadata: { name: 'team-a' },
  spec,
  status,
});

test('namespaces get the kubernetes.io/metadata.name label', () => {
  const n = defaulted('namespaces', { metadata: { name: 'team-a', labels: { env: 'dev' } }, status: {} });
  assert.deepEqual(n.metadata, {
    name: 'team-a',
    labels: { env: 'dev', 'kubernetes.io/metadata.name': 'team-a' },
  });
  assert.deepEqual(n.status, { phase: 'Active' });
});

test('spec.finalizers: standard or qualified names (reported without an index)', () => {
  assert.deepEqual(check('namespaces', ns({ finalizers: ['kubernetes', 'example.com/cleanup'] })), []);
  assert.deepEqual(check('namespaces', ns({ finalizers: ['cleanup'] })), [
    'spec.finalizers: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified',
  ]);
});

test('a plain update keeps spec.finalizers; /finalize changes them', () => {
  const old = ns({ finalizers: ['kubernetes'] });
  const next = ns({ finalizers: [] });
  assert.deepEqual(check('namespaces', next, { old: structuredClone(old) }), []);
  assert.deepEqual(next.spec, { finalizers: ['kubernetes'] });
  const fin = ns({ finalizers: ['bad'] });
  assert.deepEqual(check('namespaces', fin, { old: structuredClone(old), sub: 'finalize' }), [
    'spec.finalizers[0]: Invalid value: "bad": name is neither a standard finalizer name nor is it fully qualified',
  ]);
});

test('status: the phase follows deletionTimestamp', () => {
  const old = ns();
  assert.deepEqual(
    check('namespaces', ns({}, { phase: 'Terminating' }), { old: structuredClone(old), sub: 'status' }),
    ['status.Phase: Invalid value: "Terminating": may only be \'Active\' if `deletionTimestamp` is empty'],
  );
  const deleting = {
    ...ns({}, { phase: 'Active' }),
    metadata: { name: 'team-a', deletionTimestamp: '2024-01-01T00:00:00Z' },
  };
  assert.deepEqual(check('namespaces', deleting, { old: structuredClone(old), sub: 'status' }), [
    'status.Phase: Invalid value: "Active": may only be \'Terminating\' if `deletionTimestamp` is not empty',
  ]);
});
