/**
 * The real `@kubernetes/client-node` 2.x against a real `skiff server`: typed CoreV1Api calls, and an
 * informer (list + watch, with its local cache) that must see every change once, in order — also
 * across a restart of the server on the same port and data dir.
 *
 * How client-node 2.x behaves when its watch drops (read from its `ListWatch`): a watch the server
 * ends cleanly is re-opened at once from the last resourceVersion; a 410 (as an HTTP status or as
 * an ERROR event) makes it relist; any other failure — the connection cut when the server stops,
 * then "connection refused" while it is down — is reported through the 'error' callback and the
 * informer stops. The library's own example, which real users copy, calls `informer.start()` again
 * from the 'error' callback after a delay; this test does the same. `start()` keeps the last
 * resourceVersion, so the informer first tries to resume its watch; a restarted server answers 410
 * (its watch cache starts empty, as kube-apiserver's does) and the informer relists, which fires
 * callbacks only for objects whose resourceVersion changed. (`stop()` also reports an AbortError
 * through 'error', so the restart must check that the informer was not stopped on purpose.)
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  CoreV1Api,
  type Informer,
  KubeConfig,
  makeInformer,
  type ObjectCache,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { TestCluster } from '../helpers/cluster.ts';

const NS = 'default';

/** A TCP port nothing listens on right now, so the server can come back on the same one. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Waits until `cond()` holds, polling; fails with `what()` after `timeoutMs`. */
async function waitFor(cond: () => boolean, what: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The error a failed call threw, which must be a client-node ApiException. */
async function apiError(call: Promise<unknown>): Promise<{ code: number; status: Record<string, unknown> }> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof ApiException, `expected an ApiException, got ${String(err)}`);
    const body = (err as ApiException<unknown>).body;
    return {
      code: (err as ApiException<unknown>).code,
      status: typeof body === 'string' ? JSON.parse(body) : (body as Record<string, unknown>),
    };
  }
  assert.fail('expected the call to fail');
}

describe('@kubernetes/client-node 2.x', { timeout: 60_000 }, () => {
  let cluster: TestCluster;
  let port: number;
  let core: CoreV1Api;
  let kubeconfig: KubeConfig;

  before(async () => {
    port = await freePort();
    cluster = await TestCluster.start(['--https-listen-port', String(port)]);
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    kubeconfig = kc;
  });
  let informer: (Informer<V1ConfigMap> & ObjectCache<V1ConfigMap>) | undefined;
  let informerStopped = false;
  after(async () => {
    informerStopped = true;
    await informer?.stop();
    await cluster?.stop();
  });

  it('CoreV1Api creates, reads, lists, patches and deletes a ConfigMap, and lists namespaces', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'crud', labels: { app: 'crud' } }, data: { a: '1' } },
    });
    assert.equal(created.metadata?.name, 'crud');
    assert.equal(created.metadata?.namespace, NS);
    assert.ok(created.metadata?.uid);
    assert.match(created.metadata?.resourceVersion ?? '', /^\d+$/);
    assert.ok(created.metadata?.creationTimestamp instanceof Date);
    assert.deepEqual(created.data, { a: '1' });

    const dup = await apiError(
      core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'crud' } } }),
    );
    assert.equal(dup.code, 409);
    assert.equal(dup.status.reason, 'AlreadyExists');

    const read = await core.readNamespacedConfigMap({ name: 'crud', namespace: NS });
    assert.equal(read.metadata?.uid, created.metadata?.uid);
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.deepEqual(read.data, { a: '1' });

    const list = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'app=crud' });
    assert.deepEqual(
      list.items.map((c) => c.metadata?.name),
      ['crud'],
    );
    assert.match(list.metadata?.resourceVersion ?? '', /^\d+$/);
    assert.ok(Number(list.metadata?.resourceVersion) >= Number(created.metadata?.resourceVersion));
    assert.deepEqual(
      (await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'app=none' })).items,
      [],
    );

    // The generated client sends JSON patch by default; merge patch is chosen with a header.
    const jsonPatched = await core.patchNamespacedConfigMap({
      name: 'crud',
      namespace: NS,
      body: [{ op: 'add', path: '/data/b', value: '2' }],
    });
    assert.deepEqual(jsonPatched.data, { a: '1', b: '2' });
    assert.ok(Number(jsonPatched.metadata?.resourceVersion) > Number(created.metadata?.resourceVersion));
    const mergePatched = await core.patchNamespacedConfigMap(
      { name: 'crud', namespace: NS, body: { data: { a: null, c: '3' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(mergePatched.data, { b: '2', c: '3' });

    // An update carrying a stale resourceVersion is a conflict.
    const stale = await apiError(
      core.replaceNamespacedConfigMap({
        name: 'crud',
        namespace: NS,
        body: { metadata: { name: 'crud', resourceVersion: created.metadata?.resourceVersion }, data: {} },
      }),
    );
    assert.equal(stale.code, 409);
    assert.equal(stale.status.reason, 'Conflict');

    const namespaces = await core.listNamespace();
    assert.deepEqual(namespaces.items.map((n) => n.metadata?.name).sort(), [
      'default',
      'kube-node-lease',
      'kube-public',
      'kube-system',
    ]);
    assert.equal(namespaces.items.find((n) => n.metadata?.name === NS)?.status?.phase, 'Active');

    await core.deleteNamespacedConfigMap({ name: 'crud', namespace: NS });
    const missing = await apiError(core.readNamespacedConfigMap({ name: 'crud', namespace: NS }));
    assert.equal(missing.code, 404);
    const { details, ...status } = missing.status as { details: Record<string, unknown> };
    assert.deepEqual(status, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "crud" not found',
      reason: 'NotFound',
      code: 404,
    });
    // Kubernetes omits an empty group (`omitempty`); skiff sends `group: ""`, which decodes the same.
    assert.deepEqual({ group: '', ...details }, { name: 'crud', group: '', kind: 'configmaps' });
    const again = await apiError(core.deleteNamespacedConfigMap({ name: 'crud', namespace: NS }));
    assert.equal(again.code, 404);
    assert.equal(again.status.reason, 'NotFound');
  });

  /** What the informer told us about the test's ConfigMaps, as `verb name data`, in order. */
  const seen: string[] = [];
  const errors: unknown[] = [];
  let connects = 0;
  const PREFIX = 'inf-';
  const describeCm = (verb: string, cm: V1ConfigMap) => `${verb} ${cm.metadata?.name} ${cm.data?.v ?? '-'}`;

  const create = (name: string, v: string) =>
    core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name }, data: { v } } });
  const update = (name: string, v: string) =>
    core.patchNamespacedConfigMap(
      { name, namespace: NS, body: { data: { v } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const remove = (name: string) => core.deleteNamespacedConfigMap({ name, namespace: NS });

  /** The informer's cache and the server's list, as sorted `name@resourceVersion` lines. */
  async function cacheAndServer(): Promise<{ cache: string[]; server: string[] }> {
    const line = (c: V1ConfigMap) => `${c.metadata?.name}@${c.metadata?.resourceVersion}`;
    const server = (await core.listNamespacedConfigMap({ namespace: NS })).items.map(line).sort();
    return { cache: (informer?.list(NS) ?? []).map(line).sort(), server };
  }

  /** Creates a sentinel and waits for its ADD: every event before it has then been delivered. */
  async function barrier(name: string): Promise<void> {
    await create(name, 'barrier');
    await waitFor(
      () => seen.includes(`add ${name} barrier`),
      () => `the informer to see ${name}; seen:\n${seen.join('\n')}`,
    );
  }

  it('an informer sees every create, update and delete once, in order, and its cache matches the server', async () => {
    informer = makeInformer(kubeconfig, `/api/v1/namespaces/${NS}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace: NS }),
    );
    for (const verb of ['add', 'update', 'delete'] as const) {
      informer.on(verb, (cm) => {
        if (cm.metadata?.name?.startsWith(PREFIX)) seen.push(describeCm(verb, cm));
      });
    }
    informer.on('connect', () => {
      connects++;
    });
    // What a real user does: client-node stops on errors and leaves restarting to the caller.
    informer.on('error', (err) => {
      errors.push(err);
      setTimeout(() => {
        if (!informerStopped) void informer?.start();
      }, 200);
    });
    // An object that exists before the informer starts arrives through the initial list.
    await create(`${PREFIX}pre`, '0');
    await informer.start();
    await waitFor(
      () => seen.length >= 1,
      () => 'the initial list',
    );
    assert.deepEqual(seen, [`add ${PREFIX}pre 0`]);

    const expected = [`add ${PREFIX}pre 0`];
    const N = 12;
    for (let i = 0; i < N; i++) {
      await create(`${PREFIX}${i}`, '1');
      expected.push(`add ${PREFIX}${i} 1`);
    }
    for (let i = 0; i < N; i += 2) {
      await update(`${PREFIX}${i}`, '2');
      expected.push(`update ${PREFIX}${i} 2`);
    }
    for (let i = 0; i < N; i += 3) {
      // Deleted objects arrive as they were last (2 for the even ones, 1 for the odd ones).
      await remove(`${PREFIX}${i}`);
      expected.push(`delete ${PREFIX}${i} ${i % 2 === 0 ? '2' : '1'}`);
    }
    await update(`${PREFIX}1`, '3');
    expected.push(`update ${PREFIX}1 3`);
    await remove(`${PREFIX}pre`);
    expected.push(`delete ${PREFIX}pre 0`);

    await barrier(`${PREFIX}barrier-1`);
    expected.push(`add ${PREFIX}barrier-1 barrier`);
    assert.deepEqual(seen, expected);
    const { cache, server } = await cacheAndServer();
    assert.deepEqual(cache, server);
    assert.equal(errors.length, 0, `informer errors: ${errors.map(String).join('; ')}`);
  });

  it('the informer resumes after the server restarts on the same port and data dir, losing and repeating nothing', async () => {
    assert.ok(informer);
    const before = await cacheAndServer();
    assert.deepEqual(before.cache, before.server);
    const seenBefore = seen.length;
    const connectsBefore = connects;
    const errorsBefore = errors.length;

    // The server goes away; the informer's watch ends and its reconnects fail with 'error'.
    await cluster.stop({ keepData: true });
    await waitFor(
      () => errors.length > errorsBefore,
      () => 'the informer to report that the server is gone',
    );
    cluster = await TestCluster.start(['--https-listen-port', String(port)], cluster.dataDir);

    // Changes made as soon as the server is back — the informer may or may not have reconnected
    // yet — each reach it exactly once, through the relist or through the watch.
    await create(`${PREFIX}r-new`, '1');
    await update(`${PREFIX}1`, '4');
    await remove(`${PREFIX}2`);
    await barrier(`${PREFIX}barrier-2`);
    const afterRestart = seen.slice(seenBefore);
    assert.deepEqual(
      afterRestart.slice(0, -1).sort(),
      [`add ${PREFIX}r-new 1`, `delete ${PREFIX}2 2`, `update ${PREFIX}1 4`],
      `events after the restart:\n${afterRestart.join('\n')}`,
    );
    assert.equal(afterRestart.at(-1), `add ${PREFIX}barrier-2 barrier`);
    assert.ok(connects > connectsBefore, 'the informer reconnected');

    // Now that it is connected again, later changes arrive through the watch, in order.
    const mark = seen.length;
    const expected: string[] = [];
    await create(`${PREFIX}r-2`, '1');
    expected.push(`add ${PREFIX}r-2 1`);
    await update(`${PREFIX}r-2`, '2');
    expected.push(`update ${PREFIX}r-2 2`);
    await update(`${PREFIX}r-new`, '2');
    expected.push(`update ${PREFIX}r-new 2`);
    await remove(`${PREFIX}r-2`);
    expected.push(`delete ${PREFIX}r-2 2`);
    await remove(`${PREFIX}1`);
    expected.push(`delete ${PREFIX}1 4`);
    await create(`${PREFIX}r-2`, '3');
    expected.push(`add ${PREFIX}r-2 3`);
    await barrier(`${PREFIX}barrier-3`);
    expected.push(`add ${PREFIX}barrier-3 barrier`);
    assert.deepEqual(seen.slice(mark), expected);

    const end = await cacheAndServer();
    assert.deepEqual(end.cache, end.server);
  });
});
