import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import type { Json, JsonObject } from './json.ts';
import { smpSchemaFor } from './smp-schema.ts';
import { applyStrategicMergePatch } from './strategic-merge-patch.ts';

/** Applies `patch` to `original` with the schema of apiVersion/kind (a Pod by default). */
function smp(original: JsonObject, patch: Json, apiVersion = 'v1', kind = 'Pod'): JsonObject {
  const schema = smpSchemaFor(apiVersion, kind);
  assert.ok(schema);
  return applyStrategicMergePatch(original, JSON.stringify(patch), schema);
}

function rejects(fn: () => unknown, code: number, message?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message !== undefined) assert.equal(err.message, message);
    return true;
  });
}

/** The patch-demo Deployment of "Update API Objects in Place Using kubectl patch". */
const patchDemo = (): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'patch-demo' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'nginx' } },
    template: {
      metadata: { labels: { app: 'nginx' } },
      spec: {
        containers: [{ name: 'patch-demo-ctr', image: 'nginx' }],
        tolerations: [{ effect: 'NoSchedule', key: 'dedicated', value: 'test-team' }],
      },
    },
  },
});

const podSpecOf = (o: JsonObject) => ((o.spec as JsonObject).template as JsonObject).spec as JsonObject;
const deploy = (patch: Json, original = patchDemo()) => smp(original, patch, 'apps/v1', 'Deployment');

const pod = (spec: JsonObject, metadata: JsonObject = { name: 'p' }): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata,
  spec,
});

describe('strategic merge patch: the kubectl patch docs', () => {
  it('patching containers adds a container by name instead of replacing the list', () => {
    const out = deploy({
      spec: { template: { spec: { containers: [{ name: 'patch-demo-ctr-2', image: 'redis' }] } } },
    });
    assert.deepEqual(podSpecOf(out).containers, [
      { name: 'patch-demo-ctr-2', image: 'redis' },
      { name: 'patch-demo-ctr', image: 'nginx' },
    ]);
  });

  it('tolerations have no patch strategy: the list is replaced', () => {
    const out = deploy({
      spec: {
        template: { spec: { tolerations: [{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }] } },
      },
    });
    assert.deepEqual(podSpecOf(out).tolerations, [{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }]);
    assert.deepEqual(podSpecOf(out).containers, [{ name: 'patch-demo-ctr', image: 'nginx' }]);
  });

  it('$retainKeys clears rollingUpdate when the strategy type changes to Recreate', () => {
    const original = patchDemo();
    (original.spec as JsonObject).strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '30%' } };
    const plain = deploy({ spec: { strategy: { type: 'Recreate' } } }, structuredClone(original));
    assert.deepEqual((plain.spec as JsonObject).strategy, {
      type: 'Recreate',
      rollingUpdate: { maxSurge: '30%' },
    });
    const retained = deploy({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, original);
    assert.deepEqual((retained.spec as JsonObject).strategy, { type: 'Recreate' });
  });
});

describe('strategic merge patch: maps and nulls', () => {
  it('merges objects and deletes keys set to null', () => {
    const out = smp(pod({ containers: [] }, { name: 'p', labels: { a: '1', b: '2' } }), {
      metadata: { labels: { b: null, c: '3' } },
    });
    assert.deepEqual((out.metadata as JsonObject).labels, { a: '1', c: '3' });
  });

  it('drops nulls and $patch-marked objects from values added where nothing was', () => {
    const out = smp(pod({ containers: [] }), {
      metadata: { annotations: { a: '1', b: null }, labels: { $patch: 'replace', x: 'y' } },
    });
    assert.deepEqual(out.metadata, { name: 'p', annotations: { a: '1' } });
  });

  it('$patch: replace on an object replaces it, $patch: delete empties it', () => {
    const original = pod(
      { containers: [] },
      { name: 'p', labels: { a: '1', b: '2' }, annotations: { x: 'y' } },
    );
    const out = smp(original, {
      metadata: { labels: { $patch: 'replace', c: '3' }, annotations: { $patch: 'delete' } },
    });
    assert.deepEqual(out.metadata, { name: 'p', labels: { c: '3' }, annotations: {} });
  });

  it('$patch: delete at the top empties the object', () => {
    assert.deepEqual(smp(pod({}), { $patch: 'delete' }), {});
  });

  it('a field with strategy replace (PodDisruptionBudget spec.selector) is replaced whole', () => {
    const pdb: JsonObject = {
      metadata: { name: 'pdb' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'a' } } },
    };
    const out = smp(
      pdb,
      { spec: { selector: { matchExpressions: [] } } },
      'policy/v1',
      'PodDisruptionBudget',
    );
    assert.deepEqual(out.spec, { minAvailable: 1, selector: { matchExpressions: [] } });
  });

  it('a value of another type replaces; a null body changes nothing', () => {
    const out = smp(pod({ containers: [] }, { name: 'p', labels: { a: '1' } }), {
      metadata: { labels: 'x' },
    });
    assert.equal((out.metadata as JsonObject).labels, 'x');
    assert.deepEqual(applyStrategicMergePatch(pod({}), 'null', {}), pod({}));
  });

  it('does not modify the original', () => {
    const original = patchDemo();
    deploy(
      { spec: { template: { spec: { containers: [{ name: 'patch-demo-ctr', $patch: 'delete' }] } } } },
      original,
    );
    assert.deepEqual(original, patchDemo());
  });
});

describe('strategic merge patch: lists merged by key', () => {
  const twoContainers = () =>
    pod({
      containers: [
        { name: 'a', image: 'nginx', env: [{ name: 'X', value: '1' }], ports: [{ containerPort: 80 }] },
        { name: 'b', image: 'redis' },
      ],
    });

  it('merges a matching element recursively, with nested merge lists (env by name, ports by containerPort)', () => {
    const out = smp(twoContainers(), {
      spec: {
        containers: [
          {
            name: 'a',
            image: 'nginx:2',
            env: [{ name: 'Y', value: '2' }],
            ports: [{ containerPort: 80, name: 'http' }],
          },
        ],
      },
    });
    assert.deepEqual((out.spec as JsonObject).containers, [
      {
        name: 'a',
        image: 'nginx:2',
        env: [
          { name: 'Y', value: '2' },
          { name: 'X', value: '1' },
        ],
        ports: [{ containerPort: 80, name: 'http' }],
      },
      { name: 'b', image: 'redis' },
    ]);
  });

  it('$patch: delete in a list item removes the element with that merge key', () => {
    const out = smp(twoContainers(), { spec: { containers: [{ name: 'a', $patch: 'delete' }] } });
    assert.deepEqual((out.spec as JsonObject).containers, [{ name: 'b', image: 'redis' }]);
  });

  it('$patch: replace in a list makes the other patch items the whole list', () => {
    const out = smp(twoContainers(), {
      spec: { containers: [{ $patch: 'replace' }, { name: 'c', image: 'busybox' }] },
    });
    assert.deepEqual((out.spec as JsonObject).containers, [{ name: 'c', image: 'busybox' }]);
  });

  it('$setElementOrder orders the merged list; server-only items keep their place', () => {
    const out = smp(twoContainers(), {
      spec: {
        '$setElementOrder/containers': [{ name: 'b' }, { name: 'c' }, { name: 'a' }],
        containers: [{ name: 'c', image: 'busybox' }],
      },
    });
    assert.deepEqual(
      ((out.spec as JsonObject).containers as JsonObject[]).map((c) => c.name),
      ['b', 'c', 'a'],
    );
  });

  it('merges other built-in lists by their keys', () => {
    const node: JsonObject = {
      metadata: { name: 'n' },
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'Hostname', address: 'n' },
        ],
      },
    };
    const out = smp(
      node,
      { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] } },
      'v1',
      'Node',
    );
    assert.deepEqual((out.status as JsonObject).addresses, [
      { type: 'InternalIP', address: '10.0.0.2' },
      { type: 'Hostname', address: 'n' },
    ]);

    const svc: JsonObject = { metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 8080 }] } };
    const svcOut = smp(
      svc,
      { spec: { ports: [{ port: 443 }, { port: 80, name: 'http' }] } },
      'v1',
      'Service',
    );
    assert.deepEqual((svcOut.spec as JsonObject).ports, [
      { port: 443 },
      { port: 80, targetPort: 8080, name: 'http' },
    ]);

    const owned = pod({}, { name: 'p', ownerReferences: [{ uid: '1', name: 'rs' }] });
    const ownOut = smp(owned, { metadata: { ownerReferences: [{ uid: '2', name: 'other' }] } });
    assert.deepEqual((ownOut.metadata as JsonObject).ownerReferences, [
      { uid: '2', name: 'other' },
      { uid: '1', name: 'rs' },
    ]);
  });

  it('status conditions merge by type', () => {
    const dep: JsonObject = {
      metadata: { name: 'd' },
      status: {
        conditions: [
          { type: 'Available', status: 'False' },
          { type: 'Progressing', status: 'True' },
        ],
      },
    };
    const out = smp(
      dep,
      { status: { conditions: [{ type: 'Available', status: 'True' }] } },
      'apps/v1',
      'Deployment',
    );
    assert.deepEqual((out.status as JsonObject).conditions, [
      { type: 'Available', status: 'True' },
      { type: 'Progressing', status: 'True' },
    ]);
  });

  it('$retainKeys on a volume (strategy merge,retainKeys) switches its source', () => {
    const original = pod({ volumes: [{ name: 'v', emptyDir: {} }] });
    const out = smp(original, {
      spec: { volumes: [{ name: 'v', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/x' } }] },
    });
    assert.deepEqual((out.spec as JsonObject).volumes, [{ name: 'v', hostPath: { path: '/x' } }]);
  });

  it('lists without a strategy are replaced, and leftover directives are removed', () => {
    const original = pod({ containers: [{ name: 'a', args: ['x', 'y'], envFrom: [{ prefix: 'A' }] }] });
    const out = smp(original, {
      spec: { containers: [{ name: 'a', args: ['z'], envFrom: [{ prefix: 'B', $patch: 'x' }] }] },
    });
    assert.deepEqual((out.spec as JsonObject).containers, [
      { name: 'a', args: ['z'], envFrom: [{ prefix: 'B' }] },
    ]);
  });
});

describe('strategic merge patch: lists of scalars', () => {
  const withFinalizers = (...finalizers: string[]) => pod({}, { name: 'p', finalizers });

  it('finalizers (strategy merge) are a union: new ones first, server order kept', () => {
    const out = smp(withFinalizers('a', 'b', 'c'), { metadata: { finalizers: ['d', 'b'] } });
    assert.deepEqual((out.metadata as JsonObject).finalizers, ['d', 'a', 'b', 'c']);
  });

  it('$deleteFromPrimitiveList removes the listed values', () => {
    const out = smp(withFinalizers('a', 'b', 'c'), {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'x'] },
    });
    assert.deepEqual((out.metadata as JsonObject).finalizers, ['a', 'c']);
  });

  it('$deleteFromPrimitiveList on a missing list adds nothing', () => {
    const out = smp(pod({}), { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } });
    assert.deepEqual(out.metadata, { name: 'p' });
  });

  it('$deleteFromPrimitiveList applies even to a list without the merge strategy', () => {
    const original = pod({ containers: [{ name: 'a', args: ['--debug', '--other'] }] });
    const out = smp(original, {
      spec: { containers: [{ name: 'a', '$deleteFromPrimitiveList/args': ['--debug'] }] },
    });
    assert.deepEqual((out.spec as JsonObject).containers, [{ name: 'a', args: ['--other'] }]);
  });

  it('$setElementOrder reorders a list of scalars', () => {
    const out = smp(withFinalizers('a', 'b', 'c'), {
      metadata: { '$setElementOrder/finalizers': ['c', 'a', 'b'] },
    });
    assert.deepEqual((out.metadata as JsonObject).finalizers, ['c', 'a', 'b']);
  });

  it('a scalar list without a strategy is replaced (node spec.taints is not; podCIDRs merges)', () => {
    const node: JsonObject = {
      metadata: { name: 'n' },
      spec: { podCIDRs: ['10.0.0.0/24'], taints: [{ key: 'a' }] },
    };
    const out = smp(node, { spec: { podCIDRs: ['fd00::/64'], taints: [{ key: 'b' }] } }, 'v1', 'Node');
    assert.deepEqual(out.spec, { podCIDRs: ['fd00::/64', '10.0.0.0/24'], taints: [{ key: 'b' }] });
  });
});

describe('strategic merge patch: errors', () => {
  const original = () => pod({ containers: [{ name: 'a', image: 'nginx' }] });

  it('a merge-list item without its merge key is 400 with the Kubernetes message', () => {
    rejects(
      () => smp(original(), { spec: { containers: [{ image: 'x' }] } }),
      400,
      'map: map[image:x] does not contain declared merge key: name',
    );
  });

  it('$patch: merge and unknown $patch values are rejected', () => {
    rejects(
      () => smp(original(), { spec: { containers: [{ name: 'a', $patch: 'merge' }] } }),
      400,
      'merging lists cannot yet be specified in the patch',
    );
    rejects(
      () => smp(original(), { metadata: { $patch: 'merge' } }),
      400,
      'unknown patch type: merge in map: map[$patch:merge]',
    );
  });

  it('malformed directives are 400 with the mergepatch messages', () => {
    rejects(
      () => smp(original(), { spec: { $retainKeys: ['containers'], hostname: 'h' } }),
      400,
      'invalid patch format of retainKeys',
    );
    rejects(() => smp(original(), { spec: { $retainKeys: 'x' } }), 400, 'invalid patch format of retainKeys');
    rejects(
      () => smp(original(), { metadata: { '$deleteFromPrimitiveListX/finalizers': ['a'] } }),
      400,
      'invalid patch format of primitive list',
    );
    rejects(
      () => smp(original(), { spec: { '$setElementOrderX/containers': [] } }),
      400,
      'invalid patch format of setElementOrder list',
    );
  });

  it('a list of lists in a merge list is 422; mixed element types are 400', () => {
    rejects(
      () => smp(pod({}, { name: 'p', finalizers: [] }), { metadata: { finalizers: [['b']] } }),
      422,
      'the server rejected our request due to an error in our request',
    );
    rejects(
      () => smp(pod({}, { name: 'p', finalizers: ['a'] }), { metadata: { finalizers: [1] } }),
      400,
      'list element types are not identical: [[a] [1]]',
    );
  });

  it('a body that is not a JSON object is 400 with the decoder message', () => {
    const schema = smpSchemaFor('v1', 'Pod') ?? {};
    rejects(
      () => applyStrategicMergePatch(original(), '[]', schema),
      400,
      'json: cannot unmarshal array into Go value of type map[string]interface {}',
    );
    rejects(() => applyStrategicMergePatch(original(), '{"a":', schema), 400, 'unexpected end of JSON input');
  });
});
