import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { DEPLOYMENTS, PODS, REPLICA_SETS } from '../../client/resources.ts';
import type { ReplicaSet } from '../replicaset/types.ts';
import type { Pod } from '../util/pods.ts';
import { type FakeControllerEnv, startFakeControllers } from '../util/testing.ts';
import { DeploymentController } from './controller.ts';
import { computeHash } from './hash.ts';
import { rolloutStatus } from './kubectl.ts';
import type { Deployment, DeploymentSpec } from './types.ts';

let env: FakeControllerEnv;
let dc: DeploymentController;

afterEach(() => env?.stop());

async function start(): Promise<void> {
  dc = new DeploymentController();
  env = await startFakeControllers([dc]);
}

const template = (image: string) => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image }] },
});

function deployment(spec: Partial<DeploymentSpec> = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns', generation: 1 },
    spec: {
      replicas: 10,
      selector: { matchLabels: { app: 'web' } },
      template: template('nginx:1'),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      ...spec,
    },
  };
}

const getD = () => env.fake.get<Deployment>(DEPLOYMENTS, 'ns', 'web');
const rsList = () => env.fake.objects<ReplicaSet>(REPLICA_SETS);
const sync = () => env.synced(DEPLOYMENTS, REPLICA_SETS, PODS);
const revisionOf = (rs: ReplicaSet | Deployment) =>
  rs.metadata.annotations?.['deployment.kubernetes.io/revision'];
const conditions = (d: Deployment) =>
  Object.fromEntries((d.status?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));

async function reconcile(): Promise<Awaited<ReturnType<DeploymentController['reconcile']>>> {
  await sync();
  return dc.reconcile('ns/web');
}

/** Changes the Deployment's spec as the API server would (a new generation). */
async function updateSpec(spec: Partial<DeploymentSpec>): Promise<void> {
  const d = await getD();
  await env.fake.patch(DEPLOYMENTS, 'ns', 'web', 'merge', {
    metadata: { generation: (d.metadata.generation ?? 0) + 1 },
    spec,
  });
}

/** Plays the ReplicaSet controller: every ReplicaSet has all its replicas, all available. */
async function settleReplicaSets(): Promise<void> {
  for (const rs of rsList()) {
    const n = rs.spec?.replicas ?? 0;
    await env.fake.patch(REPLICA_SETS, 'ns', rs.metadata.name!, 'merge', {
      status: {
        replicas: n,
        readyReplicas: n,
        availableReplicas: n,
        fullyLabeledReplicas: n,
        observedGeneration: rs.metadata.generation ?? 0,
      },
    });
  }
}

/** The ReplicaSets' spec.replicas, oldest first. */
function sizes(): number[] {
  return rsList()
    .sort((a, b) => Number(revisionOf(a)) - Number(revisionOf(b)))
    .map((rs) => rs.spec?.replicas ?? 0);
}

describe('DeploymentController', () => {
  it('creates the first ReplicaSet at full size, with hash, owner, revision and replica annotations', async () => {
    await start();
    const created = await env.fake.create<Deployment>(DEPLOYMENTS, 'ns', deployment());
    await reconcile();
    const [rs] = rsList();
    const hash = computeHash(template('nginx:1'));
    assert.equal(rs?.metadata.name, `web-${hash}`);
    assert.deepEqual(rs?.metadata.labels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(rs?.spec?.selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } });
    assert.deepEqual(rs?.spec?.template?.metadata?.labels, { app: 'web', 'pod-template-hash': hash });
    assert.equal(rs?.spec?.replicas, 10);
    assert.deepEqual(rs?.metadata.annotations, {
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '10',
      'deployment.kubernetes.io/max-replicas': '13',
    });
    assert.deepEqual(rs?.metadata.ownerReferences, [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'web',
        uid: created.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    const d = await getD();
    assert.equal(revisionOf(d), '1');
    assert.deepEqual(conditions(d), {
      Progressing: 'True/NewReplicaSetCreated',
      Available: 'False/MinimumReplicasUnavailable',
    });
    assert.equal(d.status?.observedGeneration, 1);
    assert.ok(
      dc.events.recent.some(
        (e) =>
          e.reason === 'ScalingReplicaSet' && e.message === `Scaled up replica set web-${hash} from 0 to 10`,
      ),
    );

    // Once the ReplicaSet reports its pods available, the rollout is complete.
    await settleReplicaSets();
    await reconcile();
    const done = await getD();
    assert.deepEqual(conditions(done), {
      Progressing: 'True/NewReplicaSetAvailable',
      Available: 'True/MinimumReplicasAvailable',
    });
    assert.deepEqual(rolloutStatus(done), {
      message: 'deployment "web" successfully rolled out\n',
      done: true,
    });
  });

  it('rolls out within maxSurge (3) and maxUnavailable (2): new up, old down, step by step', async () => {
    await start();
    await env.fake.create<Deployment>(DEPLOYMENTS, 'ns', deployment());
    await reconcile();
    await settleReplicaSets();
    await reconcile();
    await updateSpec({ template: template('nginx:2') });
    const steps: number[][] = [];
    for (let i = 0; i < 10; i++) {
      await reconcile();
      const s = sizes();
      if (steps.length && steps.at(-1)!.join() === s.join()) break;
      steps.push(s);
      const total = s.reduce((a, b) => a + b, 0);
      assert.ok(total <= 13, `at most 13 replicas: ${s}`);
      await settleReplicaSets();
    }
    assert.deepEqual(steps, [
      [8, 3],
      [8, 5],
      [3, 5],
      [3, 10],
      [0, 10],
    ]);
    const d = await getD();
    assert.equal(revisionOf(d), '2');
    assert.equal(rolloutStatus(d).done, true);
    assert.equal(d.status?.updatedReplicas, 10);
    assert.equal(d.status?.replicas, 10);
  });

  it('scales proportionally when resized mid-rollout', async () => {
    await start();
    await env.fake.create<Deployment>(DEPLOYMENTS, 'ns', deployment());
    await reconcile();
    await settleReplicaSets();
    await reconcile();
    await updateSpec({ template: template('nginx:2') });
    await reconcile(); // 8 old, 3 new
    await settleReplicaSets();
    await reconcile(); // 8 old, 5 new
    assert.deepEqual(sizes(), [8, 5]);
    await updateSpec({ replicas: 20 });
    await reconcile();
    // 25 allowed (20 + 5 surge) from 13: +12 in proportion 8:5 → 15 and 10.
    assert.deepEqual(sizes(), [15, 10]);
    for (const rs of rsList()) {
      assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '20');
      assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '25');
    }
  });

  it('deletes old ReplicaSets beyond revisionHistoryLimit, oldest revisions first, only empty ones', async () => {
    await start();
    const d = await env.fake.create<Deployment>(
      DEPLOYMENTS,
      'ns',
      deployment({ revisionHistoryLimit: 1, replicas: 1 }),
    );
    const owner = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'web',
      uid: d.metadata.uid!,
      controller: true,
    };
    for (const [rev, image, replicas] of [
      ['1', 'nginx:0', 0],
      ['2', 'nginx:a', 0],
      ['3', 'nginx:b', 0],
      ['4', 'nginx:1', 1],
    ] as const) {
      await env.fake.create<ReplicaSet>(REPLICA_SETS, 'ns', {
        metadata: {
          name: `web-r${rev}`,
          namespace: 'ns',
          generation: 1,
          labels: { app: 'web' },
          annotations: {
            'deployment.kubernetes.io/revision': rev,
            'deployment.kubernetes.io/desired-replicas': '1',
            'deployment.kubernetes.io/max-replicas': '2',
          },
          ownerReferences: [owner],
        },
        spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: template(image) },
        status: { replicas, availableReplicas: replicas, readyReplicas: replicas, observedGeneration: 1 },
      });
    }
    // Revision 2's status is not of its current generation: it stays.
    await env.fake.patch(REPLICA_SETS, 'ns', 'web-r2', 'merge', { metadata: { generation: 2 } });
    await reconcile(); // completes the status
    await reconcile(); // complete: clean up
    assert.deepEqual(
      rsList()
        .map((rs) => rs.metadata.name)
        .sort(),
      ['web-r2', 'web-r3', 'web-r4'],
    );
  });

  it('while paused: no rollout, only scaling; Progressing is Unknown/DeploymentPaused until resumed', async () => {
    await start();
    await env.fake.create<Deployment>(DEPLOYMENTS, 'ns', deployment({ replicas: 4 }));
    await reconcile();
    await settleReplicaSets();
    await reconcile();
    await updateSpec({ paused: true, template: template('nginx:2') });
    await reconcile();
    assert.equal(rsList().length, 1, 'no new ReplicaSet while paused');
    assert.equal(conditions(await getD()).Progressing, 'Unknown/DeploymentPaused');
    await updateSpec({ replicas: 6 });
    await reconcile();
    assert.deepEqual(sizes(), [6], 'scaling goes on');

    await updateSpec({ paused: false });
    await reconcile();
    assert.equal(rsList().length, 2, 'resumed: the rollout starts');
    assert.equal(conditions(await getD()).Progressing, 'True/NewReplicaSetCreated');
  });

  it('on a hash collision raises collisionCount and uses the next hash', async () => {
    await start();
    const hash = computeHash(template('nginx:1'));
    await env.fake.create<ReplicaSet>(REPLICA_SETS, 'ns', {
      metadata: { name: `web-${hash}`, namespace: 'ns', labels: { app: 'other' } },
      spec: { replicas: 0, selector: { matchLabels: { app: 'other' } }, template: template('busybox') },
    });
    await env.fake.create<Deployment>(DEPLOYMENTS, 'ns', deployment());
    await assert.rejects(reconcile(), /already exists/);
    assert.equal((await getD()).status?.collisionCount, 1);
    await reconcile();
    const next = computeHash(template('nginx:1'), 1);
    assert.ok(rsList().some((rs) => rs.metadata.name === `web-${next}` && rs.spec?.replicas === 10));
  });

  it('Recreate: scales the old ReplicaSet to zero and waits for its pods before creating the new one', async () => {
    await start();
    await env.fake.create<Deployment>(
      DEPLOYMENTS,
      'ns',
      deployment({ replicas: 3, strategy: { type: 'Recreate' } }),
    );
    await reconcile();
    await settleReplicaSets();
    const [oldRS] = rsList();
    const pod = await env.fake.create<Pod>(PODS, 'ns', {
      metadata: {
        name: 'old-pod',
        namespace: 'ns',
        labels: oldRS!.spec!.template!.metadata!.labels,
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: oldRS!.metadata.name!,
            uid: oldRS!.metadata.uid!,
            controller: true,
          },
        ],
      },
      status: { phase: 'Running' },
    });
    await reconcile();
    await updateSpec({ template: template('nginx:2') });
    await reconcile();
    assert.deepEqual(sizes(), [0], 'old scaled down, no new ReplicaSet yet');
    await settleReplicaSets(); // the ReplicaSet reports 0, but its pod is still there
    await reconcile();
    assert.equal(rsList().length, 1);
    await env.fake.delete(PODS, 'ns', pod.metadata.name!);
    await reconcile();
    assert.deepEqual(sizes(), [0, 3]);
  });

  it('reports ProgressDeadlineExceeded when nothing moves for progressDeadlineSeconds', async () => {
    await start();
    await env.fake.create<Deployment>(DEPLOYMENTS, 'ns', deployment({ progressDeadlineSeconds: 60 }));
    await reconcile();
    // Nothing changed: look again when the deadline passes (plus a second).
    assert.deepEqual(await reconcile(), { requeueAfterMs: 61_000 });
    env.clock.advance(61_000);
    await reconcile();
    const d = await getD();
    assert.equal(conditions(d).Progressing, 'False/ProgressDeadlineExceeded');
    assert.throws(() => rolloutStatus(d), /exceeded its progress deadline/);
  });

  it('adopts an orphan ReplicaSet with its template instead of creating one', async () => {
    await start();
    const d = await env.fake.create<Deployment>(DEPLOYMENTS, 'ns', deployment({ replicas: 2 }));
    await env.fake.create<ReplicaSet>(REPLICA_SETS, 'ns', {
      metadata: { name: 'handmade', namespace: 'ns', labels: { app: 'web' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template('nginx:1') },
    });
    await reconcile();
    const all = rsList();
    assert.equal(all.length, 1);
    assert.equal(all[0]?.metadata.ownerReferences?.[0]?.uid, d.metadata.uid);
    assert.equal(revisionOf(all[0]!), '1');
  });

  it('rolls back through the deprecated rollback annotation', async () => {
    await start();
    await env.fake.create<Deployment>(DEPLOYMENTS, 'ns', deployment({ replicas: 1 }));
    await reconcile();
    await settleReplicaSets();
    await updateSpec({ template: template('nginx:2') });
    for (let i = 0; i < 4; i++) {
      await reconcile();
      await settleReplicaSets();
    }
    await env.fake.patch(DEPLOYMENTS, 'ns', 'web', 'merge', {
      metadata: { annotations: { 'deprecated.deployment.rollback.to': '1' } },
    });
    await reconcile();
    const d = await getD();
    assert.equal(d.metadata.annotations?.['deprecated.deployment.rollback.to'], undefined);
    assert.equal(d.spec?.template?.spec?.containers?.[0]?.image, 'nginx:1');
    assert.ok(dc.events.recent.some((e) => e.reason === 'DeploymentRollback'));
    await reconcile();
    const revived = rsList().find((rs) => rs.spec?.template?.spec?.containers?.[0]?.image === 'nginx:1');
    assert.equal(revisionOf(revived!), '3');
  });
});
