/**
 * serviceaccounts/token, bearer authentication with the tokens it issues, and the ServiceAccount
 * admission plugin on pod create, against a real API server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { NAMESPACES, PODS, SECRETS, SERVICE_ACCOUNTS } from '../../client/resources.ts';
import { HttpRestClient } from '../../client/rest.ts';
import { startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import type { KubeObject } from '../../client/types.ts';
import { decodeJwt } from '../auth/serviceaccount/index.ts';

interface TokenRequest {
  metadata: { name?: string; namespace?: string; creationTimestamp?: string };
  spec: { audiences: string[]; expirationSeconds: number; boundObjectRef: unknown };
  status: { token: string; expirationTimestamp: string };
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  assert.fail('expected an API error');
}

describe('TokenRequest and service account authentication', () => {
  let srv: TestApiServer;
  let admin: HttpRestClient;
  let saUid = '';
  const request = (name: string, spec: unknown, ns = 'team') =>
    admin.createSubresource<TokenRequest>(SERVICE_ACCOUNTS, ns, name, 'token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec,
    });
  const as = (token: string) => new HttpRestClient({ server: srv.config.server, ca: srv.config.ca, token });

  before(async () => {
    srv = await startTestApiServer({ serviceAccounts: true });
    admin = new HttpRestClient(srv.config);
    await admin.create(NAMESPACES, '', { metadata: { name: 'team' } });
    const sa = await admin.create<KubeObject>(SERVICE_ACCOUNTS, 'team', { metadata: { name: 'default' } });
    saUid = sa.metadata.uid ?? '';
    await admin.create(SERVICE_ACCOUNTS, 'team', { metadata: { name: 'robot' } });
  });

  after(async () => {
    admin.close();
    await srv.close();
  });

  it('issues a token with the default audience and an hour of life', async () => {
    const before = Date.now();
    const tr = await request('default', {});
    assert.equal(tr.metadata.name, 'default');
    assert.equal(tr.metadata.namespace, 'team');
    assert.deepEqual(tr.spec.audiences, ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(tr.spec.expirationSeconds, 3600);
    const exp = Date.parse(tr.status.expirationTimestamp);
    assert.ok(exp >= Math.floor(before / 1000) * 1000 + 3600_000 && exp <= Date.now() + 3600_000);
    const claims = decodeJwt(tr.status.token)!.payload;
    assert.equal(claims.sub, 'system:serviceaccount:team:default');
    assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
    assert.deepEqual(claims['kubernetes.io'], {
      namespace: 'team',
      serviceaccount: { name: 'default', uid: saUid },
    });
    assert.equal(claims.exp, exp / 1000);
  });

  it('authenticates requests with the token, until the account is deleted', async () => {
    const tr = await request('robot', { expirationSeconds: 600 });
    const client = as(tr.status.token);
    const list = await client.list(NAMESPACES, '');
    assert.ok(list.items.some((n) => n.metadata.name === 'team'));
    await admin.delete(SERVICE_ACCOUNTS, 'team', 'robot');
    assert.equal((await failure(client.list(NAMESPACES, ''))).code, 401);
    await admin.create(SERVICE_ACCOUNTS, 'team', { metadata: { name: 'robot' } });
    assert.equal((await failure(client.list(NAMESPACES, ''))).code, 401, 'a new account has a new UID');
    client.close();
  });

  it('refuses tokens for other audiences and garbage', async () => {
    const tr = await request('default', { audiences: ['vault'] });
    assert.deepEqual(tr.spec.audiences, ['vault']);
    const client = as(tr.status.token);
    assert.equal((await failure(client.list(NAMESPACES, ''))).code, 401);
    client.close();
    const junk = as('abc.def.ghi');
    assert.equal((await failure(junk.list(NAMESPACES, ''))).code, 401);
    junk.close();
  });

  it('binds tokens to a pod: it must run as the account, and the token dies with the pod', async () => {
    const pod = await admin.create<KubeObject>(PODS, 'team', {
      metadata: { name: 'web' },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    const ref = { apiVersion: 'v1', kind: 'Pod', name: 'web', uid: pod.metadata.uid };
    const tr = await request('default', { boundObjectRef: ref, expirationSeconds: 3607 });
    const claims = decodeJwt(tr.status.token)!.payload as {
      exp: number;
      iat: number;
      'kubernetes.io': Record<string, unknown>;
    };
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'web', uid: pod.metadata.uid });
    // The admission plugin's 3607 s tokens are extended to a year, with a warnafter at 3607 s.
    assert.equal(claims.exp - claims.iat, 365 * 24 * 3600);
    assert.equal(claims['kubernetes.io'].warnafter, claims.iat + 3607);
    assert.equal(tr.spec.expirationSeconds, 3607);

    const other = await failure(request('robot', { boundObjectRef: ref }));
    assert.equal(other.code, 400);
    assert.match(
      other.message,
      /cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name/,
    );
    const stale = await failure(request('default', { boundObjectRef: { ...ref, uid: 'nope' } }));
    assert.equal(stale.code, 409);
    assert.match(stale.message, /the UID in the bound object reference \(nope\) does not match/);
    assert.equal(
      (await failure(request('default', { boundObjectRef: { ...ref, name: 'missing' } }))).code,
      404,
    );
    const cm = await failure(
      request('default', { boundObjectRef: { apiVersion: 'v1', kind: 'ConfigMap', name: 'x' } }),
    );
    assert.equal(cm.code, 400);
    assert.equal(cm.message, 'cannot bind token to object of type /v1, Kind=ConfigMap');

    const client = as(tr.status.token);
    await client.list(NAMESPACES, '');
    await admin.delete(PODS, 'team', 'web', { gracePeriodSeconds: 0 });
    assert.equal((await failure(client.list(NAMESPACES, ''))).code, 401);
    client.close();
  });

  it('binds tokens to a secret', async () => {
    const secret = await admin.create<KubeObject>(SECRETS, 'team', {
      metadata: { name: 's' },
      stringData: { a: 'b' },
    });
    const tr = await request('default', { boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 's' } });
    const claims = decodeJwt(tr.status.token)!.payload;
    assert.deepEqual((claims['kubernetes.io'] as { secret: unknown }).secret, {
      name: 's',
      uid: secret.metadata.uid,
    });
  });

  it('answers 404 for a missing account and 422 for bad specs, with field paths', async () => {
    const missing = await failure(request('ghost', {}));
    assert.equal(missing.code, 404);
    assert.equal(missing.message, 'serviceaccounts "ghost" not found');
    const short = await failure(request('default', { expirationSeconds: 60 }));
    assert.equal(short.code, 422);
    assert.equal(
      short.message,
      'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    );
    assert.equal(short.details?.causes?.[0]?.field, 'spec.expirationSeconds');
    const huge = await failure(request('default', { expirationSeconds: 2 ** 33 }));
    assert.equal(huge.code, 422);
    const named = await failure(
      admin.createSubresource(SERVICE_ACCOUNTS, 'team', 'default', 'token', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        metadata: { name: 'other' },
      }),
    );
    assert.equal(named.code, 422);
    assert.equal(named.details?.causes?.[0]?.field, 'metadata.name');
  });

  it('admission: pods get the kube-api-access volume; an unknown account is refused', async () => {
    const pod = (await admin.create<KubeObject>(PODS, 'team', {
      metadata: { name: 'app' },
      spec: {
        initContainers: [{ name: 'i', image: 'busybox' }],
        containers: [{ name: 'c', image: 'busybox' }],
      },
    })) as KubeObject & {
      spec: {
        serviceAccountName: string;
        volumes: { name: string }[];
        containers: { volumeMounts: unknown[] }[];
      };
    };
    assert.equal(pod.spec.serviceAccountName, 'default');
    const vol = pod.spec.volumes.find((v) => v.name.startsWith('kube-api-access-'));
    assert.ok(vol, 'the token volume');
    assert.deepEqual(pod.spec.containers[0]!.volumeMounts, [
      { name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
    ]);
    const denied = await failure(
      admin.create(PODS, 'team', {
        metadata: { name: 'x' },
        spec: { serviceAccountName: 'ghost', containers: [{ name: 'c', image: 'busybox' }] },
      }),
    );
    assert.equal(denied.code, 403);
    assert.match(denied.message, /error looking up service account team\/ghost/);
    // A projected token volume of the pod's own needs no serviceAccountName: it defaults first.
    const own = await admin.create<KubeObject>(PODS, 'team', {
      metadata: { name: 'own' },
      spec: {
        automountServiceAccountToken: false,
        containers: [{ name: 'c', image: 'busybox' }],
        volumes: [
          {
            name: 'vault',
            projected: { sources: [{ serviceAccountToken: { path: 't', audience: 'vault' } }] },
          },
        ],
      },
    });
    assert.equal((own.spec as { volumes: unknown[] }).volumes.length, 1);
  });
});

describe('--disable-admission-plugins', () => {
  const pod = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
  });

  it('without ServiceAccount, pods need no service account and get no token volume; tokens still work', async () => {
    const srv = await startTestApiServer({
      serviceAccounts: true,
      disabledAdmissionPlugins: new Set(['ServiceAccount']),
    });
    const admin = new HttpRestClient(srv.config);
    try {
      await admin.create(NAMESPACES, '', { metadata: { name: 'bare' } });
      // No ServiceAccount "default" exists in the namespace: with the plugin on, this is refused.
      const created = await admin.create<KubeObject>(PODS, 'bare', pod('p'));
      const spec = created.spec as {
        serviceAccountName?: string;
        volumes?: unknown[];
        tolerations?: { key: string }[];
      };
      assert.equal(spec.serviceAccountName, undefined);
      assert.equal(spec.volumes, undefined);
      // DefaultTolerationSeconds is still on.
      assert.deepEqual(
        spec.tolerations?.map((t) => t.key),
        ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'],
      );
      await admin.create(SERVICE_ACCOUNTS, 'bare', { metadata: { name: 'robot' } });
      const tr = await admin.createSubresource<TokenRequest>(SERVICE_ACCOUNTS, 'bare', 'robot', 'token', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {},
      });
      assert.ok(tr.status.token);
    } finally {
      admin.close();
      await srv.close();
    }
  });

  it('without DefaultTolerationSeconds, pods keep only the tolerations they were created with', async () => {
    const srv = await startTestApiServer({ disabledAdmissionPlugins: new Set(['DefaultTolerationSeconds']) });
    const admin = new HttpRestClient(srv.config);
    try {
      const created = await admin.create<KubeObject>(PODS, 'default', pod('q'));
      assert.equal((created.spec as { tolerations?: unknown[] }).tolerations, undefined);
    } finally {
      admin.close();
      await srv.close();
    }
  });
});
