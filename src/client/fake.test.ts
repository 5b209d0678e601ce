import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiError } from '../api/errors.ts';
import { FakeRestClient } from './fake.ts';
import { CONFIG_MAPS, PODS } from './resources.ts';
import type { KubeObject, WatchEvent } from './types.ts';

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('expected an error'),
    (e: unknown) => e as ApiError,
  );

describe('FakeRestClient', () => {
  it('behaves like the server for CRUD: conflicts, 404s, 409s, resourceVersions', async () => {
    const f = new FakeRestClient();
    const a = await f.create<KubeObject>(CONFIG_MAPS, 'n', {
      metadata: { name: 'a', labels: { app: 'x' } },
      data: {},
    });
    assert.equal(a.metadata.resourceVersion, '1');
    assert.equal(a.metadata.namespace, 'n');
    assert.equal((await rejection(f.create(CONFIG_MAPS, 'n', { metadata: { name: 'a' } }))).code, 409);
    const b = await f.update(CONFIG_MAPS, 'n', { ...a, data: { k: 'v' } });
    assert.equal(b.metadata.resourceVersion, '2');
    const stale = await rejection(f.update(CONFIG_MAPS, 'n', { ...a, data: { k: 'w' } }));
    assert.equal(stale.reason, 'Conflict');
    const p = await f.patch(CONFIG_MAPS, 'n', 'a', 'json', [{ op: 'add', path: '/data/j', value: '1' }]);
    assert.deepEqual(p.data, { k: 'v', j: '1' });
    await f.create(CONFIG_MAPS, 'n', { metadata: { name: 'b' } });
    assert.deepEqual(
      (await f.list(CONFIG_MAPS, 'n', { labelSelector: 'app=x' })).items.map((o) => o.metadata.name),
      ['a'],
    );
    assert.deepEqual(
      (await f.list(CONFIG_MAPS, '', { fieldSelector: 'metadata.name=b' })).items.map((o) => o.metadata.name),
      ['b'],
    );
    assert.equal(await f.delete(CONFIG_MAPS, 'n', 'a'), null);
    assert.equal((await rejection(f.get(CONFIG_MAPS, 'n', 'a'))).code, 404);
    f.failNext('get', new Error('boom'));
    assert.equal((await rejection(f.get(CONFIG_MAPS, 'n', 'b'))).message, 'boom');
    assert.equal((await f.get(CONFIG_MAPS, 'n', 'b')).metadata.name, 'b');
    await f.createSubresource(PODS, 'n', 'b', 'binding', {}).then(
      () => assert.fail('no such pod'),
      (e: ApiError) => assert.equal(e.code, 404),
    );
  });

  it('replays history to a watch from a resourceVersion, and 410s after compaction', async () => {
    const f = new FakeRestClient();
    await f.create(CONFIG_MAPS, 'n', { metadata: { name: 'a' } });
    await f.create(CONFIG_MAPS, 'n', { metadata: { name: 'b' } });
    await f.delete(CONFIG_MAPS, 'n', 'a');
    const seen: string[] = [];
    const ac = new AbortController();
    for await (const e of f.watch(CONFIG_MAPS, 'n', { resourceVersion: '1', signal: ac.signal })) {
      seen.push(`${e.type} ${e.object.metadata.name} ${e.object.metadata.resourceVersion}`);
      if (seen.length === 2) ac.abort();
    }
    assert.deepEqual(seen, ['ADDED b 2', 'DELETED a 3']);
    f.compact();
    const events: WatchEvent[] = [];
    for await (const e of f.watch(CONFIG_MAPS, 'n', { resourceVersion: '1' })) events.push(e);
    assert.equal(events[0]?.type, 'ERROR');
    assert.equal((events[0]?.object as { code?: number } | undefined)?.code, 410);
  });
});
