import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { FakeRestClient } from '../../client/fake.ts';
import type { Lease } from '../../client/leaderelection.ts';
import { LEASES } from '../../client/resources.ts';
import { FakeClock } from '../../util/clock.ts';
import { NodeLease } from './lease.ts';

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

test('a Lease changed by someone else is re-read and renewed; owner reference added once the Node is known', async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const client = new FakeRestClient({ clock });
  let uid: string | undefined;
  const lease = new NodeLease({ client, nodeName: 'n1', nodeUid: () => uid, clock });
  await lease.renew();
  let stored = client.objects<Lease>(LEASES)[0] as Lease;
  assert.equal(stored.metadata.ownerReferences, undefined);
  // Someone else writes it: our cached copy is stale.
  await client.update(LEASES, 'kube-node-lease', {
    ...stored,
    spec: { ...stored.spec, holderIdentity: 'other' },
  });
  uid = 'node-uid';
  clock.advance(10_000);
  await lease.renew();
  stored = client.objects<Lease>(LEASES)[0] as Lease;
  assert.equal(stored.spec?.holderIdentity, 'n1');
  assert.equal(stored.spec?.renewTime, '2026-01-01T00:00:10.000000Z');
  assert.deepEqual(stored.metadata.ownerReferences, [
    { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid' },
  ]);
  assert.equal(lease.renewals, 2);
});

test('failures are retried with back-off within the renew interval', async () => {
  const clock = new FakeClock();
  const client = new FakeRestClient({ clock });
  const lease = new NodeLease({ client, nodeName: 'n1', nodeUid: () => 'u', clock });
  client.failNext('get', ApiError.unavailable('etcd is down'));
  client.failNext('get', ApiError.unavailable('etcd is down'));
  const done = lease.renewWithBackoff();
  await settle();
  assert.equal(lease.renewals, 0);
  clock.advance(200);
  await settle();
  assert.equal(lease.renewals, 0);
  clock.advance(400);
  await done;
  assert.equal(lease.renewals, 1);
  assert.equal(client.objects(LEASES).length, 1);
});
