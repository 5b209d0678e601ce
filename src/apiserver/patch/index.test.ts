import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import {
  acceptedPatchTypes,
  applyPatch,
  checkPatchContentType,
  JSON_PATCH,
  MERGE_PATCH,
  type PatchTarget,
  STRATEGIC_MERGE_PATCH,
} from './index.ts';

const POD: PatchTarget = { group: '', version: 'v1', kind: 'Pod' };
const WIDGET: PatchTarget = { group: 'example.com', version: 'v1', kind: 'Widget' };

const pod = () => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: { containers: [{ name: 'a', image: 'nginx' }] },
});

function rejects(fn: () => unknown, code: number, message: string): void {
  assert.throws(
    fn,
    (err: unknown) => err instanceof ApiError && err.code === code && err.message === message,
  );
}

describe('applyPatch', () => {
  it('dispatches by content type', () => {
    const containers = (o: object) => (o as ReturnType<typeof pod>).spec.containers;
    const add = { spec: { containers: [{ name: 'b', image: 'redis' }] } };
    assert.equal(containers(applyPatch(STRATEGIC_MERGE_PATCH, pod(), JSON.stringify(add), POD)).length, 2);
    assert.equal(containers(applyPatch(MERGE_PATCH, pod(), JSON.stringify(add), POD)).length, 1);
    const ops = [{ op: 'add', path: '/spec/containers/-', value: { name: 'b' } }];
    assert.equal(containers(applyPatch(JSON_PATCH, pod(), JSON.stringify(ops), POD)).length, 2);
  });

  it('takes bytes, ignores a charset parameter and leaves the original alone', () => {
    const original = pod();
    const body = new TextEncoder().encode('{"metadata":{"labels":{"a":"b"}}}');
    const out = applyPatch('application/merge-patch+json; charset=utf-8', original, body, POD);
    assert.deepEqual((out.metadata as object as { labels: object }).labels, { a: 'b' });
    assert.deepEqual(original, pod());
  });

  it('custom resources accept JSON and merge patches but not strategic merge patch (415)', () => {
    const cr = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
      spec: { items: [1] },
    };
    assert.deepEqual(applyPatch(MERGE_PATCH, cr, '{"spec":{"items":[2]}}', WIDGET).spec, { items: [2] });
    rejects(
      () => applyPatch(STRATEGIC_MERGE_PATCH, cr, '{}', WIDGET),
      415,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json',
    );
    assert.deepEqual(acceptedPatchTypes(WIDGET), [JSON_PATCH, MERGE_PATCH]);
  });

  it('an unknown content type on a built-in kind is refused by the route: 415', () => {
    rejects(() => applyPatch('application/json', pod(), '{}', POD), 415, '415: Unsupported Media Type');
    rejects(() => checkPatchContentType('', POD), 415, '415: Unsupported Media Type');
  });

  it('the handler cuts at ";" without trimming, as Kubernetes does', () => {
    rejects(
      () => checkPatchContentType('application/merge-patch+json ; charset=utf-8', POD),
      415,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json',
    );
    assert.equal(checkPatchContentType('application/json-patch+json;charset=utf-8', POD), JSON_PATCH);
  });

  it('a result that is not an object is 422 Invalid on field "patch"', () => {
    assert.throws(
      () => applyPatch(MERGE_PATCH, pod(), '[1]', POD),
      (err: unknown) =>
        err instanceof ApiError &&
        err.code === 422 &&
        err.reason === 'Invalid' &&
        err.message.startsWith(' "" is invalid: patch: Invalid value: "[1]": couldn\'t get version/kind') &&
        err.details?.causes?.[0]?.field === 'patch',
    );
  });
});
