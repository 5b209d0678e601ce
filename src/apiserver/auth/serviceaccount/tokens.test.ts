/** Service account token claims, signing and the authenticator's checks. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../object.ts';
import { DEFAULT_ISSUER } from './claims.ts';
import { decodeJwt, signJwt } from './jwt.ts';
import { type ObjectGetter, ServiceAccountTokens, TokenError } from './tokens.ts';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pubPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const T0 = Date.parse('2026-11-26T00:00:00Z');

function store(objs: Record<string, Partial<KubeObject['metadata']>>): ObjectGetter {
  return async (resource, ns, name) => {
    const m = objs[`${resource}/${ns}/${name}`];
    return m ? ({ metadata: { name, namespace: ns || undefined, ...m } } as KubeObject) : null;
  };
}

const world = store({
  'serviceaccounts/team/app': { uid: 'sa-1' },
  'pods/team/web': { uid: 'pod-1' },
  'secrets/team/s': { uid: 'sec-1' },
  'nodes//n1': { uid: 'node-1' },
});

function issue(
  t: ServiceAccountTokens,
  extra: Partial<Parameters<ServiceAccountTokens['claims']>[0]> = {},
): string {
  return t.sign(
    t.claims({
      serviceAccount: { namespace: 'team', name: 'app', uid: 'sa-1' },
      audiences: t.audiences,
      expirationSeconds: 3600,
      now: T0,
      ...extra,
    }),
  );
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TokenError, String(err));
    return err.message;
  }
  assert.fail('expected a TokenError');
}

describe('ServiceAccountTokens', () => {
  const tokens = new ServiceAccountTokens({ signingKey: pem, publicKeys: [pubPem] });

  it("makes Kubernetes' claims, signed RS256 with the key's kid", () => {
    const token = issue(tokens, {
      pod: { name: 'web', uid: 'pod-1' },
      node: { name: 'n1', uid: 'node-1' },
      warnAfterSeconds: 3607,
    });
    const jwt = decodeJwt(token)!;
    assert.equal(jwt.header.alg, 'RS256');
    assert.match(jwt.header.kid ?? '', /^[A-Za-z0-9_-]{43}$/);
    const s = T0 / 1000;
    const { jti, ...rest } = jwt.payload;
    assert.match(String(jti), /^[0-9a-f-]{36}$/);
    assert.deepEqual(rest, {
      aud: [DEFAULT_ISSUER],
      exp: s + 3600,
      iat: s,
      iss: 'https://kubernetes.default.svc.cluster.local',
      'kubernetes.io': {
        namespace: 'team',
        serviceaccount: { name: 'app', uid: 'sa-1' },
        pod: { name: 'web', uid: 'pod-1' },
        node: { name: 'n1', uid: 'node-1' },
        warnafter: s + 3607,
      },
      nbf: s,
      sub: 'system:serviceaccount:team:app',
    });
  });

  it('authenticates a valid token as the service account', async () => {
    const auth = tokens.authenticator(world, () => T0 + 1000);
    assert.deepEqual(await auth(issue(tokens)), {
      name: 'system:serviceaccount:team:app',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
    });
    assert.deepEqual(
      await tokens.validate(issue(tokens, { pod: { name: 'web', uid: 'pod-1' } }), world, T0),
      {
        namespace: 'team',
        name: 'app',
        uid: 'sa-1',
        podName: 'web',
        podUid: 'pod-1',
      },
    );
  });

  it('leaves tokens of other issuers and non-JWTs to other authenticators', async () => {
    assert.equal(await tokens.validate('not-a-jwt', world, T0), null);
    const other = new ServiceAccountTokens({ signingKey: pem, issuer: 'https://elsewhere' });
    assert.equal(await tokens.validate(issue(other), world, T0), null);
  });

  it('refuses a token signed with another key', async () => {
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = new ServiceAccountTokens({ signingKey: otherKey });
    assert.equal(await reason(tokens.validate(issue(forged), world, T0)), 'invalid signature');
    const noneToken = signJwt({ iss: DEFAULT_ISSUER }, otherKey);
    assert.equal(await reason(tokens.validate(noneToken, world, T0)), 'invalid signature');
  });

  it('checks exp and nbf with 60 s of leeway', async () => {
    const token = issue(tokens);
    assert.ok(await tokens.validate(token, world, T0 + 3600_000 + 59_000));
    assert.equal(
      await reason(tokens.validate(token, world, T0 + 3600_000 + 61_000)),
      'service account token has expired',
    );
    assert.ok(await tokens.validate(token, world, T0 - 59_000));
    assert.equal(
      await reason(tokens.validate(token, world, T0 - 61_000)),
      'service account token is not valid yet',
    );
    const auth = tokens.authenticator(world, () => T0 + 7200_000);
    assert.equal(await auth(token), null, 'expired: not authenticated');
  });

  it('needs an audience the API server accepts', async () => {
    const vault = issue(tokens, { audiences: ['vault'] });
    assert.match(await reason(tokens.validate(vault, world, T0)), /token audiences \["vault"\] is invalid/);
    assert.ok(await tokens.validate(issue(tokens, { audiences: ['vault', DEFAULT_ISSUER] }), world, T0));
    const custom = new ServiceAccountTokens({ signingKey: pem, audiences: ['k3s', 'vault'] });
    assert.deepEqual(custom.audiences, ['k3s', 'vault']);
    assert.ok(await custom.validate(vault, world, T0));
  });

  it('refuses tokens of a deleted or re-created service account', async () => {
    const token = issue(tokens);
    assert.equal(await reason(tokens.validate(token, store({}), T0)), 'serviceaccounts "app" not found');
    const recreated = store({ 'serviceaccounts/team/app': { uid: 'sa-2' } });
    assert.equal(
      await reason(tokens.validate(token, recreated, T0)),
      'service account UID (sa-2) does not match claim (sa-1)',
    );
    const deleting = store({
      'serviceaccounts/team/app': { uid: 'sa-1', deletionTimestamp: new Date(T0 - 120_000).toISOString() },
    });
    assert.equal(
      await reason(tokens.validate(token, deleting, T0)),
      'service account team/app has been deleted',
    );
    const justDeleting = store({
      'serviceaccounts/team/app': { uid: 'sa-1', deletionTimestamp: new Date(T0 - 10_000).toISOString() },
    });
    assert.ok(await tokens.validate(token, justDeleting, T0), 'within the leeway');
  });

  it('checks the bound pod, secret and node', async () => {
    const podToken = issue(tokens, { pod: { name: 'web', uid: 'pod-1' } });
    const noPod = store({ 'serviceaccounts/team/app': { uid: 'sa-1' } });
    assert.equal(
      await reason(tokens.validate(podToken, noPod, T0)),
      'service account token has been invalidated',
    );
    const newPod = store({ 'serviceaccounts/team/app': { uid: 'sa-1' }, 'pods/team/web': { uid: 'pod-2' } });
    assert.equal(
      await reason(tokens.validate(podToken, newPod, T0)),
      'pod UID (pod-2) does not match service account pod ref claim (pod-1)',
    );
    const secretToken = issue(tokens, { secret: { name: 's', uid: 'sec-1' } });
    assert.ok(await tokens.validate(secretToken, world, T0));
    assert.equal(
      await reason(tokens.validate(secretToken, noPod, T0)),
      'service account token has been invalidated',
    );
    const nodeToken = issue(tokens, { node: { name: 'n1', uid: 'node-1' } });
    assert.deepEqual((await tokens.validate(nodeToken, world, T0))?.nodeName, 'n1');
    assert.equal(
      await reason(tokens.validate(nodeToken, noPod, T0)),
      'service account token has been invalidated',
    );
    // A pod-bound token's node claim is informational: the node is not looked up.
    const podOnNode = issue(tokens, { pod: { name: 'web', uid: 'pod-1' }, node: { name: 'gone', uid: 'x' } });
    assert.ok(await tokens.validate(podOnNode, world, T0));
    assert.throws(() =>
      tokens.claims({ ...base(), secret: { name: 's', uid: '1' }, pod: { name: 'p', uid: '2' } }),
    );
  });

  it('refuses tokens whose kubernetes.io claim is missing', async () => {
    const s = T0 / 1000;
    const bare = tokens.sign({ iss: DEFAULT_ISSUER, aud: [DEFAULT_ISSUER], exp: s + 600 } as never);
    assert.equal(
      await reason(tokens.validate(bare, world, T0)),
      'service account token claims are malformed',
    );
    const noExp = tokens.sign({ iss: DEFAULT_ISSUER, aud: [DEFAULT_ISSUER] } as never);
    assert.equal(await reason(tokens.validate(noExp, world, T0)), 'service account token has no expiry');
  });
});

function base() {
  return {
    serviceAccount: { namespace: 'team', name: 'app', uid: 'sa-1' },
    audiences: [DEFAULT_ISSUER],
    expirationSeconds: 600,
    now: T0,
  };
}
