/**
 * Simulated nodes against a real API server, with the node controllers running: nodes register and
 * get pod CIDRs, bound pods run, a failed node turns Unknown and tainted, its pods are evicted after
 * their tolerationSeconds, and it comes back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVENTS, NODES, PODS } from '../client/resources.ts';
import { HttpRestClient } from '../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../client/testing.ts';
import { ControllerManager } from '../controllers/manager.ts';
import { NodeIpamController } from '../controllers/nodeipam/controller.ts';
import { NodeLifecycleController } from '../controllers/nodelifecycle/controller.ts';
import { TaintEvictionController } from '../controllers/nodelifecycle/tainteviction.ts';
import { SimCluster } from './cluster.ts';
import type { SimNodeObject, SimPod } from './types.ts';

let server: TestApiServer;
let client: HttpRestClient;
const ac = new AbortController();

before(async () => {
  server = await startTestApiServer();
  client = new HttpRestClient(server.config);
});

after(async () => {
  ac.abort();
  client.close();
  await server.close();
});

const unreachable = (seconds: number) => ({
  key: 'node.kubernetes.io/unreachable',
  operator: 'Exists',
  effect: 'NoExecute',
  tolerationSeconds: seconds,
});

async function createBoundPod(name: string, node: string, tolerationSeconds: number): Promise<void> {
  await client.create(PODS, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }],
      terminationGracePeriodSeconds: 1,
      tolerations: [unreachable(tolerationSeconds)],
    },
  });
  await client.createSubresource(PODS, 'default', name, 'binding', {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata: { name },
    target: { apiVersion: 'v1', kind: 'Node', name: node },
  });
}

const ready = (n: SimNodeObject) => n.status?.conditions?.find((c) => c.type === 'Ready');

describe('simulated nodes with the node controllers (real API server)', () => {
  let sim: SimCluster;

  it('registers 5 nodes that get pod CIDRs and run the pods bound to them', async () => {
    const manager = new ControllerManager({
      client,
      controllers: [
        new NodeLifecycleController({ nodeMonitorPeriodMs: 250, nodeEvictionRate: 100 }),
        new TaintEvictionController(),
        new NodeIpamController(),
      ],
      options: { nodeMonitorGracePeriodMs: 2_000, clusterCidr: '10.42.0.0/16' },
      leaderElection: false,
    });
    void manager.run(ac.signal);
    sim = new SimCluster({
      client,
      nodes: 5,
      leaseRenewIntervalMs: 500,
      statusUpdateIntervalMs: 5_000,
    });
    await sim.start(ac.signal);
    const nodes = (await client.list<SimNodeObject>(NODES, '')).items;
    assert.deepEqual(
      nodes.map((n) => n.metadata.name),
      ['sim-0', 'sim-1', 'sim-2', 'sim-3', 'sim-4'],
    );
    assert.ok(nodes.every((n) => ready(n)?.status === 'True'));
    await eventually(
      async () => (await client.list<SimNodeObject>(NODES, '')).items.every((n) => n.spec?.podCIDR),
      'pod CIDRs for every node',
    );

    for (let i = 0; i < 5; i++) await createBoundPod(`p${i}`, `sim-${i}`, 1);
    await createBoundPod('patient', 'sim-4', 300);
    await eventually(async () => {
      const pods = (await client.list<SimPod>(PODS, 'default')).items;
      return pods.length === 6 && pods.every((p) => p.status?.phase === 'Running');
    }, 'every pod Running');
    const p0 = await client.get<SimPod>(PODS, 'default', 'p0');
    const node0 = await client.get<SimNodeObject>(NODES, '', 'sim-0');
    const cidr = node0.spec?.podCIDR ?? '';
    assert.match(cidr, /^10\.42\.\d+\.0\/24$/);
    assert.equal(p0.status?.podIP, cidr.replace(/0\/24$/, '2'));
    assert.equal(p0.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(sim.stats().podsRunning, 6);
  });

  it('a failed node turns Unknown and tainted; its pods are evicted after their tolerationSeconds', async () => {
    sim.fail('sim-4');
    await eventually(
      async () => ready(await client.get<SimNodeObject>(NODES, '', 'sim-4'))?.status === 'Unknown',
      'sim-4 Ready=Unknown',
      8_000,
    );
    const node = await client.get<SimNodeObject>(NODES, '', 'sim-4');
    assert.equal(ready(node)?.reason, 'NodeStatusUnknown');
    assert.equal(ready(node)?.message, 'Kubelet stopped posting node status.');
    await eventually(
      async () =>
        (await client.get<SimNodeObject>(NODES, '', 'sim-4')).spec?.taints?.some(
          (t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute',
        ),
      'the unreachable NoExecute taint',
      5_000,
    );
    // Tolerated for 1 s: then deleted — gracefully, so the pod is Terminating while its kubelet is gone.
    await eventually(
      async () => (await client.get<SimPod>(PODS, 'default', 'p4')).metadata.deletionTimestamp,
      'p4 evicted',
      5_000,
    );
    const p4 = await client.get<SimPod>(PODS, 'default', 'p4');
    const target = p4.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    assert.equal(target?.reason, 'DeletionByTaintManager');
    const patient = await client.get<SimPod>(PODS, 'default', 'patient');
    assert.equal(patient.metadata.deletionTimestamp, undefined, 'a pod tolerating 300 s stays');
    for (let i = 0; i < 4; i++) {
      const p = await client.get<SimPod>(PODS, 'default', `p${i}`);
      assert.equal(p.metadata.deletionTimestamp, undefined, `p${i} on a healthy node stays`);
    }
    const events = (await client.list(EVENTS, 'default')).items.map((e) => e.reason);
    assert.ok(events.includes('NodeNotReady'));
    assert.ok(events.includes('TaintManagerEviction'));
  });

  it('a recovered node turns Ready, loses its taints, and finishes the pending deletion', async () => {
    sim.recover('sim-4');
    await eventually(
      async () => {
        const n = await client.get<SimNodeObject>(NODES, '', 'sim-4');
        return (
          ready(n)?.status === 'True' &&
          !(n.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/'))
        );
      },
      'sim-4 Ready without taints',
      5_000,
    );
    await eventually(
      async () => !(await client.list<SimPod>(PODS, 'default')).items.some((p) => p.metadata.name === 'p4'),
      'p4 gone',
      5_000,
    );
    assert.equal((await client.get<SimPod>(PODS, 'default', 'patient')).status?.phase, 'Running');
  });
});
