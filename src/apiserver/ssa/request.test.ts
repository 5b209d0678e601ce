import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../object.ts';
import {
  checkAppliedObject,
  decodeApplyPatch,
  managerFromUserAgent,
  managerOrUserAgent,
  validatePatchOptions,
} from './request.ts';

function error(f: () => unknown): ApiError {
  try {
    f();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  assert.fail('expected an ApiError');
}

const target = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', namespace: 'default' };

describe('decodeApplyPatch', () => {
  it('reads YAML and JSON bodies', () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  key: "1"\n';
    assert.deepEqual(decodeApplyPatch(Buffer.from(yaml), target), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm' },
      data: { key: '1' },
    });
    const json = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"default"}}';
    assert.deepEqual(decodeApplyPatch(json, target).metadata, { name: 'cm', namespace: 'default' });
    assert.deepEqual(decodeApplyPatch(''), {});
  });

  it('rejects what Kubernetes rejects, with its messages', () => {
    const notObject = error(() => decodeApplyPatch('- a\n- b\n'));
    assert.equal(notObject.code, 400);
    assert.equal(
      notObject.message,
      'error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}',
    );
    assert.match(error(() => decodeApplyPatch('a: [\n')).message, /^error decoding YAML: /);
    assert.equal(
      error(() => decodeApplyPatch('apiVersion: apps/v1\nkind: Deployment\n', target)).message,
      'invalid object type: apps/v1, Kind=Deployment',
    );
    assert.equal(
      error(() => decodeApplyPatch('kind: ConfigMap\n', target)).message,
      'invalid object type: /, Kind=ConfigMap',
    );
    assert.equal(
      error(() =>
        decodeApplyPatch('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"}}', target),
      ).message,
      'the name of the object (other) does not match the name on the URL (cm)',
    );
    assert.equal(
      error(() =>
        decodeApplyPatch('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"namespace":"x"}}', target),
      ).message,
      'the namespace of the provided object does not match the namespace sent on the request',
    );
    assert.equal(
      error(() =>
        decodeApplyPatch('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"managedFields":[]}}', target),
      ).message,
      'metadata.managedFields must be nil',
    );
  });
});

describe('checkAppliedObject', () => {
  it('fills or clears the namespace and requires the URL name', () => {
    const obj = { metadata: { name: 'cm' } } as KubeObject;
    checkAppliedObject(obj, 'cm', 'default');
    assert.equal(obj.metadata.namespace, 'default');
    const clustered = { metadata: { name: 'n', namespace: 'x' } } as KubeObject;
    checkAppliedObject(clustered, 'n', '');
    assert.equal(clustered.metadata.namespace, undefined);
    assert.equal(
      error(() => checkAppliedObject({ metadata: {} } as KubeObject, 'cm', 'default')).message,
      'the name of the object () does not match the name on the URL (cm)',
    );
  });
});

describe('validatePatchOptions', () => {
  it('requires a fieldManager for apply and forbids force elsewhere (422 on PatchOptions)', () => {
    const missing = error(() => validatePatchOptions({}, true));
    assert.equal(missing.code, 422);
    assert.equal(
      missing.message,
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    assert.equal(
      error(() => validatePatchOptions({ force: true }, false)).message,
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    );
    assert.match(
      error(() => validatePatchOptions({ fieldManager: 'x'.repeat(129) }, true)).message,
      /fieldManager: Too long/,
    );
    assert.match(
      error(() => validatePatchOptions({ fieldManager: 'a\u0007b' }, true)).message,
      /fieldManager: Invalid value: "a\\u0007b": invalid character U\+0007 \(at position 1\)$/,
    );
    validatePatchOptions({ fieldManager: 'kubectl', force: true }, true);
    validatePatchOptions({}, false);
  });
});

describe('managerFromUserAgent', () => {
  it('takes the User-Agent up to the first slash', () => {
    assert.equal(managerFromUserAgent('kubectl/v1.35.2 (linux/amd64) kubernetes/abcdef'), 'kubectl');
    assert.equal(managerFromUserAgent('Helm/3.17.2'), 'Helm');
    assert.equal(
      managerFromUserAgent('kube-controller-manager/v1.35.0 (linux/amd64)'),
      'kube-controller-manager',
    );
    assert.equal(managerFromUserAgent('a\u0001b'), 'ab');
    assert.equal(managerFromUserAgent('x'.repeat(200)).length, 128);
    assert.equal(managerFromUserAgent(undefined), '');
    assert.equal(managerOrUserAgent('kubectl-edit', 'kubectl/v1.35.2'), 'kubectl-edit');
    assert.equal(managerOrUserAgent('', 'kubectl/v1.35.2'), 'kubectl');
  });
});
