import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../util/clock.ts';
import { FakeRuntime } from '../cri/fake.ts';
import { MemoryEventRecorder } from '../pods/events.ts';
import { ProberManager } from './manager.ts';

async function setup(probes: Partial<Container>) {
  const clock = new FakeClock();
  const cri = new FakeRuntime({ clock, images: ['busybox'] });
  const sb = await cri.runPodSandbox({ metadata: { name: 'p', uid: 'u', namespace: 'n', attempt: 0 } });
  const id = await cri.createContainer(
    sb,
    { metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' } },
    { metadata: { name: 'p', uid: 'u', namespace: 'n', attempt: 0 } },
  );
  await cri.startContainer(id);
  const results = new Map<string, number>();
  const outcome: Record<string, number> = { live: 0, ready: 0, start: 0 };
  cri.setExecSyncResult(id, (cmd) => ({
    exitCode: outcome[cmd[0]!] ?? 0,
    stdout: `${cmd[0]} says ${outcome[cmd[0]!]}`,
  }));
  const recorder = new MemoryEventRecorder();
  let changes = 0;
  const prober = new ProberManager({ cri, clock, recorder, onChange: () => changes++ });
  const container: Container = { name: 'app', image: 'busybox', ...probes };
  const pod: Pod = { metadata: { name: 'p', namespace: 'n', uid: 'u' }, spec: { containers: [container] } };
  const startedAt = clock.now();
  prober.update(pod, new Map([['app', { id, startedAt, running: true }]]), '10.0.0.1');
  const step = async (ms: number) => {
    // Small steps: a probe's exec resolves before its 1 s timeout timer would fire.
    for (let t = 0; t < ms; t += 100) {
      clock.advance(100);
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
  };
  return { clock, cri, id, prober, recorder, outcome, step, changes: () => changes, results, pod };
}

const exec = (cmd: string, o: Partial<Probe> = {}): Probe => ({
  exec: { command: [cmd] },
  periodSeconds: 1,
  ...o,
});

test('readiness: not ready until a success after initialDelaySeconds; failureThreshold failures in a row unready it', async () => {
  const s = await setup({ readinessProbe: exec('ready', { initialDelaySeconds: 3, failureThreshold: 3 }) });
  assert.equal(s.prober.ready(s.id), false, 'initially not ready');
  await s.step(2000);
  assert.equal(s.cri.callsOf('execSync').length, 0, 'not before the initial delay');
  await s.step(1000);
  assert.equal(s.prober.ready(s.id), true);
  s.outcome.ready = 1;
  await s.step(2000);
  assert.equal(s.prober.ready(s.id), true, 'two failures are below the threshold');
  await s.step(1000);
  assert.equal(s.prober.ready(s.id), false);
  assert.ok(
    s.recorder.events.some(
      (e) => e.reason === 'Unhealthy' && e.message === 'Readiness probe failed: ready says 1',
    ),
  );
  assert.ok(s.changes() >= 2);
});

test('successThreshold: that many successes in a row before ready', async () => {
  const s = await setup({ readinessProbe: exec('ready', { successThreshold: 3 }) });
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  while (s.cri.callsOf('execSync').length < 2) await s.step(1000);
  await settle();
  assert.equal(s.prober.ready(s.id), false, 'two successes');
  while (s.cri.callsOf('execSync').length < 3) await s.step(1000);
  await settle();
  assert.equal(s.prober.ready(s.id), true, 'three successes');
});

test('liveness: failure after the threshold, then the worker holds until a new instance', async () => {
  const s = await setup({ livenessProbe: exec('live', { failureThreshold: 2 }) });
  assert.equal(s.prober.livenessFailed(s.id), false);
  s.outcome.live = 1;
  await s.step(100);
  assert.equal(s.cri.callsOf('execSync').length, 1);
  assert.equal(s.prober.livenessFailed(s.id), false, 'one failure');
  await s.step(1000);
  assert.equal(s.cri.callsOf('execSync').length, 2);
  assert.equal(s.prober.livenessFailed(s.id), true, 'two failures');
  const calls = s.cri.callsOf('execSync').length;
  await s.step(3000);
  assert.equal(s.cri.callsOf('execSync').length, calls, 'on hold after a liveness failure');
  // A new instance starts from the initial result.
  s.prober.update(
    s.pod,
    new Map([['app', { id: 'new', startedAt: s.clock.now(), running: false }]]),
    '10.0.0.1',
  );
  assert.equal(s.prober.livenessFailed('new'), false);
});

test('startup gates liveness and readiness; once it succeeds it stops', async () => {
  const s = await setup({
    startupProbe: exec('start', { failureThreshold: 10 }),
    livenessProbe: exec('live'),
    readinessProbe: exec('ready'),
  });
  s.outcome.start = 1;
  await s.step(3000);
  const cmds = () => s.cri.callsOf('execSync').map((c) => (c.args[1] as string[])[0]);
  assert.deepEqual([...new Set(cmds())], ['start'], 'only the startup probe runs before it succeeds');
  assert.equal(s.prober.started(s.id), false);
  assert.equal(s.prober.ready(s.id), false);
  s.outcome.start = 0;
  await s.step(1000);
  assert.equal(s.prober.started(s.id), true);
  const before = cmds().filter((c) => c === 'start').length;
  await s.step(3000);
  assert.equal(cmds().filter((c) => c === 'start').length, before, 'startup stops after success');
  assert.ok(cmds().includes('live'));
  assert.equal(s.prober.ready(s.id), true);
});

test('startup failure past its threshold asks for a restart', async () => {
  const s = await setup({ startupProbe: exec('start', { failureThreshold: 2 }) });
  s.outcome.start = 1;
  await s.step(2000);
  assert.equal(s.prober.startupFailed(s.id), true);
  assert.ok(s.recorder.events.some((e) => e.message === 'Startup probe failed: start says 1'));
  s.prober.stop();
});
