import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldMeta, groupOf, type SchemaNode, smpSchemaFor } from './smp-schema.ts';

/** Follows field names down the tree. */
function at(node: SchemaNode | undefined, ...path: string[]) {
  let meta = fieldMeta(node, path[0] ?? '');
  for (const field of path.slice(1)) meta = fieldMeta(meta?.fields, field);
  return meta;
}

describe('strategic-merge-patch schema', () => {
  it('Pod: containers by name, ports by containerPort, env by name, volumes by name with retainKeys', () => {
    const pod = smpSchemaFor('v1', 'Pod');
    assert.deepEqual(at(pod, 'spec', 'containers')?.mergeKey, 'name');
    assert.equal(at(pod, 'spec', 'containers', 'ports')?.mergeKey, 'containerPort');
    assert.equal(at(pod, 'spec', 'initContainers', 'env')?.mergeKey, 'name');
    assert.equal(at(pod, 'spec', 'ephemeralContainers', 'volumeMounts')?.mergeKey, 'mountPath');
    assert.deepEqual(at(pod, 'spec', 'volumes'), { strategy: 'merge', mergeKey: 'name', retainKeys: true });
    assert.equal(at(pod, 'status', 'conditions')?.mergeKey, 'type');
  });

  it('lists without tags have no metadata (tolerations, envFrom, taints, Endpoints subsets)', () => {
    assert.equal(at(smpSchemaFor('v1', 'Pod'), 'spec', 'tolerations'), undefined);
    assert.equal(at(smpSchemaFor('v1', 'Pod'), 'spec', 'containers', 'envFrom'), undefined);
    assert.equal(at(smpSchemaFor('v1', 'Node'), 'spec', 'taints'), undefined);
    assert.equal(at(smpSchemaFor('v1', 'Endpoints'), 'subsets'), undefined);
  });

  it('workloads reuse the pod template; Deployment strategy is retainKeys', () => {
    for (const kind of ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']) {
      assert.equal(
        at(smpSchemaFor('apps/v1', kind), 'spec', 'template', 'spec', 'containers')?.mergeKey,
        'name',
      );
      assert.equal(at(smpSchemaFor('apps/v1', kind), 'status', 'conditions')?.mergeKey, 'type');
    }
    assert.deepEqual(at(smpSchemaFor('apps/v1', 'Deployment'), 'spec', 'strategy'), { retainKeys: true });
    const cron = smpSchemaFor('batch/v1', 'CronJob');
    assert.equal(at(cron, 'spec', 'jobTemplate', 'spec', 'template', 'spec', 'volumes')?.mergeKey, 'name');
  });

  it('every built-in kind has metadata finalizers (a merged set) and ownerReferences by uid', () => {
    const cm = smpSchemaFor('v1', 'ConfigMap');
    assert.deepEqual(at(cm, 'metadata', 'finalizers'), { strategy: 'merge' });
    assert.equal(at(cm, 'metadata', 'ownerReferences')?.mergeKey, 'uid');
    assert.ok(smpSchemaFor('rbac.authorization.k8s.io/v1', 'Role'));
  });

  it('custom resources (groups that are not built in) have no schema', () => {
    assert.equal(smpSchemaFor('example.com/v1', 'Widget'), undefined);
    assert.equal(smpSchemaFor('gateway.networking.k8s.io/v1', 'Gateway'), undefined);
  });

  it('looks up own fields only and splits apiVersion', () => {
    assert.equal(fieldMeta(smpSchemaFor('v1', 'Pod'), 'constructor'), undefined);
    assert.equal(groupOf('v1'), '');
    assert.equal(groupOf('apps/v1'), 'apps');
  });
});
