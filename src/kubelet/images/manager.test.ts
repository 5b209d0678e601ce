import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../util/clock.ts';
import { CriError, GrpcCode } from '../cri/errors.ts';
import { FakeRuntime } from '../cri/fake.ts';
import { Backoff } from './backoff.ts';
import { ImagePullError } from './errors.ts';
import { type ImageEvent, KubeletImageManager, pullPolicyOf } from './manager.ts';

const pod: Pod = { metadata: { name: 'p', namespace: 'default', uid: 'uid-1' }, spec: { containers: [] } };
const ctr = (image: string, imagePullPolicy?: string): Container => ({ name: 'c', image, imagePullPolicy });

function setup() {
  const clock = new FakeClock();
  const runtime = new FakeRuntime({ clock });
  const events: ImageEvent[] = [];
  const manager = new KubeletImageManager({ images: runtime, clock, recordEvent: (_p, e) => events.push(e) });
  return { clock, runtime, events, manager };
}

async function rejectsWith(p: Promise<unknown>, reason: string): Promise<ImagePullError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ImagePullError, `expected ImagePullError, got ${err}`);
    assert.equal(err.reason, reason);
    return err;
  }
  assert.fail(`expected ${reason}`);
}

test('pullPolicyOf: explicit policy wins, else the API default', () => {
  assert.equal(pullPolicyOf(ctr('busybox')), 'Always');
  assert.equal(pullPolicyOf(ctr('busybox:1.0')), 'IfNotPresent');
  assert.equal(pullPolicyOf(ctr('busybox', 'Never')), 'Never');
});

test('IfNotPresent: present image is not pulled; absent image is pulled', async () => {
  const { runtime, manager, events } = setup();
  const id = runtime.addImage('busybox:1.0');
  assert.equal(await manager.ensure(pod, ctr('busybox:1.0'), []), id);
  assert.equal(runtime.callsOf('pullImage').length, 0);
  assert.deepEqual(events.at(-1), {
    type: 'Normal',
    reason: 'Pulled',
    message: 'Container image "busybox:1.0" already present on machine',
    container: 'c',
  });
  runtime.makePullable('nginx:2');
  const ref = await manager.ensure(pod, ctr('nginx:2'), []);
  assert.ok(runtime.hasImage('nginx:2'));
  assert.equal(runtime.callsOf('pullImage').length, 1);
  assert.match(ref, /^sha256:/);
  assert.deepEqual(
    events.slice(-2).map((e) => e.reason),
    ['Pulling', 'Pulled'],
  );
  assert.match(
    events.at(-1)!.message,
    /^Successfully pulled image "nginx:2" in \d+ms \(\d+ms including waiting\)/,
  );
});

test('Always pulls even when present, with the default tag applied', async () => {
  const { runtime, manager } = setup();
  runtime.addImage('busybox:latest');
  await manager.ensure(pod, ctr('busybox'), []);
  assert.deepEqual(runtime.callsOf('pullImage')[0]!.args[0], 'busybox:latest');
});

test('Never: present is fine, absent is ErrImageNeverPull', async () => {
  const { runtime, manager, events } = setup();
  runtime.addImage('busybox:1.0');
  await manager.ensure(pod, ctr('busybox:1.0', 'Never'), []);
  const err = await rejectsWith(manager.ensure(pod, ctr('nginx:1', 'Never'), []), 'ErrImageNeverPull');
  assert.equal(err.message, 'Container image "nginx:1" is not present with pull policy of Never');
  assert.equal(events.at(-1)!.reason, 'ErrImageNeverPull');
  assert.equal(runtime.callsOf('pullImage').length, 0);
});

test('an unparsable name is InvalidImageName and never reaches the runtime', async () => {
  const { runtime, manager } = setup();
  const err = await rejectsWith(manager.ensure(pod, ctr('Not/Valid:x:y'), []), 'InvalidImageName');
  assert.match(err.message, /^Failed to apply default image tag "Not\/Valid:x:y": couldn't parse image name/);
  assert.equal(runtime.calls.length, 0);
});

test('a failed pull is ErrImagePull, then ImagePullBackOff for 10 s doubling to 5 min', async () => {
  const { runtime, manager, clock, events } = setup();
  const c = ctr('missing:1');
  const first = await rejectsWith(manager.ensure(pod, c, []), 'ErrImagePull');
  assert.match(first.message, /^rpc error: code = NotFound desc = failed to pull and unpack image/);
  assert.match(
    events.find((e) => e.reason === 'Failed')!.message,
    /^Failed to pull image "missing:1": rpc error/,
  );
  assert.ok(manager.inBackOff(pod, c));
  assert.equal(manager.backOffRemainingMs(pod, c), 10_000);
  const backoff = await rejectsWith(manager.ensure(pod, c, []), 'ImagePullBackOff');
  assert.equal(backoff.message, 'Back-off pulling image "missing:1"');
  assert.equal(runtime.callsOf('pullImage').length, 1, 'no pull during back-off');

  // Another pod pulling the same image has its own back-off.
  await rejectsWith(manager.ensure({ ...pod, metadata: { uid: 'uid-2' } }, c, []), 'ErrImagePull');

  clock.advance(10_000);
  assert.ok(!manager.inBackOff(pod, c));
  await rejectsWith(manager.ensure(pod, c, []), 'ErrImagePull');
  assert.equal(manager.backOffRemainingMs(pod, c), 20_000);
  for (const expected of [40_000, 80_000, 160_000, 300_000, 300_000]) {
    clock.advance(manager.backOffRemainingMs(pod, c));
    await rejectsWith(manager.ensure(pod, c, []), 'ErrImagePull');
    assert.equal(manager.backOffRemainingMs(pod, c), expected);
  }
  // Once the image can be pulled, the next try after the back-off succeeds.
  runtime.makePullable('missing:1');
  clock.advance(300_000);
  await manager.ensure(pod, c, []);
});

test('credentials are tried in order until one works; all failing gives every error', async () => {
  const { runtime, manager } = setup();
  runtime.makePullable('reg.example.com/app:1');
  runtime.failNext('pullImage', new CriError('PullImage', GrpcCode.UNKNOWN, 'unauthorized'));
  const creds = [
    { username: 'a', password: '1' },
    { username: 'b', password: '2' },
  ];
  await manager.ensure(pod, ctr('reg.example.com/app:1'), creds);
  assert.deepEqual(
    runtime.callsOf('pullImage').map((c) => c.args[1]),
    creds,
  );
  runtime.failNext('pullImage', new CriError('PullImage', GrpcCode.UNKNOWN, 'no 1'));
  runtime.failNext('pullImage', new CriError('PullImage', GrpcCode.UNKNOWN, 'no 2'));
  const err = await rejectsWith(manager.ensure(pod, ctr('reg.example.com/app:2'), creds), 'ErrImagePull');
  assert.equal(err.message, '[rpc error: code = Unknown desc = no 1, rpc error: code = Unknown desc = no 2]');
});

test('concurrent pulls of one image share a runtime call', async () => {
  const { runtime, manager } = setup();
  runtime.makePullable('nginx:1');
  const [a, b] = await Promise.all([
    manager.ensure(pod, ctr('nginx:1'), []),
    manager.ensure({ ...pod, metadata: { uid: 'uid-2' } }, ctr('nginx:1'), []),
  ]);
  assert.equal(a, b);
  assert.equal(runtime.callsOf('pullImage').length, 1);
});

test('an aborted ensure rejects with the signal reason', async () => {
  const { runtime, manager } = setup();
  runtime.makePullable('nginx:1');
  const ac = new AbortController();
  ac.abort(new Error('pod deleted'));
  await assert.rejects(manager.ensure(pod, ctr('nginx:1'), [], ac.signal), /pod deleted|abort/i);
});

test('Backoff forgets an entry after twice the maximum without failures', () => {
  const clock = new FakeClock();
  const b = new Backoff(clock, 10, 100);
  assert.equal(b.next('k'), 10);
  assert.equal(b.next('k'), 20);
  clock.advance(201);
  assert.equal(b.next('k'), 10);
  clock.advance(201);
  b.gc();
  assert.equal(b.get('k'), 0);
});
