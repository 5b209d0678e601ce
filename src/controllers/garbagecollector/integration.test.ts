/**
 * The garbage collector against a real API server, with ConfigMaps owning ConfigMaps: background,
 * foreground and orphan deletion as a user sees them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONFIG_MAPS, NAMESPACES } from '../../client/resources.ts';
import { HttpRestClient, isApiError } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import type { KubeObject, RestClient } from '../../client/types.ts';
import { ControllerManager } from '../manager.ts';
import { GarbageCollector } from './controller.ts';
import { HttpDiscovery } from './discovery.ts';

const NS = 'gc';

async function get(client: RestClient, name: string): Promise<KubeObject | null> {
  try {
    return await client.get(CONFIG_MAPS, NS, name);
  } catch (err) {
    if (isApiError(err, 404)) return null;
    throw err;
  }
}

/** An owner and two dependents (blockOwnerDeletion set), returning the owner. */
async function family(client: RestClient, owner: string): Promise<KubeObject> {
  const o = await client.create<KubeObject>(CONFIG_MAPS, NS, { metadata: { name: owner } });
  for (const d of ['a', 'b']) {
    await client.create(CONFIG_MAPS, NS, {
      metadata: {
        name: `${owner}-${d}`,
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: owner,
            uid: o.metadata.uid!,
            blockOwnerDeletion: true,
          },
        ],
      },
    });
  }
  return o;
}

describe('garbage collector against the API server', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  let discovery: HttpDiscovery;
  let gc: GarbageCollector;
  const stop = new AbortController();
  let running: Promise<void>;

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config);
    discovery = new HttpDiscovery(srv.config);
    await client.create(NAMESPACES, '', { metadata: { name: NS } });
    gc = new GarbageCollector({ discovery });
    const manager = new ControllerManager({ client, leaderElection: false, controllers: [gc] });
    running = manager.run(stop.signal);
    await gc.ready();
  });

  after(async () => {
    stop.abort();
    gc.stop();
    await running;
    discovery.close();
    client.close();
    await srv.close();
  });

  it('watches every deletable resource it discovers, but not events', () => {
    const monitored = gc.monitored();
    for (const r of [
      '/configmaps',
      '/pods',
      'apps/deployments',
      '/namespaces',
      'coordination.k8s.io/leases',
    ]) {
      assert.ok(monitored.includes(r), `${r} is monitored`);
    }
    assert.ok(!monitored.includes('/events'));
    assert.ok(!monitored.includes('events.k8s.io/events'));
  });

  it('background: deletes the dependents after their owner is gone', async () => {
    await family(client, 'bg');
    await client.delete(CONFIG_MAPS, NS, 'bg', { propagationPolicy: 'Background' });
    assert.equal(await get(client, 'bg'), null, 'the owner goes at once');
    await eventually(
      async () => !(await get(client, 'bg-a')) && !(await get(client, 'bg-b')),
      'dependents gone',
    );
  });

  it('foreground: deletes the dependents first, then the owner', async () => {
    await family(client, 'fg');
    const deleted = await client.delete(CONFIG_MAPS, NS, 'fg', { propagationPolicy: 'Foreground' });
    assert.ok(deleted?.metadata.deletionTimestamp, 'the owner is marked for deletion');
    assert.deepEqual(deleted?.metadata.finalizers, ['foregroundDeletion']);
    // Watch the order: the owner must outlive both dependents.
    let ownerGoneWhileDependentsLeft = false;
    await eventually(async () => {
      const [o, a, b] = await Promise.all([get(client, 'fg'), get(client, 'fg-a'), get(client, 'fg-b')]);
      if (!o && (a || b)) ownerGoneWhileDependentsLeft = true;
      return !o && !a && !b;
    }, 'owner and dependents gone');
    assert.equal(ownerGoneWhileDependentsLeft, false);
  });

  it('orphan: removes the references to the owner from its dependents, then lets the owner go', async () => {
    await family(client, 'or');
    await client.delete(CONFIG_MAPS, NS, 'or', { propagationPolicy: 'Orphan' });
    await eventually(async () => !(await get(client, 'or')), 'the owner gone');
    for (const d of ['or-a', 'or-b']) {
      const dep = await get(client, d);
      assert.ok(dep, `${d} survives`);
      assert.equal(dep.metadata.ownerReferences, undefined, `${d} has no owner references left`);
    }
  });

  it('deletes a dependent whose owner reference names a uid that no longer exists', async () => {
    const o = await client.create<KubeObject>(CONFIG_MAPS, NS, { metadata: { name: 'old-owner' } });
    await client.delete(CONFIG_MAPS, NS, 'old-owner');
    await client.create(CONFIG_MAPS, NS, { metadata: { name: 'old-owner' } }); // same name, new uid
    await client.create(CONFIG_MAPS, NS, {
      metadata: {
        name: 'stale-dep',
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'old-owner', uid: o.metadata.uid! }],
      },
    });
    await eventually(async () => !(await get(client, 'stale-dep')), 'the dependent of the old uid gone');
    assert.ok(await get(client, 'old-owner'), 'the new owner stays');
  });

  it('keeps a dependent that still has one owner, dropping the reference to the absent one', async () => {
    const keep = await client.create(CONFIG_MAPS, NS, { metadata: { name: 'keeper' } });
    const gone = await client.create(CONFIG_MAPS, NS, { metadata: { name: 'goner' } });
    const ref = (o: KubeObject) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: o.metadata.name!,
      uid: o.metadata.uid!,
    });
    await client.create(CONFIG_MAPS, NS, {
      metadata: { name: 'shared', ownerReferences: [ref(keep), ref(gone)] },
    });
    await client.delete(CONFIG_MAPS, NS, 'goner');
    await eventually(
      async () => (await get(client, 'shared'))?.metadata.ownerReferences?.length === 1,
      'one reference left',
    );
    assert.equal((await get(client, 'shared'))?.metadata.ownerReferences?.[0]?.name, 'keeper');
  });
});
