import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { PodRuntime } from './runtime-state.ts';
import { generatePodStatus, type StartFailure, type StatusInput } from './status.ts';
import { exited, instance, runtime, sandbox, testPod } from './testing.ts';

const NOW = Date.UTC(2026, 0, 1, 0, 5);
const app: Container = { name: 'app', image: 'busybox' };
const side: Container = { name: 'side', image: 'busybox' };
const init1: Container = { name: 'init1', image: 'busybox' };

function gen(pod: Pod, rt: PodRuntime, o: Partial<StatusInput> = {}) {
  return generatePodStatus({
    pod,
    runtime: rt,
    ready: () => true,
    started: () => true,
    failures: new Map<string, StartFailure>(),
    terminal: false,
    nodeIPs: ['192.168.0.10'],
    runtimeName: 'containerd',
    now: NOW,
    ...o,
  });
}

function cond(s: ReturnType<typeof gen>, type: string) {
  return s.conditions?.find((c) => c.type === type);
}

test('a new pod: Pending, ContainerCreating, conditions False with the kubelet reasons', () => {
  const s = gen(testPod(), runtime([], []));
  assert.equal(s.phase, 'Pending');
  assert.deepEqual(s.containerStatuses?.[0]?.state, { waiting: { reason: 'ContainerCreating' } });
  assert.equal(s.containerStatuses?.[0]?.restartCount, 0);
  assert.equal(cond(s, 'PodReadyToStartContainers')?.status, 'False');
  assert.equal(cond(s, 'Initialized')?.status, 'True');
  assert.equal(cond(s, 'Ready')?.reason, 'ContainersNotReady');
  assert.equal(cond(s, 'ContainersReady')?.message, 'containers with unready status: [app]');
  assert.equal(s.hostIP, '192.168.0.10');
  assert.deepEqual(s.hostIPs, [{ ip: '192.168.0.10' }]);
  assert.equal(s.qosClass, 'BestEffort');
  assert.equal(s.podIP, undefined);
  assert.deepEqual(
    s.conditions?.map((c) => c.type),
    ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady'],
  );
});

test('running and ready: Running, pod IPs, containerID with the runtime prefix, conditions True', () => {
  const c = instance(app, { restartCount: 2 });
  const s = gen(testPod(), runtime([sandbox()], [c]));
  assert.equal(s.phase, 'Running');
  assert.equal(s.podIP, '10.244.0.5');
  assert.deepEqual(s.podIPs, [{ ip: '10.244.0.5' }]);
  const cs = s.containerStatuses![0]!;
  assert.equal(cs.containerID, `containerd://${c.id}`);
  assert.equal(cs.ready, true);
  assert.equal(cs.started, true);
  assert.equal(cs.restartCount, 2);
  assert.ok(cs.state?.running?.startedAt);
  for (const t of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']) {
    assert.equal(cond(s, t)?.status, 'True', t);
  }
});

test('readiness: one unready container makes Ready and ContainersReady False', () => {
  const a = instance(app);
  const b = instance(side);
  const s = gen(testPod({ containers: [app, side] }), runtime([sandbox()], [a, b]), {
    ready: (id) => id === a.id,
  });
  assert.equal(cond(s, 'Ready')?.status, 'False');
  assert.equal(cond(s, 'Ready')?.message, 'containers with unready status: [side]');
});

test('readiness gates: Ready waits for the gate condition', () => {
  let pod: Pod = testPod({ readinessGates: [{ conditionType: 'example.com/lb' }] });
  const rt = runtime([sandbox()], [instance(app)]);
  let s = gen(pod, rt);
  assert.equal(cond(s, 'ContainersReady')?.status, 'True');
  assert.equal(cond(s, 'Ready')?.status, 'False');
  assert.equal(cond(s, 'Ready')?.reason, 'ReadinessGatesNotReady');
  assert.equal(
    cond(s, 'Ready')?.message,
    'corresponding condition of pod readiness gate "example.com/lb" does not exist.',
  );
  pod = { ...pod, status: { conditions: [{ type: 'example.com/lb', status: 'True' }] } };
  s = gen(pod, rt);
  assert.equal(cond(s, 'Ready')?.status, 'True');
  assert.ok(cond(s, 'example.com/lb'), 'conditions the kubelet does not own are kept');
});

test('CrashLoopBackOff: waiting with the back-off message, the last run as lastState', () => {
  const prev = exited(app, 1, { restartCount: 0 });
  const cur = exited(app, 2, { restartCount: 1 });
  const failures = new Map([
    [
      'app',
      {
        reason: 'CrashLoopBackOff',
        message: 'back-off 20s restarting failed container=app pod=web_default(uid-1)',
      },
    ],
  ]);
  const s = gen(testPod(), runtime([sandbox()], [prev, cur]), { failures });
  const cs = s.containerStatuses![0]!;
  assert.deepEqual(cs.state, {
    waiting: {
      reason: 'CrashLoopBackOff',
      message: 'back-off 20s restarting failed container=app pod=web_default(uid-1)',
    },
  });
  assert.equal(cs.lastState?.terminated?.exitCode, 2);
  assert.equal(cs.lastState?.terminated?.reason, 'Error');
  assert.equal(cs.restartCount, 1);
  assert.equal(s.phase, 'Running', 'restartPolicy Always keeps a crash-looping pod Running');
});

test('exited containers: Completed/Error/OOMKilled reasons, termination message, lastState of the previous', () => {
  const prev = exited(app, 137, { reason: 'OOMKilled' });
  const cur = exited(app, 0, { message: 'done\n', restartCount: 1 });
  const s = gen(testPod({ restartPolicy: 'OnFailure' }), runtime([sandbox()], [prev, cur]));
  const cs = s.containerStatuses![0]!;
  assert.equal(cs.state?.terminated?.reason, 'Completed');
  assert.equal(cs.state?.terminated?.message, 'done\n');
  assert.equal(cs.state?.terminated?.containerID, `containerd://${cur.id}`);
  assert.equal(cs.lastState?.terminated?.reason, 'OOMKilled');
  assert.equal(s.phase, 'Succeeded');
  assert.equal(cond(s, 'Ready')?.reason, 'PodCompleted');
  assert.equal(cond(s, 'Initialized')?.reason, 'PodCompleted');
});

test('phase table (getPhase)', () => {
  const rows: [string, number[], boolean, string][] = [
    // policy, exit codes of two containers (-1: running), terminal, phase
    ['Always', [-1, -1], false, 'Running'],
    ['Always', [0, 0], false, 'Running'],
    ['Always', [0, 1], true, 'Failed'],
    ['Always', [0, 0], true, 'Succeeded'],
    ['OnFailure', [0, 0], false, 'Succeeded'],
    ['OnFailure', [0, 1], false, 'Running'],
    ['Never', [0, 1], false, 'Failed'],
    ['Never', [0, 0], false, 'Succeeded'],
    ['Never', [-1, 1], false, 'Running'],
  ];
  for (const [policy, codes, terminal, phase] of rows) {
    const cs = [app, side].map((spec, i) => (codes[i]! < 0 ? instance(spec) : exited(spec, codes[i]!)));
    const s = gen(testPod({ restartPolicy: policy, containers: [app, side] }), runtime([sandbox()], cs), {
      terminal,
    });
    assert.equal(s.phase, phase, `${policy} ${codes} terminal=${terminal}`);
  }
});

test('init containers: PodInitializing, Initialized False with the incomplete list; failure with Never fails the pod', () => {
  const pod = testPod({ initContainers: [init1] });
  let s = gen(pod, runtime([sandbox()], [instance(init1, { isInit: true })]));
  assert.equal(s.phase, 'Pending');
  assert.deepEqual(s.containerStatuses?.[0]?.state, { waiting: { reason: 'PodInitializing' } });
  assert.equal(cond(s, 'Initialized')?.status, 'False');
  assert.equal(cond(s, 'Initialized')?.reason, 'ContainersNotInitialized');
  assert.equal(cond(s, 'Initialized')?.message, 'containers with incomplete status: [init1]');
  assert.ok(s.initContainerStatuses?.[0]?.state?.running);
  s = gen(pod, runtime([sandbox()], [exited(init1, 0, { isInit: true }), instance(app)]));
  assert.equal(cond(s, 'Initialized')?.status, 'True');
  assert.equal(s.phase, 'Running');
  s = gen(
    testPod({ initContainers: [init1], restartPolicy: 'Never' }),
    runtime([sandbox()], [exited(init1, 3, { isInit: true })]),
  );
  assert.equal(s.phase, 'Failed');
});

test('a reported terminal phase never moves back; lastTransitionTime only moves on change', () => {
  const pod: Pod = {
    ...testPod(),
    status: {
      phase: 'Succeeded',
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2025-01-01T00:00:00Z' }],
    },
  };
  const s = gen(pod, runtime([sandbox()], [instance(app)]), { ready: () => false });
  assert.equal(s.phase, 'Succeeded');
  assert.equal(cond(s, 'Ready')?.lastTransitionTime, '2025-01-01T00:00:00Z');
});

test('start failures: ErrImagePull / CreateContainerConfigError show as waiting', () => {
  const failures = new Map([
    ['app', { reason: 'CreateContainerConfigError', message: 'configmap "x" not found' }],
  ]);
  const s = gen(testPod(), runtime([sandbox()], []), { failures });
  assert.deepEqual(s.containerStatuses?.[0]?.state, {
    waiting: { reason: 'CreateContainerConfigError', message: 'configmap "x" not found' },
  });
  assert.equal(s.phase, 'Pending');
});

test('host-network pods report the node IPs as pod IPs', () => {
  const s = gen(
    testPod({ hostNetwork: true }),
    runtime([sandbox({ ip: '', hostNetwork: true })], [instance(app)]),
  );
  assert.equal(s.podIP, '192.168.0.10');
  assert.equal(cond(s, 'PodReadyToStartContainers')?.status, 'True');
});
