import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FakeRestClient } from '../client/fake.ts';
import { LEASES, NODES, PODS } from '../client/resources.ts';
import { FakeClock } from '../util/clock.ts';
import { SimCluster } from './cluster.ts';
import type { Lease, SimNodeObject, SimPod } from './types.ts';

/** Status fields read loosely in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: assertions walk JSON of known shape
type Loose = Record<string, any>;

const stops: AbortController[] = [];
afterEach(() => {
  for (const ac of stops.splice(0)) ac.abort();
});

const settle = async () => {
  for (let i = 0; i < 4; i++) await new Promise((r) => setTimeout(r, 5));
};

async function startSim(
  nodes = 3,
  opts: { taints?: { key: string; value?: string; effect: string }[] } = {},
) {
  const clock = new FakeClock();
  const client = new FakeRestClient({ clock });
  const sim = new SimCluster({
    client,
    clock,
    nodes,
    podRunSeconds: 5,
    labels: { pool: 'a' },
    taints: opts.taints,
  });
  const ac = new AbortController();
  stops.push(ac);
  await sim.start(ac.signal);
  const step = async (ms: number) => {
    for (let t = 0; t < ms; t += 1000) {
      clock.advance(Math.min(1000, ms - t));
      await settle();
    }
  };
  return { clock, client, sim, step };
}

function pod(
  name: string,
  node: string,
  extra: Partial<SimPod['spec']> = {},
  meta: Partial<SimPod['metadata']> = {},
): SimPod {
  return {
    metadata: { name, namespace: 'default', ...meta },
    spec: {
      nodeName: node,
      containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m' } } }],
      restartPolicy: 'Always',
      ...extra,
    },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
  };
}

const getPod = (client: FakeRestClient, name: string) => client.get<SimPod>(PODS, 'default', name);
const cond = (p: SimPod, type: string) => p.status?.conditions?.find((c) => c.type === type)?.status;

describe('SimCluster (fake API)', () => {
  it('registers nodes with capacity, labels, taints, addresses, nodeInfo and Ready conditions, and a Lease each', async () => {
    const { client, sim } = await startSim(3, {
      taints: [{ key: 'sim', value: 'yes', effect: 'NoSchedule' }],
    });
    assert.deepEqual(sim.nodeNames, ['sim-0', 'sim-1', 'sim-2']);
    const nodes = client.objects<SimNodeObject>(NODES);
    assert.equal(nodes.length, 3);
    const n = nodes[0]!;
    const status = n.status as Loose;
    assert.equal(status.capacity.pods, '110');
    assert.equal(status.capacity.cpu, '32');
    assert.equal(status.allocatable.memory, '256Gi');
    assert.equal(status.nodeInfo.kubeletVersion, 'v1.35.0-skiff-sim');
    assert.equal(status.addresses[0].type, 'InternalIP');
    assert.equal(status.daemonEndpoints.kubeletEndpoint.Port, 10250);
    assert.equal(n.metadata.labels?.['kubernetes.io/hostname'], n.metadata.name);
    assert.equal(n.metadata.labels?.['kubernetes.io/os'], 'linux');
    assert.equal(n.metadata.labels?.type, 'kwok');
    assert.equal(n.metadata.labels?.pool, 'a');
    assert.deepEqual(n.spec?.taints, [{ key: 'sim', value: 'yes', effect: 'NoSchedule' }]);
    assert.equal(status.conditions.find((c: { type: string }) => c.type === 'Ready').status, 'True');
    const leases = client.objects<Lease>(LEASES);
    assert.deepEqual(
      leases.map((l) => [l.metadata.namespace, l.metadata.name, l.spec?.holderIdentity]),
      [
        ['kube-node-lease', 'sim-0', 'sim-0'],
        ['kube-node-lease', 'sim-1', 'sim-1'],
        ['kube-node-lease', 'sim-2', 'sim-2'],
      ],
    );
    assert.equal(leases[0]!.metadata.ownerReferences?.[0]?.uid, n.metadata.uid);
    assert.equal(sim.stats().registered, 3);
  });

  it('renews leases every 10 s, spread over the interval, and posts node status every minute', async () => {
    const { client, clock, sim, step } = await startSim(20);
    const t0 = clock.now();
    await step(10_000);
    const renew = client.objects<Lease>(LEASES).map((l) => Date.parse(l.spec?.renewTime ?? '') - t0);
    assert.ok(
      renew.every((ms) => ms > 0 && ms <= 10_000),
      `every lease renewed: ${renew}`,
    );
    assert.ok(new Set(renew).size > 10, 'renewals are spread');
    assert.equal(sim.stats().leaseRenewals, 20);
    await step(50_000);
    assert.equal(sim.stats().statusUpdates, 20);
    const hb = client
      .objects<SimNodeObject>(NODES)
      .map((n) =>
        Date.parse(String(n.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime)),
      );
    assert.ok(hb.every((t) => t >= t0 && t <= t0 + 60_000));
    assert.ok(new Set(hb).size > 10, 'heartbeats are spread over the minute');
  });

  it('runs pods: Pending → Running with conditions, container statuses and a pod IP from the node CIDR', async () => {
    const { client, step } = await startSim(2);
    const node = await client.get<SimNodeObject>(NODES, '', 'sim-0');
    node.spec = { ...node.spec, podCIDR: '10.42.7.0/24', podCIDRs: ['10.42.7.0/24'] };
    await client.update(NODES, '', node);
    await settle();
    await client.create(PODS, 'default', pod('web', 'sim-0'));
    await client.create(PODS, 'default', pod('web2', 'sim-0'));
    await client.create(PODS, 'default', pod('elsewhere', 'other-node'));
    await step(100);
    const p = await getPod(client, 'web');
    const s = p.status as Loose;
    assert.equal(s.phase, 'Running');
    for (const type of [
      'PodScheduled',
      'Initialized',
      'ContainersReady',
      'Ready',
      'PodReadyToStartContainers',
    ]) {
      assert.equal(cond(p, type), 'True', type);
    }
    assert.equal(s.podIP, '10.42.7.2');
    assert.deepEqual(s.podIPs, [{ ip: '10.42.7.2' }]);
    assert.equal(s.hostIP, s.hostIPs[0].ip);
    assert.ok(s.startTime);
    assert.equal(s.qosClass, 'Burstable');
    const cs = s.containerStatuses[0];
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.image, 'docker.io/library/nginx:latest');
    assert.match(cs.imageID, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    assert.match(cs.containerID, /^sim:\/\/[0-9a-f]{64}$/);
    assert.ok(cs.state.running.startedAt);
    assert.equal((await getPod(client, 'web2')).status?.podIP, '10.42.7.3');
    assert.equal((await getPod(client, 'elsewhere')).status?.phase, 'Pending', 'not ours');
  });

  it('completes Job pods and restartPolicy Never/OnFailure pods after pod-run-seconds', async () => {
    const { client, sim, step } = await startSim(1);
    await client.create(
      PODS,
      'default',
      pod(
        'job-x',
        'sim-0',
        { restartPolicy: 'OnFailure' },
        {
          ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'x', uid: 'u', controller: true }],
        },
      ),
    );
    await client.create(PODS, 'default', pod('once', 'sim-0', { restartPolicy: 'Never' }));
    await client.create(PODS, 'default', pod('server', 'sim-0'));
    await settle();
    await step(1_000);
    assert.equal((await getPod(client, 'job-x')).status?.phase, 'Running');
    assert.equal(sim.stats().podsRunning, 3);
    await step(3_000);
    assert.equal((await getPod(client, 'once')).status?.phase, 'Running');
    await step(1_000);
    for (const name of ['job-x', 'once']) {
      const p = await getPod(client, name);
      const s = p.status as Loose;
      assert.equal(s.phase, 'Succeeded', name);
      assert.equal(cond(p, 'Ready'), 'False');
      const term = s.containerStatuses[0].state.terminated;
      assert.equal(term.exitCode, 0);
      assert.equal(term.reason, 'Completed');
      assert.ok(term.finishedAt);
    }
    assert.equal((await getPod(client, 'server')).status?.phase, 'Running');
    assert.equal(sim.stats().podsSucceeded, 2);
    assert.equal(sim.stats().podsRunning, 1);
  });

  it('finishes deleting a pod after its grace period, with gracePeriodSeconds 0', async () => {
    const { client, clock, step } = await startSim(1);
    await client.create(PODS, 'default', pod('a', 'sim-0'));
    await client.create(PODS, 'default', pod('b', 'sim-0'));
    await step(100);
    // The fake client has no graceful deletion: mark the pods as the API server would.
    for (const [name, grace] of [
      ['a', 30],
      ['b', 0],
    ] as const) {
      const p = await getPod(client, name);
      p.metadata.deletionTimestamp = new Date(clock.now() + grace * 1000).toISOString();
      p.metadata.deletionGracePeriodSeconds = grace;
      await client.update(PODS, 'default', p);
    }
    await settle();
    assert.deepEqual(
      client.objects(PODS).map((p) => p.metadata.name),
      ['a'],
    );
    await step(29_000);
    assert.deepEqual(
      client.objects(PODS).map((p) => p.metadata.name),
      ['a'],
    );
    await step(1_000);
    assert.deepEqual(client.objects(PODS), []);
    const deletes = client.calls.filter((c) => c.verb === 'delete' && c.resource === 'pods');
    assert.deepEqual(
      deletes.map((d) => (d.opts as { gracePeriodSeconds?: number }).gracePeriodSeconds),
      [0, 0],
    );
  });

  it('fail() stops a node heartbeating and handling pods; recover() resumes both', async () => {
    const { client, clock, sim, step } = await startSim(2);
    sim.fail('sim-1');
    const failedAt = clock.now();
    await client.create(PODS, 'default', pod('p', 'sim-1'));
    await step(20_000);
    const lease = await client.get<Lease>(LEASES, 'kube-node-lease', 'sim-1');
    assert.ok(Date.parse(lease.spec?.renewTime ?? '') <= failedAt);
    assert.ok(
      Date.parse((await client.get<Lease>(LEASES, 'kube-node-lease', 'sim-0')).spec?.renewTime ?? '') >
        failedAt,
    );
    assert.equal((await getPod(client, 'p')).status?.phase, 'Pending');
    assert.equal(sim.stats().failed, 1);
    sim.recover('sim-1');
    await step(100);
    assert.ok(
      Date.parse((await client.get<Lease>(LEASES, 'kube-node-lease', 'sim-1')).spec?.renewTime ?? '') >
        failedAt,
    );
    assert.equal((await getPod(client, 'p')).status?.phase, 'Running');
  });

  it('re-posts Ready at once when someone else marks the node Unknown', async () => {
    const { client, step } = await startSim(1);
    const node = await client.get<SimNodeObject>(NODES, '', 'sim-0');
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    ready!.status = 'Unknown';
    await client.update(NODES, '', node, { subresource: 'status' });
    await step(100);
    const again = await client.get<SimNodeObject>(NODES, '', 'sim-0');
    assert.equal(again.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });
  it('a restarted simulator adopts its nodes, leases and running pods', async () => {
    const { client, clock, sim, step } = await startSim(2);
    await client.create(PODS, 'default', pod('kept', 'sim-0'));
    await step(100);
    const ip = (await getPod(client, 'kept')).status?.podIP;
    stops.pop()?.abort();
    await sim.stopped();

    const again = new SimCluster({ client, clock, nodes: 2 });
    const ac = new AbortController();
    stops.push(ac);
    await again.start(ac.signal);
    assert.equal(again.stats().registered, 2);
    assert.equal(again.stats().errors, 0);
    assert.equal(client.objects(NODES).length, 2);
    assert.equal(again.stats().podsRunning, 1);
    await client.create(PODS, 'default', pod('new', 'sim-0'));
    await settle();
    clock.advance(100);
    await settle();
    const fresh = (await getPod(client, 'new')).status?.podIP;
    assert.ok(fresh && fresh !== ip, `a new pod does not get the address of a running one (${fresh})`);
  });
});
