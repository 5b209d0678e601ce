/** The pod garbage collector's rules, on a fake client and clock. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NODES, PODS } from '../../client/resources.ts';
import type { KubeObject, ResourceRef } from '../../client/types.ts';
import type { Pod } from '../endpoints/pods.ts';
import { type Harness, startHarness } from '../garbagecollector/testing.ts';
import { PodGcController } from './controller.ts';

const TS = '2026-01-01T00:00:00Z';

function pod(
  name: string,
  phase: string,
  opts: { node?: string; reason?: string; deleting?: boolean } = {},
): [ResourceRef, Pod] {
  return [
    PODS,
    {
      metadata: {
        name,
        namespace: 'ns',
        ...(opts.deleting ? { deletionTimestamp: TS } : {}),
      },
      spec: opts.node === undefined ? { nodeName: 'node-1' } : opts.node ? { nodeName: opts.node } : {},
      status: { phase, ...(opts.reason ? { reason: opts.reason } : {}) },
    },
  ];
}

const node = (name: string, extra: Partial<KubeObject> = {}): [ResourceRef, KubeObject] => [
  NODES,
  { metadata: { name }, ...extra },
];

describe('PodGcController', () => {
  let h: Harness | undefined;
  let c: PodGcController;
  afterEach(() => {
    h?.stop();
    h = undefined;
  });

  async function start(objects: [ResourceRef, KubeObject][], threshold = 12_500): Promise<Harness> {
    c = new PodGcController();
    h = await startHarness(c, { objects, options: { terminatedPodGcThreshold: threshold } });
    await h.settle();
    return h;
  }
  const left = (h: Harness) => h.client.objects(PODS).map((p) => p.metadata.name);

  it('deletes terminated pods over the threshold: evicted first, then the oldest', async () => {
    const h = await start([node('node-1')], 2);
    // Created a minute apart, in this order (the fake stamps creationTimestamp from its clock).
    for (const [, p] of [
      pod('running', 'Running'),
      pod('old-failed', 'Failed'),
      pod('mid-done', 'Succeeded'),
      pod('new-done', 'Succeeded'),
      pod('evicted', 'Failed', { reason: 'Evicted' }),
    ]) {
      h.clock.advance(60_000);
      await h.client.create(PODS, 'ns', p);
    }
    await h.settle();
    assert.deepEqual(await c.reconcile(), { requeueAfterMs: 20_000 });
    assert.deepEqual(left(h), ['mid-done', 'new-done', 'running'], 'evicted and old-failed went');
    const del = h.client.calls.find((x) => x.verb === 'delete');
    assert.equal((del?.opts as { gracePeriodSeconds?: number } | undefined)?.gracePeriodSeconds, 0);
  });

  it('does not collect terminated pods when the threshold is 0', async () => {
    const h = await start([node('node-1'), pod('done', 'Succeeded')], 0);
    await c.reconcile();
    assert.deepEqual(left(h), ['done']);
  });

  it('deletes pods of a node that is gone, after a quarantine and a check with the API', async () => {
    const h = await start([
      node('node-1'),
      pod('orphan', 'Running', { node: 'gone' }),
      pod('fine', 'Running'),
    ]);
    assert.deepEqual(await c.reconcile(), { requeueAfterMs: 20_000 });
    assert.deepEqual(left(h), ['fine', 'orphan'], 'quarantined first');
    h.clock.advance(30_000);
    assert.deepEqual(
      await c.reconcile(),
      { requeueAfterMs: 10_000 },
      'the quarantine ends before the next period',
    );
    h.clock.advance(10_000);
    await c.reconcile();
    assert.deepEqual(left(h), ['fine']);
    const status = h.client.calls.find((x) => x.verb === 'patch' && x.name === 'orphan');
    assert.equal((status?.opts as { subresource?: string } | undefined)?.subresource, 'status');
    assert.ok(h.client.calls.some((x) => x.verb === 'get' && x.resource === 'nodes' && x.name === 'gone'));
  });

  it('keeps pods of a node the cache has not seen but the API has', async () => {
    const h = await start([node('node-1'), pod('p', 'Running', { node: 'late' })]);
    await c.reconcile();
    await h.client.create(NODES, '', { metadata: { name: 'late' } });
    // The cache has not caught up (no settle): the API answers.
    h.clock.advance(40_000);
    await c.reconcile();
    assert.deepEqual(left(h), ['p']);
  });

  it('marks an orphaned pod Failed with a DisruptionTarget condition before deleting it', async () => {
    const h = await start([pod('orphan', 'Running', { node: 'gone' })]);
    await c.reconcile();
    h.clock.advance(40_000);
    const patches: unknown[] = [];
    const orig = h.client.patch.bind(h.client);
    h.client.patch = (async (...args: Parameters<typeof orig>) => {
      patches.push(args[4]);
      return orig(...args);
    }) as typeof h.client.patch;
    await c.reconcile();
    const body = patches[0] as {
      status: { phase: string; conditions: { type: string; reason: string; message: string }[] };
    };
    assert.equal(body.status.phase, 'Failed');
    assert.deepEqual(
      body.status.conditions.map((x) => [x.type, x.reason, x.message]),
      [['DisruptionTarget', 'DeletionByPodGC', 'PodGC: node no longer exists']],
    );
  });

  it('force-deletes terminating pods that were never scheduled', async () => {
    const h = await start([
      node('node-1'),
      pod('unscheduled', 'Pending', { node: '', deleting: true }),
      pod('ok', 'Pending', { node: '' }),
    ]);
    await c.reconcile();
    assert.deepEqual(left(h), ['ok']);
  });

  it('force-deletes terminating pods on a NotReady node taken out of service', async () => {
    const h = await start([
      node('node-1', {
        spec: { taints: [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }] },
        status: { conditions: [{ type: 'Ready', status: 'False' }] },
      }),
      pod('stuck', 'Running', { deleting: true }),
      pod('alive', 'Running'),
    ]);
    await c.reconcile();
    assert.deepEqual(left(h), ['alive']);
  });
});
