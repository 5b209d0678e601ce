import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldPath } from '../../../api/errors.ts';
import { a, lazy, m, o, type Shape, shapeErrors, strs as strs0 } from './shape.ts';

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

test('errors come in the order of the shape, not of the value, at every level', () => {
  const s = o({ ports: a(o({ port: 'int32', name: 'string' })), labels: m('string'), q: 'quantity' });
  const v = { q: '1x', labels: { z: 1, a: 2 }, ports: [{ name: 3, port: 'x' }, { port: 1.5 }], other: 5 };
  assert.deepEqual(strs(v, s), [
    'spec.ports[0].port: Invalid value: "x": must be of type integer',
    'spec.ports[0].name: Invalid value: 3: must be of type string',
    'spec.ports[1].port: Invalid value: 1.5: must be an integer',
    'spec.labels[z]: Invalid value: 1: must be of type string',
    'spec.labels[a]: Invalid value: 2: must be of type string',
    'spec.q: Invalid value: "1x": quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
  ]);
});

test('well-typed values give no errors; keys that are not fields are never checked', () => {
  const s = o({ n: 'int64', b: 'bool', x: 'number', i: 'intstr', q: 'quantity', any: 'any', l: strs0 });
  assert.deepEqual(
    strs({ n: 2 ** 53 - 1, b: false, x: 1.5, i: 8080, q: ' 1Gi ', any: [{}], l: ['a'] }, s),
    [],
  );
  assert.deepEqual(strs(JSON.parse('{"__proto__": 1, "constructor": 2, "toString": 3}'), s), []);
  assert.deepEqual(strs({ n: 2 ** 53 }, s), [
    'spec.n: Invalid value: 9007199254740992: must be a safe integer',
  ]);
  assert.deepEqual(strs({ i: 2 ** 31 }, s), ['spec.i: Invalid value: 2147483648: must be an int32 integer']);
  assert.deepEqual(strs({ i: 1.5 }, s), ['spec.i: Invalid value: 1.5: must be an int32 integer']);
  assert.deepEqual(strs({ q: Number.NaN }, s), [
    "spec.q: Invalid value: NaN: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
  ]);
  assert.deepEqual(strs({ l: [1, 'a', null, true] }, s), [
    'spec.l[0]: Invalid value: 1: must be of type string',
    'spec.l[3]: Invalid value: true: must be of type string',
  ]);
});

test('lazy shapes, recursive ones included', () => {
  const node: Shape = o({ name: 'string', children: a(lazy(() => node)) });
  assert.deepEqual(strs({ name: 'a', children: [{ name: 'b', children: [{ name: 1 }] }] }, node), [
    'spec.children[0].children[0].name: Invalid value: 1: must be of type string',
  ]);
  assert.deepEqual(strs({ name: 'a', children: [{ name: 'b', children: [] }] }, node), []);
  assert.deepEqual(
    strs(
      5,
      lazy(() => 'string'),
    ),
    ['spec: Invalid value: 5: must be of type string'],
  );
});
