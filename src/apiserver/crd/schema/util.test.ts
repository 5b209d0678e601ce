import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deepEqual, goFloat } from './util.ts';

test('goFloat prints a float64 as Go’s %v does', () => {
  assert.equal(goFloat(10), '10');
  assert.equal(goFloat(0.5), '0.5');
  assert.equal(goFloat(123456), '123456');
  assert.equal(goFloat(1000000), '1e+06');
  assert.equal(goFloat(1234567), '1.234567e+06');
  assert.equal(goFloat(0.0001), '0.0001');
  assert.equal(goFloat(0.00001), '1e-05');
  assert.equal(goFloat(-2.5), '-2.5');
});

test('deepEqual compares JSON values', () => {
  assert.ok(deepEqual({ a: [1, { b: 'c' }] }, { a: [1, { b: 'c' }] }));
  assert.ok(!deepEqual({ a: 1 }, { a: 1, b: undefined }));
  assert.ok(!deepEqual([1], { 0: 1 }));
  assert.ok(!deepEqual(1, '1'));
});
