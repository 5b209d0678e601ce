/** The garbage collector's decisions, on a fake client. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { CONFIG_MAPS, EVENTS, NAMESPACES, SECRETS } from '../../client/resources.ts';
import type { KubeObject, ResourceRef } from '../../client/types.ts';
import { GarbageCollector } from './controller.ts';
import { StaticDiscovery, withAllVerbs } from './discovery.ts';
import type { OwnerReference } from './graph.ts';
import { type Harness, startHarness } from './testing.ts';

const NS = 'ns';
const TS = '2026-01-01T00:00:00Z';

function cm(name: string, meta: Partial<KubeObject['metadata']> = {}): [ResourceRef, KubeObject] {
  return [CONFIG_MAPS, { metadata: { name, namespace: NS, ...meta } }];
}

/** Fake uids are assigned in creation order: fake-uid-1, -2, … (one per object stored). */
function ownerRef(name: string, uid: string, block = false): OwnerReference {
  return { apiVersion: 'v1', kind: 'ConfigMap', name, uid, blockOwnerDeletion: block };
}

describe('GarbageCollector', () => {
  let h: Harness | undefined;
  let gc: GarbageCollector;
  afterEach(() => {
    gc?.stop();
    h?.stop();
    h = undefined;
  });

  async function start(objects: [ResourceRef, KubeObject][], discovery?: StaticDiscovery): Promise<Harness> {
    gc = new GarbageCollector({
      discovery:
        discovery ?? new StaticDiscovery([CONFIG_MAPS, SECRETS, NAMESPACES, EVENTS].map(withAllVerbs)),
    });
    h = await startHarness(gc, { objects });
    await gc.ready();
    return h;
  }

  const names = (h: Harness) => h.client.objects(CONFIG_MAPS).map((o) => o.metadata.name);
  const deletes = (h: Harness) =>
    h.client.calls.filter((c) => c.verb === 'delete').map((c) => ({ name: c.name, opts: c.opts }));

  it('monitors every resource that can be listed, watched and deleted, except events', async () => {
    const d = new StaticDiscovery([
      ...[CONFIG_MAPS, SECRETS, EVENTS].map(withAllVerbs),
      { ...withAllVerbs(NAMESPACES), verbs: ['get', 'list'] },
    ]);
    await start([], d);
    assert.deepEqual(gc.monitored(), ['/configmaps', '/secrets']);
  });

  it('picks up resources that appear later (new CRDs) at the next rediscovery', async () => {
    const d = new StaticDiscovery([withAllVerbs(CONFIG_MAPS)]);
    const h = await start([], d);
    const widgets: ResourceRef = {
      group: 'example.com',
      version: 'v1',
      resource: 'widgets',
      kind: 'Widget',
      namespaced: true,
    };
    d.resources.push(withAllVerbs(widgets));
    h.clock.advance(30_000);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(gc.monitored(), ['/configmaps', 'example.com/widgets']);
  });

  it('deletes a dependent whose only owner does not exist, with the uid as precondition', async () => {
    const h = await start([cm('dep', { ownerReferences: [ownerRef('gone', 'uid-gone')] })]);
    await h.run();
    assert.deepEqual(names(h), []);
    assert.deepEqual(deletes(h), [
      { name: 'dep', opts: { propagationPolicy: 'Background', preconditions: { uid: 'fake-uid-1' } } },
    ]);
  });

  it('keeps a dependent whose owner exists, and deletes one whose owner has another uid', async () => {
    const h = await start([
      cm('owner'),
      cm('kept', { ownerReferences: [ownerRef('owner', 'fake-uid-1')] }),
      cm('stale', { ownerReferences: [ownerRef('owner', 'some-older-uid')] }),
    ]);
    await h.run();
    assert.deepEqual(names(h), ['kept', 'owner']);
  });

  it('drops the reference to an absent owner when a solid owner remains', async () => {
    const h = await start([
      cm('owner'),
      cm('dep', { ownerReferences: [ownerRef('owner', 'fake-uid-1'), ownerRef('gone', 'uid-gone')] }),
    ]);
    await h.run();
    const dep = h.client.objects(CONFIG_MAPS).find((o) => o.metadata.name === 'dep');
    assert.deepEqual(dep?.metadata.ownerReferences, [ownerRef('owner', 'fake-uid-1')]);
  });

  it('deletes a dependent when its owner is deleted (background)', async () => {
    const h = await start([cm('owner'), cm('dep', { ownerReferences: [ownerRef('owner', 'fake-uid-1')] })]);
    await h.run();
    assert.deepEqual(names(h), ['dep', 'owner']);
    await h.client.delete(CONFIG_MAPS, NS, 'owner');
    await h.run();
    assert.deepEqual(names(h), []);
  });

  it('uses the orphan or foreground policy for a garbage object that carries that finalizer', async () => {
    const h = await start([cm('dep', { finalizers: ['orphan'], ownerReferences: [ownerRef('gone', 'u')] })]);
    await h.run();
    assert.equal(
      (deletes(h)[0]?.opts as { propagationPolicy?: string } | undefined)?.propagationPolicy,
      'Orphan',
    );
  });

  it('foreground: deletes blocking dependents, then removes the owner finalizer', async () => {
    const h = await start([
      cm('owner', { deletionTimestamp: TS, finalizers: ['foregroundDeletion'] }),
      cm('a', { ownerReferences: [ownerRef('owner', 'fake-uid-1', true)] }),
      cm('b', { ownerReferences: [ownerRef('owner', 'fake-uid-1', true)] }),
    ]);
    await h.run();
    const owner = h.client.objects(CONFIG_MAPS).find((o) => o.metadata.name === 'owner');
    assert.deepEqual(
      names(h),
      ['owner'],
      'dependents deleted (the fake keeps the owner, finalizers cleared)',
    );
    assert.equal(owner?.metadata.finalizers, undefined);
    const order = h.client.calls
      .filter((c) => c.verb === 'delete' || c.verb === 'patch')
      .map((c) => `${c.verb} ${c.name}`);
    assert.deepEqual(order.slice(-1), ['patch owner'], 'the finalizer goes last');
  });

  it('foreground: a dependent with dependents of its own is deleted in the foreground too', async () => {
    const h = await start([
      cm('owner', { deletionTimestamp: TS, finalizers: ['foregroundDeletion'] }),
      cm('mid', { ownerReferences: [ownerRef('owner', 'fake-uid-1', true)] }),
      cm('leaf', { ownerReferences: [ownerRef('mid', 'fake-uid-2', true)] }),
    ]);
    await h.settle();
    await h.drain();
    const mid = deletes(h).find((d) => d.name === 'mid');
    assert.equal((mid?.opts as { propagationPolicy?: string } | undefined)?.propagationPolicy, 'Foreground');
  });

  it('orphan: removes the references to the owner from its dependents, then the finalizer', async () => {
    const h = await start([
      cm('owner', { deletionTimestamp: TS, finalizers: ['orphan', 'other'] }),
      cm('a', { ownerReferences: [ownerRef('owner', 'fake-uid-1')] }),
      cm('b', { ownerReferences: [ownerRef('owner', 'fake-uid-1'), ownerRef('x', 'fake-uid-4')] }),
      cm('x'),
    ]);
    await h.settle();
    await h.drain();
    const byName = new Map(h.client.objects(CONFIG_MAPS).map((o) => [o.metadata.name, o]));
    assert.equal(byName.get('a')?.metadata.ownerReferences, undefined);
    assert.deepEqual(byName.get('b')?.metadata.ownerReferences, [ownerRef('x', 'fake-uid-4')]);
    assert.deepEqual(byName.get('owner')?.metadata.finalizers, ['other']);
  });

  it('verifies a virtual owner: one that exists is kept once observed, one that does not is dropped', async () => {
    const h = await start([cm('dep', { ownerReferences: [ownerRef('missing', 'uid-missing')] })]);
    assert.ok(gc.graph.node('uid-missing')?.virtual);
    await h.run();
    assert.equal(gc.graph.node('uid-missing'), undefined);
  });

  it('leaves alone a cluster-scoped object that names a namespaced owner', async () => {
    const h = await start([
      [NAMESPACES, { metadata: { name: 'odd', ownerReferences: [ownerRef('cm', 'uid-cm')] } }],
    ]);
    await h.run();
    assert.equal(h.client.objects(NAMESPACES).length, 1);
    assert.equal(deletes(h).length, 0);
  });
});
