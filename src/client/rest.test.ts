import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../api/errors.ts';
import { renderKubeconfig } from '../apiserver/auth/kubeconfig.ts';
import { fromKubeconfig } from './kubeconfig.ts';
import { CONFIG_MAPS, DEPLOYMENTS, NAMESPACES, PODS } from './resources.ts';
import { HttpRestClient } from './rest.ts';
import { startTestApiServer, type TestApiServer } from './testing.ts';
import type { KubeObject, WatchEvent } from './types.ts';

const cm = (
  name: string,
  data: Record<string, string> = {},
  labels?: Record<string, string>,
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels ? { labels } : {}) },
  data,
});

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );

describe('HttpRestClient', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config, { component: 'test' });
  });
  after(async () => {
    client.close();
    await srv.close();
  });

  it('builds Kubernetes paths', () => {
    assert.equal(HttpRestClient.pathOf(PODS, 'ns', 'p', 'status'), '/api/v1/namespaces/ns/pods/p/status');
    assert.equal(HttpRestClient.pathOf(PODS, ''), '/api/v1/pods');
    assert.equal(HttpRestClient.pathOf(NAMESPACES, 'ignored', 'x'), '/api/v1/namespaces/x');
    assert.equal(
      HttpRestClient.pathOf(DEPLOYMENTS, 'a', 'd', 'scale'),
      '/apis/apps/v1/namespaces/a/deployments/d/scale',
    );
    assert.equal(client.userAgent, 'skiff-test/0.1.0');
  });

  it('creates, gets, lists, updates, patches and deletes', async () => {
    const created = await client.create(CONFIG_MAPS, 'default', cm('a', { k: 'v' }));
    assert.equal(created.metadata.name, 'a');
    assert.ok(created.metadata.resourceVersion);
    const got = await client.get(CONFIG_MAPS, 'default', 'a');
    assert.deepEqual(got.data, { k: 'v' });

    const updated = await client.update(CONFIG_MAPS, 'default', { ...got, data: { k: 'v2' } });
    assert.deepEqual(updated.data, { k: 'v2' });
    assert.notEqual(updated.metadata.resourceVersion, got.metadata.resourceVersion);

    const merged = await client.patch(CONFIG_MAPS, 'default', 'a', 'merge', { data: { m: '1' } });
    assert.deepEqual(merged.data, { k: 'v2', m: '1' });
    const jsonPatched = await client.patch(CONFIG_MAPS, 'default', 'a', 'json', [
      { op: 'remove', path: '/data/k' },
    ]);
    assert.deepEqual(jsonPatched.data, { m: '1' });
    const smp = await client.patch(CONFIG_MAPS, 'default', 'a', 'strategic', { data: { s: '2' } });
    assert.deepEqual(smp.data, { m: '1', s: '2' });
    const applied = await client.patch(
      CONFIG_MAPS,
      'default',
      'applied',
      'apply',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { x: 'y' } },
      { fieldManager: 'test', force: true },
    );
    assert.deepEqual(applied.data, { x: 'y' });

    const list = await client.list(CONFIG_MAPS, 'default');
    assert.deepEqual(
      list.items.map((i) => i.metadata.name),
      ['a', 'applied'],
    );
    assert.ok(Number(list.resourceVersion) > 0);

    assert.equal(await client.delete(CONFIG_MAPS, 'default', 'a'), null);
    assert.equal(((await rejection(client.get(CONFIG_MAPS, 'default', 'a'))) as ApiError).code, 404);
    await client.delete(CONFIG_MAPS, 'default', 'applied');
  });

  it('dry-runs writes without storing them', async () => {
    await client.create(CONFIG_MAPS, 'default', cm('dry'), { dryRun: true });
    assert.equal(((await rejection(client.get(CONFIG_MAPS, 'default', 'dry'))) as ApiError).code, 404);
  });

  it('turns Status answers into ApiErrors', async () => {
    const notFound = (await rejection(client.get(CONFIG_MAPS, 'default', 'missing'))) as ApiError;
    assert.ok(notFound instanceof ApiError);
    assert.equal(notFound.code, 404);
    assert.equal(notFound.reason, 'NotFound');
    assert.equal(notFound.message, 'configmaps "missing" not found');
    assert.equal(notFound.details?.name, 'missing');

    await client.create(CONFIG_MAPS, 'default', cm('dup'));
    const exists = (await rejection(client.create(CONFIG_MAPS, 'default', cm('dup')))) as ApiError;
    assert.equal(exists.code, 409);
    assert.equal(exists.reason, 'AlreadyExists');

    const stale = await client.get(CONFIG_MAPS, 'default', 'dup');
    await client.update(CONFIG_MAPS, 'default', { ...stale, data: { a: '1' } });
    const conflict = (await rejection(
      client.update(CONFIG_MAPS, 'default', { ...stale, data: { a: '2' } }),
    )) as ApiError;
    assert.equal(conflict.code, 409);
    assert.equal(conflict.reason, 'Conflict');

    const invalid = (await rejection(client.create(CONFIG_MAPS, 'default', cm('Not_Valid')))) as ApiError;
    assert.equal(invalid.code, 422);
    assert.equal(invalid.reason, 'Invalid');
    assert.ok(invalid.details?.causes?.length);

    const precondition = (await rejection(
      client.delete(CONFIG_MAPS, 'default', 'dup', { preconditions: { uid: 'not-the-uid' } }),
    )) as ApiError;
    assert.equal(precondition.code, 409);
  });

  it('fails with a plain Error when the server cannot be reached', async () => {
    const dead = new HttpRestClient({ ...srv.config, server: 'https://127.0.0.1:1' });
    const err = await rejection(dead.get(CONFIG_MAPS, 'default', 'x'));
    assert.ok(err instanceof Error && !(err instanceof ApiError));
    dead.close();
  });

  it('lists page by page', async () => {
    await client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paged' } });
    for (let i = 0; i < 5; i++) await client.create(CONFIG_MAPS, 'paged', cm(`p${i}`));
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await client.list(CONFIG_MAPS, 'paged', { limit: 2, continue: cont });
      names.push(...page.items.map((i) => i.metadata.name ?? ''));
      cont = page.continue;
      pages++;
    } while (cont);
    assert.equal(pages, 3);
    assert.deepEqual(names, ['p0', 'p1', 'p2', 'p3', 'p4']);
    const selected = await client.list(CONFIG_MAPS, 'paged', { fieldSelector: 'metadata.name=p3' });
    assert.deepEqual(
      selected.items.map((i) => i.metadata.name),
      ['p3'],
    );
  });

  it('streams watch events and ends when the signal aborts, closing the connection', async () => {
    const start = await client.list(CONFIG_MAPS, 'default');
    const ac = new AbortController();
    const seen: WatchEvent[] = [];
    const done = (async () => {
      for await (const e of client.watch(CONFIG_MAPS, 'default', {
        resourceVersion: start.resourceVersion,
        signal: ac.signal,
      })) {
        seen.push(e);
        if (seen.length === 3) ac.abort();
      }
    })();
    await client.create(CONFIG_MAPS, 'default', cm('w'));
    await client.patch(CONFIG_MAPS, 'default', 'w', 'merge', { data: { a: 'b' } });
    await client.delete(CONFIG_MAPS, 'default', 'w');
    await done;
    assert.deepEqual(
      seen.map((e) => `${e.type} ${e.object.metadata.name}`),
      ['ADDED w', 'MODIFIED w', 'DELETED w'],
    );
    // The server sees the watcher go away.
    const watchers = () => srv.api.caches.for(srv.api.catalog.get('', 'v1', 'configmaps')!).watchers;
    for (let i = 0; i < 100 && watchers() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(watchers(), 0);
  });

  it('ends a watch when the server closes it (timeoutSeconds)', async () => {
    const t0 = Date.now();
    const events: WatchEvent[] = [];
    for await (const e of client.watch(CONFIG_MAPS, 'default', {
      timeoutSeconds: 1,
      resourceVersion: (await client.list(CONFIG_MAPS, '')).resourceVersion,
    })) {
      events.push(e);
    }
    assert.equal(events.length, 0);
    assert.ok(Date.now() - t0 >= 900);
  });

  it('stops a watch when the consumer breaks out of the loop', async () => {
    await client.create(CONFIG_MAPS, 'default', cm('brk'));
    for await (const e of client.watch(CONFIG_MAPS, 'default', {})) {
      assert.equal(e.type, 'ADDED');
      break;
    }
    const watchers = () => srv.api.caches.for(srv.api.catalog.get('', 'v1', 'configmaps')!).watchers;
    for (let i = 0; i < 100 && watchers() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(watchers(), 0);
  });

  it('reports a too-old watch resourceVersion as 410', async () => {
    // A fresh server's watch cache holds no history before it started.
    const events: WatchEvent[] = [];
    let error: unknown = null;
    try {
      for await (const e of client.watch(PODS, '', { resourceVersion: '1' })) events.push(e);
    } catch (err) {
      error = err;
    }
    // As kube-apiserver's cacher: an HTTP 200 whose one event is an ERROR carrying the 410 Status.
    assert.equal(error, null);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type, 'ERROR');
    assert.equal((events[0]?.object as { code?: number } | undefined)?.code, 410);
  });

  it('posts to subresources (pods/binding)', async () => {
    await client.create(PODS, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bindme' },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    await client.createSubresource(PODS, 'default', 'bindme', 'binding', {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'bindme' },
      target: { kind: 'Node', name: 'n1' },
    });
    const pod = await client.get<KubeObject & { spec: { nodeName?: string } }>(PODS, 'default', 'bindme');
    assert.equal(pod.spec.nodeName, 'n1');
    // A pod's delete answers with the object.
    const deleted = await client.delete(PODS, 'default', 'bindme', { gracePeriodSeconds: 0 });
    assert.equal(deleted?.metadata.name, 'bindme');
  });

  it('connects from a kubeconfig', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-kubeconfig-'));
    try {
      const path = join(dir, 'kubeconfig.yaml');
      const { server, ca, cert, key } = srv.config;
      writeFileSync(path, renderKubeconfig({ server, ca: ca!, cert: cert!, key: key! }));
      const c = fromKubeconfig(path, { component: 'kc' });
      const ns = await c.get(NAMESPACES, '', 'default');
      assert.equal(ns.metadata.name, 'default');
      c.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
