/** The root CA publisher against a real API server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONFIG_MAPS, NAMESPACES } from '../../client/resources.ts';
import { HttpRestClient, isApiError } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import type { KubeObject } from '../../client/types.ts';
import { ControllerManager } from '../manager.ts';
import {
  DESCRIPTION_ANNOTATION,
  ROOT_CA_CONFIGMAP,
  ROOT_CA_DESCRIPTION,
  RootCaCertPublisher,
} from './index.ts';

type ConfigMap = KubeObject & { data?: Record<string, string> };

describe('root CA publisher', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  const stop = new AbortController();
  let running: Promise<void>;
  const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  const read = async (ns: string): Promise<ConfigMap | null> => {
    try {
      return await client.get<ConfigMap>(CONFIG_MAPS, ns, ROOT_CA_CONFIGMAP);
    } catch (err) {
      if (isApiError(err, 404)) return null;
      throw err;
    }
  };
  const published = async (ns: string) => {
    const cm = await read(ns);
    return (
      cm?.data?.['ca.crt'] === CA &&
      Object.keys(cm.data).length === 1 &&
      cm.metadata.annotations?.[DESCRIPTION_ANNOTATION] === ROOT_CA_DESCRIPTION
    );
  };

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config);
    const manager = new ControllerManager({
      client,
      leaderElection: false,
      controllers: [new RootCaCertPublisher({ rootCa: CA })],
    });
    running = manager.run(stop.signal);
  });

  after(async () => {
    stop.abort();
    await running;
    client.close();
    await srv.close();
  });

  it('publishes kube-root-ca.crt in existing and new namespaces', async () => {
    await eventually(() => published('default'), 'kube-root-ca.crt in default', 10_000);
    await eventually(() => published('kube-system'), 'kube-root-ca.crt in kube-system', 10_000);
    await client.create(NAMESPACES, '', { metadata: { name: 'fresh' } });
    await eventually(() => published('fresh'), 'kube-root-ca.crt in a new namespace', 10_000);
  });

  it('puts back edited data and a removed description, and re-creates a deleted one', async () => {
    await eventually(() => published('default'), 'published', 10_000);
    const cm = (await read('default'))!;
    await client.update(CONFIG_MAPS, 'default', {
      ...cm,
      metadata: { ...cm.metadata, annotations: { other: 'x' } },
      data: { 'ca.crt': 'tampered', extra: 'y' },
    });
    await eventually(() => published('default'), 'repaired', 10_000);
    assert.equal((await read('default'))!.metadata.annotations?.other, 'x', 'other annotations are kept');
    await client.delete(CONFIG_MAPS, 'default', ROOT_CA_CONFIGMAP);
    await eventually(() => published('default'), 're-created', 10_000);
  });
});
