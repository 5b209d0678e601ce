/** Informers and the factory against a real API server in this process. */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { InformerFactory } from './factory.ts';
import { SharedInformer } from './informer.ts';
import { objectKey } from './keys.ts';
import { CONFIG_MAPS, NAMESPACES, PODS, SECRETS } from './resources.ts';
import { HttpRestClient } from './rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from './testing.ts';
import type { EventHandler, KubeObject, ListOptions, RestClient, WatchEvent, WatchOptions } from './types.ts';

const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data,
});

function recorder(): EventHandler & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    onAdd: (o) => log.push(`add ${objectKey(o)}`),
    onUpdate: (_a, b) => log.push(`update ${objectKey(b)} ${JSON.stringify(b.data ?? {})}`),
    onDelete: (o) => log.push(`delete ${objectKey(o)}`),
  };
}

/** A RestClient that counts list and watch calls of the one it wraps. */
function counting(inner: RestClient): RestClient & { lists: ListOptions[]; watches: WatchOptions[] } {
  const lists: ListOptions[] = [];
  const watches: WatchOptions[] = [];
  return {
    lists,
    watches,
    get: (...a) => inner.get(...a),
    list: (ref, ns, opts) => {
      lists.push(opts ?? {});
      return inner.list(ref, ns, opts);
    },
    watch: <T extends KubeObject>(
      ref: Parameters<RestClient['watch']>[0],
      ns: string,
      opts?: WatchOptions,
    ) => {
      watches.push(opts ?? {});
      return inner.watch<T>(ref, ns, opts) as AsyncIterable<WatchEvent<T>>;
    },
    create: (...a) => inner.create(...a),
    update: (...a) => inner.update(...a),
    patch: (...a) => inner.patch(...a),
    delete: (...a) => inner.delete(...a),
    createSubresource: (...a) => inner.createSubresource(...a),
  } as RestClient & { lists: ListOptions[]; watches: WatchOptions[] };
}

const names = (objs: KubeObject[]) => objs.map(objectKey).sort();

describe('SharedInformer against the API server', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  const stops: AbortController[] = [];
  let nsCount = 0;
  /** A fresh namespace per test. */
  async function namespace(): Promise<string> {
    const name = `t${++nsCount}`;
    await client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return name;
  }
  function run(inf: SharedInformer): AbortController {
    const ac = new AbortController();
    stops.push(ac);
    inf.run(ac.signal);
    return ac;
  }

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config, { component: 'informer-test' });
    // The server starts a resource's watch cache on first use, with no history before that: a watch
    // from an older resourceVersion gets 410 even when nothing of the resource changed since. Start
    // the configmaps cache now (a list at "0" is served from it), so the first test sees every event
    // rather than the (equally valid) diff of a relist.
    await client.list(CONFIG_MAPS, '', { resourceVersion: '0' });
  });
  afterEach(() => {
    for (const ac of stops.splice(0)) ac.abort();
  });
  after(async () => {
    client.close();
    await srv.close();
  });

  it('sees adds, updates and deletes in order, and its cache equals the server list', async () => {
    const ns = await namespace();
    await client.create(CONFIG_MAPS, ns, cm('before'));
    const inf = new SharedInformer(client, CONFIG_MAPS, { namespace: ns });
    const rec = recorder();
    inf.addEventHandler(rec);
    run(inf);
    await inf.synced();
    await client.create(CONFIG_MAPS, ns, cm('a', { v: '1' }));
    await client.patch(CONFIG_MAPS, ns, 'a', 'merge', { data: { v: '2' } });
    await client.create(CONFIG_MAPS, ns, cm('b'));
    await client.delete(CONFIG_MAPS, ns, 'before');
    await client.patch(CONFIG_MAPS, ns, 'a', 'merge', { data: { v: '3' } });
    await eventually(() => rec.log.length === 6, 'six events');
    assert.deepEqual(rec.log, [
      `add ${ns}/before`,
      `add ${ns}/a`,
      `update ${ns}/a {"v":"2"}`,
      `add ${ns}/b`,
      `delete ${ns}/before`,
      `update ${ns}/a {"v":"3"}`,
    ]);
    const list = await client.list(CONFIG_MAPS, ns);
    assert.deepEqual(names(inf.lister().list()), names(list.items));
    for (const o of list.items) {
      assert.equal(inf.lister().get(objectKey(o))?.metadata.resourceVersion, o.metadata.resourceVersion);
    }
  });

  it('watches again from where it was when the server closes watches (timeoutSeconds)', async () => {
    const ns = await namespace();
    const counted = counting(client);
    const inf = new SharedInformer(counted, CONFIG_MAPS, { namespace: ns, watchTimeoutSeconds: 1 });
    const rec = recorder();
    inf.addEventHandler(rec);
    run(inf);
    await inf.synced();
    await client.create(CONFIG_MAPS, ns, cm('one'));
    await eventually(() => counted.watches.length >= 2, 'a second watch', 4000);
    await client.create(CONFIG_MAPS, ns, cm('two'));
    await eventually(() => rec.log.length === 2, 'both adds');
    assert.deepEqual(rec.log, [`add ${ns}/one`, `add ${ns}/two`]);
    assert.equal(counted.lists.length, 1, 'no relist');
    assert.equal(
      counted.watches[1]?.resourceVersion,
      inf.lister().get(`${ns}/one`)?.metadata.resourceVersion,
    );
  });

  it('recovers from a 410 after an API server restart: relists and sends only the differences', async () => {
    const ns = await namespace();
    for (const n of ['keep', 'change', 'remove']) await client.create(CONFIG_MAPS, ns, cm(n));
    const counted = counting(client);
    const inf = new SharedInformer(counted, CONFIG_MAPS, { namespace: ns, backoffInitialMs: 20 });
    const rec = recorder();
    inf.addEventHandler(rec);
    run(inf);
    await inf.synced();
    await eventually(() => counted.watches.length === 1, 'a watch');
    rec.log.length = 0;
    // While the server is down, the store changes; the new server's watch cache has no history
    // from before it started, so the informer's watch from its old resourceVersion gets a 410.
    await srv.restart(async (api) => {
      const def = api.catalog.get('', 'v1', 'configmaps')!;
      const change = await api.registry.get(def, ns, 'change');
      await api.registry.update(def, ns, 'change', { ...change, data: { v: 'new' } }, { user: 'test' });
      await api.registry.delete(def, ns, 'remove', { user: 'test' });
      await api.registry.create(def, ns, cm('added'), { user: 'test' });
      await api.registry.create(def, 'default', cm('elsewhere'), { user: 'test' });
    });
    await eventually(() => rec.log.length === 3, 'the differences', 5000);
    assert.deepEqual(rec.log.slice().sort(), [
      `add ${ns}/added`,
      `delete ${ns}/remove`,
      `update ${ns}/change {"v":"new"}`,
    ]);
    assert.equal(counted.lists.length, 2, 'one relist');
    assert.equal(counted.lists[1]?.resourceVersion, '');
    const list = await client.list(CONFIG_MAPS, ns);
    assert.deepEqual(names(inf.lister().list()), names(list.items));
    // And it keeps watching.
    await client.create(CONFIG_MAPS, ns, cm('later'));
    await eventually(() => rec.log.length === 4, 'an event after recovery');
    assert.equal(rec.log[3], `add ${ns}/later`);
  });
});

describe('InformerFactory against the API server', () => {
  it('shares one informer per resource and selection, starts them and waits for sync', async () => {
    const srv = await startTestApiServer();
    const client = new HttpRestClient(srv.config);
    const ac = new AbortController();
    try {
      await client.create(SECRETS, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } });
      const f = new InformerFactory(client);
      const pods = f.informer(PODS);
      assert.equal(f.informer(PODS), pods);
      assert.notEqual(f.informer(PODS, { namespace: 'default' }), pods);
      assert.notEqual(f.informer(PODS, { labelSelector: 'a=b' }), pods);
      assert.equal(f.informer(NAMESPACES, { namespace: 'ignored' }), f.informer(NAMESPACES));
      f.start(ac.signal);
      assert.equal(await f.waitForSync(), true);
      assert.ok(pods.hasSynced());
      assert.deepEqual(names(f.informer(NAMESPACES).lister().list()), [
        'default',
        'kube-node-lease',
        'kube-public',
        'kube-system',
      ]);
      // One asked for after start() starts at once.
      const secrets = f.informer(SECRETS);
      assert.equal(await f.waitForSync(), true);
      assert.equal(secrets.lister().get('default/s')?.metadata.name, 's');
      // waitForSync gives up when its signal aborts.
      const dead = new InformerFactory(new HttpRestClient({ ...srv.config, server: 'https://127.0.0.1:1' }));
      dead.informer(PODS);
      const deadStop = new AbortController();
      dead.start(deadStop.signal);
      const giveUp = new AbortController();
      setTimeout(() => giveUp.abort(), 50);
      assert.equal(await dead.waitForSync(giveUp.signal), false);
      deadStop.abort();
      await dead.stopped();
    } finally {
      ac.abort();
      client.close();
      await srv.close();
    }
  });
});
