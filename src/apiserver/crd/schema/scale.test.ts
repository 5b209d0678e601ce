import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateScale } from './scale.ts';
import { cronTab } from './testdata.ts';

const scale = {
  specReplicasPath: '.spec.replicas',
  statusReplicasPath: '.status.replicas',
  labelSelectorPath: '.status.labelSelector',
};

test('replicas in range, or absent, are fine', () => {
  assert.deepEqual(validateScale(cronTab({ replicas: 3 }), scale), []);
  assert.deepEqual(validateScale({ spec: {} }, scale), []);
  assert.deepEqual(validateScale(cronTab(), undefined), []);
});

test('negative or too many replicas', () => {
  assert.deepEqual(validateScale(cronTab({ replicas: -1 }), scale).map(String), [
    '.spec.replicas: Invalid value: -1: should be a non-negative integer',
  ]);
  assert.deepEqual(validateScale({ status: { replicas: 2 ** 31 } }, scale).map(String), [
    '.status.replicas: Invalid value: 2147483648: should be less than or equal to 2147483647',
  ]);
});

test('wrong types read like unstructured accessor errors', () => {
  assert.deepEqual(validateScale(cronTab({ replicas: '3' }), scale).map(String), [
    '.spec.replicas: Invalid value: 0: .spec.replicas accessor error: 3 is of the type string, expected int64',
  ]);
  assert.deepEqual(validateScale({ spec: 'x', status: { labelSelector: 5 } }, scale).map(String), [
    '.spec.replicas: Invalid value: 0: .spec.replicas accessor error: x is of the type string, expected map[string]interface{}',
    '.status.labelSelector: Invalid value: "": .status.labelSelector accessor error: 5 is of the type int64, expected string',
  ]);
});
