/**
 * The namespace, service account and garbage collector controllers against a real API server:
 * deleting a namespace empties it (built-in kinds and a custom resource) and then removes it; new
 * namespaces get a `default` ServiceAccount.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONFIG_MAPS, NAMESPACES, SECRETS, SERVICE_ACCOUNTS, SERVICES } from '../../client/resources.ts';
import { HttpRestClient, isApiError } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import type { ResourceRef } from '../../client/types.ts';
import { GarbageCollector } from '../garbagecollector/controller.ts';
import { HttpDiscovery } from '../garbagecollector/discovery.ts';
import { ControllerManager } from '../manager.ts';
import { ServiceAccountController } from '../serviceaccount/controller.ts';
import { NamespaceController } from './controller.ts';

const CRDS: ResourceRef = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  resource: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};
const WIDGETS: ResourceRef = {
  group: 'example.com',
  version: 'v1',
  resource: 'widgets',
  kind: 'Widget',
  namespaced: true,
};

async function exists(client: HttpRestClient, ref: ResourceRef, ns: string, name: string): Promise<boolean> {
  try {
    await client.get(ref, ns, name);
    return true;
  } catch (err) {
    if (isApiError(err, 404)) return false;
    throw err;
  }
}

describe('namespace controller against the API server', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  let discovery: HttpDiscovery;
  const stop = new AbortController();
  let running: Promise<void>;

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config);
    discovery = new HttpDiscovery(srv.config);
    await client.create(CRDS, '', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    });
    await eventually(async () => {
      try {
        await client.list(WIDGETS, 'default');
        return true;
      } catch {
        return false;
      }
    }, 'the Widget CRD to be served');
    const manager = new ControllerManager({
      client,
      leaderElection: false,
      controllers: [
        new NamespaceController({ discovery, deletionGracePeriodMs: 0 }),
        new ServiceAccountController(),
        new GarbageCollector({ discovery }),
      ],
    });
    running = manager.run(stop.signal);
  });

  after(async () => {
    stop.abort();
    await running;
    discovery.close();
    client.close();
    await srv.close();
  });

  it('gives every new namespace a default ServiceAccount, and makes it again when deleted', async () => {
    await client.create(NAMESPACES, '', { metadata: { name: 'team-a' } });
    await eventually(() => exists(client, SERVICE_ACCOUNTS, 'team-a', 'default'), 'default SA', 10_000);
    await client.delete(SERVICE_ACCOUNTS, 'team-a', 'default');
    await eventually(() => exists(client, SERVICE_ACCOUNTS, 'team-a', 'default'), 'default SA again', 10_000);
  });

  it('deletes all content of a namespace being deleted, custom resources included, then the namespace', async () => {
    const ns = 'doomed';
    await client.create(NAMESPACES, '', { metadata: { name: ns } });
    await client.create(CONFIG_MAPS, ns, { metadata: { name: 'cm' }, data: { a: '1' } });
    await client.create(SECRETS, ns, { metadata: { name: 's' }, stringData: { b: '2' } });
    await client.create(SERVICES, ns, {
      metadata: { name: 'svc' },
      spec: { selector: { app: 'x' }, ports: [{ port: 80 }] },
    });
    await client.create(WIDGETS, ns, {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
    });
    await eventually(() => exists(client, SERVICE_ACCOUNTS, ns, 'default'), 'default SA', 10_000);

    await client.delete(NAMESPACES, '', ns);
    await eventually(async () => !(await exists(client, NAMESPACES, '', ns)), 'the namespace to go', 15_000);
    for (const [ref, name] of [
      [CONFIG_MAPS, 'cm'],
      [SECRETS, 's'],
      [SERVICES, 'svc'],
      [WIDGETS, 'w'],
      [SERVICE_ACCOUNTS, 'default'],
    ] as const) {
      assert.equal(await exists(client, ref, ns, name), false, `${ref.resource}/${name} is gone`);
    }
  });
});
