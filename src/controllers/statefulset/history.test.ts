import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeRestClient } from '../../client/fake.ts';
import { CONTROLLER_REVISIONS, STATEFUL_SETS } from '../../client/resources.ts';
import type { KubeObject } from '../../client/types.ts';
import {
  type ControllerRevision,
  createRevision,
  hashData,
  newRevision,
  revisionTemplate,
  safeEncode,
  templatePatch,
} from './history.ts';

describe('ControllerRevision history', () => {
  it('hashes data stably, whatever the key order, and differently per collision count', () => {
    assert.equal(hashData({ a: 1, b: [1, 2] }), hashData({ b: [1, 2], a: 1 }));
    assert.notEqual(hashData({ a: 1 }), hashData({ a: 1 }, 1));
    assert.match(hashData({ a: 1 }), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(safeEncode('0'), '4', 'byte 48 maps into the 27-character alphabet');
  });

  it('snapshots the template as a replacing patch and gives it back', () => {
    const t = { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c' }] } };
    assert.deepEqual(templatePatch(t), { spec: { template: { ...t, $patch: 'replace' } } });
    const rev = { metadata: {}, revision: 1, data: templatePatch(t) } as ControllerRevision;
    assert.deepEqual(revisionTemplate(rev), t);
  });

  it('bumps the collision count when the name is taken by other data', async () => {
    const client = new FakeRestClient();
    const parent: KubeObject = { metadata: { name: 'web', namespace: 'ns', uid: 'u1' } };
    const rev = newRevision(parent, STATEFUL_SETS, { app: 'web' }, { x: 1 }, 1, 0);
    // Someone else's revision under the name ours would get.
    await client.create(CONTROLLER_REVISIONS, 'ns', { ...rev, data: { x: 2 } });
    const collision = { count: 0 };
    const created = await createRevision(client, parent, rev, collision);
    assert.equal(collision.count, 1);
    assert.notEqual(created.metadata.name, rev.metadata.name);
    // The same data again: the existing one comes back.
    const again = await createRevision(client, parent, rev, { count: 1 });
    assert.equal(again.metadata.name, created.metadata.name);
    assert.equal(client.objects(CONTROLLER_REVISIONS).length, 2);
  });
});
