import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeRestClient } from '../../client/fake.ts';
import type { Lease } from '../../client/leaderelection.ts';
import { LEASES, NODES } from '../../client/resources.ts';
import { FakeClock } from '../../util/clock.ts';
import type { RuntimeCondition } from '../cri/types.ts';
import { NodeAgent, type NodeAgentOptions, type NodeObject } from './agent.ts';
import { fakeHost } from './testing.ts';

const settle = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

const READY: RuntimeCondition[] = [
  { type: 'RuntimeReady', status: true, reason: '', message: '' },
  { type: 'NetworkReady', status: true, reason: '', message: '' },
];
const NO_NETWORK: RuntimeCondition[] = [
  { type: 'RuntimeReady', status: true, reason: '', message: '' },
  {
    type: 'NetworkReady',
    status: false,
    reason: 'NetworkPluginNotReady',
    message: 'Network plugin returns error: cni plugin not initialized',
  },
];

function setup(over: Partial<NodeAgentOptions> = {}) {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12));
  const client = new FakeRestClient({ clock });
  const state = { runtime: READY, memoryPressure: false };
  const agent = new NodeAgent({
    client,
    nodeName: 'Node-A',
    rootDir: '/var/lib/skiff',
    kubeletVersion: 'v1.35.0-skiff',
    runtimeVersion: async () => 'containerd://1.6.20',
    runtimeStatus: async () => state.runtime,
    images: async () => [
      {
        id: 'sha256:small',
        repoTags: ['skiff.local/pause:latest'],
        repoDigests: [],
        size: 1000,
        username: '',
        pinned: false,
      },
      {
        id: 'sha256:big',
        repoTags: ['skiff.local/busybox:latest'],
        repoDigests: ['skiff.local/busybox@sha256:abc'],
        size: 5000,
        username: '',
        pinned: false,
      },
    ],
    pressure: {
      isUnderMemoryPressure: () => state.memoryPressure,
      isUnderDiskPressure: () => false,
      isUnderPIDPressure: () => false,
    },
    roles: ['control-plane'],
    labels: { tier: 'one' },
    taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }],
    reserved: { cpu: '100m' },
    host: fakeHost(),
    clock,
    ...over,
  });
  return { clock, client, agent, state };
}

const nodeOf = (client: FakeRestClient) => client.objects<NodeObject>(NODES)[0] as NodeObject;
const cond = (n: NodeObject, type: string) => n.status?.conditions?.find((c) => c.type === type);

test('registers the Node with labels, taints, capacity, allocatable, addresses, nodeInfo and conditions', async () => {
  const { client, agent } = setup();
  await agent.start();
  const n = nodeOf(client);
  assert.equal(n.metadata.name, 'Node-A');
  assert.deepEqual(n.metadata.labels, {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': 'node-a',
    'kubernetes.io/os': 'linux',
    'node-role.kubernetes.io/control-plane': '',
    tier: 'one',
  });
  assert.equal(n.metadata.annotations?.['volumes.kubernetes.io/controller-managed-attach-detach'], 'true');
  assert.deepEqual(n.spec?.taints, [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }]);
  assert.deepEqual(n.status?.capacity, {
    cpu: '2',
    memory: '24Gi',
    'ephemeral-storage': '100Gi',
    pods: '110',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
  });
  // cpu minus reserved; memory minus the 100Mi hard threshold; storage minus 10 %.
  assert.deepEqual(n.status?.allocatable, {
    cpu: '1900m',
    memory: '24476Mi',
    'ephemeral-storage': '90Gi',
    pods: '110',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
  });
  assert.deepEqual(n.status?.addresses, [
    { type: 'InternalIP', address: '10.0.0.5' },
    { type: 'Hostname', address: 'node-a' },
  ]);
  assert.deepEqual(n.status?.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
  assert.deepEqual(n.status?.nodeInfo, {
    machineID: '0123456789abcdef0123456789abcdef',
    systemUUID: 'EC2A1B2C-0000-1111-2222-333344445555',
    bootID: 'b0b0b0b0-1111-2222-3333-444455556666',
    kernelVersion: '6.1.0-13-amd64',
    osImage: 'Debian GNU/Linux 12 (bookworm)',
    containerRuntimeVersion: 'containerd://1.6.20',
    kubeletVersion: 'v1.35.0-skiff',
    kubeProxyVersion: '',
    operatingSystem: 'linux',
    architecture: 'amd64',
  });
  assert.deepEqual(n.status?.images, [
    { names: ['skiff.local/busybox@sha256:abc', 'skiff.local/busybox:latest'], sizeBytes: 5000 },
    { names: ['skiff.local/pause:latest'], sizeBytes: 1000 },
  ]);
  assert.deepEqual(
    n.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
    [
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
    ],
  );
  assert.equal(cond(n, 'Ready')?.lastHeartbeatTime, '2026-01-01T12:00:00Z');
  agent.stop();
});

test('renews the Lease every 10 s, owned by the Node', async () => {
  const { client, clock, agent } = setup();
  await agent.start();
  await settle();
  const lease = () => client.objects<Lease>(LEASES)[0] as Lease;
  assert.equal(lease().metadata.namespace, 'kube-node-lease');
  assert.equal(lease().metadata.name, 'Node-A');
  assert.deepEqual(lease().metadata.ownerReferences, [
    { apiVersion: 'v1', kind: 'Node', name: 'Node-A', uid: nodeOf(client).metadata.uid },
  ]);
  assert.equal(lease().spec?.holderIdentity, 'Node-A');
  assert.equal(lease().spec?.leaseDurationSeconds, 40);
  assert.equal(lease().spec?.renewTime, '2026-01-01T12:00:00.000000Z');
  clock.advance(10_000);
  await settle();
  assert.equal(lease().spec?.renewTime, '2026-01-01T12:00:10.000000Z');
  assert.equal(agent.lease.renewals, 2);
  agent.stop();
  clock.advance(60_000);
  await settle();
  assert.equal(agent.lease.renewals, 2, 'stop() ends renewals');
  assert.ok(
    client.objects(NODES).length === 1 && client.objects(LEASES).length === 1,
    'stop() leaves Node and Lease',
  );
});

test('status: written when it changes, else only every 5 min; Ready follows the runtime network', async () => {
  const { client, clock, agent, state } = setup();
  state.runtime = NO_NETWORK;
  await agent.start();
  await settle();
  let n = nodeOf(client);
  assert.equal(cond(n, 'Ready')?.status, 'False');
  assert.equal(cond(n, 'Ready')?.reason, 'KubeletNotReady');
  assert.equal(
    cond(n, 'Ready')?.message,
    'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
  );
  // Until Ready, the runtime is asked every 500 ms, and the node turns Ready soon after it is.
  state.runtime = READY;
  clock.advance(500);
  await settle();
  n = nodeOf(client);
  assert.equal(cond(n, 'Ready')?.status, 'True');
  assert.equal(cond(n, 'Ready')?.lastTransitionTime, '2026-01-01T12:00:00Z');
  const rv = n.metadata.resourceVersion;
  // Nothing changes: no write for a while, though heartbeats would move.
  for (let i = 0; i < 6; i++) {
    clock.advance(10_000);
    await settle();
  }
  assert.equal(nodeOf(client).metadata.resourceVersion, rv);
  // A pressure change is written at the next 10 s tick with a new transition time.
  state.memoryPressure = true;
  clock.advance(10_000);
  await settle();
  n = nodeOf(client);
  assert.equal(cond(n, 'MemoryPressure')?.status, 'True');
  assert.equal(cond(n, 'MemoryPressure')?.reason, 'KubeletHasInsufficientMemory');
  assert.equal(cond(n, 'MemoryPressure')?.lastTransitionTime, '2026-01-01T12:01:10Z');
  assert.equal(cond(n, 'Ready')?.lastTransitionTime, '2026-01-01T12:00:00Z');
  const rv2 = n.metadata.resourceVersion;
  // 5 min later with no change the status is written anyway (heartbeat).
  clock.advance(290_000);
  await settle(40);
  assert.equal(nodeOf(client).metadata.resourceVersion, rv2);
  clock.advance(10_000);
  await settle();
  n = nodeOf(client);
  assert.notEqual(n.metadata.resourceVersion, rv2);
  assert.equal(cond(n, 'Ready')?.lastHeartbeatTime, '2026-01-01T12:06:10Z');
  agent.stop();
});

test('a condition overridden by the node lifecycle controller is written back at once', async () => {
  const { client, clock, agent } = setup();
  await agent.start();
  await settle();
  const n = nodeOf(client);
  const conditions = (n.status?.conditions ?? []).map((c) =>
    c.type === 'Ready'
      ? {
          ...c,
          status: 'Unknown',
          reason: 'NodeStatusUnknown',
          message: 'Kubelet stopped posting node status.',
        }
      : c,
  );
  await client.update(NODES, '', { ...n, status: { ...n.status, conditions } }, { subresource: 'status' });
  clock.advance(1); // no status tick is due
  await settle();
  const after = nodeOf(client);
  assert.equal(cond(after, 'Ready')?.status, 'True');
  assert.equal(cond(after, 'Ready')?.reason, 'KubeletReady');
  agent.stop();
});

test('adopts an existing Node: default labels reconciled, others and uid kept', async () => {
  const { client, agent } = setup();
  await client.create(NODES, '', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: 'Node-A',
      labels: { 'kubernetes.io/arch': 'arm64', 'beta.kubernetes.io/arch': 'arm64', mine: 'yes' },
    },
    spec: { podCIDR: '10.42.0.0/24', podCIDRs: ['10.42.0.0/24'] },
  });
  const uid = nodeOf(client).metadata.uid;
  const seen: string[][] = [];
  agent.onPodCIDR((c) => seen.push(c));
  await agent.start();
  await settle();
  const n = nodeOf(client);
  assert.equal(n.metadata.uid, uid);
  assert.equal(n.metadata.labels?.['kubernetes.io/arch'], 'amd64');
  assert.equal(n.metadata.labels?.['kubernetes.io/os'], 'linux');
  assert.equal(n.metadata.labels?.mine, 'yes');
  assert.equal(cond(n, 'Ready')?.status, 'True');
  assert.deepEqual(seen, [['10.42.0.0/24']]);
  agent.stop();
});

test('onPodCIDR reports the CIDR once the IPAM controller sets it', async () => {
  const { client, agent } = setup();
  await agent.start();
  await settle();
  const seen: string[][] = [];
  agent.onPodCIDR((c) => seen.push(c));
  assert.deepEqual(seen, []);
  const n = nodeOf(client);
  await client.update(NODES, '', {
    ...n,
    spec: { ...n.spec, podCIDR: '10.42.3.0/24', podCIDRs: ['10.42.3.0/24'] },
  });
  await settle();
  assert.deepEqual(seen, [['10.42.3.0/24']]);
  const late: string[][] = [];
  agent.onPodCIDR((c) => late.push(c));
  assert.deepEqual(late, [['10.42.3.0/24']]);
  agent.stop();
});
