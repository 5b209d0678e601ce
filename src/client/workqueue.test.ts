import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../util/clock.ts';
import {
  BucketRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  RateLimitingQueue,
} from './workqueue.ts';

/** Resolves with the promise's value, or 'pending' if it has not settled after the microtasks run. */
async function peek<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

describe('RateLimitingQueue', () => {
  it('hands keys out in FIFO order and counts them', async () => {
    const q = new RateLimitingQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('c');
    assert.equal(q.length, 3);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    assert.equal(await q.get(), 'c');
    assert.equal(q.length, 0);
  });

  it('queues a key added several times while waiting once, in its first place', async () => {
    const q = new RateLimitingQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    assert.equal(await peek(q.get()), 'pending');
  });

  it('never hands a key being processed to a second worker', async () => {
    const q = new RateLimitingQueue({ clock: new FakeClock() });
    q.add('a');
    assert.equal(await q.get(), 'a');
    q.add('a');
    assert.equal(q.length, 0, 'added during processing: not queued yet');
    const second = q.get();
    assert.equal(await peek(second), 'pending');
    q.done('a');
    assert.equal(await second, 'a', 're-queued by done()');
  });

  it('re-queues a key added during processing exactly once', async () => {
    const q = new RateLimitingQueue({ clock: new FakeClock() });
    q.add('a');
    await q.get();
    q.add('a');
    q.add('a');
    q.done('a');
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'a');
    q.done('a');
    assert.equal(q.length, 0);
  });

  it('does not re-queue a processed key nobody added again', async () => {
    const q = new RateLimitingQueue({ clock: new FakeClock() });
    q.add('a');
    await q.get();
    q.done('a');
    assert.equal(q.length, 0);
  });

  it('get() waits for a key', async () => {
    const q = new RateLimitingQueue({ clock: new FakeClock() });
    const waiting = q.get();
    assert.equal(await peek(waiting), 'pending');
    q.add('x');
    assert.equal(await waiting, 'x');
  });

  it('wakes every waiting worker with its own key', async () => {
    const q = new RateLimitingQueue({ clock: new FakeClock() });
    const w1 = q.get();
    const w2 = q.get();
    q.add('a');
    q.add('b');
    assert.deepEqual((await Promise.all([w1, w2])).sort(), ['a', 'b']);
  });

  it('addAfter queues the key once the delay passes on the clock, keeping the earliest', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 500);
    assert.equal(q.length, 0);
    clock.advance(49);
    assert.equal(q.length, 0);
    clock.advance(1);
    assert.equal(q.length, 1);
    clock.advance(1000);
    assert.equal(q.length, 1, 'the later timers were dropped');
    q.addAfter('b', 0);
    assert.equal(q.length, 2, 'no delay: added at once');
  });

  it('backs off exponentially per key until forget()', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = clock.pending();
      q.addRateLimited('k');
      assert.equal(clock.pending(), before + 1);
      // Find the delay: step until the key arrives.
      let waited = 0;
      while (q.length === 0 && waited < 1000) {
        clock.advance(1);
        waited++;
      }
      delays.push(waited);
      q.done((await q.get())!);
    }
    assert.deepEqual(delays, [5, 10, 20, 40, 80]);
    assert.equal(q.numRequeues('k'), 5);
    assert.equal(q.numRequeues('other'), 0);
    q.forget('k');
    assert.equal(q.numRequeues('k'), 0);
  });

  it('caps the back-off and takes its base and cap from options', () => {
    const limiter = new ItemExponentialRateLimiter(5, 1_000_000);
    const delays = Array.from({ length: 30 }, () => limiter.when('k'));
    assert.equal(delays[0], 5);
    assert.equal(delays[1], 10);
    assert.equal(delays.at(-1), 1_000_000);
    assert.equal(Math.max(...delays), 1_000_000);
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock, baseDelayMs: 100, maxDelayMs: 300 });
    q.addRateLimited('k');
    clock.advance(99);
    assert.equal(q.length, 0);
    clock.advance(1);
    assert.equal(q.length, 1);
    const l2 = new ItemExponentialRateLimiter(100, 300);
    assert.deepEqual([l2.when('x'), l2.when('x'), l2.when('x'), l2.when('x')], [100, 200, 300, 300]);
  });

  it('keeps back-off separate per key', () => {
    const l = new ItemExponentialRateLimiter();
    l.when('a');
    l.when('a');
    assert.equal(l.when('b'), 5);
    assert.equal(l.when('a'), 20);
  });

  it('drains on shutDown: queued keys still come out, then undefined; new adds are ignored', async () => {
    const clock = new FakeClock();
    const q = new RateLimitingQueue({ clock });
    q.add('a');
    q.add('b');
    q.addAfter('late', 10);
    q.shutDown();
    q.add('c');
    clock.advance(100);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    assert.equal(await q.get(), undefined);
    assert.equal(clock.pending(), 0, 'delayed adds cancelled');
  });

  it('shutDown releases waiting workers', async () => {
    const q = new RateLimitingQueue({ clock: new FakeClock() });
    const w = q.get();
    q.shutDown();
    assert.equal(await w, undefined);
  });

  it('shutDownWithDrain waits for keys in processing', async () => {
    const q = new RateLimitingQueue({ clock: new FakeClock() });
    q.add('a');
    await q.get();
    const drained = q.shutDownWithDrain();
    assert.equal(await peek(drained), 'pending');
    q.done('a');
    await drained;
  });
});

describe('rate limiters', () => {
  it('BucketRateLimiter allows a burst, then spaces tries at qps', () => {
    const clock = new FakeClock();
    const b = new BucketRateLimiter(10, 2, clock);
    assert.equal(b.when(), 0);
    assert.equal(b.when(), 0);
    assert.equal(b.when(), 100);
    assert.equal(b.when(), 200);
    clock.advance(1000);
    assert.equal(b.when(), 0);
  });

  it('MaxOfRateLimiter takes the longest wait', () => {
    const clock = new FakeClock();
    const m = new MaxOfRateLimiter(
      new ItemExponentialRateLimiter(5, 1000),
      new BucketRateLimiter(1, 1, clock),
    );
    assert.equal(m.when('a'), 5);
    assert.equal(m.when('a'), 1000);
    assert.equal(m.numRequeues('a'), 2);
    m.forget('a');
    assert.equal(m.numRequeues('a'), 0);
  });
});
