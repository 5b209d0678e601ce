import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { MemoryStore } from '../../storage/memory/store.ts';
import type { Store } from '../../storage/store.ts';
import { FakeClock } from '../../util/clock.ts';
import { silentLogger } from '../../util/log.ts';
import type { KubeObject } from '../object.ts';
import { encodeForStorage } from '../registry/codec.ts';
import { type EncodedWatchEvent, ResourceCache } from './cache.ts';

const PREFIX = '/registry/core/configmaps/';

function cm(
  ns: string,
  name: string,
  data: Record<string, string> = {},
  labels: Record<string, string> = {},
): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data };
}

async function setup(windowSize?: number) {
  const store = new MemoryStore({ clock: new FakeClock() });
  const put = (o: KubeObject) =>
    store.create(`${PREFIX}${o.metadata.namespace}/${o.metadata.name}`, encodeForStorage(o));
  const update = (o: KubeObject) =>
    store.update(`${PREFIX}${o.metadata.namespace}/${o.metadata.name}`, encodeForStorage(o));
  const cache = new ResourceCache({ store, prefix: PREFIX, log: silentLogger, windowSize });
  return { store, put, update, cache };
}

const bookmark = (revision: number): KubeObject => ({
  kind: 'ConfigMap',
  apiVersion: 'v1',
  metadata: { resourceVersion: String(revision) },
});

async function take(it: AsyncGenerator<EncodedWatchEvent>, n: number): Promise<EncodedWatchEvent[]> {
  const out: EncodedWatchEvent[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** `store` whose range() fails `fails` times first (a store that is unavailable for a while). */
function flaky(store: Store, fails: number): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'range' && fails > 0) {
        return async () => {
          fails--;
          throw new Error('the store is unavailable');
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('ResourceCache', () => {
  it('answers 503 while the store cannot be listed, then lists again and serves', async () => {
    const store = new MemoryStore({ clock: new FakeClock() });
    await store.create(`${PREFIX}a/one`, encodeForStorage(cm('a', 'one')));
    const cache = new ResourceCache({ store: flaky(store, 2), prefix: PREFIX, log: silentLogger });
    try {
      // No rejection is left unhandled (the runner would fail the file), and readers get a 503.
      await assert.rejects(cache.list(PREFIX), (err: unknown) => err instanceof ApiError && err.code === 503);
      const stop = new AbortController();
      await assert.rejects(
        cache
          .watch({
            keyPrefix: PREFIX,
            after: null,
            bookmarks: false,
            initialEndBookmark: false,
            signal: stop.signal,
            bookmark,
            bookmarkEveryMs: 0,
          })
          .next(),
        (err: unknown) => err instanceof ApiError && err.code === 503,
      );
      // Listed again after 100 ms, then 200 ms: the second retry succeeds.
      let items: KubeObject[] = [];
      for (let i = 0; i < 100 && items.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        items = await cache.list(PREFIX).then(
          (l) => l.items,
          () => [],
        );
      }
      assert.deepEqual(
        items.map((o) => o.metadata.name),
        ['one'],
      );
      assert.equal(cache.loaded, true);
    } finally {
      cache.stop();
    }
  });

  it('copies of a cached object are fresh and independent, from the bytes or from the kept decode', async () => {
    const { put, cache, store } = await setup();
    const kv = await put(cm('a', 'one', { k: 'v' }));
    await cache.waitFor(await store.currentRevision());
    const e = cache.peek(`${PREFIX}a/one`)!;
    for (const copy of [() => e.copy(), () => e.copyFromDecoded(), () => e.copyFromDecoded()]) {
      const obj = copy();
      assert.deepEqual(obj.data, { k: 'v' });
      assert.equal(obj.metadata.resourceVersion, String(kv.modRevision));
      (obj.data as Record<string, string>).k = 'changed';
      obj.metadata.name = 'changed';
    }
    assert.deepEqual(e.copyFromDecoded().data, { k: 'v' });
    assert.equal(e.copy().metadata.name, 'one');
  });

  it('a list at the latest revision reflects every acknowledged write', async () => {
    const { put, cache, store } = await setup();
    await put(cm('a', 'one'));
    await cache.waitFor(await store.currentRevision());
    assert.equal((await cache.list(PREFIX)).items.length, 1);
    for (let i = 0; i < 50; i++) {
      await put(cm('a', `n${i}`));
      await cache.waitFor(await store.currentRevision());
      const { items, revision } = await cache.list(PREFIX);
      assert.equal(items.length, i + 2);
      assert.equal(revision, await store.currentRevision());
    }
    const inB = await cache.list(`${PREFIX}b/`);
    assert.equal(inB.items.length, 0);
  });

  it('a watch from a recent revision replays the window; an older one is 410 Gone', async () => {
    const { put, cache, store } = await setup(5);
    await put(cm('a', 'x0'));
    await cache.list(PREFIX);
    for (let i = 1; i <= 20; i++) await put(cm('a', `x${i}`));
    await cache.waitFor(await store.currentRevision());
    const ac = new AbortController();
    const recent = cache.watch({
      keyPrefix: PREFIX,
      after: 18,
      bookmarks: false,
      initialEndBookmark: false,
      signal: ac.signal,
      bookmark,
      bookmarkEveryMs: 0,
    });
    const got = await take(recent, 3);
    assert.deepEqual(
      got.map((e) => (e.object as KubeObject).metadata.name),
      ['x18', 'x19', 'x20'],
    );
    ac.abort();
    const old = cache.watch({
      keyPrefix: PREFIX,
      after: 2,
      bookmarks: false,
      initialEndBookmark: false,
      signal: new AbortController().signal,
      bookmark,
      bookmarkEveryMs: 0,
    });
    const err = await old.next().catch((e: unknown) => e);
    assert.ok(err instanceof ApiError && err.code === 410, `expected 410, got ${String(err)}`);
  });

  it('initial events, then changes, with selector transitions and the end-of-initial-events bookmark', async () => {
    const { put, update, cache } = await setup();
    await put(cm('a', 'in', {}, { sel: 'y' }));
    await put(cm('a', 'out', {}, { sel: 'n' }));
    await put(cm('b', 'other-ns', {}, { sel: 'y' }));
    const ac = new AbortController();
    const w = cache.watch({
      keyPrefix: `${PREFIX}a/`,
      after: null,
      filter: (o) => o.metadata.labels?.sel === 'y',
      bookmarks: true,
      initialEndBookmark: true,
      signal: ac.signal,
      bookmark,
      bookmarkEveryMs: 60_000,
    });
    const first = await take(w, 2);
    assert.deepEqual(
      first.map((e) => e.type),
      ['ADDED', 'BOOKMARK'],
    );
    assert.equal(
      (first[1]!.object as KubeObject).metadata.annotations?.['k8s.io/initial-events-end'],
      'true',
    );
    await update(cm('a', 'out', {}, { sel: 'y' })); // enters the selection
    await update(cm('a', 'in', {}, { sel: 'n' })); // leaves it
    await put(cm('b', 'ignored', {}, { sel: 'y' })); // other namespace
    await update(cm('a', 'out', { k: 'v' }, { sel: 'y' }));
    const next = await take(w, 3);
    ac.abort();
    assert.deepEqual(
      next.map((e) => [e.type, (e.object as KubeObject).metadata.name]),
      [
        ['ADDED', 'out'],
        ['DELETED', 'in'],
        ['MODIFIED', 'out'],
      ],
    );
  });

  it('a thousand watchers share one encoding of each event', async () => {
    const { put, cache } = await setup();
    await cache.list(PREFIX);
    const ac = new AbortController();
    const watchers = Array.from({ length: 1000 }, () =>
      cache.watch({
        keyPrefix: PREFIX,
        after: 0,
        bookmarks: false,
        initialEndBookmark: false,
        signal: ac.signal,
        bookmark,
        bookmarkEveryMs: 0,
      }),
    );
    const firsts = watchers.map((w) => w.next());
    await new Promise((r) => setImmediate(r));
    await put(cm('a', 'fan'));
    const events = (await Promise.all(firsts)).map((r) => r.value as EncodedWatchEvent);
    ac.abort();
    assert.equal(events.length, 1000);
    assert.ok(events[0]!.cached);
    assert.ok(events.every((e) => e.cached === events[0]!.cached && e.object === events[0]!.object));
    const line = events[0]!.cached!.line('ADDED');
    assert.equal(events[1]!.cached!.line('ADDED'), line, 'the line is encoded once, its bytes shared');
    assert.deepEqual(JSON.parse(line.toString('utf8')), { type: 'ADDED', object: events[0]!.object });
    // Kept as long as the event is in the window: its own memory, not a slice of node's Buffer pool.
    assert.equal(line.buffer.byteLength, line.length);
    assert.equal(cache.watchers, 1000);
  });
});
