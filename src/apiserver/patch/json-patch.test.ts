import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import type { JsonObject } from './json.ts';
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json-patch.ts';

const pod = (): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'valid-pod', labels: { app: 'web' } },
  spec: {
    containers: [
      { name: 'a', image: 'nginx' },
      { name: 'b', image: 'redis' },
    ],
  },
});

const apply = (doc: JsonObject, ops: unknown) => applyJsonPatch(doc, JSON.stringify(ops));

function rejects(fn: () => unknown, code: number, message?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message !== undefined) assert.equal(err.message, message);
    return true;
  });
}

const NOT_APPLICABLE = 'the server rejected our request due to an error in our request';

describe('JSON patch (RFC 6902)', () => {
  it('replaces a positional array element (kubectl patch --type=json example)', () => {
    const out = apply(pod(), [{ op: 'replace', path: '/spec/containers/0/image', value: 'new image' }]);
    assert.equal(
      (out as { spec: { containers: { image: string }[] } }).spec.containers[0]?.image,
      'new image',
    );
  });

  it('applies add, remove, move and copy in order', () => {
    const out = apply(pod(), [
      { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      { op: 'remove', path: '/metadata/labels/app' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'c', image: 'busybox' } },
      { op: 'move', from: '/spec/containers/0', path: '/spec/containers/-' },
      { op: 'copy', from: '/metadata/name', path: '/metadata/annotations' },
    ]) as JsonObject;
    assert.deepEqual(out.metadata, {
      name: 'valid-pod',
      labels: { tier: 'front' },
      annotations: 'valid-pod',
    });
    assert.deepEqual(
      (out.spec as { containers: { name: string }[] }).containers.map((c) => c.name),
      ['b', 'c', 'a'],
    );
  });

  it('counts negative indices from the end', () => {
    const out = apply(pod(), [
      { op: 'replace', path: '/spec/containers/-1/image', value: 'redis:7' },
      { op: 'add', path: '/spec/containers/-1', value: { name: 'z' } },
    ]) as { spec: { containers: { name: string; image?: string }[] } };
    assert.deepEqual(out.spec.containers, [
      { name: 'a', image: 'nginx' },
      { name: 'b', image: 'redis:7' },
      { name: 'z' },
    ]);
  });

  it('replace of a missing object key sets it (json-patch v4 behaviour)', () => {
    const out = apply(pod(), [{ op: 'replace', path: '/metadata/labels/new', value: 'x' }]) as JsonObject;
    assert.deepEqual((out.metadata as JsonObject).labels, { app: 'web', new: 'x' });
  });

  it('a missing value adds null', () => {
    const out = apply(pod(), [{ op: 'add', path: '/metadata/labels/n' }]) as JsonObject;
    assert.equal(((out.metadata as JsonObject).labels as JsonObject).n, null);
  });

  it('test passes on equal values and on a missing key tested against null', () => {
    const out = apply(pod(), [
      { op: 'test', path: '/metadata/labels', value: { app: 'web' } },
      { op: 'test', path: '/metadata/missing', value: null },
      { op: 'replace', path: '/metadata/name', value: 'renamed' },
    ]) as JsonObject;
    assert.equal((out.metadata as JsonObject).name, 'renamed');
  });

  it('replaces the root with an object', () => {
    assert.deepEqual(apply(pod(), [{ op: 'replace', path: '', value: { a: 1 } }]), { a: 1 });
  });

  it('a path without a leading slash drops its first segment', () => {
    const out = apply(pod(), [{ op: 'add', path: 'ignored/extra', value: 1 }]) as JsonObject;
    assert.equal(out.extra, 1);
  });

  it('a null body changes nothing; the original is never modified', () => {
    const original = pod();
    assert.deepEqual(applyJsonPatch(original, 'null'), pod());
    apply(original, [{ op: 'remove', path: '/spec' }]);
    assert.deepEqual(original, pod());
  });

  it('a failed test is 422 with the generic message', () => {
    rejects(
      () => apply(pod(), [{ op: 'test', path: '/metadata/name', value: 'other' }]),
      422,
      NOT_APPLICABLE,
    );
  });

  it('a path that does not exist is 422', () => {
    rejects(() => apply(pod(), [{ op: 'remove', path: '/metadata/nope' }]), 422, NOT_APPLICABLE);
    rejects(
      () => apply(pod(), [{ op: 'add', path: '/status/phase', value: 'Running' }]),
      422,
      NOT_APPLICABLE,
    );
    rejects(() => apply(pod(), [{ op: 'replace', path: '/spec/containers/5', value: {} }]), 422);
    rejects(() => apply(pod(), [{ op: 'add', path: '/spec/containers/9', value: {} }]), 422);
    rejects(() => apply(pod(), [{ op: 'move', from: '/nope', path: '/x' }]), 422);
  });

  it('an unknown op, a missing path, or add at the root is 422', () => {
    rejects(() => apply(pod(), [{ op: 'frob', path: '/a' }]), 422);
    rejects(() => apply(pod(), [{ op: 'add', value: 1 }]), 422);
    rejects(() => apply(pod(), [{ op: 'add', path: '', value: {} }]), 422);
    rejects(() => apply(pod(), [null]), 422);
  });

  it('a body that is not an array of operations is 400 with the decoder message', () => {
    rejects(
      () => applyJsonPatch(pod(), '{"op":"add"}'),
      400,
      'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    );
    rejects(
      () => applyJsonPatch(pod(), '["add"]'),
      400,
      'json: cannot unmarshal string into Go value of type jsonpatch.Operation',
    );
    rejects(() => applyJsonPatch(pod(), '[{"op":'), 400, 'unexpected end of JSON input');
    rejects(() => applyJsonPatch(pod(), 'nope'), 400, "invalid character 'n' looking for beginning of value");
  });

  it(`more than ${MAX_JSON_PATCH_OPERATIONS} operations is 413`, () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({
      op: 'test',
      path: '/kind',
      value: 'Pod',
    }));
    rejects(
      () => apply(pod(), ops),
      413,
      'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001',
    );
  });
});
