import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldError, FieldPath } from '../../../api/errors.ts';
import type { KubeObject } from '../../object.ts';
import { immutable, intOrPercentValue, isValidPercent, kindStrategy, semanticEqual } from './common.ts';
import { ctx } from './testing.ts';

describe('intstr helpers', () => {
  it('reads ints, percentages and numeric strings as Kubernetes does', () => {
    assert.equal(intOrPercentValue(3), 3);
    assert.equal(intOrPercentValue('25%'), 25);
    assert.equal(intOrPercentValue('7'), 7);
    assert.equal(intOrPercentValue('x'), 0);
    assert.equal(intOrPercentValue(undefined), 0);
    assert.deepEqual(isValidPercent('10%'), []);
    assert.equal(isValidPercent('10').length, 1);
  });
});

describe('semanticEqual', () => {
  it('treats unset, null, empty lists and empty maps alike inside objects', () => {
    assert.ok(semanticEqual({ a: [], b: {}, c: null }, {}));
    assert.ok(semanticEqual({ a: { matchLabels: {} } }, { a: {} }));
    assert.ok(!semanticEqual({ a: 1 }, { a: 2 }));
  });
  it('tells an unset pointer from an empty struct at the top', () => {
    assert.ok(!semanticEqual({}, undefined));
    assert.ok(semanticEqual(null, undefined));
  });
});

describe('immutable', () => {
  const p = new FieldPath('spec.x');
  it('prints an unset new value as "null", as Go does', () => {
    assert.deepEqual(immutable(undefined, 1, p).map(String), [
      'spec.x: Invalid value: "null": field is immutable',
    ]);
    assert.deepEqual(immutable(1, 1, p), []);
  });
});

describe('kindStrategy', () => {
  const seen: string[] = [];
  const s = kindStrategy({
    validateCreate: () => [FieldError.required('create')],
    validateUpdate: () => [FieldError.required('update')],
    validateStatusUpdate: () => [FieldError.required('status')],
    prepareForUpdate: () => void seen.push('prepare'),
  });
  const obj = (): KubeObject => ({ metadata: { name: 'a' } });

  it('validates creates with validateCreate', () => {
    assert.deepEqual(s.validate?.(obj(), ctx()).map(String), ['create: Required value']);
  });

  it('gives an update only the update verdict', () => {
    const next = obj();
    s.prepareForUpdate?.(next, obj(), ctx());
    assert.deepEqual(s.validate?.(next, ctx()), []);
    assert.deepEqual(s.validateUpdate?.(next, obj(), ctx()).map(String), ['update: Required value']);
    assert.deepEqual(seen, ['prepare']);
  });

  it('uses the status rules for /status and skips the main prepareForUpdate', () => {
    const next = obj();
    s.prepareForUpdate?.(next, obj(), ctx('status'));
    assert.deepEqual(seen, ['prepare']);
    assert.deepEqual(s.validate?.(next, ctx('status')), []);
    assert.deepEqual(s.validateUpdate?.(next, obj(), ctx('status')).map(String), ['status: Required value']);
  });

  it('validates updates with validateCreate when a kind has no update rules', () => {
    const plain = kindStrategy({ validateCreate: () => [FieldError.required('x')] });
    const next = obj();
    plain.prepareForUpdate?.(next, obj(), ctx());
    assert.deepEqual(plain.validateUpdate?.(next, obj(), ctx()).map(String), ['x: Required value']);
    assert.equal(plain.defaults, undefined);
    assert.equal(plain.prepareForCreate, undefined);
  });
});
