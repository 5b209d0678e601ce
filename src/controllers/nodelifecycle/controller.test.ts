import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { EVENTS, LEASES, NODES, PODS } from '../../client/resources.ts';
import { NodeLifecycleController } from './controller.ts';
import {
  getNode,
  type Harness,
  nodeLease,
  postReady,
  readyNode,
  renewLease,
  startHarness,
} from './testing.ts';
import type { Node, Pod } from './types.ts';

let h: Harness | undefined;
afterEach(() => {
  h?.stop();
  h = undefined;
});

const cond = (n: Node, type: string) => n.status?.conditions?.find((c) => c.type === type);
const taintKeys = (n: Node) => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

async function cluster(
  names: string[],
  extra: (name: string) => Partial<Node> = () => ({}),
): Promise<Harness> {
  return startHarness([new NodeLifecycleController()], {}, async (client, clock) => {
    for (const name of names) {
      await client.create(NODES, '', readyNode(name, clock.now(), extra(name)));
      await client.create(LEASES, 'kube-node-lease', nodeLease(name, clock.now()));
    }
  });
}

/** Moves time in monitor periods, keeping the `alive` nodes' leases fresh. */
async function run(h: Harness, ms: number, alive: string[]): Promise<void> {
  for (let t = 0; t < ms; t += 5_000) {
    for (const n of alive) await renewLease(h.client, n, h.clock.now());
    await h.step(5_000);
  }
}

describe('NodeLifecycleController', () => {
  it('marks a node that stops heartbeating Unknown after the grace period and taints it unreachable', async () => {
    h = await cluster(['a', 'b']);
    const registered = h.client.objects(EVENTS).filter((e) => e.reason === 'RegisteredNode');
    assert.equal(registered.length, 2);

    await run(h, 35_000, ['b']);
    assert.equal(
      cond(await getNode(h.client, 'a'), 'Ready')?.status,
      'True',
      'still within the grace period',
    );

    await run(h, 10_000, ['b']);
    const a = await getNode(h.client, 'a');
    for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      const c = cond(a, type);
      assert.equal(c?.status, 'Unknown', type);
      assert.equal(c?.reason, 'NodeStatusUnknown');
      assert.equal(c?.message, 'Kubelet stopped posting node status.');
    }
    await run(h, 5_000, ['b']);
    const tainted = await getNode(h.client, 'a');
    assert.deepEqual(taintKeys(tainted), [
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
    const noExecute = tainted.spec?.taints?.find((t) => t.effect === 'NoExecute');
    assert.ok(noExecute?.timeAdded, 'the NoExecute taint has timeAdded');
    const b = await getNode(h.client, 'b');
    assert.equal(cond(b, 'Ready')?.status, 'True');
    assert.deepEqual(taintKeys(b), []);
    assert.ok(h.client.objects(EVENTS).some((e) => e.reason === 'NodeNotReady'));
  });

  it('removes the taints once the node heartbeats again', async () => {
    h = await cluster(['a', 'b']);
    await run(h, 55_000, ['b']);
    assert.ok(taintKeys(await getNode(h.client, 'a')).includes('node.kubernetes.io/unreachable:NoExecute'));

    await renewLease(h.client, 'a', h.clock.now());
    await postReady(h.client, 'a', h.clock.now());
    await run(h, 10_000, ['a', 'b']);
    const a = await getNode(h.client, 'a');
    assert.equal(cond(a, 'Ready')?.status, 'True');
    assert.deepEqual(taintKeys(a), []);
  });

  it('a renewed Lease alone keeps a node healthy (its Ready heartbeat may be old)', async () => {
    h = await cluster(['a', 'b']);
    await run(h, 120_000, ['a', 'b']);
    assert.equal(cond(await getNode(h.client, 'a'), 'Ready')?.status, 'True');
    assert.deepEqual(taintKeys(await getNode(h.client, 'a')), []);
  });

  it('taints not-ready when the kubelet reports Ready=False, and swaps to unreachable when it goes quiet', async () => {
    h = await cluster(['a', 'b']);
    await h.step(5_000);
    const node = await getNode(h.client, 'a');
    const ready = cond(node, 'Ready')!;
    ready.status = 'False';
    ready.reason = 'KubeletNotReady';
    ready.lastHeartbeatTime = new Date(h.clock.now()).toISOString();
    await h.client.update(NODES, '', node, { subresource: 'status' });
    await run(h, 10_000, ['a', 'b']);
    assert.deepEqual(taintKeys(await getNode(h.client, 'a')), [
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/not-ready:NoSchedule',
    ]);
    await run(h, 55_000, ['b']);
    assert.deepEqual(taintKeys(await getNode(h.client, 'a')), [
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
  });

  it('sets the Ready condition of the pods of a node that goes Unknown to False', async () => {
    h = await cluster(['a', 'b']);
    const pod: Pod = {
      metadata: { name: 'p', namespace: 'default' },
      spec: { nodeName: 'a' },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: null }],
      },
    };
    await h.client.create(PODS, 'default', pod);
    await run(h, 50_000, ['b']);
    const [p] = h.client.objects<Pod>(PODS);
    assert.equal(p?.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  });

  it('does not taint when every node is down (master disruption mode)', async () => {
    h = await cluster(['a', 'b']);
    await run(h, 70_000, []);
    for (const n of ['a', 'b']) {
      const node = await getNode(h.client, n);
      assert.equal(cond(node, 'Ready')?.status, 'Unknown');
      assert.ok(!taintKeys(node).some((k) => k.endsWith(':NoExecute')), `${n} has no NoExecute taint`);
    }
  });

  it('taints at --node-eviction-rate per zone', async () => {
    h = await cluster(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    // Three of eight down: 37.5 % < 55 %, so the zone stays Normal at 0.1 nodes/s.
    await run(h, 50_000, ['d', 'e', 'f', 'g', 'h']);
    const tainted = async () => {
      let n = 0;
      for (const name of ['a', 'b', 'c']) {
        if (taintKeys(await getNode(h!.client, name)).includes('node.kubernetes.io/unreachable:NoExecute'))
          n++;
      }
      return n;
    };
    assert.equal(await tainted(), 1);
    await run(h, 10_000, ['d', 'e', 'f', 'g', 'h']);
    assert.equal(await tainted(), 2);
    await run(h, 10_000, ['d', 'e', 'f', 'g', 'h']);
    assert.equal(await tainted(), 3);
  });

  it('keeps NoSchedule taints in step with conditions and spec.unschedulable, and the beta os/arch labels', async () => {
    h = await cluster(['a', 'b'], (name) =>
      name === 'a'
        ? {
            metadata: { name, labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' } },
            spec: { unschedulable: true },
          }
        : {},
    );
    const node = await getNode(h.client, 'a');
    const mem = cond(node, 'MemoryPressure')!;
    mem.status = 'True';
    await h.client.update(NODES, '', node, { subresource: 'status' });
    await h.settle();
    const a = await getNode(h.client, 'a');
    assert.deepEqual(taintKeys(a), [
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    assert.equal(a.metadata.labels?.['beta.kubernetes.io/os'], 'linux');
    assert.equal(a.metadata.labels?.['beta.kubernetes.io/arch'], 'arm64');

    const again = await getNode(h.client, 'a');
    cond(again, 'MemoryPressure')!.status = 'False';
    again.spec = { ...again.spec, unschedulable: false };
    await h.client.update(NODES, '', again);
    await h.settle();
    assert.deepEqual(taintKeys(await getNode(h.client, 'a')), []);
  });
});
