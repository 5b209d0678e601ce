/**
 * PodManager against the real API server (in process): the informer's spec.nodeName selector,
 * status writes, graceful deletion finished by the kubelet, Events — with FakeRuntime as the
 * runtime and the real clock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { EVENTS, PODS } from '../../client/resources.ts';
import { HttpRestClient } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import type { KubeObject } from '../../client/types.ts';
import type { EnvResolver, ImageManager, PodCgroups, VolumeManager } from '../contracts.ts';
import { FakeRuntime } from '../cri/fake.ts';
import { PodManager } from './manager.ts';

const BUSYBOX = 'docker.io/library/busybox:latest';
let server: TestApiServer;
let client: HttpRestClient;
let logRoot: string;

before(async () => {
  server = await startTestApiServer();
  client = new HttpRestClient(server.config);
  logRoot = mkdtempSync(join(tmpdir(), 'skiff-pods-api-'));
});
after(async () => {
  await server.close();
  rmSync(logRoot, { recursive: true, force: true });
});

const volumes: VolumeManager = {
  setUp: async () => new Map(),
  mountsFor: async () => [],
  refresh: async () => {},
  tearDown: async () => {},
  podsOnDisk: async () => [],
};
const cgroups: PodCgroups = {
  ensure: async () => '/skiff/pods',
  remove: async () => {},
  list: async () => [],
};
const env: EnvResolver = { resolve: async () => [] };
const images: ImageManager = { ensure: async () => BUSYBOX };

test('a pod bound to the node runs, reports status, and its graceful deletion is finished by the kubelet', async () => {
  const cri = new FakeRuntime({ images: [BUSYBOX] });
  const mgr = new PodManager({
    nodeName: 'node1',
    client,
    cri,
    volumes,
    env,
    cgroups,
    images,
    nodeIPs: ['192.168.0.10'],
    memoryCapacity: 8 * 1024 ** 3,
    podLogRoot: logRoot,
    resolvConf: '/nonexistent',
  });
  const ac = new AbortController();
  try {
    await mgr.start(ac.signal);
    const pod = (await client.create(PODS, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default' },
      spec: { nodeName: 'node1', containers: [{ name: 'app', image: 'busybox' }] },
    } as KubeObject)) as unknown as Pod;
    await client.create(PODS, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'elsewhere', namespace: 'default' },
      spec: { nodeName: 'node2', containers: [{ name: 'app', image: 'busybox' }] },
    } as KubeObject);
    await eventually(
      async () => ((await client.get(PODS, 'default', 'web')) as unknown as Pod).status?.phase === 'Running',
      'Running',
    );
    const got = (await client.get(PODS, 'default', 'web')) as unknown as Pod;
    assert.equal(got.status?.hostIP, '192.168.0.10');
    assert.ok(got.status?.podIP);
    assert.equal(got.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(cri.sandboxes.size, 1, 'the pod of node2 is not run here');
    await eventually(async () => {
      const evs = (await client.list(EVENTS, 'default')).items as unknown as Event[];
      return evs.some((e) => e.reason === 'Started' && e.involvedObject.uid === pod.metadata?.uid);
    }, 'Started event');
    // A graceful delete: the API server sets deletionTimestamp; the kubelet kills and deletes.
    await client.delete(PODS, 'default', 'web', { gracePeriodSeconds: 5 });
    await eventually(
      async () => {
        try {
          await client.get(PODS, 'default', 'web');
          return false;
        } catch {
          return true;
        }
      },
      'pod gone',
      10_000,
    );
    const stop = cri.callsOf('stopContainer')[0];
    assert.equal(stop?.args[1], 5);
    await eventually(() => cri.containers.size === 0 && cri.sandboxes.size === 0, 'runtime cleaned');
  } finally {
    ac.abort();
  }
});
