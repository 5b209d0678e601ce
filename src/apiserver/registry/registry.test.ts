import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { instrumentStore } from '../../storage/instrumented.ts';
import { MemoryStore } from '../../storage/memory/store.ts';
import { FakeClock } from '../../util/clock.ts';
import { silentLogger } from '../../util/log.ts';
import { bootstrapCluster } from '../bootstrap.ts';
import { Catalog } from '../catalog.ts';
import type { KubeObject } from '../object.ts';
import { builtinResources } from '../resources/builtin.ts';
import { CachedEvent, WatchCaches } from '../watchcache/index.ts';
import { type ApiWatchEvent, type CachedObjects, type CacheSource, Registry } from './registry.ts';
import { validateMeta } from './validate-meta.ts';

async function setup() {
  const clock = new FakeClock(Date.UTC(2026, 10, 25, 12, 0, 0));
  const store = new MemoryStore({ clock });
  const catalog = new Catalog();
  for (const d of builtinResources()) catalog.add(d);
  const registry = new Registry({ store, clock, validateMeta });
  await bootstrapCluster(registry, catalog);
  const def = (group: string, resource: string) => catalog.get(group, 'v1', resource)!;
  return { clock, store, catalog, registry, def };
}

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
  return err;
}

const deployment = (name: string, replicas = 1): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    },
  },
});

describe('Registry', () => {
  it('creates with system metadata and refuses duplicates with 409 AlreadyExists', async () => {
    const { registry, def } = await setup();
    const cm = await registry.create(def('', 'configmaps'), 'default', {
      metadata: { name: 'a' },
      data: { k: 'v' },
    });
    assert.equal(cm.apiVersion, 'v1');
    assert.equal(cm.kind, 'ConfigMap');
    assert.equal(cm.metadata.namespace, 'default');
    assert.match(cm.metadata.uid!, /^[0-9a-f-]{36}$/);
    assert.equal(cm.metadata.creationTimestamp, '2026-11-25T12:00:00Z');
    assert.match(cm.metadata.resourceVersion!, /^\d+$/);
    assert.equal(cm.metadata.generation, undefined);
    const dup = await apiError(
      registry.create(def('', 'configmaps'), 'default', { metadata: { name: 'a' } }),
    );
    assert.equal(dup.code, 409);
    assert.equal(dup.reason, 'AlreadyExists');
    assert.equal(dup.message, 'configmaps "a" already exists');
  });

  it('generateName makes a name; invalid names are 422 with every field error', async () => {
    const { registry, def } = await setup();
    const gen = await registry.create(def('', 'configmaps'), 'default', {
      metadata: { generateName: 'web-' },
    });
    assert.match(gen.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const bad = await apiError(
      registry.create(def('', 'configmaps'), 'default', {
        metadata: { name: 'Bad_Name', labels: { 'a/b/c': 'x' } },
      }),
    );
    assert.equal(bad.code, 422);
    assert.equal(bad.reason, 'Invalid');
    assert.deepEqual(
      bad.details?.causes?.map((c) => c.field),
      ['metadata.name', 'metadata.labels'],
    );
    assert.match(
      bad.message,
      /^ConfigMap "Bad_Name" is invalid: \[metadata\.name: Invalid value: "Bad_Name"/,
    );
  });

  it('refuses a body whose namespace, kind or apiVersion contradicts the URL', async () => {
    const { registry, def } = await setup();
    const ns = await apiError(
      registry.create(def('', 'configmaps'), 'default', { metadata: { name: 'a', namespace: 'other' } }),
    );
    assert.equal(ns.code, 400);
    const kind = await apiError(
      registry.create(def('', 'configmaps'), 'default', { kind: 'Secret', metadata: { name: 'a' } }),
    );
    assert.equal(kind.code, 400);
    const av = await apiError(
      registry.create(def('', 'configmaps'), 'default', { apiVersion: 'apps/v1', metadata: { name: 'a' } }),
    );
    assert.equal(av.code, 400);
  });

  it('creating into a missing namespace is 404, into a terminating one 403', async () => {
    const { registry, def } = await setup();
    const missing = await apiError(
      registry.create(def('', 'configmaps'), 'nope', { metadata: { name: 'a' } }),
    );
    assert.equal(missing.code, 404);
    assert.equal(missing.message, 'namespaces "nope" not found');
    await registry.create(def('', 'namespaces'), '', { metadata: { name: 'doomed' } });
    const del = await registry.delete(def('', 'namespaces'), '', 'doomed');
    assert.equal(del.deleted, false);
    assert.equal((del.object.status as { phase: string }).phase, 'Terminating');
    assert.ok(del.object.metadata.deletionTimestamp);
    const terminating = await apiError(
      registry.create(def('', 'configmaps'), 'doomed', { metadata: { name: 'a' } }),
    );
    assert.equal(terminating.code, 403);
    assert.match(
      terminating.message,
      /unable to create new content in namespace doomed because it is being terminated/,
    );
  });

  it('optimistic concurrency: a stale resourceVersion is 409 Conflict; none means unconditional', async () => {
    const { registry, def } = await setup();
    const cms = def('', 'configmaps');
    const v1 = await registry.create(cms, 'default', { metadata: { name: 'a' }, data: { k: '1' } });
    const v2 = await registry.update(cms, 'default', 'a', { ...v1, data: { k: '2' } });
    assert.notEqual(v2.object.metadata.resourceVersion, v1.metadata.resourceVersion);
    const stale = await apiError(registry.update(cms, 'default', 'a', { ...v1, data: { k: '3' } }));
    assert.equal(stale.code, 409);
    assert.equal(
      stale.message,
      'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
    );
    const { metadata, ...rest } = v1;
    const free = await registry.update(cms, 'default', 'a', {
      ...rest,
      metadata: { name: 'a' },
      data: { k: '4' },
    });
    assert.deepEqual(free.object.data, { k: '4' });
    assert.equal(free.object.metadata.uid, v1.metadata.uid, 'uid is kept');
    assert.equal(free.object.metadata.creationTimestamp, v1.metadata.creationTimestamp);
    const wrongName = await apiError(registry.update(cms, 'default', 'a', { metadata: { name: 'b' } }));
    assert.equal(wrongName.code, 400);
  });

  it('generation counts spec changes only; the main resource ignores status and the status subresource ignores the rest', async () => {
    const { registry, def } = await setup();
    const deps = def('apps', 'deployments');
    const d = await registry.create(deps, 'default', { ...deployment('web'), status: { replicas: 99 } });
    assert.equal(d.metadata.generation, 1);
    assert.deepEqual(d.status, {}, 'status is reset on create');
    const labelled = await registry.update(deps, 'default', 'web', {
      ...d,
      metadata: { ...d.metadata, labels: { app: 'web', tier: 'x' } },
    });
    assert.equal(labelled.object.metadata.generation, 1, 'a metadata change keeps the generation');
    const scaled = await registry.update(deps, 'default', 'web', {
      ...labelled.object,
      spec: { ...(labelled.object.spec as object), replicas: 3 },
      status: { replicas: 5 },
    });
    assert.equal(scaled.object.metadata.generation, 2);
    assert.deepEqual(scaled.object.status, {}, 'status written through the main resource is ignored');
    const status = await registry.update(
      deps,
      'default',
      'web',
      { ...scaled.object, spec: { replicas: 100 }, status: { replicas: 3, readyReplicas: 3 } },
      { subresource: 'status' },
    );
    assert.deepEqual(status.object.status, { replicas: 3, readyReplicas: 3 });
    assert.equal(
      (status.object.spec as { replicas: number }).replicas,
      3,
      'spec written through status is ignored',
    );
    assert.equal(status.object.metadata.generation, 2);
  });

  it('an update that changes nothing writes nothing', async () => {
    const { registry, def, store } = await setup();
    const cms = def('', 'configmaps');
    const cm = await registry.create(cms, 'default', { metadata: { name: 'a' }, data: { k: '1' } });
    const before = await store.currentRevision();
    const same = await registry.update(cms, 'default', 'a', cm);
    assert.equal(same.object.metadata.resourceVersion, cm.metadata.resourceVersion);
    assert.equal(await store.currentRevision(), before);
  });

  it('delete: finalizers and propagation policies defer it; removing the last finalizer completes it', async () => {
    const { registry, def } = await setup();
    const cms = def('', 'configmaps');
    await registry.create(cms, 'default', { metadata: { name: 'f', finalizers: ['example.com/hold'] } });
    const pending = await registry.delete(cms, 'default', 'f');
    assert.equal(pending.deleted, false);
    assert.equal(pending.object.metadata.deletionTimestamp, '2026-11-25T12:00:00Z');
    assert.equal(pending.object.metadata.deletionGracePeriodSeconds, 0);
    const still = await registry.get(cms, 'default', 'f');
    const cleared = await registry.update(cms, 'default', 'f', {
      ...still,
      metadata: { ...still.metadata, finalizers: [] },
    });
    assert.equal(cleared.created, false);
    assert.equal((await apiError(registry.get(cms, 'default', 'f'))).code, 404);

    await registry.create(cms, 'default', { metadata: { name: 'fg' } });
    const fg = await registry.delete(cms, 'default', 'fg', { propagationPolicy: 'Foreground' });
    assert.deepEqual(fg.object.metadata.finalizers, ['foregroundDeletion']);
    await registry.create(cms, 'default', { metadata: { name: 'or' } });
    const or = await registry.delete(cms, 'default', 'or', { propagationPolicy: 'Orphan' });
    assert.deepEqual(or.object.metadata.finalizers, ['orphan']);
    await registry.create(cms, 'default', { metadata: { name: 'bg' } });
    const bg = await registry.delete(cms, 'default', 'bg', { propagationPolicy: 'Background' });
    assert.equal(bg.deleted, true);
  });

  it('delete preconditions and dry runs', async () => {
    const { registry, def } = await setup();
    const cms = def('', 'configmaps');
    const cm = await registry.create(cms, 'default', { metadata: { name: 'p' } });
    const uid = await apiError(registry.delete(cms, 'default', 'p', { preconditions: { uid: 'other' } }));
    assert.equal(uid.code, 409);
    assert.match(uid.message, /Precondition failed: UID in precondition: other/);
    const dry = await registry.delete(cms, 'default', 'p', { dryRun: true });
    assert.equal(dry.deleted, true);
    assert.ok(await registry.get(cms, 'default', 'p'), 'a dry-run delete keeps the object');
    await registry.delete(cms, 'default', 'p', {
      preconditions: { uid: cm.metadata.uid, resourceVersion: cm.metadata.resourceVersion },
    });
    assert.equal((await apiError(registry.delete(cms, 'default', 'p'))).code, 404);
  });

  it('pods on a node are deleted gracefully; unscheduled pods at once', async () => {
    const { registry, def, clock } = await setup();
    const pods = def('', 'pods');
    const pod = (name: string, nodeName?: string) => ({
      metadata: { name },
      spec: { nodeName, terminationGracePeriodSeconds: 20, containers: [{ name: 'c', image: 'busybox' }] },
    });
    await registry.create(pods, 'default', pod('free'));
    assert.equal((await registry.delete(pods, 'default', 'free')).deleted, true);
    await registry.create(pods, 'default', pod('bound', 'node-1'));
    const graceful = await registry.delete(pods, 'default', 'bound');
    assert.equal(graceful.deleted, false);
    assert.equal(graceful.object.metadata.deletionGracePeriodSeconds, 20);
    assert.equal(
      graceful.object.metadata.deletionTimestamp,
      new Date(clock.now() + 20_000).toISOString().replace('.000', ''),
    );
    const shorter = await registry.delete(pods, 'default', 'bound', { gracePeriodSeconds: 5 });
    assert.equal(
      shorter.object.metadata.deletionGracePeriodSeconds,
      5,
      'a later delete may shorten the grace period',
    );
    const longer = await registry.delete(pods, 'default', 'bound', { gracePeriodSeconds: 60 });
    assert.equal(longer.object.metadata.deletionGracePeriodSeconds, 5, 'but not lengthen it');
    const forced = await registry.delete(pods, 'default', 'bound', { gracePeriodSeconds: 0 });
    assert.equal(forced.deleted, true, 'grace period 0 (kubectl --force) removes it at once');
  });

  it('lists with a filter and a limit page through every match exactly once, at one revision', async () => {
    const { registry, def } = await setup();
    const cms = def('', 'configmaps');
    for (let i = 0; i < 30; i++) {
      await registry.create(cms, 'default', {
        metadata: { name: `c${String(i).padStart(2, '0')}`, labels: { even: String(i % 2 === 0) } },
      });
    }
    const filter = (o: KubeObject) => o.metadata.labels?.even === 'true';
    const seen: string[] = [];
    let token: string | undefined;
    let rv: string | undefined;
    do {
      const page = await registry.list(cms, 'default', { filter, limit: 4, continue: token });
      assert.ok(page.items.length <= 4);
      rv ??= page.metadata.resourceVersion;
      assert.equal(page.metadata.resourceVersion, rv);
      seen.push(...page.items.map((o) => o.metadata.name!));
      token = page.metadata.continue;
      await registry.create(cms, 'default', {
        metadata: { name: `late${seen.length}`, labels: { even: 'true' } },
      });
    } while (token);
    assert.deepEqual(
      seen,
      Array.from({ length: 15 }, (_, i) => `c${String(i * 2).padStart(2, '0')}`),
    );
    const all = await registry.list(cms, '', {});
    assert.equal(all.kind, 'ConfigMapList');
    assert.ok(all.items.length >= 30);
  });

  it('watch: ADDED/MODIFIED/DELETED, selector transitions, and the initial-events bookmark', async () => {
    const { registry, def } = await setup();
    const cms = def('', 'configmaps');
    await registry.create(cms, 'default', { metadata: { name: 'before', labels: { w: 'y' } } });
    const ac = new AbortController();
    const events: ApiWatchEvent[] = [];
    const done = (async () => {
      for await (const e of registry.watch(cms, 'default', {
        filter: (o) => o.metadata.labels?.w === 'y',
        sendInitialEvents: true,
        allowBookmarks: true,
        signal: ac.signal,
      })) {
        events.push(e);
        if (events.length === 6) break;
      }
    })();
    const a = await registry.create(cms, 'default', { metadata: { name: 'a', labels: { w: 'y' } } });
    const a2 = await registry.update(cms, 'default', 'a', { ...a, data: { x: '1' } });
    await registry.update(cms, 'default', 'a', {
      ...a2.object,
      metadata: { ...a2.object.metadata, labels: { w: 'n' } },
    });
    await registry.create(cms, 'default', { metadata: { name: 'hidden', labels: { w: 'n' } } });
    await registry.delete(cms, 'default', 'before');
    await done;
    ac.abort();
    assert.deepEqual(
      events.map((e) => [e.type, (e.object as KubeObject).metadata.name ?? '']),
      [
        ['ADDED', 'before'],
        ['BOOKMARK', ''],
        ['ADDED', 'a'],
        ['MODIFIED', 'a'],
        ['DELETED', 'a'],
        ['DELETED', 'before'],
      ],
    );
    assert.equal(
      (events[1]!.object as KubeObject).metadata.annotations?.['k8s.io/initial-events-end'],
      'true',
    );
  });

  it('events expire an hour after their last write', async () => {
    const { registry, def, clock } = await setup();
    const events = def('', 'events');
    await registry.create(events, 'default', {
      metadata: { name: 'e1' },
      involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' },
      reason: 'Started',
      message: 'hello',
    });
    clock.advance(3000 * 1000);
    const e = await registry.get(events, 'default', 'e1');
    await registry.update(events, 'default', 'e1', { ...e, count: 2 });
    clock.advance(3000 * 1000);
    await new Promise((r) => setImmediate(r));
    assert.ok(await registry.get(events, 'default', 'e1'), 'an update restarts the hour');
    clock.advance(700 * 1000);
    await new Promise((r) => setImmediate(r));
    assert.equal((await apiError(registry.get(events, 'default', 'e1'))).code, 404);
  });

  it('pods get the default not-ready and unreachable tolerations unless they tolerate those taints', async () => {
    const { registry, def } = await setup();
    const pods = def('', 'pods');
    const plain = await registry.create(pods, 'default', {
      metadata: { name: 'a' },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    });
    assert.deepEqual((plain.spec as { tolerations: unknown[] }).tolerations, [
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ]);
    const all = await registry.create(pods, 'default', {
      metadata: { name: 'b' },
      spec: { containers: [{ name: 'c', image: 'x' }], tolerations: [{ operator: 'Exists' }] },
    });
    assert.deepEqual((all.spec as { tolerations: unknown[] }).tolerations, [{ operator: 'Exists' }]);
  });

  it('a terminating namespace stays until its spec.finalizers are cleared through finalize', async () => {
    const { registry, def } = await setup();
    const nss = def('', 'namespaces');
    await registry.create(nss, '', { metadata: { name: 'going' } });
    await registry.delete(nss, '', 'going');
    const ns = await registry.get(nss, '', 'going');
    const labelled = await registry.update(nss, '', 'going', {
      ...ns,
      metadata: { ...ns.metadata, labels: { x: 'y' } },
    });
    await registry.update(
      nss,
      '',
      'going',
      { ...labelled.object, status: { phase: 'Terminating', conditions: [] } },
      { subresource: 'status' },
    );
    const still = await registry.get(nss, '', 'going');
    assert.equal((still.status as { phase: string }).phase, 'Terminating');
    await registry.update(
      nss,
      '',
      'going',
      { ...still, spec: { finalizers: [] } },
      { subresource: 'finalize' },
    );
    assert.equal((await apiError(registry.get(nss, '', 'going'))).code, 404);
  });
});

/**
 * A registry reading from watch caches: `real` ones (started for every resource, as the server does),
 * or a `snapshot` of the store taken by `freeze()` that never changes — a cache that fell behind.
 */
async function setupCached(opts: { soleWriter?: boolean } = {}) {
  const clock = new FakeClock(Date.UTC(2026, 10, 25, 12, 0, 0));
  const store = new MemoryStore({ clock });
  /** The storage operations the registry made. */
  const ops: string[] = [];
  const seen = { ...instrumentStore(store, (op) => ops.push(op)), soleWriter: opts.soleWriter ?? true };
  const catalog = new Catalog();
  for (const d of builtinResources()) catalog.add(d);
  const real = new WatchCaches(store, silentLogger);
  let frozen: { revision: number; objects: Map<string, CachedEvent> } | null = null;
  let hits = 0;
  const snapshot: CachedObjects = {
    loaded: true,
    get revision() {
      return frozen?.revision ?? 0;
    },
    peek(key) {
      const e = frozen?.objects.get(key);
      if (e) hits++;
      return e;
    },
  };
  const source: CacheSource = {
    existing: (group, resource) => (frozen ? snapshot : real.existing(group, resource)),
  };
  const registry = new Registry({ store: seen, clock, validateMeta, caches: source });
  await bootstrapCluster(registry, catalog);
  for (const d of catalog.all()) real.for(d);
  for (const d of catalog.all()) await real.for(d).waitFor(await store.currentRevision());
  const def = (group: string, resource: string) => catalog.get(group, 'v1', resource)!;
  /** From now on the registry sees the store as it is now, whatever is written later. */
  const freeze = async () => {
    const page = await store.range('/registry/');
    const objects = new Map<string, CachedEvent>();
    for (const kv of page.items) {
      objects.set(kv.key, CachedEvent.added(kv));
    }
    frozen = { revision: page.revision, objects };
  };
  return { store, registry, def, freeze, ops, hits: () => hits, stop: () => real.stop() };
}

describe('Registry with watch caches', () => {
  it('trusts a current cache for existence checks only when its store has no other writer', async () => {
    for (const soleWriter of [true, false]) {
      const { registry, def, ops, stop } = await setupCached({ soleWriter });
      try {
        ops.length = 0;
        await registry.create(def('', 'configmaps'), 'default', { metadata: { name: 'a' } });
        assert.deepEqual(
          ops.filter((op) => op === 'get'),
          soleWriter ? [] : ['get'],
          `soleWriter ${soleWriter}: the namespace is read from storage only when others may write`,
        );
      } finally {
        stop();
      }
    }
  });

  it('creates into a namespace created just before; refuses one terminating, however stale the cache', async () => {
    const { registry, def, freeze, hits, stop } = await setupCached();
    try {
      const nss = def('', 'namespaces');
      const cms = def('', 'configmaps');
      // Real caches: no waiting between the namespace's write and the create into it.
      await registry.create(nss, '', { metadata: { name: 'fresh' } });
      await registry.create(cms, 'fresh', { metadata: { name: 'a' } });
      await registry.delete(nss, '', 'fresh');
      assert.equal((await apiError(registry.create(cms, 'fresh', { metadata: { name: 'b' } }))).code, 403);
      // A cache that has not seen the namespace, then one that still has it active.
      await freeze();
      await registry.create(nss, '', { metadata: { name: 'later' } });
      await registry.create(cms, 'later', { metadata: { name: 'a' } });
      await freeze();
      const before = hits();
      await registry.delete(nss, '', 'later');
      const refused = await apiError(registry.create(cms, 'later', { metadata: { name: 'b' } }));
      assert.equal(refused.code, 403);
      assert.match(refused.message, /because it is being terminated/);
      assert.ok(hits() > before, 'the delete started from the cached copy');
      // A current cache answers for an active namespace without storage, and still refuses a missing one.
      await freeze();
      await registry.create(cms, 'default', { metadata: { name: 'c' } });
      assert.equal((await apiError(registry.create(cms, 'gone', { metadata: { name: 'c' } }))).code, 404);
    } finally {
      stop();
    }
  });

  it('a write from a stale cached copy conflicts, then is retried from storage', async () => {
    const { registry, def, freeze, hits, stop } = await setupCached();
    try {
      const cms = def('', 'configmaps');
      const pods = def('', 'pods');
      const a = await registry.create(cms, 'default', { metadata: { name: 'a', labels: { one: '1' } } });
      await registry.create(pods, 'default', {
        metadata: { name: 'p' },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
      await freeze();
      // Written after the cache's snapshot.
      await registry.update(cms, 'default', 'a', {
        ...a,
        metadata: { name: 'a', labels: { one: '1', two: '2' } },
      });
      await registry.patch(pods, 'default', 'p', (p) => {
        p!.metadata.labels = { late: 'yes' };
        return p!;
      });
      let seen = hits();
      const patched = await registry.patch(cms, 'default', 'a', (cm) => {
        cm!.metadata.labels = { ...cm!.metadata.labels, three: '3' };
        return cm!;
      });
      assert.ok(hits() > seen);
      assert.deepEqual(patched.object.metadata.labels, { one: '1', two: '2', three: '3' });
      seen = hits();
      const bound = await registry.updateStored(pods, 'default', 'p', (p) => {
        p.spec = { ...(p.spec as object), nodeName: 'n1' };
        return p;
      });
      assert.ok(hits() > seen);
      assert.deepEqual(bound.metadata.labels, { late: 'yes' });
      const stored = await registry.get(pods, 'default', 'p');
      assert.equal((stored.spec as { nodeName?: string }).nodeName, 'n1');
      assert.deepEqual(stored.metadata.labels, { late: 'yes' });
      assert.equal(stored.metadata.resourceVersion, bound.metadata.resourceVersion);
    } finally {
      stop();
    }
  });

  it('a precondition, resourceVersion or refusal that only the stale cached copy contradicts is no error', async () => {
    const { registry, def, freeze, stop } = await setupCached();
    try {
      const cms = def('', 'configmaps');
      const pods = def('', 'pods');
      const a = await registry.create(cms, 'default', { metadata: { name: 'a', labels: { v: '1' } } });
      const p = await registry.create(pods, 'default', {
        metadata: { name: 'p', labels: { blocked: 'yes' } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
      await freeze();
      const a2 = (
        await registry.update(cms, 'default', 'a', { ...a, metadata: { name: 'a', labels: { v: '2' } } })
      ).object;
      const p2 = (
        await registry.patch(pods, 'default', 'p', (x) => {
          x!.metadata.labels = {};
          return x!;
        })
      ).object;
      const rv = a2.metadata.resourceVersion!;
      // PUT conditioned on the stored version.
      const put = await registry.update(cms, 'default', 'a', {
        ...a2,
        metadata: { name: 'a', resourceVersion: rv, labels: { v: '3' } },
      });
      assert.equal(put.object.metadata.labels?.v, '3');
      // updateStored with preconditions only the stale copy fails.
      const pre = { uid: p2.metadata.uid, resourceVersion: p2.metadata.resourceVersion };
      const bound = await registry.updateStored(
        pods,
        'default',
        'p',
        (x) => {
          if (x.metadata.labels?.blocked)
            throw ApiError.conflict({ group: '', resource: 'pods' }, 'p', 'blocked');
          x.spec = { ...(x.spec as object), nodeName: 'n1' };
          return x;
        },
        { preconditions: pre },
      );
      assert.equal((bound.spec as { nodeName?: string }).nodeName, 'n1');
      // A precondition storage contradicts is still a 409.
      const stale = await apiError(
        registry.updateStored(pods, 'default', 'p', (x) => x, {
          preconditions: { resourceVersion: p.metadata.resourceVersion },
        }),
      );
      assert.equal(stale.code, 409);
      assert.match(stale.message, /Precondition failed: ResourceVersion in precondition/);
      const staleRv = await apiError(
        registry.update(cms, 'default', 'a', { ...a2, metadata: { name: 'a', resourceVersion: rv } }),
      );
      assert.equal(staleRv.code, 409);
      // Delete with a precondition only the stale copy fails.
      const current = await registry.get(cms, 'default', 'a');
      const del = await registry.delete(cms, 'default', 'a', {
        preconditions: { resourceVersion: current.metadata.resourceVersion },
      });
      assert.equal(del.deleted, true);
    } finally {
      stop();
    }
  });

  it('an update that would change nothing against the stale cached copy is decided by storage', async () => {
    const { registry, def, freeze, stop } = await setupCached();
    try {
      const cms = def('', 'configmaps');
      const a = await registry.create(cms, 'default', { metadata: { name: 'a' }, data: { k: 'old' } });
      await freeze();
      const changed = await registry.update(cms, 'default', 'a', { ...a, data: { k: 'new' } });
      // The same as the cached copy, but not as storage: it is written.
      const back = await registry.update(cms, 'default', 'a', {
        metadata: { name: 'a' },
        data: { k: 'old' },
      });
      assert.deepEqual(back.object.data, { k: 'old' });
      assert.ok(
        Number(back.object.metadata.resourceVersion) > Number(changed.object.metadata.resourceVersion),
      );
      assert.deepEqual((await registry.get(cms, 'default', 'a')).data, { k: 'old' });
    } finally {
      stop();
    }
  });
});
