import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { PODS, REPLICA_SETS } from '../../client/resources.ts';
import { type Pod, rfc3339 } from '../util/pods.ts';
import { type FakeControllerEnv, startFakeControllers } from '../util/testing.ts';
import { ReplicaSetController } from './controller.ts';
import type { ReplicaSet } from './types.ts';

let env: FakeControllerEnv;
let rsc: ReplicaSetController;

async function start(): Promise<void> {
  rsc = new ReplicaSetController();
  env = await startFakeControllers([rsc]);
}

afterEach(() => env?.stop());

function replicaSet(
  name: string,
  replicas: number,
  extra: Partial<NonNullable<ReplicaSet['spec']>> = {},
): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'ns', generation: 1, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, tier: 'web' }, annotations: { note: 'x' } },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      },
      ...extra,
    },
  };
}

async function createRS(rs: ReplicaSet): Promise<ReplicaSet> {
  const created = await env.fake.create(REPLICA_SETS, 'ns', rs);
  await env.synced(REPLICA_SETS, PODS);
  return created;
}

const pods = () => env.fake.objects<Pod>(PODS);
const getRS = (name: string) => env.fake.get<ReplicaSet>(REPLICA_SETS, 'ns', name);
const podCreates = () => env.fake.calls.filter((c) => c.verb === 'create' && c.resource === 'pods').length;

/** Marks a pod Running and Ready (since `since`). */
async function makeReady(pod: Pod, since = env.clock.now()): Promise<void> {
  await env.fake.patch(PODS, 'ns', pod.metadata.name!, 'merge', {
    spec: { nodeName: 'n1' },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(since) }],
    },
  });
}

describe('ReplicaSetController', () => {
  it('creates the missing pods from the template, owned by the ReplicaSet', async () => {
    await start();
    const rs = await createRS(replicaSet('web', 3));
    await rsc.reconcile('ns/web');
    const created = pods();
    assert.equal(created.length, 3);
    for (const p of created) {
      assert.equal(p.metadata.generateName, 'web-');
      assert.deepEqual(p.metadata.labels, { app: 'web', tier: 'web' });
      assert.deepEqual(p.metadata.annotations, { note: 'x' });
      assert.deepEqual(p.metadata.ownerReferences, [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web',
          uid: rs.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      assert.deepEqual(p.spec?.containers, [{ name: 'c', image: 'nginx' }]);
    }
    // The status counts the pods the informer shows: none yet, then 3.
    assert.equal((await getRS('web')).status?.replicas, 0);
    await env.synced(PODS, REPLICA_SETS);
    await rsc.reconcile('ns/web');
    const status = (await getRS('web')).status;
    assert.deepEqual(status, {
      replicas: 3,
      fullyLabeledReplicas: 3,
      readyReplicas: 0,
      availableReplicas: 0,
      observedGeneration: 1,
    });
  });

  it('creates in slow-start batches of 1, 2, 4, … and stops after a batch with a failure', async () => {
    await start();
    await createRS(replicaSet('web', 10));
    let creates = 0;
    // The 4th create fails: batches 1 and 2 succeed (3 pods), the batch of 4 has one failure.
    env.fake.failNext(
      'create',
      ApiError.forbidden({ group: '', resource: 'pods' }, 'x', 'exceeded quota'),
      (call) => call.resource === 'pods' && ++creates === 4,
    );
    await assert.rejects(rsc.reconcile('ns/web'), /exceeded quota/);
    assert.equal(podCreates(), 7, 'batches 1 + 2 + 4, no batch after the failing one');
    assert.equal(pods().length, 6);
    // The skipped and failed creations are not waited for: once the 6 pods show, all is observed.
    await env.synced(PODS);
    assert.equal(rsc.expectations.satisfied('ns/web'), true);
    const status = (await getRS('web')).status;
    assert.equal(status?.conditions?.[0]?.type, 'ReplicaFailure');
    assert.equal(status?.conditions?.[0]?.reason, 'FailedCreate');
    assert.match(status?.conditions?.[0]?.message ?? '', /exceeded quota/);

    // Next pass: the remaining 4 in batches 1 and 2 and 1; the failure condition goes away.
    await env.synced(PODS, REPLICA_SETS);
    await rsc.reconcile('ns/web');
    assert.equal(pods().length, 10);
    assert.equal(podCreates(), 11);
    assert.equal((await getRS('web')).status?.conditions, undefined);
  });

  it('does not create pods while earlier creations are unobserved (expectations)', async () => {
    await start();
    await createRS(replicaSet('web', 2));
    rsc.expectations.expectCreations('ns/web', 2);
    await rsc.reconcile('ns/web');
    assert.equal(pods().length, 0);
    // Status is still written.
    assert.equal((await getRS('web')).status?.observedGeneration, 1);
    rsc.expectations.creationObserved('ns/web');
    rsc.expectations.creationObserved('ns/web');
    await rsc.reconcile('ns/web');
    assert.equal(pods().length, 2);
  });

  it('deletes surplus pods, unassigned and not-ready ones first', async () => {
    await start();
    await createRS(replicaSet('web', 4));
    await rsc.reconcile('ns/web');
    await env.synced(PODS);
    const [a, b, c] = pods();
    await makeReady(a!);
    await makeReady(b!);
    await env.fake.patch(PODS, 'ns', c!.metadata.name!, 'merge', {
      spec: { nodeName: 'n1' },
      status: { phase: 'Running' },
    });
    // The 4th stays Pending and unassigned.
    await env.fake.patch(REPLICA_SETS, 'ns', 'web', 'merge', {
      spec: { replicas: 2 },
      metadata: { generation: 2 },
    });
    await env.synced(PODS, REPLICA_SETS);
    await rsc.reconcile('ns/web');
    const left = pods().map((p) => p.metadata.name);
    assert.deepEqual(left.sort(), [a!.metadata.name, b!.metadata.name].sort());
    await env.synced(PODS);
    assert.equal(rsc.expectations.satisfied('ns/web'), true, 'deletions observed');
    const status = (await getRS('web')).status;
    assert.equal(status?.observedGeneration, 2);
  });

  it('adopts matching orphans, releases pods that no longer match, ignores pods of others', async () => {
    await start();
    const rs = await createRS(replicaSet('web', 2));
    const orphan = await env.fake.create<Pod>(PODS, 'ns', {
      metadata: { name: 'orphan', namespace: 'ns', labels: { app: 'web' } },
    });
    await env.fake.create<Pod>(PODS, 'ns', {
      metadata: {
        name: 'strayed',
        namespace: 'ns',
        labels: { app: 'other' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid!, controller: true },
        ],
      },
    });
    await env.fake.create<Pod>(PODS, 'ns', {
      metadata: {
        name: 'foreign',
        namespace: 'ns',
        labels: { app: 'web' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'other', controller: true },
        ],
      },
    });
    await env.fake.create<Pod>(PODS, 'ns', {
      metadata: { name: 'dying', namespace: 'ns', labels: { app: 'web' }, deletionTimestamp: rfc3339(0) },
    });
    await env.synced(PODS);
    await rsc.reconcile('ns/web');
    const byName = new Map(pods().map((p) => [p.metadata.name, p]));
    assert.equal(byName.get('orphan')?.metadata.ownerReferences?.[0]?.uid, rs.metadata.uid);
    assert.equal(byName.get('orphan')?.metadata.uid, orphan.metadata.uid);
    assert.deepEqual(byName.get('strayed')?.metadata.ownerReferences, []);
    assert.equal(byName.get('foreign')?.metadata.ownerReferences?.[0]?.uid, 'other');
    assert.equal(byName.get('dying')?.metadata.ownerReferences, undefined);
    // The adopted orphan counts: one more pod was enough.
    assert.equal(pods().filter((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid).length, 2);
    // Adoption checked with a live read that the ReplicaSet still exists.
    assert.ok(env.fake.calls.some((c) => c.verb === 'get' && c.resource === 'replicasets'));
  });

  it('counts ready and available pods (minReadySeconds) and looks again when they may become available', async () => {
    await start();
    await createRS(replicaSet('web', 2, { minReadySeconds: 10 }));
    await rsc.reconcile('ns/web');
    await env.synced(PODS);
    const [a, b] = pods();
    await makeReady(a!, env.clock.now() - 60_000);
    await makeReady(b!, env.clock.now());
    await env.synced(PODS, REPLICA_SETS);
    const result = await rsc.reconcile('ns/web');
    let status = (await getRS('web')).status;
    assert.equal(status?.readyReplicas, 2);
    assert.equal(status?.availableReplicas, 1);
    assert.deepEqual(result, { requeueAfterMs: 10_000 });
    env.clock.advance(11_000);
    await env.synced(REPLICA_SETS);
    assert.equal(await rsc.reconcile('ns/web'), undefined);
    status = (await getRS('web')).status;
    assert.equal(status?.availableReplicas, 2);
  });

  it('counts fullyLabeledReplicas: pods with every template label', async () => {
    await start();
    const rs = await createRS(replicaSet('web', 1));
    await env.fake.create<Pod>(PODS, 'ns', {
      metadata: {
        name: 'partial',
        namespace: 'ns',
        labels: { app: 'web' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid!, controller: true },
        ],
      },
    });
    await env.synced(PODS);
    await rsc.reconcile('ns/web');
    const status = (await getRS('web')).status;
    assert.equal(status?.replicas, 1);
    assert.equal(status?.fullyLabeledReplicas, 0);
  });
});
