import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, edit, update } from './testing.ts';

const PC = 'scheduling.k8s.io/priorityclasses';

describe('PriorityClass', () => {
  it('defaults preemptionPolicy', () => {
    const { obj, errors } = create(PC, { metadata: { name: 'high' }, value: 1000 }, '');
    assert.deepEqual(errors, []);
    assert.equal(obj.preemptionPolicy, 'PreemptLowerPriority');
  });

  it('limits user classes to 1e9', () => {
    assert.deepEqual(create(PC, { metadata: { name: 'high' }, value: 1_000_000_001 }, '').errors, [
      'value: Forbidden: maximum allowed value of a user defined priority is 1000000000',
    ]);
  });

  it('reserves system- names for the built-in classes', () => {
    assert.deepEqual(
      create(PC, { metadata: { name: 'system-node-critical' }, value: 2000001000 }, '').errors,
      [],
    );
    assert.deepEqual(create(PC, { metadata: { name: 'system-node-critical' }, value: 5 }, '').errors, [
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000",
    ]);
    assert.deepEqual(create(PC, { metadata: { name: 'system-mine' }, value: 5 }, '').errors, [
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    ]);
  });

  it('checks preemptionPolicy', () => {
    assert.deepEqual(
      create(PC, { metadata: { name: 'p' }, value: 1, preemptionPolicy: 'Always' }, '').errors,
      ['preemptionPolicy: Unsupported value: "Always": supported values: "PreemptLowerPriority", "Never"'],
    );
  });

  it('makes value and preemptionPolicy immutable', () => {
    const base = create(PC, { metadata: { name: 'p' }, value: 1 }, '').obj;
    assert.deepEqual(
      update(
        PC,
        base,
        edit(base, (x) => {
          x.description = 'd';
        }),
      ).errors,
      [],
    );
    assert.deepEqual(
      update(
        PC,
        base,
        edit(base, (x) => {
          x.value = 2;
          x.preemptionPolicy = 'Never';
        }),
      ).errors,
      [
        'value: Forbidden: may not be changed in an update.',
        'preemptionPolicy: Invalid value: "Never": field is immutable',
      ],
    );
  });
});
