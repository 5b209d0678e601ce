/** The service account controller's rules, on a fake client. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { NAMESPACES, SERVICE_ACCOUNTS } from '../../client/resources.ts';
import type { KubeObject, ResourceRef } from '../../client/types.ts';
import { type Harness, startHarness } from '../garbagecollector/testing.ts';
import { ServiceAccountController } from './controller.ts';

const ns = (name: string, phase = 'Active'): [ResourceRef, KubeObject] => [
  NAMESPACES,
  { metadata: { name }, status: { phase } },
];

describe('ServiceAccountController', () => {
  let h: Harness | undefined;
  afterEach(() => {
    h?.stop();
    h = undefined;
  });

  const accounts = (h: Harness) =>
    h.client.objects(SERVICE_ACCOUNTS).map((o) => `${o.metadata.namespace}/${o.metadata.name}`);

  it('creates a default ServiceAccount in every active namespace, not in terminating ones', async () => {
    h = await startHarness(new ServiceAccountController(), {
      objects: [ns('a'), ns('b'), ns('going', 'Terminating')],
    });
    await h.run();
    assert.deepEqual(accounts(h), ['a/default', 'b/default']);
  });

  it('leaves an existing default ServiceAccount alone', async () => {
    h = await startHarness(new ServiceAccountController(), {
      objects: [ns('a'), [SERVICE_ACCOUNTS, { metadata: { name: 'default', namespace: 'a' } }]],
    });
    await h.run();
    assert.equal(h.client.calls.filter((c) => c.verb === 'create').length, 2, 'only the seeded objects');
  });

  it('makes the default ServiceAccount again when it is deleted, and in namespaces created later', async () => {
    h = await startHarness(new ServiceAccountController(), { objects: [ns('a')] });
    await h.run();
    await h.client.delete(SERVICE_ACCOUNTS, 'a', 'default');
    await h.client.create(NAMESPACES, '', { metadata: { name: 'new' }, status: { phase: 'Active' } });
    await h.run();
    assert.deepEqual(accounts(h), ['a/default', 'new/default']);
  });

  it('takes AlreadyExists and a terminating namespace as done', async () => {
    const c = new ServiceAccountController();
    h = await startHarness(c, { objects: [ns('a')] });
    h.client.failNext(
      'create',
      ApiError.alreadyExists({ group: '', resource: 'serviceaccounts' }, 'default'),
    );
    assert.equal(await c.reconcile('a'), undefined);
    h.client.failNext(
      'create',
      new ApiError(403, 'Forbidden', 'namespace a is being terminated', {
        causes: [{ reason: 'NamespaceTerminating', message: '', field: 'metadata.namespace' }],
      }),
    );
    assert.equal(await c.reconcile('a'), undefined);
  });
});
