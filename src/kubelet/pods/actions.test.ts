import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container } from 'kubernetes-types/core/v1.js';
import { computePodActions, type ProbeView } from './actions.ts';
import { exited, instance, runtime, sandbox, testPod } from './testing.ts';

const noProbes: ProbeView = { livenessFailed: () => false, startupFailed: () => false };
const app: Container = { name: 'app', image: 'busybox' };
const init1: Container = { name: 'init1', image: 'busybox' };
const init2: Container = { name: 'init2', image: 'busybox' };

function names(cs: Container[]): string[] {
  return cs.map((c) => c.name);
}

test('a new pod: create the sandbox and start all containers', () => {
  const a = computePodActions(testPod(), runtime([], []), noProbes);
  assert.equal(a.createSandbox, true);
  assert.equal(a.attempt, 0);
  assert.deepEqual(names(a.containersToStart), ['app']);
});

test('a dead sandbox is killed and re-created with the next attempt', () => {
  const rt = runtime([sandbox({ state: 'SANDBOX_NOTREADY', attempt: 2 })], [exited(app, 137)]);
  const a = computePodActions(testPod(), rt, noProbes);
  assert.equal(a.killPod, true);
  assert.equal(a.createSandbox, true);
  assert.equal(a.attempt, 3);
  // A sandbox without an IP (pod network) is also re-created.
  const b = computePodActions(testPod(), runtime([sandbox({ ip: '' })], []), noProbes);
  assert.equal(b.createSandbox, true);
});

test('restartPolicy Never: a dead sandbox whose containers ran is not re-created', () => {
  const rt = runtime([sandbox({ state: 'SANDBOX_NOTREADY' })], [exited(app, 0)]);
  const a = computePodActions(testPod({ restartPolicy: 'Never' }), rt, noProbes);
  assert.equal(a.killPod, true);
  assert.equal(a.createSandbox, false);
});

test('init containers run one at a time, in order, before the others', () => {
  const pod = testPod({ initContainers: [init1, init2] });
  let a = computePodActions(pod, runtime([sandbox()], []), noProbes);
  assert.equal(a.nextInit?.name, 'init1');
  assert.deepEqual(a.containersToStart, []);
  a = computePodActions(pod, runtime([sandbox()], [instance(init1, { isInit: true })]), noProbes);
  assert.equal(a.nextInit, undefined, 'wait while init1 runs');
  assert.deepEqual(a.containersToStart, []);
  a = computePodActions(pod, runtime([sandbox()], [exited(init1, 0, { isInit: true })]), noProbes);
  assert.equal(a.nextInit?.name, 'init2');
  a = computePodActions(pod, runtime([sandbox()], [exited(init1, 0), exited(init2, 0)]), noProbes);
  assert.equal(a.nextInit, undefined);
  assert.deepEqual(names(a.containersToStart), ['app']);
});

test('a failed init container is retried, except with restartPolicy Never (the pod is killed)', () => {
  const rt = runtime([sandbox()], [exited(init1, 1)]);
  const a = computePodActions(testPod({ initContainers: [init1, init2] }), rt, noProbes);
  assert.equal(a.nextInit?.name, 'init1');
  assert.equal(a.killPod, false);
  const b = computePodActions(
    testPod({ initContainers: [init1, init2], restartPolicy: 'Never' }),
    rt,
    noProbes,
  );
  assert.equal(b.killPod, true);
  assert.equal(b.nextInit, undefined);
});

test('restartPolicy matrix for an exited container', () => {
  const cases: [string, number, boolean][] = [
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 1, true],
    ['Never', 0, false],
    ['Never', 1, false],
  ];
  for (const [policy, code, restart] of cases) {
    const a = computePodActions(
      testPod({ restartPolicy: policy }),
      runtime([sandbox()], [exited(app, code)]),
      noProbes,
    );
    assert.equal(a.containersToStart.length === 1, restart, `${policy} exit ${code}`);
    // Nothing to keep and nothing to start: the pod is done.
    assert.equal(a.killPod, !restart, `${policy} exit ${code} killPod`);
  }
});

test('a running container is kept; a changed spec restarts it whatever the policy', () => {
  const rt = runtime([sandbox()], [instance(app)]);
  const keep = computePodActions(testPod(), rt, noProbes);
  assert.deepEqual(keep.containersToStart, []);
  assert.deepEqual(keep.containersToKill, []);
  assert.equal(keep.killPod, false);
  const changed = testPod({ restartPolicy: 'Never', containers: [{ ...app, args: ['new'] }] });
  const a = computePodActions(changed, rt, noProbes);
  assert.equal(a.containersToKill.length, 1);
  assert.equal(a.containersToKill[0]!.message, 'Container app definition changed, will be restarted');
  assert.deepEqual(names(a.containersToStart), ['app']);
});

test('resources alone do not change the hash', () => {
  const rt = runtime([sandbox()], [instance(app)]);
  const a = computePodActions(
    testPod({ containers: [{ ...app, resources: { limits: { cpu: '1' } } }] }),
    rt,
    noProbes,
  );
  assert.deepEqual(a.containersToKill, []);
});

test('liveness and startup failures kill (and restart unless Never)', () => {
  const c = instance(app);
  const rt = runtime([sandbox()], [c]);
  const live: ProbeView = { livenessFailed: (id) => id === c.id, startupFailed: () => false };
  const a = computePodActions(testPod(), rt, live);
  assert.equal(a.containersToKill[0]!.message, 'Container app failed liveness probe, will be restarted');
  assert.equal(a.containersToKill[0]!.reason, 'LivenessProbe');
  assert.deepEqual(names(a.containersToStart), ['app']);
  const never = computePodActions(testPod({ restartPolicy: 'Never' }), rt, live);
  assert.equal(never.containersToKill[0]!.message, 'Container app failed liveness probe');
  assert.deepEqual(never.containersToStart, []);
  const startup: ProbeView = { livenessFailed: () => false, startupFailed: (id) => id === c.id };
  assert.equal(
    computePodActions(testPod(), rt, startup).containersToKill[0]!.message,
    'Container app failed startup probe, will be restarted',
  );
});

test('a pod being deleted starts nothing', () => {
  const a = computePodActions(
    testPod({}, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    runtime([sandbox()], [exited(app, 1)]),
    noProbes,
  );
  assert.deepEqual(a.containersToStart, []);
  assert.equal(a.killPod, true);
});
