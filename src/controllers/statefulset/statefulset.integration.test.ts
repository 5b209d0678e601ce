/** The StatefulSet controller against a real API server; the test plays the scheduler and kubelet. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NAMESPACES, NODES, PERSISTENT_VOLUME_CLAIMS, PODS, STATEFUL_SETS } from '../../client/resources.ts';
import { HttpRestClient } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import { isPodReady, type Pod } from '../job/podutil.ts';
import { TestKubelet } from '../job/testing.ts';
import { ControllerManager } from '../manager.ts';
import { StatefulSetController } from './controller.ts';
import type { StatefulSet } from './identity.ts';

describe('StatefulSet controller against the API server', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  let kubelet: TestKubelet;
  const ac = new AbortController();

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config, { component: 'statefulset-test' });
    await client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sts' } });
    await client.create(NODES, '', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
    const manager = new ControllerManager({
      client,
      controllers: [new StatefulSetController()],
      leaderElection: false,
    });
    void manager.run(ac.signal);
    kubelet = new TestKubelet(client, 'sts').start();
  });
  after(async () => {
    await kubelet.stop();
    ac.abort();
    await srv.close();
  });

  it('starts pods in order 0, 1, 2 as each predecessor is Ready, and scales down in reverse', async () => {
    // Watches pods: the order they appear and go, and the state when each appears.
    const appeared: string[] = [];
    const gone: string[] = [];
    const violations: string[] = [];
    let known = new Map<string, Pod>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const now = new Map(
          (await client.list<Pod>(PODS, 'sts', { resourceVersion: '0' })).items.map((p) => [
            p.metadata.name ?? '',
            p,
          ]),
        );
        for (const name of now.keys()) {
          if (known.has(name)) continue;
          appeared.push(name);
          const ord = Number(name.split('-').pop());
          for (let j = 0; j < ord; j++) {
            const prev = now.get(`web-${j}`) ?? known.get(`web-${j}`);
            if (!prev || !isPodReady(prev)) violations.push(`${name} created before web-${j} was ready`);
          }
        }
        for (const name of known.keys()) {
          if (now.has(name)) continue;
          gone.push(name);
          const ord = Number(name.split('-').pop());
          for (const other of now.keys()) {
            if (Number(other.split('-').pop()) > ord) violations.push(`${name} went before ${other}`);
          }
        }
        known = now;
        await new Promise((r) => setTimeout(r, 3));
      }
    })();

    await client.create(STATEFUL_SETS, 'sts', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        serviceName: 'web',
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'c', image: 'nginx' }] },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      },
    });
    await eventually(
      async () => {
        const s = await client.get<StatefulSet>(STATEFUL_SETS, 'sts', 'web');
        return s.status?.readyReplicas === 3 && s.status.currentRevision === s.status.updateRevision;
      },
      'three ready replicas',
      15_000,
    );
    assert.deepEqual(appeared, ['web-0', 'web-1', 'web-2']);
    const pods = (await client.list<Pod>(PODS, 'sts')).items;
    assert.deepEqual(pods.map((p) => [p.metadata.name, p.spec?.hostname, p.spec?.subdomain]).sort(), [
      ['web-0', 'web-0', 'web'],
      ['web-1', 'web-1', 'web'],
      ['web-2', 'web-2', 'web'],
    ]);
    const claims = (await client.list(PERSISTENT_VOLUME_CLAIMS, 'sts')).items
      .map((c) => c.metadata.name)
      .sort();
    assert.deepEqual(claims, ['data-web-0', 'data-web-1', 'data-web-2']);

    await client.patch(STATEFUL_SETS, 'sts', 'web', 'merge', { spec: { replicas: 0 } });
    await eventually(
      async () => {
        const s = await client.get<StatefulSet>(STATEFUL_SETS, 'sts', 'web');
        return s.status?.replicas === 0 && known.size === 0;
      },
      'scaling to zero',
      15_000,
    );
    watching = false;
    await watcher;
    assert.deepEqual(gone, ['web-2', 'web-1', 'web-0']);
    assert.deepEqual(violations, []);
    assert.equal((await client.list(PERSISTENT_VOLUME_CLAIMS, 'sts')).items.length, 3, 'claims are retained');
  });
});
