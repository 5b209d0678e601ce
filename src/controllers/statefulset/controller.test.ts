import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  CONTROLLER_REVISIONS,
  PERSISTENT_VOLUME_CLAIMS,
  PODS,
  STATEFUL_SETS,
} from '../../client/resources.ts';
import type { Pod } from '../job/podutil.ts';
import { Harness, podTemplate } from '../job/testing.ts';
import { StatefulSetController } from './controller.ts';
import { CONTROLLER_REVISION_HASH_LABEL } from './history.ts';
import { type PersistentVolumeClaim, POD_INDEX_LABEL, POD_NAME_LABEL, type StatefulSet } from './identity.ts';

function newSet(name: string, spec: Partial<StatefulSet['spec']> = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default', generation: 1 },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      serviceName: `${name}-svc`,
      template: podTemplate({ app: name }, { restartPolicy: 'Always' }),
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      ...spec,
    },
  };
}

describe('StatefulSetController', () => {
  let h: Harness;
  let sc: StatefulSetController;
  beforeEach(async () => {
    h = new Harness();
    sc = new StatefulSetController();
    await h.start(sc);
  });
  afterEach(() => h.stop());

  const set = (name: string) =>
    h.client.objects<StatefulSet>(STATEFUL_SETS).find((s) => s.metadata.name === name) as StatefulSet;
  const names = () =>
    h
      .pods()
      .map((p) => p.metadata.name)
      .sort();
  const pod = (name: string) => h.pods().find((p) => p.metadata.name === name) as Pod;
  /** One pass; new pods get phase Pending as the API server would give them. */
  const sync = async (name: string) => {
    await h.settle();
    await sc.reconcile(`default/${name}`);
    await h.settle();
    for (const p of h.pods()) if (!p.status?.phase) await h.setPhase(p, 'Pending');
    await h.settle();
  };
  const ready = async (...podNames: string[]) => {
    for (const n of podNames) await h.setPhase(pod(n), 'Running');
  };

  it('creates pods in order, each only once its predecessors are Running and Ready', async () => {
    await h.create(STATEFUL_SETS, newSet('web'));
    await sync('web');
    assert.deepEqual(names(), ['web-0']);
    await sync('web');
    assert.deepEqual(names(), ['web-0'], 'web-0 is not ready yet');
    await ready('web-0');
    await sync('web');
    assert.deepEqual(names(), ['web-0', 'web-1']);
    await ready('web-1');
    await sync('web');
    assert.deepEqual(names(), ['web-0', 'web-1', 'web-2']);
    const p = pod('web-1');
    assert.equal(p.metadata.labels?.[POD_NAME_LABEL], 'web-1');
    assert.equal(p.metadata.labels?.[POD_INDEX_LABEL], '1');
    assert.equal(p.spec?.hostname, 'web-1');
    assert.equal(p.spec?.subdomain, 'web-svc');
    assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'StatefulSet');
    const rev = h.client.objects(CONTROLLER_REVISIONS)[0];
    assert.equal(p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL], rev?.metadata.name);
    await ready('web-2');
    await sync('web');
    const st = set('web').status;
    assert.equal(st?.replicas, 3);
    assert.equal(st?.readyReplicas, 3);
    assert.equal(st?.availableReplicas, 3);
    assert.equal(st?.currentReplicas, 3);
    assert.equal(st?.updatedReplicas, 3);
    assert.equal(st?.currentRevision, rev?.metadata.name);
    assert.equal(st?.updateRevision, rev?.metadata.name);
    assert.equal(st?.observedGeneration, 1);
  });

  it('scales down in reverse order, one pod at a time', async () => {
    await h.create(STATEFUL_SETS, newSet('web'));
    for (const n of ['web-0', 'web-1', 'web-2']) {
      await sync('web');
      await ready(n);
    }
    await h.client.patch(STATEFUL_SETS, 'default', 'web', 'merge', { spec: { replicas: 0 } });
    const order: string[][] = [];
    for (let i = 0; i < 4; i++) {
      await sync('web');
      order.push(names() as string[]);
    }
    assert.deepEqual(order, [['web-0', 'web-1'], ['web-0'], [], []]);
  });

  it('scale-down waits while a remaining pod is unhealthy', async () => {
    await h.create(STATEFUL_SETS, newSet('web'));
    for (const n of ['web-0', 'web-1', 'web-2']) {
      await sync('web');
      await ready(n);
    }
    await h.setPhase(pod('web-0'), 'Running', { ready: false });
    await h.client.patch(STATEFUL_SETS, 'default', 'web', 'merge', { spec: { replicas: 2 } });
    await sync('web');
    assert.deepEqual(names(), ['web-0', 'web-1', 'web-2']);
    await ready('web-0');
    await sync('web');
    assert.deepEqual(names(), ['web-0', 'web-1']);
  });

  it('Parallel creates and deletes without waiting', async () => {
    await h.create(STATEFUL_SETS, newSet('par', { podManagementPolicy: 'Parallel' }));
    await sync('par');
    assert.deepEqual(names(), ['par-0', 'par-1', 'par-2']);
    await h.client.patch(STATEFUL_SETS, 'default', 'par', 'merge', { spec: { replicas: 1 } });
    await sync('par');
    assert.deepEqual(names(), ['par-0']);
  });

  it('creates claims from volumeClaimTemplates before the pod, and keeps them on scale-down', async () => {
    await h.create(
      STATEFUL_SETS,
      newSet('db', {
        replicas: 1,
        volumeClaimTemplates: [
          { metadata: { name: 'data', labels: { tier: 'disk' } }, spec: { accessModes: ['ReadWriteOnce'] } },
        ],
      }),
    );
    await sync('db');
    const claims = h.client.objects<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS);
    assert.deepEqual(
      claims.map((c) => c.metadata.name),
      ['data-db-0'],
    );
    assert.deepEqual(claims[0]?.metadata.labels, { tier: 'disk', app: 'db' });
    assert.equal(claims[0]?.metadata.ownerReferences, undefined, 'Retain: no owner');
    assert.deepEqual(
      pod('db-0').spec?.volumes?.find((v) => v.name === 'data'),
      { name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } },
    );
    await ready('db-0');
    await h.client.patch(STATEFUL_SETS, 'default', 'db', 'merge', { spec: { replicas: 0 } });
    await sync('db');
    assert.deepEqual(names(), []);
    assert.equal(
      h.client.objects(PERSISTENT_VOLUME_CLAIMS).length,
      1,
      'claims are never deleted by the controller',
    );
  });

  it('persistentVolumeClaimRetentionPolicy sets claim owners for the garbage collector', async () => {
    await h.create(
      STATEFUL_SETS,
      newSet('ret', {
        replicas: 2,
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: {} }],
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
      }),
    );
    await sync('ret');
    await ready('ret-0');
    await sync('ret');
    await ready('ret-1');
    await sync('ret');
    const owners = (n: string) =>
      h.client.objects<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS).find((c) => c.metadata.name === n)
        ?.metadata.ownerReferences;
    assert.equal(owners('data-ret-0')?.[0]?.kind, 'StatefulSet');
    const uid1 = pod('ret-1').metadata.uid;
    await h.client.patch(STATEFUL_SETS, 'default', 'ret', 'merge', { spec: { replicas: 1 } });
    await sync('ret');
    assert.deepEqual(names(), ['ret-0']);
    assert.deepEqual(
      owners('data-ret-1')?.map((r) => [r.kind, r.uid]),
      [['Pod', uid1]],
      'scaled away: owned by its pod',
    );
  });

  it('rolls an update from the highest ordinal down, waiting for each pod; partition holds lower ones', async () => {
    await h.create(
      STATEFUL_SETS,
      newSet('web', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }),
    );
    for (const n of ['web-0', 'web-1', 'web-2']) {
      await sync('web');
      await ready(n);
    }
    await sync('web');
    const rev1 = set('web').status?.currentRevision;
    await h.client.patch(STATEFUL_SETS, 'default', 'web', 'merge', {
      metadata: { generation: 2 },
      spec: { template: podTemplate({ app: 'web' }, { restartPolicy: 'Always', priority: 5 }) },
    });
    await sync('web');
    assert.deepEqual(names(), ['web-0', 'web-1'], 'web-2 deleted first');
    const rev2 = set('web').status?.updateRevision;
    assert.notEqual(rev2, rev1);
    await sync('web');
    assert.equal(
      pod('web-2').metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL],
      rev2,
      'recreated at the update revision',
    );
    await sync('web');
    assert.ok(pod('web-1'), 'web-1 waits for web-2 to be ready');
    await ready('web-2');
    await sync('web');
    assert.deepEqual(names(), ['web-0', 'web-2']);
    await sync('web');
    await ready('web-1');
    await sync('web');
    await sync('web');
    assert.equal(pod('web-0').metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL], rev1, 'below the partition');
    assert.equal(pod('web-1').metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL], rev2);
    const st = set('web').status;
    assert.equal(st?.updatedReplicas, 2);
    assert.equal(st?.currentReplicas, 1);
    assert.equal(st?.currentRevision, rev1);
    // Partition 0: the rest follows, and the update revision becomes current.
    await h.client.patch(STATEFUL_SETS, 'default', 'web', 'merge', {
      spec: { updateStrategy: { rollingUpdate: { partition: 0 } } },
    });
    await sync('web');
    await sync('web');
    await ready('web-0');
    await sync('web');
    assert.equal(set('web').status?.currentRevision, rev2);
    assert.equal(set('web').status?.currentReplicas, 3);
  });

  it('OnDelete: pods change revision only when deleted', async () => {
    await h.create(STATEFUL_SETS, newSet('od', { replicas: 1, updateStrategy: { type: 'OnDelete' } }));
    await sync('od');
    await ready('od-0');
    await h.client.patch(STATEFUL_SETS, 'default', 'od', 'merge', {
      spec: { template: podTemplate({ app: 'od' }, { restartPolicy: 'Always', priority: 5 }) },
    });
    await sync('od');
    await sync('od');
    const st = set('od').status;
    assert.notEqual(st?.updateRevision, st?.currentRevision);
    assert.equal(
      pod('od-0').metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL],
      st?.currentRevision,
      'not replaced',
    );
    await h.client.delete(PODS, 'default', 'od-0');
    await sync('od');
    assert.equal(
      pod('od-0').metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL],
      set('od').status?.updateRevision,
    );
  });

  it('recreates a failed pod', async () => {
    await h.create(STATEFUL_SETS, newSet('f', { replicas: 1 }));
    await sync('f');
    const uid = pod('f-0').metadata.uid;
    await h.setPhase(pod('f-0'), 'Failed');
    await sync('f');
    assert.notEqual(pod('f-0').metadata.uid, uid);
    assert.ok(sc.events.recent.some((e) => e.reason === 'RecreatingFailedPod'));
  });
});
