import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { FakeRuntime } from '../cri/fake.ts';
import type { PodSandboxConfig } from '../cri/types.ts';
import { type FsStats, ImageGC, ImageGCError } from './gc.ts';

const MB = 1_000_000;
let seq = 0;

async function setup(fs: FsStats) {
  const clock = new FakeClock();
  const runtime = new FakeRuntime({ clock });
  const gc = new ImageGC({ runtime, pauseImage: 'skiff.local/pause:3.10', clock, fsStats: async () => fs });
  return { clock, runtime, gc };
}

async function runContainer(runtime: FakeRuntime, image: string): Promise<void> {
  const sandbox: PodSandboxConfig = {
    metadata: { name: `p${seq++}`, uid: 'u', namespace: 'default', attempt: 0 },
  };
  const sb = await runtime.runPodSandbox(sandbox);
  await runtime.createContainer(
    sb,
    { metadata: { name: image.replace(/\W/g, ''), attempt: 0 }, image: { image } },
    sandbox,
  );
}

test('under the high threshold nothing is removed', async () => {
  const { runtime, gc, clock } = await setup({ capacityBytes: 100 * MB, availableBytes: 16 * MB }); // 84% used
  runtime.addImage('a:1', { size: 10 * MB });
  await gc.detectImages();
  clock.advance(10 * 60_000);
  const r = await gc.garbageCollect();
  assert.equal(r.usagePercent, 84);
  assert.deepEqual(r.removed, []);
  assert.ok(runtime.hasImage('a:1'));
});

test('over the high threshold: frees down to the low one, LRU first, never in-use or pause images', async () => {
  const fs = { capacityBytes: 100 * MB, availableBytes: 10 * MB }; // 90% used: free 10 MB to reach 80%
  const { runtime, gc, clock } = await setup(fs);
  runtime.addImage('skiff.local/pause:3.10', { size: 50 * MB });
  runtime.addImage('used:1', { size: 50 * MB });
  const old = runtime.addImage('old:1', { size: 6 * MB });
  runtime.addImage('recent:1', { size: 6 * MB });
  const spare = runtime.addImage('spare:1', { size: 6 * MB });
  await runContainer(runtime, 'old:1');
  await gc.detectImages(); // old:1 used at t0
  clock.advance(60_000);
  for (const id of [...runtime.containers.keys()]) await runtime.removeContainer(id);
  await runContainer(runtime, 'recent:1');
  await gc.detectImages(); // recent:1 used at t0+1m
  for (const id of [...runtime.containers.keys()]) await runtime.removeContainer(id);
  await runContainer(runtime, 'used:1');
  clock.advance(5 * 60_000);

  const r = await gc.garbageCollect();
  assert.equal(r.usagePercent, 90);
  assert.equal(r.bytesToFree, 10 * MB);
  // Never used (lastUsed 0) goes first, then the least recently used; recent:1 is not needed.
  assert.deepEqual(r.removed, [spare, old]);
  assert.equal(r.freedBytes, 12 * MB);
  assert.ok(runtime.hasImage('recent:1'));
  assert.ok(runtime.hasImage('used:1'), 'in use');
  assert.ok(runtime.hasImage('skiff.local/pause:3.10'), 'pause image');
  assert.ok(!runtime.hasImage('old:1'));
});

test('young images are kept, and not freeing enough is an ImageGCError', async () => {
  const { runtime, gc } = await setup({ capacityBytes: 100 * MB, availableBytes: 5 * MB });
  runtime.addImage('new:1', { size: 30 * MB });
  await assert.rejects(gc.garbageCollect(), (err: unknown) => {
    assert.ok(err instanceof ImageGCError);
    assert.match(err.message, /Attempted to free 15000000 bytes, but only found 0 bytes eligible to free/);
    return true;
  });
  assert.ok(runtime.hasImage('new:1'));
});

test('thresholds are validated', () => {
  const runtime = new FakeRuntime();
  assert.throws(
    () => new ImageGC({ runtime, pauseImage: 'p', highThresholdPercent: 70, lowThresholdPercent: 80 }),
    RangeError,
  );
});

test('start() detects usage every period, so an image used between GCs counts as used', async () => {
  const fs = { capacityBytes: 100 * MB, availableBytes: 50 * MB };
  const { runtime, gc, clock } = await setup(fs);
  runtime.addImage('a:1', { size: 6 * MB });
  runtime.addImage('b:1', { size: 6 * MB });
  await runContainer(runtime, 'a:1');
  const ac = new AbortController();
  const loop = gc.start(ac.signal); // period 1 sees a:1 in use
  await new Promise((r) => setImmediate(r));
  for (const id of [...runtime.containers.keys()]) await runtime.removeContainer(id);
  clock.advance(5 * 60_000);
  await new Promise((r) => setImmediate(r));
  ac.abort();
  await loop;
  fs.availableBytes = 15 * MB; // 85% used: free 5 MB, one image
  const r = await gc.garbageCollect();
  // b:1 was never used, a:1 was (and is not any more): b:1 goes first and is enough.
  assert.equal(r.removed.length, 1);
  assert.ok(runtime.hasImage('a:1'));
  assert.ok(!runtime.hasImage('b:1'));
});
