/**
 * The status writes, the final delete and the Events against the real API server (in process),
 * so their shape is what Kubernetes accepts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { EVENTS, PODS } from '../../client/resources.ts';
import { HttpRestClient } from '../../client/rest.ts';
import { startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import type { KubeObject } from '../../client/types.ts';
import { systemClock } from '../../util/clock.ts';
import { silentLogger } from '../../util/log.ts';
import { ApiEventRecorder } from './events.ts';
import { generatePodStatus } from './status.ts';
import { StatusManager } from './status-manager.ts';
import { instance, runtime, sandbox } from './testing.ts';

let server: TestApiServer;
let client: HttpRestClient;

before(async () => {
  server = await startTestApiServer();
  client = new HttpRestClient(server.config);
});
after(async () => {
  await server.close();
});

async function createPod(name: string): Promise<Pod> {
  return (await client.create(PODS, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName: 'node1', containers: [{ name: 'app', image: 'busybox' }] },
  } as KubeObject)) as unknown as Pod;
}

test('status is written through the status subresource, only when it changed', async () => {
  const pod = await createPod('st');
  const sm = new StatusManager(client, silentLogger);
  const spec = pod.spec!.containers[0]!;
  const rt = { ...runtime([sandbox()], [instance(spec)]), uid: pod.metadata!.uid! };
  const status = generatePodStatus({
    pod,
    runtime: rt,
    ready: () => true,
    started: () => true,
    failures: new Map(),
    terminal: false,
    nodeIPs: ['192.168.0.10'],
    runtimeName: 'containerd',
    now: Date.now(),
  });
  assert.equal(await sm.set(pod, status), true);
  const got = (await client.get(PODS, 'default', 'st')) as unknown as Pod;
  assert.equal(got.status?.phase, 'Running');
  assert.equal(got.status?.podIP, '10.244.0.5');
  assert.equal(got.status?.containerStatuses?.[0]?.ready, true);
  assert.ok(got.status?.conditions?.some((c) => c.type === 'PodScheduled' || c.type === 'Ready'));
  assert.equal(await sm.set(got, status), false, 'unchanged: no write');
  // The final delete the kubelet sends.
  await client.delete(PODS, 'default', 'st', {
    gracePeriodSeconds: 0,
    preconditions: { uid: pod.metadata!.uid! },
  });
  await assert.rejects(client.get(PODS, 'default', 'st'), /not found/);
});

test('a status write for a pod re-created under the same name is refused (UID)', async () => {
  const old = await createPod('again');
  await client.delete(PODS, 'default', 'again', { gracePeriodSeconds: 0 });
  await createPod('again');
  const sm = new StatusManager(client, silentLogger);
  assert.equal(await sm.set(old, { phase: 'Failed' }), false);
  const got = (await client.get(PODS, 'default', 'again')) as unknown as Pod;
  assert.notEqual(got.status?.phase, 'Failed');
});

test('events are accepted and repeats are counted', async () => {
  const pod = await createPod('ev');
  const rec = new ApiEventRecorder(client, 'node1', systemClock, silentLogger);
  rec.event(pod, 'spec.containers{app}', 'Normal', 'Started', 'Started container app');
  rec.event(
    pod,
    'spec.containers{app}',
    'Warning',
    'BackOff',
    'Back-off restarting failed container app in pod x',
  );
  rec.event(
    pod,
    'spec.containers{app}',
    'Warning',
    'BackOff',
    'Back-off restarting failed container app in pod x',
  );
  await rec.flush();
  const list = await client.list(EVENTS, 'default');
  const events = list.items as unknown as Event[];
  const started = events.find((e) => e.reason === 'Started')!;
  assert.equal(started.source?.component, 'kubelet');
  assert.equal(started.source?.host, 'node1');
  assert.equal(started.involvedObject.uid, pod.metadata!.uid);
  assert.equal(started.involvedObject.fieldPath, 'spec.containers{app}');
  assert.equal(events.filter((e) => e.reason === 'BackOff').length, 1);
  assert.equal(events.find((e) => e.reason === 'BackOff')!.count, 2);
});
