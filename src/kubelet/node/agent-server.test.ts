/**
 * NodeAgent against a real API server in this process: the Node is created and its status written
 * through the status subresource, the Lease lands in kube-node-lease owned by the Node, and a
 * restarted agent adopts its Node.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lease } from '../../client/leaderelection.ts';
import { LEASES, NODES } from '../../client/resources.ts';
import { HttpRestClient } from '../../client/rest.ts';
import { startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import { NodeAgent, type NodeObject } from './agent.ts';
import { fakeHost } from './testing.ts';

let srv: TestApiServer;
let client: HttpRestClient;

before(async () => {
  srv = await startTestApiServer();
  client = new HttpRestClient(srv.config, { component: 'node-agent-test' });
});
after(async () => {
  await srv.close();
});

function agent() {
  return new NodeAgent({
    client,
    nodeName: 'worker-1',
    rootDir: '/var/lib/skiff',
    kubeletVersion: 'v1.35.0-skiff',
    runtimeVersion: async () => 'containerd://1.6.20',
    runtimeStatus: async () => [
      { type: 'RuntimeReady', status: true, reason: '', message: '' },
      { type: 'NetworkReady', status: true, reason: '', message: '' },
    ],
    taints: [{ key: 'example.com/special', effect: 'NoSchedule' }],
    host: fakeHost(),
  });
}

test('registers, reports Ready, and heartbeats the Lease on a real API server', async () => {
  const a = agent();
  const registered = await a.start();
  try {
    const node = await client.get<NodeObject>(NODES, '', 'worker-1');
    assert.equal(node.metadata.uid, registered.metadata.uid);
    assert.deepEqual(
      node.spec?.taints?.map((t) => t.key),
      ['example.com/special'],
    );
    assert.equal(node.status?.capacity?.memory, '24Gi');
    assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(node.status?.nodeInfo?.containerRuntimeVersion, 'containerd://1.6.20');
    let lease: Lease | undefined;
    for (let i = 0; i < 50 && !lease; i++) {
      lease = await client.get<Lease>(LEASES, 'kube-node-lease', 'worker-1').catch(() => undefined);
      if (!lease) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(lease, 'lease created');
    assert.equal(lease.spec?.holderIdentity, 'worker-1');
    assert.equal(lease.spec?.leaseDurationSeconds, 40);
    assert.equal(lease.metadata.ownerReferences?.[0]?.uid, node.metadata.uid);
  } finally {
    a.stop();
  }
  // A second agent (a kubelet restart) adopts the same Node.
  const b = agent();
  const again = await b.start();
  b.stop();
  assert.equal(again.metadata.uid, registered.metadata.uid);
});
