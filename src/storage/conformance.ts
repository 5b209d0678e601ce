/**
 * The Store conformance suite: one set of tests that every Store implementation runs (memory,
 * SQLite, etcd). Each rule of the model in store.ts has a test here. Call {@link runStoreConformance}
 * from a `*.test.ts` file with a harness that opens the implementation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FakeClock } from '../util/clock.ts';
import {
  CompactedError,
  ConflictError,
  FutureRevisionError,
  InvalidArgumentError,
  KeyExistsError,
  KeyNotFoundError,
  type KeyValue,
  type Store,
  StoreClosedError,
  type WatchEvent,
} from './store.ts';

/** An opened store under test. */
export interface OpenedStore {
  store: Store;
  /** Closes `store` (if still open) and opens the same data again, as after a restart. */
  reopen(): Promise<Store>;
  /** Closes whatever is open and removes the data. */
  cleanup(): Promise<void>;
}

export interface StoreHarness {
  /** Opens a new, empty store whose timers run on `clock`. */
  open(clock: FakeClock): Promise<OpenedStore>;
  /** Makes `ms` of store time pass: advances the fake clock (and, for stores on real time, waits). */
  advance(clock: FakeClock, ms: number): Promise<void>;
  /** Whether the store keeps its data across `reopen` (false only for stores that cannot). */
  persistent: boolean;
  /** Creates the fake clock the store is opened with. */
  newClock(): FakeClock;
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Collects events from `iterable` until `until` says stop (inclusive) or `max` events. */
async function collect(
  iterable: AsyncIterable<WatchEvent>,
  until: (e: WatchEvent, all: WatchEvent[]) => boolean,
): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for await (const e of iterable) {
    out.push(e);
    if (until(e, out)) break;
  }
  return out;
}

/** Resolves when the promise settles or rejects after `ms` of real time, so a broken watch fails the test instead of hanging it. */
function within<T>(p: Promise<T>, ms = 10_000, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function revisionOf(e: WatchEvent): number {
  return e.revision;
}

function keyOf(e: WatchEvent): string {
  if (e.type === 'put') return e.kv.key;
  if (e.type === 'delete') return e.key;
  return '';
}

export function runStoreConformance(name: string, harness: StoreHarness): void {
  describe(`Store conformance: ${name}`, () => {
    async function withStore(fn: (s: Store, opened: OpenedStore, clock: FakeClock) => Promise<void>) {
      const clock = harness.newClock();
      const opened = await harness.open(clock);
      try {
        await fn(opened.store, opened, clock);
      } finally {
        await opened.cleanup();
      }
    }

    it('starts empty at revision 0 and each write advances the revision by one', () =>
      withStore(async (s) => {
        assert.equal(await s.currentRevision(), 0);
        const a = await s.create('/k/a', enc('1'));
        assert.deepEqual([a.createRevision, a.modRevision, a.version], [1, 1, 1]);
        const b = await s.update('/k/a', enc('2'));
        assert.deepEqual([b.createRevision, b.modRevision, b.version], [1, 2, 2]);
        const d = await s.delete('/k/a');
        assert.equal(d.revision, 3);
        assert.equal(dec(d.prev.value), '2');
        assert.equal(await s.currentRevision(), 3);
        const again = await s.create('/k/a', enc('3'));
        assert.deepEqual([again.createRevision, again.modRevision, again.version], [4, 4, 1]);
      }));

    it('create fails with KeyExistsError carrying the current value, and writes nothing', () =>
      withStore(async (s) => {
        await s.create('/k/a', enc('first'));
        const err = await s.create('/k/a', enc('second')).catch((e: unknown) => e);
        assert.ok(err instanceof KeyExistsError);
        assert.equal(dec(err.current.value), 'first');
        assert.equal(err.current.modRevision, 1);
        assert.equal(await s.currentRevision(), 1);
      }));

    it('update and delete conditioned on modRevision: match succeeds, mismatch is a ConflictError with the current value', () =>
      withStore(async (s) => {
        const a = await s.create('/k/a', enc('v1'));
        const b = await s.update('/k/a', enc('v2'), a.modRevision);
        const stale = await s.update('/k/a', enc('v3'), a.modRevision).catch((e: unknown) => e);
        assert.ok(stale instanceof ConflictError);
        assert.equal(stale.current.modRevision, b.modRevision);
        assert.equal(dec(stale.current.value), 'v2');
        assert.equal(stale.expectedModRevision, a.modRevision);
        const staleDel = await s
          .delete('/k/a', { expectedModRevision: a.modRevision })
          .catch((e: unknown) => e);
        assert.ok(staleDel instanceof ConflictError);
        assert.equal(dec((await s.get('/k/a'))!.value), 'v2');
        const del = await s.delete('/k/a', { expectedModRevision: b.modRevision });
        assert.equal(del.prev.modRevision, b.modRevision);
        assert.equal(await s.get('/k/a'), null);
        assert.equal(await s.currentRevision(), 3);
      }));

    it('update and delete of a missing key fail with KeyNotFoundError', () =>
      withStore(async (s) => {
        assert.ok((await s.update('/k/x', enc('v')).catch((e: unknown) => e)) instanceof KeyNotFoundError);
        assert.ok((await s.delete('/k/x').catch((e: unknown) => e)) instanceof KeyNotFoundError);
        await s.create('/k/x', enc('v'));
        await s.delete('/k/x');
        assert.ok((await s.delete('/k/x').catch((e: unknown) => e)) instanceof KeyNotFoundError);
        assert.equal(await s.currentRevision(), 2);
      }));

    it('concurrent conditional updates of one key: exactly one wins per modRevision', () =>
      withStore(async (s) => {
        const a = await s.create('/k/c', enc('0'));
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => s.update('/k/c', enc(String(i)), a.modRevision)),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof ConflictError);
        assert.equal(await s.currentRevision(), 2);
      }));

    it('get at an older revision returns the version current then', () =>
      withStore(async (s) => {
        await s.create('/k/a', enc('v1'));
        await s.update('/k/a', enc('v2'));
        await s.delete('/k/a');
        assert.equal(dec((await s.get('/k/a', 1))!.value), 'v1');
        assert.equal(dec((await s.get('/k/a', 2))!.value), 'v2');
        assert.equal(await s.get('/k/a', 3), null);
        assert.equal(await s.get('/k/a'), null);
        assert.ok((await s.get('/k/a', 4).catch((e: unknown) => e)) instanceof FutureRevisionError);
      }));

    it('rejects malformed keys, values and options with InvalidArgumentError', () =>
      withStore(async (s) => {
        for (const p of [
          s.create('', enc('v')),
          s.create('/bad/\ud800', enc('v')),
          s.create('/k/a', 'not bytes' as unknown as Uint8Array),
          s.create('/k/a', enc('v'), { ttlSeconds: -1 }),
          s.update('/k/a', enc('v'), -3),
          s.range('/k/', { limit: -1 }),
          s.range('/k/', { continue: 'garbage!' }),
          s.get('/k/a', 1.5),
        ]) {
          const err = await p.catch((e: unknown) => e);
          assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
        }
        assert.equal(await s.currentRevision(), 0);
      }));

    it('range returns live keys of the prefix only, in UTF-8 byte order', () =>
      withStore(async (s) => {
        for (const k of [
          '/p/b',
          '/p/a',
          '/p/é',
          '/p/z',
          '/p/\u{1F600}',
          '/p/\uFF21',
          '/pq',
          '/o/a',
          '/p/gone',
        ]) {
          await s.create(k, enc(k));
        }
        await s.delete('/p/gone');
        const r = await s.range('/p/');
        assert.deepEqual(
          r.items.map((kv) => kv.key),
          ['/p/a', '/p/b', '/p/z', '/p/é', '/p/\uFF21', '/p/\u{1F600}'],
        );
        assert.equal(r.revision, await s.currentRevision());
        assert.equal(r.continue, undefined);
        assert.equal((await s.range('')).items.length, 8);
        assert.deepEqual(await s.count('/p/'), { count: 6, revision: await s.currentRevision() });
      }));

    it('pages with limit and continue stay consistent at the first page’s revision', () =>
      withStore(async (s) => {
        for (let i = 0; i < 25; i++) await s.create(`/r/${String(i).padStart(3, '0')}`, enc(`v${i}`));
        const first = await s.range('/r/', { limit: 10 });
        assert.equal(first.items.length, 10);
        assert.ok(first.continue);
        const pinned = first.revision;
        // Writes between pages must not show up in later pages.
        await s.delete('/r/015');
        await s.update('/r/020', enc('changed'));
        await s.create('/r/999', enc('new'));
        const second = await s.range('/r/', { limit: 10, continue: first.continue });
        assert.equal(second.revision, pinned);
        const third = await s.range('/r/', { limit: 10, continue: second.continue });
        assert.equal(third.continue, undefined);
        const keys = [...first.items, ...second.items, ...third.items].map((kv) => kv.key);
        assert.equal(keys.length, 25);
        assert.equal(new Set(keys).size, 25);
        assert.ok(keys.includes('/r/015'));
        assert.ok(!keys.includes('/r/999'));
        const k20 = [...second.items, ...third.items].find((kv) => kv.key === '/r/020');
        assert.equal(dec(k20!.value), 'v20');
        const latest = await s.range('/r/');
        assert.equal(latest.items.length, 25);
        assert.ok(!latest.items.some((kv) => kv.key === '/r/015'));
      }));

    it('range at an older revision', () =>
      withStore(async (s) => {
        await s.create('/h/a', enc('1'));
        await s.create('/h/b', enc('1'));
        await s.delete('/h/a');
        await s.update('/h/b', enc('2'));
        assert.deepEqual(
          (await s.range('/h/', { revision: 2 })).items.map((kv) => [kv.key, dec(kv.value)]),
          [
            ['/h/a', '1'],
            ['/h/b', '1'],
          ],
        );
        assert.deepEqual(
          (await s.range('/h/', { revision: 4 })).items.map((kv) => [kv.key, dec(kv.value)]),
          [['/h/b', '2']],
        );
      }));

    it('watch from now delivers puts and deletes with previous values, in order', () =>
      withStore(async (s) => {
        await s.create('/w/old', enc('before'));
        const ac = new AbortController();
        const events = collect(s.watch('/w/', { signal: ac.signal }), (_, all) => all.length === 4);
        await s.create('/w/a', enc('1'));
        await s.update('/w/a', enc('2'));
        await s.create('/x/other', enc('ignored'));
        await s.update('/w/old', enc('after'));
        await s.delete('/w/a');
        const got = await within(events, 10_000, 'watch');
        ac.abort();
        assert.deepEqual(
          got.map((e) => [e.type, revisionOf(e), keyOf(e)]),
          [
            ['put', 2, '/w/a'],
            ['put', 3, '/w/a'],
            ['put', 5, '/w/old'],
            ['delete', 6, '/w/a'],
          ],
        );
        const [c, u, u2, d] = got as [WatchEvent, WatchEvent, WatchEvent, WatchEvent];
        assert.ok(c.type === 'put' && c.prev === null && dec(c.kv.value) === '1');
        assert.ok(u.type === 'put' && dec(u.prev!.value) === '1' && u.kv.version === 2);
        assert.ok(u2.type === 'put' && dec(u2.prev!.value) === 'before' && u2.kv.createRevision === 1);
        assert.ok(d.type === 'delete' && dec(d.prev.value) === '2' && d.prev.modRevision === 3);
      }));

    it('watch with many concurrent writers sees every revision once, in order, with no gaps', () =>
      withStore(async (s) => {
        const writers = 16;
        const perWriter = 40;
        const total = writers * (perWriter + 5);
        const events = collect(s.watch('', {}), (_, all) => all.length === total);
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let i = 0; i < perWriter; i++) {
              const key = `/c/${w}/${i % 5}`;
              if (i < 5) await s.create(key, enc(`${i}`));
              else await s.update(key, enc(`${i}`));
            }
            for (let i = 0; i < 5; i++) await s.delete(`/c/${w}/${i}`);
          }),
        );
        const got = await within(events, 20_000, 'watch');
        assert.deepEqual(
          got.map(revisionOf),
          Array.from({ length: total }, (_, i) => i + 1),
        );
      }));

    it('watch from an old revision replays history, then continues live without duplicates', () =>
      withStore(async (s) => {
        for (let i = 1; i <= 30; i++) await s.create(`/o/${i}`, enc(String(i)));
        const events = collect(s.watch('/o/', { afterRevision: 10 }), (e) => e.revision === 40);
        for (let i = 31; i <= 40; i++) await s.create(`/o/${i}`, enc(String(i)));
        const got = await within(events, 10_000, 'watch');
        assert.deepEqual(
          got.map(revisionOf),
          Array.from({ length: 30 }, (_, i) => i + 11),
        );
      }));

    it('a watcher that does not read for a long time still gets every event in order', () =>
      withStore(async (s) => {
        const total = 12_000;
        const iterator = s.watch('/slow/', {})[Symbol.asyncIterator]();
        const first = iterator.next();
        for (let i = 0; i < total; i += 500) {
          await Promise.all(Array.from({ length: 500 }, (_, j) => s.create(`/slow/${i + j}`, enc('x'))));
        }
        const revisions = [((await within(first, 10_000, 'first event')).value as WatchEvent).revision];
        while (revisions.length < total) {
          const r = await within(iterator.next(), 10_000, 'watch');
          revisions.push((r.value as WatchEvent).revision);
        }
        await iterator.return?.();
        assert.deepEqual(revisions.slice(0, 3).concat(revisions.slice(-2)), [1, 2, 3, total - 1, total]);
        assert.ok(revisions.every((r, i) => r === i + 1));
      }));

    it('compaction: reads and watches below the compacted revision fail with CompactedError; live data stays', () =>
      withStore(async (s) => {
        await s.create('/z/a', enc('1')); // 1
        await s.create('/z/b', enc('1')); // 2
        const page = await s.range('/z/', { limit: 1 });
        assert.ok(page.continue);
        await s.update('/z/a', enc('2')); // 3
        await s.delete('/z/b'); // 4
        await s.create('/z/c', enc('1')); // 5
        await s.update('/z/c', enc('2')); // 6
        await s.compact(5);
        assert.equal(await s.compactRevision(), 5);
        assert.ok((await s.get('/z/a', 4).catch((e: unknown) => e)) instanceof CompactedError);
        assert.ok((await s.range('/z/', { revision: 3 }).catch((e: unknown) => e)) instanceof CompactedError);
        const cont = await s.range('/z/', { limit: 1, continue: page.continue }).catch((e: unknown) => e);
        assert.ok(cont instanceof CompactedError, 'a continue token from before the compaction is too old');
        const watchErr = await collect(s.watch('/z/', { afterRevision: 3 }), () => true).catch(
          (e: unknown) => e,
        );
        assert.ok(watchErr instanceof CompactedError);
        assert.deepEqual(
          (await s.range('/z/', { revision: 5 })).items.map((kv) => [kv.key, dec(kv.value)]),
          [
            ['/z/a', '2'],
            ['/z/c', '1'],
          ],
        );
        assert.deepEqual(
          (await s.range('/z/')).items.map((kv) => [kv.key, dec(kv.value), kv.createRevision, kv.version]),
          [
            ['/z/a', '2', 1, 2],
            ['/z/c', '2', 5, 2],
          ],
        );
        const fromFive = await within(
          collect(s.watch('/z/', { afterRevision: 5 }), () => true),
          10_000,
          'watch',
        );
        assert.ok(
          fromFive[0]?.type === 'put' && fromFive[0].revision === 6 && dec(fromFive[0].prev!.value) === '1',
        );
        await s.compact(2); // at or below: nothing to do
        assert.equal(await s.compactRevision(), 5);
        assert.ok((await s.compact(99).catch((e: unknown) => e)) instanceof FutureRevisionError);
        const next = await s.create('/z/d', enc('1'));
        assert.equal(next.modRevision, 7);
      }));

    it('keys with a TTL are deleted when it passes, and watchers see the delete', () =>
      withStore(async (s, _opened, clock) => {
        const ac = new AbortController();
        await s.create('/ttl/short', enc('x'), { ttlSeconds: 2 });
        await s.create('/ttl/renewed', enc('x'), { ttlSeconds: 2 });
        await s.create('/ttl/forever', enc('x'));
        const deletes = collect(s.watch('/ttl/', { signal: ac.signal }), (e) => e.type === 'delete');
        await s.update('/ttl/renewed', enc('y')); // without a TTL: permanent now
        await harness.advance(clock, 1000);
        assert.ok(await s.get('/ttl/short'), 'not expired before its TTL');
        await harness.advance(clock, 2500);
        const got = await within(deletes, 10_000, 'TTL expiry');
        ac.abort();
        assert.deepEqual(got.filter((e) => e.type === 'delete').map(keyOf), ['/ttl/short']);
        assert.equal(await s.get('/ttl/short'), null);
        assert.ok(await s.get('/ttl/renewed'));
        assert.ok(await s.get('/ttl/forever'));
      }));

    it('idle watches get progress notifications carrying the current revision', () =>
      withStore(async (s, _opened, clock) => {
        await s.create('/other/a', enc('1'));
        const ac = new AbortController();
        const it = s.watch('/quiet/', { signal: ac.signal, progressIntervalMs: 5000 });
        const got = collect(it, (e) => e.type === 'progress');
        await s.create('/other/b', enc('1'));
        await new Promise((r) => setImmediate(r));
        await harness.advance(clock, 5000);
        const events = await within(got, 10_000, 'progress notification');
        ac.abort();
        assert.deepEqual(events, [{ type: 'progress', revision: 2 }]);
      }));

    it('requestProgress makes an idle watch report the current revision at once', () =>
      withStore(async (s) => {
        if (!s.requestProgress) return;
        await s.create('/elsewhere/a', enc('1'));
        const ac = new AbortController();
        const got = collect(s.watch('/quiet/', { signal: ac.signal }), (e) => e.type === 'progress');
        await new Promise((r) => setImmediate(r));
        await s.create('/elsewhere/b', enc('1'));
        s.requestProgress();
        const events = await within(got, 5000, 'requested progress');
        ac.abort();
        assert.deepEqual(events, [{ type: 'progress', revision: 2 }]);
      }));

    it('aborting a watch ends its iterator; closing the store ends every watch and refuses further calls', () =>
      withStore(async (s, opened) => {
        const ac = new AbortController();
        const aborted = collect(s.watch('/a/', { signal: ac.signal }), () => false);
        const closed = collect(s.watch('/b/', {}), () => false);
        ac.abort();
        assert.deepEqual(await within(aborted, 5000, 'aborted watch'), []);
        await s.close();
        assert.deepEqual(await within(closed, 5000, 'watch at close'), []);
        await s.close(); // idempotent
        assert.ok((await s.create('/a/x', enc('1')).catch((e: unknown) => e)) instanceof StoreClosedError);
        assert.ok((await s.get('/a/x').catch((e: unknown) => e)) instanceof StoreClosedError);
        opened.store = await opened.reopen();
      }));

    it('keeps everything across a reopen: keys, revision, history', { skip: !harness.persistent }, () =>
      withStore(async (s, opened) => {
        await s.create('/p/a', enc('1'));
        await s.create('/p/b', enc('1'));
        await s.update('/p/a', enc('2'));
        await s.delete('/p/b');
        const s2 = await opened.reopen();
        opened.store = s2;
        assert.equal(await s2.currentRevision(), 4);
        const a: KeyValue | null = await s2.get('/p/a');
        assert.deepEqual([dec(a!.value), a!.createRevision, a!.modRevision, a!.version], ['2', 1, 3, 2]);
        assert.equal(await s2.get('/p/b'), null);
        assert.equal(dec((await s2.get('/p/b', 2))!.value), '1');
        const history = await within(
          collect(s2.watch('/p/', { afterRevision: 1 }), (e) => e.revision === 4),
          5000,
          'history after reopen',
        );
        assert.deepEqual(history.map(revisionOf), [2, 3, 4]);
        assert.equal((await s2.create('/p/c', enc('1'))).modRevision, 5);
      }),
    );
  });
}
