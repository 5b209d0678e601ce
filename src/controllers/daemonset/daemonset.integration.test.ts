/** The DaemonSet controller against a real API server; the test plays the scheduler and kubelet. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONTROLLER_REVISIONS, DAEMON_SETS, NAMESPACES, NODES, PODS } from '../../client/resources.ts';
import { HttpRestClient } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import type { Pod } from '../job/podutil.ts';
import { TestKubelet } from '../job/testing.ts';
import { ControllerManager } from '../manager.ts';
import { CONTROLLER_REVISION_HASH_LABEL } from '../statefulset/history.ts';
import { DaemonSetController } from './controller.ts';
import type { DaemonSet } from './types.ts';

describe('DaemonSet controller against the API server', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  let kubelet: TestKubelet;
  const ac = new AbortController();

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config, { component: 'daemonset-test' });
    await client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ds' } });
    for (const name of ['n1', 'n2', 'n3']) {
      await client.create(NODES, '', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name } },
      });
    }
    const manager = new ControllerManager({
      client,
      controllers: [new DaemonSetController()],
      leaderElection: false,
    });
    void manager.run(ac.signal);
    kubelet = new TestKubelet(client, 'ds').start();
  });
  after(async () => {
    await kubelet.stop();
    ac.abort();
    await srv.close();
  });

  const pods = async () => (await client.list<Pod>(PODS, 'ds')).items;

  it('runs one pod per node, then rolls a template change within maxUnavailable', async () => {
    await client.create(DAEMON_SETS, 'ds', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: {
          metadata: { labels: { app: 'agent' } },
          spec: { containers: [{ name: 'agent', image: 'agent:v1' }] },
        },
      },
    });
    await eventually(
      async () => {
        const ds = await client.get<DaemonSet>(DAEMON_SETS, 'ds', 'agent');
        return ds.status?.numberReady === 3 && ds.status.desiredNumberScheduled === 3;
      },
      'three ready daemon pods',
      10_000,
    );
    const first = await pods();
    assert.deepEqual(first.map((p) => p.spec?.nodeName).sort(), ['n1', 'n2', 'n3'], 'one per node');
    const oldHash = first[0]?.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];

    await client.patch(DAEMON_SETS, 'ds', 'agent', 'strategic', {
      spec: { template: { spec: { containers: [{ name: 'agent', image: 'agent:v2' }] } } },
    });
    // While it rolls: at least two nodes keep an available pod (maxUnavailable 1).
    let minAvailable = 3;
    await eventually(
      async () => {
        const now = await pods();
        const available = new Set(
          now
            .filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
            .map((p) => p.spec?.nodeName),
        );
        minAvailable = Math.min(minAvailable, available.size);
        const ds = await client.get<DaemonSet>(DAEMON_SETS, 'ds', 'agent');
        return (
          now.length === 3 &&
          now.every((p) => p.spec?.containers?.[0]?.image === 'agent:v2' && p.status?.phase === 'Running') &&
          ds.status?.updatedNumberScheduled === 3 &&
          ds.status.numberAvailable === 3 &&
          ds.status.observedGeneration === ds.metadata.generation
        );
      },
      'the rolling update to finish',
      15_000,
    );
    assert.ok(minAvailable >= 2, `at most one node unavailable at a time (saw ${3 - minAvailable})`);
    const after = await pods();
    assert.deepEqual(after.map((p) => p.spec?.nodeName).sort(), ['n1', 'n2', 'n3']);
    assert.ok(after.every((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] !== oldHash));
    assert.equal((await client.list(CONTROLLER_REVISIONS, 'ds')).items.length, 2);
  });
});
