/** The namespace controller's rules, on a fake client. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { CONFIG_MAPS, NAMESPACES, NODES, PODS, SECRETS } from '../../client/resources.ts';
import type { KubeObject, ResourceRef } from '../../client/types.ts';
import { FakeClock } from '../../util/clock.ts';
import { type DiscoveredResource, StaticDiscovery, withAllVerbs } from '../garbagecollector/discovery.ts';
import { type Harness, startHarness } from '../garbagecollector/testing.ts';
import { type Namespace, NamespaceController } from './controller.ts';

const WIDGETS: ResourceRef = {
  group: 'example.com',
  version: 'v1',
  resource: 'widgets',
  kind: 'Widget',
  namespaced: true,
};
const START = Date.UTC(2026, 0, 1);
const TS = new Date(START).toISOString().replace(/\.\d+Z$/, 'Z');

function ns(name: string, terminating = true, finalizers = ['kubernetes']): [ResourceRef, KubeObject] {
  return [
    NAMESPACES,
    {
      metadata: { name, ...(terminating ? { deletionTimestamp: TS } : {}) },
      spec: { finalizers },
      status: { phase: terminating ? 'Terminating' : 'Active' },
    },
  ];
}

const inNs = (
  ref: ResourceRef,
  name: string,
  meta: Partial<KubeObject['metadata']> = {},
  rest = {},
): [ResourceRef, KubeObject] => [ref, { metadata: { name, namespace: 'doomed', ...meta }, ...rest }];

describe('NamespaceController', () => {
  let h: Harness | undefined;
  let controller: NamespaceController;
  afterEach(() => {
    h?.stop();
    h = undefined;
  });

  const resources: DiscoveredResource[] = [PODS, CONFIG_MAPS, SECRETS, WIDGETS, NAMESPACES, NODES].map(
    withAllVerbs,
  );

  async function start(
    objects: [ResourceRef, KubeObject][],
    opts: { discovery?: StaticDiscovery; reportConditions?: boolean } = {},
  ): Promise<Harness> {
    controller = new NamespaceController({
      discovery: opts.discovery ?? new StaticDiscovery(resources),
      deletionGracePeriodMs: 5000,
      reportConditions: opts.reportConditions,
    });
    h = await startHarness(controller, { objects, clock: new FakeClock(START) });
    return h;
  }

  const namespace = (h: Harness, name = 'doomed') =>
    h.client.objects<Namespace>(NAMESPACES).find((n) => n.metadata.name === name);
  const reconcile = (_h: Harness, key = 'doomed') => controller.reconcile(key);

  it('queues a namespace being deleted after the grace period, and only such namespaces', async () => {
    const h = await start([ns('doomed'), ns('alive', false)]);
    assert.equal(h.queue.length, 0);
    h.clock.advance(5000);
    assert.deepEqual(await h.drain(), ['doomed']);
  });

  it('deletes every namespaced object (pods first, custom resources too), then finalizes', async () => {
    const h = await start([
      ns('doomed'),
      inNs(CONFIG_MAPS, 'cm'),
      inNs(SECRETS, 's'),
      inNs(WIDGETS, 'w'),
      inNs(PODS, 'p'),
      [CONFIG_MAPS, { metadata: { name: 'elsewhere', namespace: 'other' } }],
      [NODES, { metadata: { name: 'node-1' } }],
    ]);
    assert.equal(await reconcile(h), undefined);
    const deleted = h.client.calls.filter((c) => c.verb === 'delete');
    assert.deepEqual(
      deleted.map((c) => `${c.resource}/${c.name}`),
      ['pods/p', 'configmaps/cm', 'secrets/s', 'widgets/w'],
    );
    assert.ok(
      deleted.every((c) => (c.opts as { propagationPolicy?: string }).propagationPolicy === 'Background'),
    );
    assert.deepEqual(
      h.client.objects(CONFIG_MAPS).map((o) => o.metadata.name),
      ['elsewhere'],
    );
    assert.equal(h.client.objects(NODES).length, 1);
    const finalize = h.client.calls.find((c) => c.verb === 'update');
    assert.deepEqual(finalize?.opts, { subresource: 'finalize' });
    assert.deepEqual(namespace(h)?.spec?.finalizers, []);
  });

  it('leaves alone a namespace that is not being deleted, or whose kubernetes finalizer is gone', async () => {
    const h = await start([ns('alive', false), ns('done', true, ['other']), inNs(CONFIG_MAPS, 'cm')]);
    const before = h.client.calls.length;
    await reconcile(h, 'alive');
    await reconcile(h, 'done');
    await reconcile(h, 'missing');
    assert.deepEqual(
      h.client.calls.slice(before).map((c) => c.verb),
      ['get', 'get', 'get'],
      'each namespace was read, nothing written',
    );
  });

  it('waits for objects with finalizers, reporting what remains, and finalizes once they are gone', async () => {
    const h = await start(
      [ns('doomed'), inNs(CONFIG_MAPS, 'held', { deletionTimestamp: TS, finalizers: ['example.com/hold'] })],
      { reportConditions: true },
    );
    assert.deepEqual(await reconcile(h), { requeueAfterMs: 8000 });
    const conditions = Object.fromEntries(
      (namespace(h)?.status?.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}: ${c.message}`]),
    );
    assert.deepEqual(conditions, {
      NamespaceContentRemaining:
        'True SomeResourcesRemain: Some resources are remaining: configmaps. has 1 resource instances',
      NamespaceFinalizersRemaining:
        'True SomeFinalizersRemain: Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
    });
    assert.deepEqual(namespace(h)?.spec?.finalizers, ['kubernetes']);

    await h.client.delete(CONFIG_MAPS, 'doomed', 'held');
    assert.equal(await reconcile(h), undefined);
    const after = Object.fromEntries((namespace(h)?.status?.conditions ?? []).map((c) => [c.type, c.status]));
    assert.deepEqual(after, { NamespaceContentRemaining: 'False', NamespaceFinalizersRemaining: 'False' });
    assert.deepEqual(namespace(h)?.spec?.finalizers, []);
  });

  it('gives running pods their grace period before expecting them gone', async () => {
    const h = await start([
      ns('doomed'),
      inNs(
        PODS,
        'p',
        { deletionTimestamp: TS },
        { spec: { terminationGracePeriodSeconds: 30 }, status: { phase: 'Running' } },
      ),
    ]);
    assert.deepEqual(await reconcile(h), { requeueAfterMs: 16_000 });
    // Past the grace period a pod that is still there is unexpected: an error, retried with back-off.
    h.clock.advance(31_000);
    await assert.rejects(reconcile(h), /unexpected items still remain in namespace: doomed/);
    assert.deepEqual(namespace(h)?.spec?.finalizers, ['kubernetes']);
  });

  it('does not finalize when discovery failed for some group', async () => {
    const discovery = new StaticDiscovery(resources);
    discovery.failed.set('metrics.k8s.io/v1beta1', new Error('service unavailable'));
    const h = await start([ns('doomed'), inNs(CONFIG_MAPS, 'cm')], { discovery, reportConditions: true });
    await assert.rejects(reconcile(h), /discovery of metrics.k8s.io\/v1beta1 failed/);
    assert.deepEqual(h.client.objects(CONFIG_MAPS), [], 'what could be found was deleted');
    const failure = namespace(h)?.status?.conditions?.find(
      (c) => c.type === 'NamespaceDeletionDiscoveryFailure',
    );
    assert.equal(failure?.status, 'True');
    assert.equal(failure?.reason, 'DiscoveryFailed');
    assert.deepEqual(namespace(h)?.spec?.finalizers, ['kubernetes']);
  });

  it('reports content that cannot be deleted', async () => {
    const h = await start([ns('doomed'), inNs(SECRETS, 's')], { reportConditions: true });
    h.client.failNext('delete', new ApiError(500, 'InternalError', 'disk full'));
    await assert.rejects(reconcile(h), /disk full/);
    const failure = namespace(h)?.status?.conditions?.find(
      (c) => c.type === 'NamespaceDeletionContentFailure',
    );
    assert.equal(failure?.reason, 'ContentDeletionFailed');
    assert.match(failure?.message ?? '', /secrets\.: disk full/);
  });
});
