/** The REST client and discovery over the API server's loopback transport (a real server in this process). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ApiError } from '../api/errors.ts';
import { HttpDiscovery } from '../controllers/garbagecollector/discovery.ts';
import { CONFIG_MAPS, PODS } from './resources.ts';
import { HttpRestClient } from './rest.ts';
import { startTestApiServer, type TestApiServer } from './testing.ts';
import { isLoopback, type LoopbackConnection } from './transport.ts';
import type { KubeObject, WatchEvent } from './types.ts';

const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data,
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

describe('HttpRestClient on the loopback transport', () => {
  let srv: TestApiServer;
  let loopback: LoopbackConnection;
  let client: HttpRestClient;

  before(async () => {
    srv = await startTestApiServer();
    loopback = srv.api.loopbackClientConfig();
    client = new HttpRestClient(loopback, { component: 'loopback-test' });
  });
  after(async () => {
    client.close();
    await srv.close();
  });

  it('reads, writes and watches through the same handlers as HTTPS', async () => {
    assert.ok(isLoopback(loopback));
    assert.equal(client.origin, 'loopback://apiserver');
    const start = await client.list(CONFIG_MAPS, 'default');
    const ac = new AbortController();
    const seen: WatchEvent[] = [];
    const watching = (async () => {
      for await (const e of client.watch(CONFIG_MAPS, 'default', {
        resourceVersion: start.resourceVersion,
        signal: ac.signal,
      })) {
        seen.push(e);
        if (seen.length === 3) ac.abort();
      }
    })();
    const created = await client.create(CONFIG_MAPS, 'default', cm('lb', { a: '1' }));
    assert.equal(created.metadata.managedFields?.[0]?.manager, 'skiff-loopback-test');
    await client.patch(CONFIG_MAPS, 'default', 'lb', 'merge', { data: { a: '2' } });
    assert.deepEqual((await client.get(CONFIG_MAPS, 'default', 'lb')).data, { a: '2' });
    await client.delete(CONFIG_MAPS, 'default', 'lb');
    await watching;
    assert.deepEqual(
      seen.map((e) => `${e.type} ${e.object.metadata.name}`),
      ['ADDED lb', 'MODIFIED lb', 'DELETED lb'],
    );
    // Validation and Status errors are the same as over HTTPS.
    const invalid = (await rejection(client.create(CONFIG_MAPS, 'default', cm('Not_Valid')))) as ApiError;
    assert.ok(invalid instanceof ApiError);
    assert.equal(invalid.code, 422);
    const missing = (await rejection(client.get(CONFIG_MAPS, 'default', 'missing'))) as ApiError;
    assert.equal(missing.code, 404);
    assert.equal(missing.message, 'configmaps "missing" not found');
  });

  it('serves discovery to HttpDiscovery', async () => {
    const discovery = new HttpDiscovery(loopback);
    try {
      const { resources, failed } = await discovery.preferredResources();
      assert.equal(failed.size, 0);
      const pods = resources.find((r) => r.group === '' && r.resource === PODS.resource);
      assert.ok(pods?.verbs.includes('watch'));
      assert.ok(resources.some((r) => r.group === 'apps' && r.resource === 'deployments'));
    } finally {
      discovery.close();
    }
  });

  it('is refused over HTTPS: the loopback token is no credential on the network port', async () => {
    const token = loopback.authorization().slice('Bearer '.length);
    const { server, ca } = srv.config;
    const https = new HttpRestClient({ server, ca, token });
    try {
      const err = (await rejection(https.list(CONFIG_MAPS, 'default'))) as ApiError;
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 401);
      assert.equal(err.reason, 'Unauthorized');
    } finally {
      https.close();
    }
  });

  it('refuses loopback requests without the token', async () => {
    const wrong: LoopbackConnection = {
      dial: () => loopback.dial(),
      authorization: () => 'Bearer not-the-token',
    };
    const c = new HttpRestClient(wrong);
    try {
      const err = (await rejection(c.list(CONFIG_MAPS, 'default'))) as ApiError;
      assert.equal(err.code, 401);
    } finally {
      c.close();
    }
  });

  it('keeps the token out of JSON and inspection of the config and the client', () => {
    const token = loopback.authorization().slice('Bearer '.length);
    assert.equal(JSON.stringify(loopback), '{"loopback":true}');
    for (const text of [
      JSON.stringify(client),
      inspect(client, { depth: 10 }),
      inspect(loopback, { depth: 10 }),
      JSON.stringify({ opts: { config: loopback } }),
    ]) {
      assert.ok(!text.includes(token), text);
    }
  });

  it('fails with a plain Error once the API server has closed', async () => {
    const own = await startTestApiServer();
    const c = new HttpRestClient(own.api.loopbackClientConfig());
    await c.list(CONFIG_MAPS, 'default');
    await own.close();
    const err = await rejection(c.list(CONFIG_MAPS, 'default'));
    assert.ok(err instanceof Error && !(err instanceof ApiError), String(err));
    assert.match((err as Error).message, /loopback:\/\/apiserver.*(ECONNREFUSED|hang up|ECONNRESET)/);
    c.close();
  });

  it('sends unary requests as calls, without dialing a connection, and watches on connections', async () => {
    let dials = 0;
    const calls: string[] = [];
    const counting: LoopbackConnection = {
      dial: () => {
        dials++;
        return loopback.dial();
      },
      authorization: () => loopback.authorization(),
      call: (req) => {
        calls.push(`${req.method} ${req.path}`);
        return loopback.call!(req);
      },
    };
    const c = new HttpRestClient(counting);
    const created = await c.create(CONFIG_MAPS, 'default', cm('calls', { a: '1' }));
    await c.get(CONFIG_MAPS, 'default', 'calls');
    await c.delete(CONFIG_MAPS, 'default', 'calls');
    assert.deepEqual(calls, [
      'POST /api/v1/namespaces/default/configmaps',
      'GET /api/v1/namespaces/default/configmaps/calls',
      'DELETE /api/v1/namespaces/default/configmaps/calls',
    ]);
    assert.equal(dials, 0);
    const gone = await rejection(c.get(CONFIG_MAPS, 'default', 'calls'));
    assert.ok(gone instanceof ApiError && gone.code === 404, String(gone));
    const ac = new AbortController();
    for await (const e of c.watch(CONFIG_MAPS, 'default', {
      resourceVersion: created.metadata.resourceVersion,
      signal: ac.signal,
    })) {
      assert.equal(e.type, 'DELETED');
      ac.abort();
    }
    assert.equal(dials, 1);
    c.close();
  });

  it('gives up on a call with no answer after the request timeout', async () => {
    const silent: LoopbackConnection = {
      dial: () => loopback.dial(),
      authorization: () => loopback.authorization(),
      call: () => new Promise(() => {}),
    };
    const c = new HttpRestClient(silent, { requestTimeoutMs: 30 });
    const err = await rejection(c.get(CONFIG_MAPS, 'default', 'x'));
    assert.match(
      (err as Error).message,
      /GET loopback:\/\/apiserver\/api\/v1\/namespaces\/default\/configmaps\/x: no answer within 30 ms/,
    );
    c.close();
  });

  it('keeps HTTPS configs to https:// URLs', () => {
    assert.throws(() => new HttpRestClient({ server: 'http://127.0.0.1:6443' }), /HTTPS only/);
  });
});
