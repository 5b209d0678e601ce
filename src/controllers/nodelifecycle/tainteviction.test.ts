import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { EVENTS, NODES, PODS } from '../../client/resources.ts';
import { TaintEvictionController } from './tainteviction.ts';
import { rfc3339 } from './taints.ts';
import { getNode, type Harness, readyNode, startHarness } from './testing.ts';
import type { Pod, Taint, Toleration } from './types.ts';

let h: Harness | undefined;
afterEach(() => {
  h?.stop();
  h = undefined;
});

const pod = (name: string, nodeName: string, tolerations: Toleration[] = []): Pod => ({
  metadata: { name, namespace: 'default' },
  spec: { nodeName, tolerations },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});

const unreachable = (seconds?: number): Toleration => ({
  key: 'node.kubernetes.io/unreachable',
  operator: 'Exists',
  effect: 'NoExecute',
  ...(seconds === undefined ? {} : { tolerationSeconds: seconds }),
});

const names = (h: Harness) =>
  h.client
    .objects<Pod>(PODS)
    .map((p) => p.metadata.name)
    .sort();

async function taint(h: Harness, node: string, taints: Taint[]): Promise<void> {
  const n = await getNode(h.client, node);
  n.spec = { ...n.spec, taints };
  await h.client.update(NODES, '', n);
  await h.settle();
}

describe('TaintEvictionController', () => {
  it('deletes pods that do not tolerate a NoExecute taint at once, the others after tolerationSeconds', async () => {
    h = await startHarness([new TaintEvictionController()], {}, async (client, clock) => {
      await client.create(NODES, '', readyNode('a', clock.now()));
      await client.create(NODES, '', readyNode('b', clock.now()));
      await client.create(PODS, 'default', pod('intolerant', 'a'));
      await client.create(PODS, 'default', pod('ten-seconds', 'a', [unreachable(10)]));
      await client.create(PODS, 'default', pod('forever', 'a', [unreachable()]));
      await client.create(PODS, 'default', pod('other-node', 'b'));
      await client.create(
        PODS,
        'default',
        pod('other-taint', 'a', [{ operator: 'Exists', effect: 'NoSchedule' }]),
      );
    });
    assert.equal(names(h).length, 5, 'nothing happens without taints');

    await taint(h, 'a', [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: rfc3339(h.clock.now()) },
    ]);
    assert.deepEqual(names(h), ['forever', 'other-node', 'ten-seconds']);
    const marked = h.client.calls.filter((c) => c.verb === 'update' && c.name === 'intolerant');
    assert.equal(marked.length, 1, 'the DisruptionTarget condition was written before deleting');
    assert.ok(h.client.objects(EVENTS).some((e) => e.reason === 'TaintManagerEviction'));

    await h.step(9_000);
    assert.deepEqual(names(h), ['forever', 'other-node', 'ten-seconds']);
    await h.step(1_000);
    assert.deepEqual(names(h), ['forever', 'other-node']);
    await h.step(600_000);
    assert.deepEqual(names(h), ['forever', 'other-node']);
  });

  it('counts tolerationSeconds from the taint timeAdded', async () => {
    h = await startHarness([new TaintEvictionController()], {}, async (client, clock) => {
      await client.create(NODES, '', readyNode('a', clock.now()));
      await client.create(PODS, 'default', pod('p', 'a', [unreachable(300)]));
    });
    await taint(h, 'a', [
      {
        key: 'node.kubernetes.io/unreachable',
        effect: 'NoExecute',
        timeAdded: rfc3339(h.clock.now() - 299_000),
      },
    ]);
    assert.deepEqual(names(h), ['p']);
    await h.step(1_000);
    assert.deepEqual(names(h), []);
  });

  it('cancels a pending eviction when the taint goes away', async () => {
    h = await startHarness([new TaintEvictionController()], {}, async (client, clock) => {
      await client.create(NODES, '', readyNode('a', clock.now()));
      await client.create(PODS, 'default', pod('p', 'a', [unreachable(10)]));
    });
    await taint(h, 'a', [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: rfc3339(h.clock.now()) },
    ]);
    await h.step(5_000);
    await taint(h, 'a', []);
    await h.step(20_000);
    assert.deepEqual(names(h), ['p']);
  });

  it('evicts a pod bound later to a tainted node it does not tolerate', async () => {
    h = await startHarness([new TaintEvictionController()], {}, async (client, clock) => {
      await client.create(
        NODES,
        '',
        readyNode('a', clock.now(), {
          spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'NoExecute' }] },
        }),
      );
    });
    await h.client.create(PODS, 'default', pod('tolerates', 'a', [{ key: 'dedicated', value: 'x' }]));
    await h.client.create(PODS, 'default', pod('no', 'a', [{ key: 'dedicated', value: 'y' }]));
    await h.settle();
    assert.deepEqual(names(h), ['tolerates']);
  });
});
