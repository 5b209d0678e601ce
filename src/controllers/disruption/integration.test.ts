/**
 * The disruption controller and the pod garbage collector against a real API server: a budget's
 * status lets the eviction API take exactly the pods it may; pods of a deleted node are removed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NAMESPACES, NODES, POD_DISRUPTION_BUDGETS, PODS } from '../../client/resources.ts';
import { HttpRestClient, isApiError } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import { ControllerManager } from '../manager.ts';
import { PodGcController } from '../podgc/controller.ts';
import type { PodDisruptionBudget } from './controller.ts';
import { DisruptionController } from './controller.ts';

const NS = 'apps';

describe('disruption budgets and pod garbage collection against the API server', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  const stop = new AbortController();
  let running: Promise<void>;

  async function readyPod(name: string, node: string): Promise<void> {
    await client.create(PODS, NS, {
      metadata: { name, labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    });
    await client.createSubresource(PODS, NS, name, 'binding', {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name },
      target: { kind: 'Node', name: node },
    });
    await client.patch(
      PODS,
      NS,
      name,
      'merge',
      { status: { phase: 'Running', podIP: '10.42.0.5', conditions: [{ type: 'Ready', status: 'True' }] } },
      { subresource: 'status' },
    );
  }

  const exists = async (name: string) => {
    try {
      await client.get(PODS, NS, name);
      return true;
    } catch (err) {
      if (isApiError(err, 404)) return false;
      throw err;
    }
  };

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config);
    await client.create(NAMESPACES, '', { metadata: { name: NS } });
    for (const name of ['node-a', 'node-b']) await client.create(NODES, '', { metadata: { name } });
    const manager = new ControllerManager({
      client,
      leaderElection: false,
      controllers: [new DisruptionController(), new PodGcController({ quarantineMs: 0, checkPeriodMs: 100 })],
    });
    running = manager.run(stop.signal);
  });

  after(async () => {
    stop.abort();
    await running;
    client.close();
    await srv.close();
  });

  it('keeps a budget current so that eviction takes only the pods it may', async () => {
    await readyPod('a', 'node-a');
    await readyPod('b', 'node-a');
    await client.create(POD_DISRUPTION_BUDGETS, NS, {
      metadata: { name: 'web' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } },
    });
    await eventually(async () => {
      const s = (await client.get<PodDisruptionBudget>(POD_DISRUPTION_BUDGETS, NS, 'web')).status;
      return s?.disruptionsAllowed === 1 && s.currentHealthy === 2 && s.expectedPods === 2;
    }, 'the budget to allow one disruption');
    const evict = (name: string) =>
      client.createSubresource(PODS, NS, name, 'eviction', {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name, namespace: NS },
      });
    await evict('a');
    await assert.rejects(evict('b'), (err) => isApiError(err, 429));
    // a is terminating (bound to a node): disrupted, not healthy; b alone is what the budget needs.
    await eventually(async () => {
      const s = (await client.get<PodDisruptionBudget>(POD_DISRUPTION_BUDGETS, NS, 'web')).status;
      return s?.currentHealthy === 1 && s.desiredHealthy === 1 && s.disruptionsAllowed === 0;
    }, 'the budget to count the eviction');
    const s = (await client.get<PodDisruptionBudget>(POD_DISRUPTION_BUDGETS, NS, 'web')).status;
    assert.equal(s?.conditions?.find((c) => c.type === 'DisruptionAllowed')?.reason, 'InsufficientPods');
  });

  it('removes the pods of a node that was deleted', async () => {
    await readyPod('on-b', 'node-b');
    await client.delete(NODES, '', 'node-b');
    await eventually(async () => !(await exists('on-b')), 'the pod of the deleted node to go', 10_000);
    assert.ok(await exists('b'), 'pods of other nodes stay');
  });
});
