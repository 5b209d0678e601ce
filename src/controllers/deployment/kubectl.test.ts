import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeRestClient } from '../../client/fake.ts';
import { DEPLOYMENTS, REPLICA_SETS } from '../../client/resources.ts';
import type { ReplicaSet } from '../replicaset/types.ts';
import { rolloutHistory, rolloutRestart, rolloutStatus, rolloutUndo } from './kubectl.ts';
import type { Deployment, DeploymentStatus } from './types.ts';

function withStatus(status: DeploymentStatus, generation = 2, replicas = 3): Deployment {
  return { metadata: { name: 'web', generation }, spec: { replicas }, status };
}

describe('rolloutStatus (kubectl rollout status)', () => {
  it('waits for the controller to observe the spec', () => {
    assert.deepEqual(rolloutStatus(withStatus({ observedGeneration: 1 })), {
      message: 'Waiting for deployment spec update to be observed...\n',
      done: false,
    });
  });

  it('waits for updated, then old, then available replicas', () => {
    const base = { observedGeneration: 2 };
    assert.equal(
      rolloutStatus(withStatus({ ...base, replicas: 4, updatedReplicas: 1 })).message,
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...\n',
    );
    assert.equal(
      rolloutStatus(withStatus({ ...base, replicas: 4, updatedReplicas: 3 })).message,
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...\n',
    );
    assert.equal(
      rolloutStatus(withStatus({ ...base, replicas: 3, updatedReplicas: 3, availableReplicas: 2 })).message,
      'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...\n',
    );
    assert.deepEqual(
      rolloutStatus(withStatus({ ...base, replicas: 3, updatedReplicas: 3, availableReplicas: 3 })),
      {
        message: 'deployment "web" successfully rolled out\n',
        done: true,
      },
    );
  });

  it('fails past the progress deadline, and for another revision', () => {
    const timedOut = withStatus({
      observedGeneration: 2,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    });
    assert.throws(() => rolloutStatus(timedOut), /deployment "web" exceeded its progress deadline/);
    const d = withStatus({ observedGeneration: 2 });
    d.metadata.annotations = { 'deployment.kubernetes.io/revision': '4' };
    assert.throws(
      () => rolloutStatus(d, 3),
      /desired revision \(3\) is different from the running revision \(4\)/,
    );
  });
});

describe('rollout undo / restart / history (client side)', () => {
  async function cluster() {
    const fake = new FakeRestClient();
    const d = await fake.create<Deployment>(DEPLOYMENTS, 'ns', {
      metadata: {
        name: 'web',
        namespace: 'ns',
        annotations: { 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'v2' },
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'c', image: 'v2' }] },
        },
      },
    });
    const owner = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'web',
      uid: d.metadata.uid!,
      controller: true,
    };
    for (const [rev, image] of [
      ['1', 'v1'],
      ['2', 'v2'],
    ]) {
      await fake.create<ReplicaSet>(REPLICA_SETS, 'ns', {
        metadata: {
          name: `web-${image}`,
          namespace: 'ns',
          labels: { app: 'web', 'pod-template-hash': image! },
          annotations: { 'deployment.kubernetes.io/revision': rev!, 'kubernetes.io/change-cause': image! },
          ownerReferences: [owner],
        },
        spec: {
          replicas: rev === '2' ? 1 : 0,
          selector: { matchLabels: { app: 'web', 'pod-template-hash': image! } },
          template: {
            metadata: { labels: { app: 'web', 'pod-template-hash': image! } },
            spec: { containers: [{ name: 'c', image }] },
          },
        },
      });
    }
    // A ReplicaSet someone else controls is never a revision of ours.
    await fake.create<ReplicaSet>(REPLICA_SETS, 'ns', {
      metadata: {
        name: 'stranger',
        namespace: 'ns',
        labels: { app: 'web' },
        annotations: { 'deployment.kubernetes.io/revision': '9' },
      },
      spec: { replicas: 0 },
    });
    return fake;
  }

  it('undo patches the previous revision’s template (without the hash) and annotations back', async () => {
    const fake = await cluster();
    assert.equal(await rolloutUndo(fake, 'ns', 'web'), 'rolled back');
    const d = await fake.get<Deployment>(DEPLOYMENTS, 'ns', 'web');
    assert.deepEqual(d.spec?.template, {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'v1' }] },
    });
    assert.deepEqual(d.metadata.annotations, {
      'deployment.kubernetes.io/revision': '2',
      'kubernetes.io/change-cause': 'v1',
    });
    assert.equal(
      await rolloutUndo(fake, 'ns', 'web', 1),
      'skipped rollback (current template already matches revision 1)',
    );
    await assert.rejects(rolloutUndo(fake, 'ns', 'web', 7), /unable to find specified revision 7/);
  });

  it('restart stamps the template; history lists revisions with change-causes', async () => {
    const fake = await cluster();
    const d = await rolloutRestart(fake, 'ns', 'web', new Date(Date.UTC(2026, 1, 2, 3, 4, 5)));
    assert.equal(
      d.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'],
      '2026-02-02T03:04:05Z',
    );
    assert.deepEqual(await rolloutHistory(fake, 'ns', 'web'), [
      { revision: 1, changeCause: 'v1', replicaSet: 'web-v1' },
      { revision: 2, changeCause: 'v2', replicaSet: 'web-v2' },
    ]);
  });
});
