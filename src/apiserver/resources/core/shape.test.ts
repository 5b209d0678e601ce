import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldPath } from '../../../api/errors.ts';
import { a, m, o, shapeErrors } from './shape.ts';

const p = new FieldPath('spec');
const strs = (v: unknown, s: Parameters<typeof shapeErrors>[1]) => shapeErrors(v, s, p).map(String);

test('leaves: string, bool, integers, int-or-string', () => {
  assert.deepEqual(strs('x', 'string'), []);
  assert.deepEqual(strs(1, 'string'), ['spec: Invalid value: 1: must be of type string']);
  assert.deepEqual(strs('true', 'bool'), ['spec: Invalid value: "true": must be of type boolean']);
  assert.deepEqual(strs('80', 'int32'), ['spec: Invalid value: "80": must be of type integer']);
  assert.deepEqual(strs(1.5, 'int32'), ['spec: Invalid value: 1.5: must be an integer']);
  assert.deepEqual(strs(2 ** 31, 'int32'), [
    'spec: Invalid value: 2147483648: must be between -2147483648 and 2147483647, inclusive',
  ]);
  assert.deepEqual(strs(2 ** 31, 'int64'), []);
  assert.deepEqual(strs('http', 'intstr'), []);
  assert.deepEqual(strs(true, 'intstr'), ['spec: Invalid value: true: must be of type integer or string']);
});

test('quantities: strings or numbers that parse', () => {
  assert.deepEqual(strs('100m', 'quantity'), []);
  assert.deepEqual(strs(2, 'quantity'), []);
  assert.deepEqual(strs('1ki', 'quantity'), [
    'spec: Invalid value: "1ki": unable to parse quantity\'s suffix',
  ]);
  assert.deepEqual(strs({}, 'quantity'), ['spec: Invalid value: {}: must be of type string']);
});

test('objects, arrays and maps; null is always accepted', () => {
  const s = o({ ports: a(o({ port: 'int32' })), labels: m('string') });
  assert.deepEqual(strs({ ports: [{ port: 'x' }, null], labels: { a: 'b', c: 1 }, other: 5 }, s), [
    'spec.ports[0].port: Invalid value: "x": must be of type integer',
    'spec.labels[c]: Invalid value: 1: must be of type string',
  ]);
  assert.deepEqual(strs({ ports: {} }, s), ['spec.ports: Invalid value: {}: must be of type array']);
  assert.deepEqual(strs([], s), ['spec: Invalid value: []: must be of type object']);
  assert.deepEqual(strs(null, s), []);
  assert.deepEqual(strs({ ports: null, labels: null }, s), []);
});
