import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock, sleep } from './clock.ts';

test('FakeClock fires timers in due order at their own time, and cancels', () => {
  const clock = new FakeClock(1000);
  const fired: [string, number][] = [];
  clock.setTimeout(() => fired.push(['b', clock.now()]), 200);
  clock.setTimeout(() => fired.push(['a', clock.now()]), 100);
  const cancel = clock.setTimeout(() => fired.push(['never', clock.now()]), 150);
  cancel();
  clock.advance(150);
  assert.deepEqual(fired, [['a', 1100]]);
  clock.advance(100);
  assert.deepEqual(fired, [
    ['a', 1100],
    ['b', 1200],
  ]);
  assert.equal(clock.now(), 1250);
  assert.equal(clock.pending(), 0);
});

test('sleep resolves on the clock and rejects on abort', async () => {
  const clock = new FakeClock();
  const done = sleep(clock, 500);
  clock.advance(500);
  await done;
  const ac = new AbortController();
  const aborted = sleep(clock, 500, ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(aborted, /stop/);
  assert.equal(clock.pending(), 0);
});
