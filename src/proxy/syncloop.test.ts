import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../util/clock.ts';
import { SyncLoop } from './syncloop.ts';

const flush = () => new Promise((r) => setImmediate(r));

function setup(fail = () => false) {
  const clock = new FakeClock(0);
  const runs: number[] = [];
  let release: (() => void) | null = null;
  let block = false;
  const loop = new SyncLoop(
    async () => {
      runs.push(clock.now());
      if (block) await new Promise<void>((r) => (release = r));
      if (fail()) throw new Error('sync failed');
    },
    { minIntervalMs: 100, maxIntervalMs: 10_000, retryMs: 500, clock },
  );
  return {
    clock,
    runs,
    loop,
    block: (b: boolean) => (block = b),
    release: () => release?.(),
  };
}

test('runs at start, then at most once per min interval however many requests, and every max interval', async () => {
  const { clock, runs, loop } = setup();
  const ctl = new AbortController();
  loop.start(ctl.signal);
  clock.advance(0);
  await flush();
  assert.deepEqual(runs, [0]);
  for (let i = 0; i < 5; i++) loop.request();
  clock.advance(50);
  await flush();
  assert.deepEqual(runs, [0], 'not before the min interval');
  clock.advance(50);
  await flush();
  assert.deepEqual(runs, [0, 100], 'requests coalesced into one run');
  clock.advance(1000);
  await flush();
  assert.deepEqual(runs, [0, 100]);
  loop.request();
  clock.advance(0);
  await flush();
  assert.deepEqual(runs, [0, 100, 1100], 'a request long after the last run runs at once');
  clock.advance(10_000);
  await flush();
  assert.deepEqual(runs, [0, 100, 1100, 11_100], 'periodic');
  ctl.abort();
  clock.advance(100_000);
  await flush();
  assert.equal(runs.length, 4, 'stopped');
});

test('never two runs at once: a request during a run causes one more run after it', async () => {
  const t = setup();
  const ctl = new AbortController();
  t.block(true);
  t.loop.start(ctl.signal);
  t.clock.advance(0);
  await flush();
  t.loop.request();
  t.loop.request();
  t.clock.advance(500);
  await flush();
  assert.deepEqual(t.runs, [0]);
  t.block(false);
  t.release();
  await t.loop.idle();
  t.clock.advance(0);
  await flush();
  assert.deepEqual(t.runs, [0, 500]);
  ctl.abort();
});

test('a failed run is retried after retryMs', async () => {
  let failing = true;
  const t = setup(() => failing);
  const ctl = new AbortController();
  t.loop.start(ctl.signal);
  t.clock.advance(0);
  await flush();
  t.clock.advance(499);
  await flush();
  assert.deepEqual(t.runs, [0]);
  failing = false;
  t.clock.advance(1);
  await flush();
  assert.deepEqual(t.runs, [0, 500]);
  ctl.abort();
});
