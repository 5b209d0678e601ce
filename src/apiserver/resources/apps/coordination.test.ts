import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, edit, update } from './testing.ts';

const L = 'coordination.k8s.io/leases';

describe('Lease', () => {
  it('accepts a usual lease', () => {
    const spec = {
      holderIdentity: 'node-1',
      leaseDurationSeconds: 40,
      renewTime: '2025-01-01T00:00:00.000000Z',
    };
    assert.deepEqual(create(L, { metadata: { name: 'node-1' }, spec }).errors, []);
  });

  it('wants a positive duration and non-negative transitions, on create and update', () => {
    const bad = { metadata: { name: 'l' }, spec: { leaseDurationSeconds: 0, leaseTransitions: -1 } };
    const expected = [
      'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
      'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
    ];
    assert.deepEqual(create(L, bad).errors, expected);
    const base = create(L, { metadata: { name: 'l' }, spec: {} }).obj;
    assert.deepEqual(
      update(
        L,
        base,
        edit(base, (x) => {
          x.spec = bad.spec;
        }),
      ).errors,
      expected,
    );
  });

  it('reports wrong types', () => {
    assert.deepEqual(create(L, { metadata: { name: 'l' }, spec: { holderIdentity: 7 } }).errors, [
      'spec.holderIdentity: Invalid value: 7: must be of type string',
    ]);
  });
});
