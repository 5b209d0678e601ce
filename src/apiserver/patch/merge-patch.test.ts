import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import type { JsonObject } from './json.ts';
import { applyMergePatch } from './merge-patch.ts';

const deployment = (): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'patch-demo', labels: { app: 'nginx', tier: 'web' } },
  spec: {
    replicas: 2,
    template: {
      spec: {
        containers: [
          { name: 'patch-demo-ctr', image: 'nginx' },
          { name: 'patch-demo-ctr-2', image: 'redis' },
        ],
      },
    },
  },
});

const apply = (doc: JsonObject, patch: unknown) => applyMergePatch(doc, JSON.stringify(patch)) as JsonObject;

function rejects400(body: string): void {
  assert.throws(
    () => applyMergePatch(deployment(), body),
    (err: unknown) => err instanceof ApiError && err.code === 400 && err.message === 'Invalid JSON Patch',
  );
}

describe('JSON merge patch (RFC 7386)', () => {
  it('replaces a list instead of merging it (kubectl docs: containers)', () => {
    const out = apply(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'patch-demo-ctr-3', image: 'hello-app:2.0' }] } } },
    });
    assert.deepEqual((out.spec as JsonObject).template, {
      spec: { containers: [{ name: 'patch-demo-ctr-3', image: 'hello-app:2.0' }] },
    });
    assert.equal((out.spec as JsonObject).replicas, 2);
  });

  it('merges objects recursively and deletes keys set to null', () => {
    const out = apply(deployment(), {
      metadata: { labels: { tier: null, env: 'prod' } },
      spec: { replicas: 3 },
    });
    assert.deepEqual(out.metadata, { name: 'patch-demo', labels: { app: 'nginx', env: 'prod' } });
    assert.equal((out.spec as JsonObject).replicas, 3);
  });

  it('deleting a missing key is a no-op', () => {
    assert.deepEqual(apply(deployment(), { status: null }), deployment());
  });

  it('prunes nulls from new values, also in objects inside arrays, but keeps null items', () => {
    const out = apply(deployment(), {
      metadata: { annotations: { a: '1', b: null } },
      extra: [{ x: null, y: 1 }, null],
    });
    assert.deepEqual((out.metadata as JsonObject).annotations, { a: '1' });
    assert.deepEqual(out.extra, [{ y: 1 }, null]);
  });

  it('a scalar replaces an object, and an object replaces a scalar', () => {
    const out = apply(deployment(), { metadata: { labels: 'flat' }, spec: { replicas: { n: 1, z: null } } });
    assert.equal((out.metadata as JsonObject).labels, 'flat');
    assert.deepEqual((out.spec as JsonObject).replicas, { n: 1 });
  });

  it('does not modify the original', () => {
    const original = deployment();
    apply(original, { spec: null });
    assert.deepEqual(original, deployment());
  });

  it('an array body yields the array (the caller cannot decode it)', () => {
    assert.deepEqual(applyMergePatch(deployment(), '[{"a":null},1]'), [{}, 1]);
  });

  it('a body that is not JSON, null or a scalar is 400 "Invalid JSON Patch"', () => {
    rejects400('{');
    rejects400('null');
    rejects400('"text"');
    rejects400('42');
  });
});
