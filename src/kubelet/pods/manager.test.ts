import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { FakeRestClient } from '../../client/fake.ts';
import { PODS } from '../../client/resources.ts';
import type { KubeObject } from '../../client/types.ts';
import { FakeClock } from '../../util/clock.ts';
import {
  ANNOTATION_RESTART_COUNT,
  type EnvResolver,
  type ImageManager,
  LABEL_CONTAINER_NAME,
  LABEL_POD_UID,
  type PodCgroups,
  VolumeError,
  type VolumeManager,
} from '../contracts.ts';
import { FakeRuntime } from '../cri/fake.ts';
import type { ContainerConfig, PodSandboxConfig } from '../cri/types.ts';
import { ImagePullError } from '../images/errors.ts';
import { MemoryEventRecorder } from './events.ts';
import { PodManager, type PodManagerOptions } from './manager.ts';

const BUSYBOX = 'docker.io/library/busybox:latest';

class FakeVolumes implements VolumeManager {
  onDisk = new Set<string>();
  tornDown: string[] = [];
  fail?: Error;
  async setUp(pod: Pod): Promise<Map<string, string>> {
    if (this.fail) throw this.fail;
    this.onDisk.add(pod.metadata!.uid!);
    return new Map([['data', `/vol/${pod.metadata!.uid}/data`]]);
  }
  async mountsFor(): Promise<[]> {
    return [];
  }
  async refresh(): Promise<void> {}
  async tearDown(uid: string): Promise<void> {
    this.tornDown.push(uid);
    this.onDisk.delete(uid);
  }
  async podsOnDisk(): Promise<string[]> {
    return [...this.onDisk];
  }
}

class FakeCgroups implements PodCgroups {
  live = new Set<string>();
  async ensure(pod: Pod): Promise<string> {
    this.live.add(pod.metadata!.uid!);
    return `/skiff/pod${pod.metadata!.uid}`;
  }
  async remove(uid: string): Promise<void> {
    this.live.delete(uid);
  }
  async list(): Promise<string[]> {
    return [...this.live];
  }
}

const env: EnvResolver = {
  async resolve(_pod, c) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef)
        throw new Error(`configmap "${e.valueFrom.configMapKeyRef.name}" not found`);
    }
    return (c.env ?? []).map((e) => ({ key: e.name, value: e.value ?? '' }));
  },
};

/** Images: present ones resolve to their tag (what FakeRuntime.createContainer accepts). */
function images(cri: FakeRuntime): ImageManager {
  return {
    async ensure(_pod, c) {
      const ref = c.image === 'busybox' ? BUSYBOX : (c.image ?? '');
      if (!cri.hasImage(ref))
        throw new ImagePullError('ErrImagePull', c.image ?? '', `pull access denied for ${c.image}`);
      return ref;
    },
  };
}

interface Harness {
  logRoot: string;
  clock: FakeClock;
  cri: FakeRuntime;
  client: FakeRestClient;
  volumes: FakeVolumes;
  cgroups: FakeCgroups;
  recorder: MemoryEventRecorder;
  mgr: PodManager;
  stop(): void;
  /** Lets async work finish without moving the clock. */
  settle(): Promise<void>;
  /** Moves the clock forward in steps of `step` ms, settling after each. */
  advance(ms: number, step?: number): Promise<void>;
  create(pod: Partial<Pod> & { spec: Pod['spec'] }, name?: string): Promise<Pod>;
  get(name: string): Promise<Pod>;
  until(what: string, cond: () => unknown | Promise<unknown>, maxMs?: number): Promise<void>;
}

const running: Harness[] = [];
const tmpDirs: string[] = [];
afterEach(() => {
  for (const h of running.splice(0)) h.stop();
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function harness(o: Partial<PodManagerOptions> = {}, shared?: Partial<Harness>): Promise<Harness> {
  const clock = shared?.clock ?? new FakeClock();
  const cri = shared?.cri ?? new FakeRuntime({ clock, images: [BUSYBOX] });
  const client = shared?.client ?? new FakeRestClient({ clock });
  const volumes = shared?.volumes ?? new FakeVolumes();
  const cgroups = shared?.cgroups ?? new FakeCgroups();
  const recorder = new MemoryEventRecorder();
  const logRoot = shared?.logRoot ?? mkdtempSync(join(tmpdir(), 'skiff-pods-'));
  tmpDirs.push(logRoot);
  const mgr = new PodManager({
    podLogRoot: logRoot,
    nodeName: 'node1',
    client,
    cri,
    volumes,
    env,
    cgroups,
    images: images(cri),
    nodeIPs: ['192.168.0.10'],
    memoryCapacity: 8 * 1024 ** 3,
    resolvConf: '/nonexistent/resolv.conf',
    clusterDns: ['10.43.0.10'],
    clock,
    recorder,
    ...o,
  });
  const ac = new AbortController();
  const settle = async () => {
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setImmediate(r));
      // A sync may be waiting on the fake clock (a preStop hook): bounded.
      await Promise.race([mgr.idle(), new Promise((r) => setTimeout(r, 5))]);
    }
  };
  const h: Harness = {
    logRoot,
    clock,
    cri,
    client,
    volumes,
    cgroups,
    recorder,
    mgr,
    stop: () => ac.abort(),
    settle,
    async advance(ms, step = 500) {
      for (let t = 0; t < ms; t += step) {
        clock.advance(Math.min(step, ms - t));
        await settle();
      }
    },
    async create(pod, name = 'web') {
      const obj = {
        apiVersion: 'v1',
        kind: 'Pod',
        ...pod,
        metadata: { name, namespace: 'default', ...(pod.metadata ?? {}) },
        spec: { nodeName: 'node1', restartPolicy: 'Always', terminationGracePeriodSeconds: 30, ...pod.spec },
      } as unknown as KubeObject;
      const created = (await client.create(PODS, 'default', obj)) as unknown as Pod;
      await settle();
      return created;
    },
    async get(name) {
      return (await client.get(PODS, 'default', name)) as unknown as Pod;
    },
    async until(what, cond, maxMs = 2000) {
      const deadline = Date.now() + maxMs;
      for (;;) {
        if (await cond()) return;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await settle();
        await new Promise((r) => setTimeout(r, 1));
      }
    },
  };
  await mgr.start(ac.signal);
  await settle();
  running.push(h);
  return h;
}

const app = (o: Partial<Container> = {}): Container => ({ name: 'app', image: 'busybox', ...o });

function containersNamed(cri: FakeRuntime, name: string) {
  return [...cri.containers.values()]
    .filter((c) => c.config.metadata.name === name)
    .sort((a, b) => a.createdAt - b.createdAt);
}

function current(cri: FakeRuntime, name: string) {
  return containersNamed(cri, name).at(-1);
}

/** The restart count of the newest instance (from its annotation); -1 when none. */
function attempts(cri: FakeRuntime, name: string): number {
  const c = current(cri, name);
  return c ? Number((c.config as ContainerConfig).annotations?.[ANNOTATION_RESTART_COUNT]) : -1;
}

test('a pod runs: sandbox with its config, container with labels and annotations, status Running, events', async () => {
  const h = await harness();
  const pod = await h.create({
    spec: { containers: [app({ ports: [{ containerPort: 80, hostPort: 8080 }] })] },
  });
  await h.until('running status', async () => (await h.get('web')).status?.phase === 'Running');
  const [sb] = [...h.cri.sandboxes.values()];
  const cfg = sb!.config as PodSandboxConfig;
  assert.deepEqual(cfg.metadata, { name: 'web', namespace: 'default', uid: pod.metadata!.uid, attempt: 0 });
  assert.equal(cfg.logDirectory, join(h.logRoot, `default_web_${pod.metadata!.uid}`));
  assert.equal(cfg.linux?.cgroupParent, `/skiff/pod${pod.metadata!.uid}`);
  assert.deepEqual(cfg.dnsConfig?.servers, ['10.43.0.10']);
  assert.deepEqual(cfg.portMappings, [{ protocol: 'TCP', containerPort: 80, hostPort: 8080 }]);
  const c = current(h.cri, 'app')!;
  assert.equal(c.state, 'CONTAINER_RUNNING');
  const cc = c.config as ContainerConfig;
  assert.equal(cc.labels?.[LABEL_POD_UID], pod.metadata!.uid);
  assert.equal(cc.labels?.[LABEL_CONTAINER_NAME], 'app');
  assert.equal(cc.annotations?.[ANNOTATION_RESTART_COUNT], '0');
  assert.equal(cc.logPath, 'app/0.log');
  const status = (await h.get('web')).status!;
  assert.equal(status.podIP, sb!.ip);
  assert.equal(status.hostIP, '192.168.0.10');
  assert.equal(status.containerStatuses?.[0]?.containerID, `containerd://${c.id}`);
  assert.equal(status.containerStatuses?.[0]?.ready, true);
  assert.equal(status.conditions?.find((x) => x.type === 'Ready')?.status, 'True');
  assert.equal(status.qosClass, 'BestEffort');
  assert.ok(status.startTime);
  assert.deepEqual(h.recorder.reasons(), ['Created', 'Started']);
  assert.equal(h.recorder.events[0]!.message, 'Created container: app');
  assert.equal(h.recorder.events[1]!.message, 'Started container app');
  assert.equal(h.recorder.events[1]!.fieldPath, 'spec.containers{app}');
  // The lookup for the streaming server and the list for stats.
  const found = h.mgr.find('default', 'web');
  assert.equal(found?.sandboxId, sb!.id);
  assert.equal(found?.containers.get('app'), c.id);
  assert.equal(h.mgr.runningPods()[0]?.containers[0]?.id, c.id);
});

test('init containers run one at a time, in order, then the app', async () => {
  const h = await harness();
  await h.create({
    spec: { initContainers: [app({ name: 'init1' }), app({ name: 'init2' })], containers: [app()] },
  });
  await h.until('init1 runs', () => current(h.cri, 'init1')?.state === 'CONTAINER_RUNNING');
  assert.equal(current(h.cri, 'init2'), undefined);
  assert.equal(current(h.cri, 'app'), undefined);
  let st = (await h.get('web')).status!;
  assert.equal(st.phase, 'Pending');
  assert.equal(st.containerStatuses?.[0]?.state?.waiting?.reason, 'PodInitializing');
  h.cri.exitContainer(current(h.cri, 'init1')!.id, 0);
  await h.advance(1000);
  await h.until('init2 runs', () => current(h.cri, 'init2')?.state === 'CONTAINER_RUNNING');
  assert.equal(current(h.cri, 'app'), undefined);
  h.cri.exitContainer(current(h.cri, 'init2')!.id, 0);
  await h.advance(1000);
  await h.until('app runs', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  await h.until('Running', async () => (await h.get('web')).status?.phase === 'Running');
  st = (await h.get('web')).status!;
  assert.equal(st.initContainerStatuses?.[1]?.state?.terminated?.reason, 'Completed');
  assert.equal(st.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
});

test('restartPolicy Never + a failing init container: the pod fails and the app never starts', async () => {
  const h = await harness();
  await h.create({
    spec: { restartPolicy: 'Never', initContainers: [app({ name: 'init1' })], containers: [app()] },
  });
  await h.until('init1 runs', () => current(h.cri, 'init1')?.state === 'CONTAINER_RUNNING');
  h.cri.exitContainer(current(h.cri, 'init1')!.id, 3);
  await h.advance(1000);
  await h.until('Failed', async () => (await h.get('web')).status?.phase === 'Failed');
  assert.equal(current(h.cri, 'app'), undefined);
  assert.equal(containersNamed(h.cri, 'init1').length, 1);
  await h.until('sandbox stopped', () =>
    [...h.cri.sandboxes.values()].every((s) => s.state === 'SANDBOX_NOTREADY'),
  );
});

test('crash back-off: immediate first restart, then 10 s, 20 s; CrashLoopBackOff status and events', async () => {
  const h = await harness();
  const pod = await h.create({ spec: { containers: [app()] } });
  const uid = pod.metadata!.uid!;
  await h.until('app runs', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  h.cri.exitContainer(current(h.cri, 'app')!.id, 1);
  await h.advance(1000);
  await h.until('restarted at once', () => attempts(h.cri, 'app') === 1);
  h.cri.exitContainer(current(h.cri, 'app')!.id, 1);
  await h.advance(1000);
  await h.until(
    'CrashLoopBackOff',
    async () =>
      (await h.get('web')).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
  );
  let cs = (await h.get('web')).status!.containerStatuses![0]!;
  assert.equal(
    cs.state?.waiting?.message,
    `back-off 10s restarting failed container=app pod=web_default(${uid})`,
  );
  assert.equal(cs.lastState?.terminated?.exitCode, 1);
  assert.equal(cs.restartCount, 1);
  assert.equal((await h.get('web')).status?.phase, 'Running');
  assert.ok(
    h.recorder.events.some(
      (e) =>
        e.reason === 'BackOff' &&
        e.message === `Back-off restarting failed container app in pod web_default(${uid})`,
    ),
  );
  assert.equal(attempts(h.cri, 'app'), 1, 'no restart during the back-off');
  await h.advance(7000);
  assert.equal(attempts(h.cri, 'app'), 1, 'still backing off at 8 s');
  await h.advance(3000);
  await h.until('restarted after 10 s', () => attempts(h.cri, 'app') === 2);
  await h.until(
    'restartCount 2',
    async () => (await h.get('web')).status?.containerStatuses?.[0]?.restartCount === 2,
  );
  h.cri.exitContainer(current(h.cri, 'app')!.id, 1);
  await h.advance(1000);
  await h.until('back-off 20s', async () =>
    (await h.get('web')).status?.containerStatuses?.[0]?.state?.waiting?.message?.startsWith('back-off 20s'),
  );
  await h.advance(15_000);
  assert.equal(attempts(h.cri, 'app'), 2, 'still backing off after 16 s');
  await h.advance(5000);
  await h.until('restarted after 20 s', () => attempts(h.cri, 'app') === 3);
  // Dead instances are pruned: the current one and the one before are kept.
  assert.equal(containersNamed(h.cri, 'app').length, 2);
  cs = (await h.get('web')).status!.containerStatuses![0]!;
  await h.until(
    'restartCount 3',
    async () => (await h.get('web')).status?.containerStatuses?.[0]?.restartCount === 3,
  );
});

test('restartPolicy matrix: OnFailure keeps a succeeded container stopped and the pod Succeeded', async () => {
  const h = await harness();
  await h.create({ spec: { restartPolicy: 'OnFailure', containers: [app()] } });
  await h.until('app runs', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  h.cri.exitContainer(current(h.cri, 'app')!.id, 0);
  await h.advance(1000);
  await h.until('Succeeded', async () => (await h.get('web')).status?.phase === 'Succeeded');
  assert.equal(containersNamed(h.cri, 'app').length, 1);
  const st = (await h.get('web')).status!;
  assert.equal(st.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
  await h.until('cleaned up', () => h.volumes.tornDown.length === 1 && h.cgroups.live.size === 0);
  assert.equal(current(h.cri, 'app')?.state, 'CONTAINER_EXITED', 'the container is kept for its logs');
  // Never restarts a failed one either; Always restarts a succeeded one.
  const h2 = await harness();
  await h2.create({ spec: { restartPolicy: 'Never', containers: [app()] } }, 'never');
  await h2.until('runs', () => current(h2.cri, 'app')?.state === 'CONTAINER_RUNNING');
  h2.cri.exitContainer(current(h2.cri, 'app')!.id, 2);
  await h2.advance(1000);
  await h2.until('Failed', async () => (await h2.get('never')).status?.phase === 'Failed');
  assert.equal(containersNamed(h2.cri, 'app').length, 1);
  const h3 = await harness();
  await h3.create({ spec: { restartPolicy: 'Always', containers: [app()] } }, 'always');
  await h3.until('runs', () => current(h3.cri, 'app')?.state === 'CONTAINER_RUNNING');
  h3.cri.exitContainer(current(h3.cri, 'app')!.id, 0);
  await h3.advance(1000);
  await h3.until('restarted', () => containersNamed(h3.cri, 'app').length === 2);
});

test('a changed container spec restarts the container', async () => {
  const h = await harness();
  await h.create({ spec: { containers: [app({ args: ['v1'] })] } });
  await h.until('app runs', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  const first = current(h.cri, 'app')!;
  const pod = await h.get('web');
  pod.spec!.containers[0]!.args = ['v2'];
  await h.client.update(PODS, 'default', pod as unknown as KubeObject);
  await h.settle();
  await h.until(
    'restarted',
    () => current(h.cri, 'app')!.id !== first.id && current(h.cri, 'app')!.state === 'CONTAINER_RUNNING',
  );
  assert.equal(first.state, 'CONTAINER_EXITED');
  assert.deepEqual((current(h.cri, 'app')!.config as ContainerConfig).args, ['v2']);
  assert.ok(
    h.recorder.events.some(
      (e) => e.reason === 'Killing' && e.message === 'Container app definition changed, will be restarted',
    ),
  );
});

test('graceful deletion: preStop, stop with the remaining grace, sandbox stop, teardown, delete with grace 0 and the UID', async () => {
  const h = await harness();
  const pod = await h.create({
    spec: {
      terminationGracePeriodSeconds: 30,
      containers: [app({ lifecycle: { preStop: { exec: { command: ['/bin/sh', '-c', 'sleep 1'] } } } })],
    },
  });
  const uid = pod.metadata!.uid!;
  await h.until('app runs', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  h.cri.clearCalls();
  // What the API server does on a graceful delete.
  await h.client.patch(PODS, 'default', 'web', 'merge', {
    metadata: { deletionTimestamp: '2026-01-01T00:01:00Z', deletionGracePeriodSeconds: 20 },
  });
  await h.until('pod deleted', async () => h.client.objects(PODS).length === 0);
  const order = h.cri.calls
    .map((c) => c.method)
    .filter((m) => ['execSync', 'stopContainer', 'stopPodSandbox', 'removePodSandbox'].includes(m));
  assert.deepEqual(order.slice(0, 3), ['execSync', 'stopContainer', 'stopPodSandbox']);
  const stop = h.cri.callsOf('stopContainer')[0]!;
  assert.equal(stop.args[1], 20, 'the deletion grace period (preStop took no clock time)');
  const del = h.client.calls.find((c) => c.verb === 'delete' && c.resource === 'pods')!;
  assert.deepEqual(del.opts, { gracePeriodSeconds: 0, preconditions: { uid } });
  assert.deepEqual(h.volumes.tornDown, [uid]);
  assert.equal(h.cgroups.live.size, 0);
  assert.ok(h.recorder.events.some((e) => e.reason === 'Killing' && e.message === 'Stopping container app'));
  // Once gone from the API, its containers and sandbox are removed from the runtime.
  await h.until('runtime empty', () => h.cri.containers.size === 0 && h.cri.sandboxes.size === 0);
  assert.equal(h.mgr.find('default', 'web'), undefined);
  assert.equal(existsSync(join(h.logRoot, `default_web_${uid}`)), false, 'its log directory is removed');
});

test('preStop time counts against the grace period (at least 2 s left)', async () => {
  const h = await harness();
  let release: () => void = () => {};
  h.cri.setExecSyncResult(
    () => true,
    () => new Promise((r) => (release = () => r({ exitCode: 0 }))),
  );
  await h.create({
    spec: { containers: [app({ lifecycle: { preStop: { exec: { command: ['sleep', '9'] } } } })] },
  });
  await h.until('app runs', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  await h.client.patch(PODS, 'default', 'web', 'merge', {
    metadata: { deletionTimestamp: '2026-01-01T00:01:00Z', deletionGracePeriodSeconds: 10 },
  });
  await h.until('preStop started', () => h.cri.callsOf('execSync').length === 1);
  await h.advance(9000, 1000);
  release();
  await h.until('stopped', () => h.cri.callsOf('stopContainer').length === 1);
  assert.equal(h.cri.callsOf('stopContainer')[0]!.args[1], 2);
});

test('a restarted kubelet adopts running containers without restarting them; a killed one restarts with restartCount+1', async () => {
  const h1 = await harness();
  await h1.create({ spec: { containers: [app(), app({ name: 'side' })] } });
  await h1.until(
    'both run',
    () =>
      current(h1.cri, 'app')?.state === 'CONTAINER_RUNNING' &&
      current(h1.cri, 'side')?.state === 'CONTAINER_RUNNING',
  );
  h1.cri.exitContainer(current(h1.cri, 'side')!.id, 1);
  await h1.advance(1000);
  await h1.until('side restarted', () => containersNamed(h1.cri, 'side').length === 2);
  h1.stop();
  const creates = h1.cri.callsOf('createContainer').length;
  const sandboxes = h1.cri.callsOf('runPodSandbox').length;
  // A new kubelet over the same runtime and API.
  const h2 = await harness(
    {},
    { clock: h1.clock, cri: h1.cri, client: h1.client, volumes: h1.volumes, cgroups: h1.cgroups },
  );
  await h2.advance(3000);
  assert.equal(h1.cri.callsOf('createContainer').length, creates, 'no container created');
  assert.equal(h1.cri.callsOf('runPodSandbox').length, sandboxes, 'no sandbox created');
  assert.equal(h1.cri.callsOf('stopContainer').length, 0, 'nothing stopped');
  const st = (await h2.get('web')).status!;
  assert.equal(st.containerStatuses?.find((c) => c.name === 'side')?.restartCount, 1);
  // Killed behind its back.
  h1.cri.exitContainer(current(h1.cri, 'app')!.id, 137);
  await h2.advance(1500);
  await h2.until(
    'app restarted',
    () =>
      containersNamed(h1.cri, 'app').length === 2 && current(h1.cri, 'app')!.state === 'CONTAINER_RUNNING',
  );
  assert.equal(
    (current(h1.cri, 'app')!.config as ContainerConfig).annotations?.[ANNOTATION_RESTART_COUNT],
    '1',
  );
  await h2.until(
    'restartCount 1',
    async () => (await h2.get('web')).status?.containerStatuses?.[0]?.restartCount === 1,
  );
});

test('after the runtime lost every container (a reboot), restart counts continue from the log files', async () => {
  const clock = new FakeClock();
  const logRoot = mkdtempSync(join(tmpdir(), 'skiff-pods-'));
  const client = new FakeRestClient({ clock });
  const created = (await client.create(PODS, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default' },
    spec: { nodeName: 'node1', restartPolicy: 'Always', containers: [app()] },
  } as unknown as KubeObject)) as unknown as Pod;
  const dir = join(logRoot, `default_web_${created.metadata!.uid}`, 'app');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '0.log'), '');
  writeFileSync(join(dir, '4.log'), '');
  const h = await harness({}, { clock, client, logRoot });
  await h.until('app runs', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  assert.equal(attempts(h.cri, 'app'), 5);
  assert.equal((current(h.cri, 'app')!.config as ContainerConfig).logPath, 'app/5.log');
});

test('orphans: sandboxes, containers, volumes and cgroups of pods not bound here are removed at start', async () => {
  const clock = new FakeClock();
  const cri = new FakeRuntime({ clock, images: [BUSYBOX] });
  const sb = await cri.runPodSandbox({
    metadata: { name: 'gone', namespace: 'default', uid: 'gone-uid', attempt: 0 },
    labels: { [LABEL_POD_UID]: 'gone-uid' },
  });
  await cri.createContainer(
    sb,
    {
      metadata: { name: 'x', attempt: 0 },
      image: { image: BUSYBOX },
      labels: { [LABEL_POD_UID]: 'gone-uid', [LABEL_CONTAINER_NAME]: 'x' },
    },
    { metadata: { name: 'gone', namespace: 'default', uid: 'gone-uid', attempt: 0 } },
  );
  const volumes = new FakeVolumes();
  volumes.onDisk.add('gone-uid');
  const cgroups = new FakeCgroups();
  cgroups.live.add('gone-uid');
  const logRoot = mkdtempSync(join(tmpdir(), 'skiff-pods-'));
  mkdirSync(join(logRoot, 'default_gone_gone-uid', 'x'), { recursive: true });
  const h = await harness({}, { clock, cri, volumes, cgroups, logRoot });
  await h.until('cleaned', () => cri.sandboxes.size === 0 && cri.containers.size === 0);
  assert.equal(existsSync(join(logRoot, 'default_gone_gone-uid')), false);
  assert.equal(volumes.onDisk.size, 0);
  assert.equal(cgroups.live.size, 0);
});

test('liveness: failureThreshold failures restart the container, with the kubelet events', async () => {
  const h = await harness();
  let healthy = true;
  h.cri.setExecSyncResult(
    () => true,
    () => (healthy ? { exitCode: 0 } : { exitCode: 1, stdout: 'sick' }),
  );
  await h.create({
    spec: {
      containers: [
        app({
          livenessProbe: {
            exec: { command: ['check'] },
            periodSeconds: 5,
            timeoutSeconds: 5,
            failureThreshold: 2,
            initialDelaySeconds: 5,
          },
        }),
      ],
    },
  });
  await h.until('app runs', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  await h.advance(12_000, 1000);
  assert.ok(h.cri.callsOf('execSync').length >= 2);
  assert.equal(containersNamed(h.cri, 'app').length, 1);
  healthy = false;
  await h.advance(5000, 1000);
  assert.equal(containersNamed(h.cri, 'app').length, 1, 'one failure is below the threshold');
  await h.advance(5000, 1000);
  await h.until('restarted', () => containersNamed(h.cri, 'app').length === 2);
  assert.ok(
    h.recorder.events.some((e) => e.reason === 'Unhealthy' && e.message === 'Liveness probe failed: sick'),
  );
  assert.ok(
    h.recorder.events.some(
      (e) => e.reason === 'Killing' && e.message === 'Container app failed liveness probe, will be restarted',
    ),
  );
});

test('readiness gates the Ready condition', async () => {
  const h = await harness();
  let ready = false;
  h.cri.setExecSyncResult(
    () => true,
    () => ({ exitCode: ready ? 0 : 1 }),
  );
  await h.create({
    spec: {
      containers: [
        app({ readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 2, timeoutSeconds: 5 } }),
      ],
    },
  });
  await h.until('app runs', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  await h.advance(4000, 1000);
  let st = (await h.get('web')).status!;
  assert.equal(st.phase, 'Running');
  assert.equal(st.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  assert.equal(st.containerStatuses?.[0]?.ready, false);
  ready = true;
  await h.advance(2000, 1000);
  await h.until(
    'Ready',
    async () => (await h.get('web')).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
  );
  st = (await h.get('web')).status!;
  assert.equal(st.containerStatuses?.[0]?.ready, true);
});

test('start failures: missing configmap → CreateContainerConfigError; image pull → ErrImagePull; volume → FailedMount', async () => {
  const h = await harness();
  await h.create({
    spec: {
      containers: [
        app({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] }),
        app({ name: 'img', image: 'nope:1' }),
      ],
    },
  });
  await h.until('waiting reasons', async () => {
    const cs = (await h.get('web')).status?.containerStatuses ?? [];
    return (
      cs[0]?.state?.waiting?.reason === 'CreateContainerConfigError' &&
      cs[1]?.state?.waiting?.reason === 'ErrImagePull'
    );
  });
  const cs = (await h.get('web')).status!.containerStatuses!;
  assert.equal(cs[0]!.state?.waiting?.message, 'configmap "cfg" not found');
  assert.ok(
    h.recorder.events.some((e) => e.reason === 'Failed' && e.message === 'Error: configmap "cfg" not found'),
  );
  const h2 = await harness();
  h2.volumes.fail = new VolumeError('configmap "vol" not found');
  await h2.create({ spec: { containers: [app()] } }, 'vol');
  await h2.until('FailedMount', () => h2.recorder.events.some((e) => e.reason === 'FailedMount'));
  assert.equal(h2.cri.sandboxes.size, 0);
  assert.equal(
    (await h2.get('vol')).status?.containerStatuses?.[0]?.state?.waiting?.reason,
    'ContainerCreating',
  );
  h2.volumes.fail = undefined;
  await h2.advance(10_000, 2000);
  await h2.until(
    'runs after the volume appears',
    () => current(h2.cri, 'app')?.state === 'CONTAINER_RUNNING',
  );
});

test('a failing postStart hook kills the container: FailedPostStartHook', async () => {
  const h = await harness();
  h.cri.setExecSyncResult(() => true, { exitCode: 1, stderr: 'boom' });
  await h.create({
    spec: { containers: [app({ lifecycle: { postStart: { exec: { command: ['init'] } } } })] },
  });
  await h.until('event', () => h.recorder.events.some((e) => e.reason === 'FailedPostStartHook'));
  const ev = h.recorder.events.find((e) => e.reason === 'FailedPostStartHook')!;
  assert.equal(ev.message, 'PostStartHook failed');
  await h.until('stopped', () => containersNamed(h.cri, 'app')[0]!.state === 'CONTAINER_EXITED');
  await h.until(
    'status',
    async () =>
      (await h.get('web')).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'PostStartHookError',
  );
  const cs = (await h.get('web')).status!.containerStatuses![0]!;
  assert.match(
    cs.state!.waiting!.message!,
    /^Exec lifecycle hook \(\[init\]\) for Container "app" in Pod "web_default\(.*\)" failed - error: command 'init' exited with 1: boom, message: "boom"$/,
  );
});

test('evict: killed with its grace period, phase Failed, reason Evicted, DisruptionTarget', async () => {
  const h = await harness();
  const pod = await h.create({ spec: { terminationGracePeriodSeconds: 7, containers: [app()] } });
  await h.until('app runs', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  await h.mgr.evict(pod.metadata!.uid!, 'Evicted', 'The node was low on resource: memory.');
  const st = (await h.get('web')).status!;
  assert.equal(st.phase, 'Failed');
  assert.equal(st.reason, 'Evicted');
  assert.equal(st.message, 'The node was low on resource: memory.');
  assert.equal(st.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason, 'TerminationByKubelet');
  assert.equal(h.cri.callsOf('stopContainer')[0]!.args[1], 7);
  assert.equal(current(h.cri, 'app')!.state, 'CONTAINER_EXITED');
  await h.advance(20_000, 5000);
  assert.equal(containersNamed(h.cri, 'app').length, 1, 'never restarted');
  assert.equal(h.client.objects(PODS).length, 1, 'the pod object stays');
});

test('30 pods created at once all run', async () => {
  const h = await harness({ maxConcurrentStarts: 10 });
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      h.client.create(PODS, 'default', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `p${i}`, namespace: 'default' },
        spec: { nodeName: 'node1', restartPolicy: 'Always', containers: [app()] },
      } as unknown as KubeObject),
    ),
  );
  await h.until(
    'all running',
    () => h.client.objects<Pod & KubeObject>(PODS).every((p) => p.status?.phase === 'Running'),
    5000,
  );
  assert.equal(h.cri.sandboxes.size, 30);
  assert.equal(h.cri.containers.size, 30);
});

test('pods of other nodes are ignored', async () => {
  const h = await harness();
  await h.client.create(PODS, 'default', {
    metadata: { name: 'other', namespace: 'default' },
    spec: { nodeName: 'node2', containers: [app()] },
  } as unknown as KubeObject);
  await h.advance(2000);
  assert.equal(h.cri.sandboxes.size, 0);
});

test('a failed sandbox creation is reported and retried after the worker back-off', async () => {
  const h = await harness({ resyncMs: 60_000 });
  h.cri.failNext(
    'runPodSandbox',
    new Error('failed to setup network for sandbox: cni plugin not initialized'),
  );
  await h.create({ spec: { containers: [app()] } });
  await h.until('event', () => h.recorder.events.some((e) => e.reason === 'FailedCreatePodSandBox'));
  assert.equal(
    h.recorder.events.find((e) => e.reason === 'FailedCreatePodSandBox')!.message,
    'Failed to create pod sandbox: failed to setup network for sandbox: cni plugin not initialized',
  );
  await h.until('status written', async () => (await h.get('web')).status?.phase === 'Pending');
  await h.advance(9000, 1000);
  assert.equal(h.cri.sandboxes.size, 0, 'not retried before 10 s');
  await h.advance(1000, 1000);
  await h.until('runs after the retry', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
});

test('a sandbox that died behind the kubelet is re-created with the next attempt and the containers restarted', async () => {
  const h = await harness();
  await h.create({ spec: { containers: [app()] } });
  await h.until('app runs', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  const [first] = [...h.cri.sandboxes.values()];
  await h.cri.stopPodSandbox(first!.id); // as when containerd and its shims were killed
  await h.advance(1000);
  await h.until('new sandbox', () => [...h.cri.sandboxes.values()].some((s) => s.state === 'SANDBOX_READY'));
  const ready = [...h.cri.sandboxes.values()].find((s) => s.state === 'SANDBOX_READY')!;
  assert.equal(ready.config.metadata.attempt, 1);
  await h.until('app runs again', () => current(h.cri, 'app')?.state === 'CONTAINER_RUNNING');
  assert.equal(attempts(h.cri, 'app'), 1);
  assert.equal(current(h.cri, 'app')!.podSandboxId, ready.id);
  assert.ok(h.recorder.events.some((e) => e.reason === 'SandboxChanged'));
  await h.until('status shows the new IP', async () => (await h.get('web')).status?.podIP === ready.ip);
});
