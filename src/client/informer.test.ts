import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ApiError } from '../api/errors.ts';
import { FakeClock } from '../util/clock.ts';
import { FakeRestClient } from './fake.ts';
import { IndexedCache, SharedInformer, stripManagedFields } from './informer.ts';
import { objectKey } from './keys.ts';
import { CONFIG_MAPS, NODES, PODS } from './resources.ts';
import { eventually } from './testing.ts';
import type { EventHandler, KubeObject, ListOptions, WatchOptions } from './types.ts';

const cm = (ns: string, name: string, data: Record<string, string> = {}): KubeObject => ({
  metadata: { name, namespace: ns },
  data,
});

/** A handler that writes down what it hears. */
function recorder(): EventHandler & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    onAdd: (o) => log.push(`add ${objectKey(o)}`),
    onUpdate: (a, b) =>
      log.push(
        a === b || a.metadata.resourceVersion === b.metadata.resourceVersion
          ? `resync ${objectKey(b)}`
          : `update ${objectKey(b)}`,
      ),
    onDelete: (o) => log.push(`delete ${objectKey(o)}`),
  };
}

const stops: AbortController[] = [];
function start(inf: SharedInformer): AbortController {
  const ac = new AbortController();
  stops.push(ac);
  inf.run(ac.signal);
  return ac;
}
afterEach(() => {
  for (const ac of stops.splice(0)) ac.abort();
});

function sortedKeys(objs: KubeObject[]): string[] {
  return objs.map(objectKey).sort();
}

describe('SharedInformer (fake client)', () => {
  it('lists in pages of 500 at resourceVersion "", then watches from the list with bookmarks', async () => {
    const fake = new FakeRestClient();
    await fake.create(CONFIG_MAPS, 'a', cm('a', 'one'));
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock: new FakeClock() });
    const rec = recorder();
    inf.addEventHandler(rec);
    assert.equal(inf.hasSynced(), false);
    start(inf);
    await inf.synced();
    assert.equal(inf.hasSynced(), true);
    assert.deepEqual(rec.log, ['add a/one']);
    await eventually(() => fake.watchers === 1, 'a watch');
    const list = fake.calls.find((c) => c.verb === 'list')!.opts as ListOptions;
    assert.equal(list.limit, 500);
    assert.equal(list.resourceVersion, '');
    const watch = fake.calls.find((c) => c.verb === 'watch')!.opts as WatchOptions;
    assert.equal(watch.resourceVersion, '1');
    assert.equal(watch.allowWatchBookmarks, true);
    assert.ok(watch.timeoutSeconds! >= 300 && watch.timeoutSeconds! < 600);

    await fake.create(CONFIG_MAPS, 'b', cm('b', 'two'));
    await fake.patch(CONFIG_MAPS, 'a', 'one', 'merge', { data: { x: '1' } });
    await fake.delete(CONFIG_MAPS, 'b', 'two');
    await eventually(() => rec.log.length === 4, 'the watch events');
    assert.deepEqual(rec.log, ['add a/one', 'add b/two', 'update a/one', 'delete b/two']);
    assert.deepEqual(inf.lister().get('a/one')?.data, { x: '1' });
    assert.equal(inf.lister().get('b/two'), undefined);
    assert.equal(inf.lastResourceVersion, fake.resourceVersion);
  });

  it('applies its transform to listed and watched objects before caching them and telling handlers', async () => {
    const fake = new FakeRestClient();
    const managed = (ns: string, name: string): KubeObject => ({
      ...cm(ns, name),
      metadata: { name, namespace: ns, managedFields: [{ manager: 'm', operation: 'Update' }] },
    });
    await fake.create(CONFIG_MAPS, 'a', managed('a', 'one'));
    const inf = new SharedInformer(fake, CONFIG_MAPS, {
      clock: new FakeClock(),
      transform: stripManagedFields,
    });
    const seen: KubeObject[] = [];
    inf.addEventHandler({
      onAdd: (o) => seen.push(o),
      onUpdate: (a, b) => seen.push(a, b),
      onDelete: (o) => seen.push(o),
    });
    start(inf);
    await inf.synced();
    await eventually(() => fake.watchers === 1, 'a watch');
    await fake.create(CONFIG_MAPS, 'b', managed('b', 'two'));
    await fake.patch(CONFIG_MAPS, 'a', 'one', 'merge', { data: { x: '1' } });
    await fake.delete(CONFIG_MAPS, 'b', 'two');
    await eventually(() => seen.length === 5, 'the watch events');
    for (const o of [...seen, ...inf.lister().list()]) {
      assert.equal(o.metadata.managedFields, undefined, objectKey(o));
    }
    assert.deepEqual(inf.lister().get('a/one')?.data, { x: '1' });
    assert.ok((await fake.get(CONFIG_MAPS, 'a', 'one')).metadata.managedFields, 'the server keeps them');
  });

  it('reads every page of a paginated list before delivering it', async () => {
    const fake = new FakeRestClient();
    for (let i = 0; i < 7; i++) await fake.create(CONFIG_MAPS, 'ns', cm('ns', `c${i}`));
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock: new FakeClock(), pageSize: 3 });
    start(inf);
    await inf.synced();
    assert.equal(fake.calls.filter((c) => c.verb === 'list').length, 3);
    assert.equal(inf.lister().list().length, 7);
    assert.equal(inf.lastResourceVersion, '7');
  });

  it('falls back to one full list when a continue token expires', async () => {
    const fake = new FakeRestClient();
    for (let i = 0; i < 5; i++) await fake.create(CONFIG_MAPS, 'ns', cm('ns', `c${i}`));
    fake.failNext('list', ApiError.gone('continue expired'), (c) => !!(c.opts as ListOptions).continue);
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock: new FakeClock(), pageSize: 2 });
    start(inf);
    await inf.synced();
    const lists = fake.calls.filter((c) => c.verb === 'list').map((c) => c.opts as ListOptions);
    assert.equal(lists.length, 3);
    assert.equal(lists[2]?.limit, undefined);
    assert.equal(inf.lister().list().length, 5);
  });

  it('indexes by namespace and by custom indexers, and keys cluster-scoped objects by name', async () => {
    const fake = new FakeRestClient();
    await fake.create(PODS, 'a', { metadata: { name: 'p1' }, spec: { nodeName: 'n1' } });
    await fake.create(PODS, 'a', { metadata: { name: 'p2' }, spec: { nodeName: 'n2' } });
    await fake.create(PODS, 'b', { metadata: { name: 'p3' }, spec: { nodeName: 'n1' } });
    const inf = new SharedInformer(fake, PODS, { clock: new FakeClock() });
    inf.addIndexers({ node: (o) => [String((o.spec as { nodeName?: string }).nodeName ?? '')] });
    start(inf);
    await inf.synced();
    const l = inf.lister();
    assert.deepEqual(sortedKeys(l.byIndex('namespace', 'a')), ['a/p1', 'a/p2']);
    assert.deepEqual(sortedKeys(l.byIndex('node', 'n1')), ['a/p1', 'b/p3']);
    await fake.patch(PODS, 'a', 'p1', 'merge', { spec: { nodeName: 'n2' } });
    await eventually(() => l.byIndex('node', 'n2').length === 2, 'the index to follow the update');
    assert.deepEqual(sortedKeys(l.byIndex('node', 'n1')), ['b/p3']);
    await fake.delete(PODS, 'b', 'p3');
    await eventually(() => l.byIndex('node', 'n1').length === 0, 'the index to follow the delete');
    assert.throws(() => l.byIndex('nope', 'x'), /no index/);
    // Indexers added later index what is cached.
    inf.addIndexers({ name: (o) => [o.metadata.name ?? ''] });
    assert.deepEqual(sortedKeys(l.byIndex('name', 'p2')), ['a/p2']);

    const nodes = new SharedInformer(fake, NODES, { clock: new FakeClock() });
    await fake.create(NODES, '', { metadata: { name: 'n1' } });
    start(nodes);
    await nodes.synced();
    assert.equal(nodes.lister().get('n1')?.metadata.name, 'n1');
    assert.deepEqual(sortedKeys(nodes.lister().byIndex('namespace', '')), ['n1']);
  });

  it('re-watches from the last resourceVersion (bookmarks included) when the server ends a watch', async () => {
    const fake = new FakeRestClient();
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock: new FakeClock() });
    const rec = recorder();
    inf.addEventHandler(rec);
    start(inf);
    await inf.synced();
    await eventually(() => fake.watchers === 1, 'a watch');
    await fake.create(CONFIG_MAPS, 'x', cm('x', 'a'));
    await fake.create(NODES, '', { metadata: { name: 'unrelated' } }); // moves the global resourceVersion
    fake.bookmark();
    await eventually(() => inf.lastResourceVersion === '2', 'the bookmark');
    fake.closeWatches();
    await eventually(() => fake.calls.filter((c) => c.verb === 'watch').length === 2, 'a second watch');
    const second = fake.calls.filter((c) => c.verb === 'watch')[1]!.opts as WatchOptions;
    assert.equal(second.resourceVersion, '2');
    await fake.create(CONFIG_MAPS, 'x', cm('x', 'b'));
    await eventually(() => rec.log.length === 2, 'the event on the new watch');
    assert.deepEqual(rec.log, ['add x/a', 'add x/b']);
    assert.equal(fake.calls.filter((c) => c.verb === 'list').length, 1, 'no relist');
  });

  it('relists on a 410 ERROR event and tells handlers only the differences', async () => {
    const clock = new FakeClock();
    const fake = new FakeRestClient();
    await fake.create(CONFIG_MAPS, 'n', cm('n', 'keep'));
    await fake.create(CONFIG_MAPS, 'n', cm('n', 'change'));
    await fake.create(CONFIG_MAPS, 'n', cm('n', 'remove'));
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock });
    const rec = recorder();
    inf.addEventHandler(rec);
    start(inf);
    await inf.synced();
    await eventually(() => fake.watchers === 1, 'a watch');
    rec.log.length = 0;
    // The watch breaks; while the informer waits to retry, things change and history is compacted.
    fake.breakWatches();
    await eventually(() => fake.watchers === 0 && clock.pending() === 1, 'the back-off');
    await fake.patch(CONFIG_MAPS, 'n', 'change', 'merge', { data: { v: '2' } });
    await fake.delete(CONFIG_MAPS, 'n', 'remove');
    await fake.create(CONFIG_MAPS, 'n', cm('n', 'new'));
    fake.compact();
    clock.advance(1000);
    await eventually(() => fake.watchers === 1 && rec.log.length === 3, 'the relist and a new watch');
    assert.deepEqual(rec.log.slice().sort(), ['add n/new', 'delete n/remove', 'update n/change']);
    const watches = fake.calls
      .filter((c) => c.verb === 'watch')
      .map((c) => (c.opts as WatchOptions).resourceVersion);
    assert.deepEqual(watches, ['3', '3', '6']);
    const lists = fake.calls
      .filter((c) => c.verb === 'list')
      .map((c) => (c.opts as ListOptions).resourceVersion);
    assert.deepEqual(lists, ['', '']);
    assert.deepEqual(sortedKeys(inf.lister().list()), sortedKeys(fake.objects(CONFIG_MAPS)));
  });

  it('relists on an HTTP 410 answer to the watch', async () => {
    const fake = new FakeRestClient();
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock: new FakeClock(), listResourceVersion: '0' });
    fake.failNext('watch', ApiError.gone('too old resource version'));
    start(inf);
    await eventually(() => fake.watchers === 1, 'a watch after the relist');
    const lists = fake.calls
      .filter((c) => c.verb === 'list')
      .map((c) => (c.opts as ListOptions).resourceVersion);
    assert.deepEqual(lists, ['0', ''], 'the first list as configured, the relist consistent');
  });

  it('backs off exponentially on the injected clock while the server fails, capped', async () => {
    const clock = new FakeClock();
    const fake = new FakeRestClient();
    for (let i = 0; i < 8; i++) fake.failNext('list', new Error('connect ECONNREFUSED'));
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock, backoffMaxMs: 5000 });
    start(inf);
    const lists = () => fake.calls.filter((c) => c.verb === 'list').length;
    await eventually(() => lists() === 1 && clock.pending() === 1, 'the first failure');
    // Waits of 800, 1600, 3200, then 5000 (the cap) ms, each with up to 10 % jitter.
    for (const [i, wait] of [800, 1600, 3200, 5000, 5000].entries()) {
      clock.advance(wait - 1);
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(lists(), i + 1, `no retry before ${wait} ms`);
      clock.advance(wait * 0.1 + 1);
      await eventually(() => lists() === i + 2 && clock.pending() === 1, `retry ${i + 1}`);
    }
    assert.equal(inf.hasSynced(), false);
  });

  it('waits after a watch that ends at once with nothing in it', async () => {
    const clock = new FakeClock();
    const fake = new FakeRestClient();
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock });
    start(inf);
    await inf.synced();
    await eventually(() => fake.watchers === 1, 'a watch');
    fake.closeWatches();
    await eventually(() => clock.pending() === 1, 'a back-off timer');
    assert.equal(fake.calls.filter((c) => c.verb === 'watch').length, 1);
    clock.advance(1000);
    await eventually(() => fake.watchers === 1, 'the next watch');
  });

  it('keeps going when a handler throws, and calls the others', async () => {
    const fake = new FakeRestClient();
    await fake.create(CONFIG_MAPS, 'n', cm('n', 'a'));
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock: new FakeClock() });
    inf.addEventHandler({
      onAdd: () => {
        throw new Error('handler bug');
      },
      onUpdate: () => {
        throw new Error('handler bug');
      },
    });
    const rec = recorder();
    inf.addEventHandler(rec);
    start(inf);
    await inf.synced();
    await eventually(() => fake.watchers === 1, 'a watch');
    await fake.create(CONFIG_MAPS, 'n', cm('n', 'b'));
    await fake.patch(CONFIG_MAPS, 'n', 'a', 'merge', { data: { z: '1' } });
    await eventually(() => rec.log.length === 3, 'all events');
    assert.deepEqual(rec.log, ['add n/a', 'add n/b', 'update n/a']);
  });

  it('tells a handler added after sync about everything cached, then the changes', async () => {
    const fake = new FakeRestClient();
    await fake.create(CONFIG_MAPS, 'n', cm('n', 'a'));
    await fake.create(CONFIG_MAPS, 'n', cm('n', 'b'));
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock: new FakeClock() });
    start(inf);
    await inf.synced();
    await eventually(() => fake.watchers === 1, 'a watch');
    const rec = recorder();
    inf.addEventHandler(rec);
    assert.deepEqual(rec.log, ['add n/a', 'add n/b']);
    await fake.delete(CONFIG_MAPS, 'n', 'a');
    await eventually(() => rec.log.length === 3, 'the delete');
    assert.equal(rec.log[2], 'delete n/a');
  });

  it('resyncs every resyncMs with onUpdate(obj, obj)', async () => {
    const clock = new FakeClock();
    const fake = new FakeRestClient();
    await fake.create(CONFIG_MAPS, 'n', cm('n', 'a'));
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock, resyncMs: 30_000 });
    const rec = recorder();
    inf.addEventHandler(rec);
    start(inf);
    await inf.synced();
    await eventually(() => fake.watchers === 1, 'a watch');
    clock.advance(29_999);
    assert.deepEqual(rec.log, ['add n/a']);
    clock.advance(1);
    assert.deepEqual(rec.log, ['add n/a', 'resync n/a']);
    clock.advance(30_000);
    assert.deepEqual(rec.log, ['add n/a', 'resync n/a', 'resync n/a']);
  });

  it('stops when the signal aborts, closing its watch', async () => {
    const fake = new FakeRestClient();
    const inf = new SharedInformer(fake, CONFIG_MAPS, { clock: new FakeClock(), namespace: 'only' });
    const ac = start(inf);
    await inf.synced();
    await eventually(() => fake.watchers === 1, 'a watch');
    assert.equal(fake.calls.find((c) => c.verb === 'watch')?.namespace, 'only');
    ac.abort();
    await inf.stopped();
    assert.equal(fake.watchers, 0);
    assert.throws(() => {
      const again = new AbortController();
      inf.run(again.signal);
      inf.run(again.signal);
    }, /already running/);
  });
});

describe('IndexedCache', () => {
  type Tagged = KubeObject & { tags: string[] };
  const obj = (ns: string, name: string, tags: string[]): Tagged => ({
    metadata: { namespace: ns, name },
    tags,
  });
  const keysOf = (objs: KubeObject[]) => objs.map((o) => objectKey(o));

  it('moves a key between index values as its values change, and leaves unchanged ones alone', () => {
    const c = new IndexedCache<Tagged>({ tag: (o) => o.tags, ns: (o) => [o.metadata.namespace ?? ''] });
    c.set('a/p1', obj('a', 'p1', ['x', 'y']));
    c.set('a/p2', obj('a', 'p2', ['y']));
    assert.deepEqual(keysOf(c.byIndex('ns', 'a')), ['a/p1', 'a/p2']);
    // p1's namespace is unchanged: its key keeps its place (client-go's updateIndices skips it).
    c.set('a/p1', obj('a', 'p1', ['y', 'z']));
    assert.deepEqual(keysOf(c.byIndex('ns', 'a')), ['a/p1', 'a/p2']);
    assert.deepEqual(keysOf(c.byIndex('tag', 'x')), []);
    assert.deepEqual(keysOf(c.byIndex('tag', 'y')), ['a/p1', 'a/p2']);
    assert.deepEqual(keysOf(c.byIndex('tag', 'z')), ['a/p1']);
    // A value that repeats, then none at all.
    c.set('a/p2', obj('a', 'p2', ['z', 'z']));
    assert.deepEqual(keysOf(c.byIndex('tag', 'z')), ['a/p1', 'a/p2']);
    assert.deepEqual(keysOf(c.byIndex('tag', 'y')), ['a/p1']);
    c.set('a/p2', obj('a', 'p2', []));
    assert.deepEqual(keysOf(c.byIndex('tag', 'z')), ['a/p1']);
    c.delete('a/p1');
    assert.deepEqual(keysOf(c.byIndex('tag', 'z')), []);
    assert.deepEqual(keysOf(c.byIndex('ns', 'a')), ['a/p2']);
  });
});
