import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Secret } from 'kubernetes-types/core/v1.js';
import {
  credentialsFor,
  DockerKeyring,
  dockerConfigOfSecret,
  keyMatches,
  keyringFromSecrets,
} from './keyring.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function dockerConfigJson(auths: Record<string, unknown>): Secret {
  return {
    metadata: { name: 'regcred' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) },
  };
}

test('dockerconfigjson and dockercfg secrets are parsed; auth is base64 user:pass', () => {
  const json = dockerConfigJson({ 'reg.example.com': { auth: b64('alice:s3cr:et') } });
  assert.deepEqual(credentialsFor([json], 'reg.example.com/app:1'), [
    { username: 'alice', password: 's3cr:et' },
  ]);
  const cfg: Secret = {
    metadata: { name: 'old' },
    type: 'kubernetes.io/dockercfg',
    data: {
      '.dockercfg': b64(JSON.stringify({ 'https://old.example.com': { username: 'bob', password: 'pw' } })),
    },
  };
  assert.deepEqual(credentialsFor([cfg], 'old.example.com/x'), [{ username: 'bob', password: 'pw' }]);
  const opaque: Secret = {
    metadata: { name: 'o' },
    type: 'Opaque',
    data: { '.dockerconfigjson': json.data!['.dockerconfigjson']! },
  };
  assert.equal(dockerConfigOfSecret(opaque), undefined);
  const broken: Secret = {
    metadata: { name: 'b' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64('{') },
  };
  assert.equal(dockerConfigOfSecret(broken), undefined);
});

test('matching: host labels with globs, port, path prefix', () => {
  assert.ok(keyMatches('reg.example.com', 'reg.example.com/a/b'));
  assert.ok(keyMatches('*.example.com', 'reg.example.com/a'));
  assert.ok(!keyMatches('*.example.com', 'a.reg.example.com/a'));
  assert.ok(!keyMatches('example.com', 'reg.example.com/a'));
  assert.ok(keyMatches('reg.example.com:5000', 'reg.example.com:5000/a'));
  assert.ok(!keyMatches('reg.example.com:5000', 'reg.example.com/a'));
  assert.ok(!keyMatches('reg.example.com', 'reg.example.com:5000/a'));
  assert.ok(keyMatches('reg.example.com/team', 'reg.example.com/team/app'));
  assert.ok(!keyMatches('reg.example.com/team', 'reg.example.com/other/app'));
});

test('lookup: most specific key first; Docker Hub credentials for Hub images; none for others', () => {
  const keyring = new DockerKeyring();
  keyring.add({
    'reg.example.com': { username: 'host', password: 'p' },
    'reg.example.com/team': { username: 'team', password: 'p' },
    'https://index.docker.io/v1/': { username: 'hub', password: 'p' },
    '127.0.0.1:5000': { username: 'local', password: 'p' },
  });
  assert.deepEqual(
    keyring.lookup('reg.example.com/team/app:1').map((a) => a.username),
    ['team', 'host'],
  );
  assert.deepEqual(
    keyring.lookup('reg.example.com/other').map((a) => a.username),
    ['host'],
  );
  assert.deepEqual(
    keyring.lookup('busybox').map((a) => a.username),
    ['hub'],
  );
  assert.deepEqual(
    keyring.lookup('docker.io/foo/bar').map((a) => a.username),
    ['hub'],
  );
  assert.deepEqual(
    keyring.lookup('127.0.0.1:5000/busybox:1').map((a) => a.username),
    ['local'],
  );
  assert.deepEqual(keyring.lookup('quay.io/x'), []);
  assert.deepEqual(keyring.lookup('NOT VALID'), []);
});

test('several secrets combine; tokens are carried', () => {
  const a = dockerConfigJson({ 'a.example.com': { username: 'u', password: 'p', identitytoken: 'tok' } });
  const b = dockerConfigJson({ 'a.example.com': { username: 'v', password: 'q' } });
  const creds = keyringFromSecrets([a, b]).lookup('a.example.com/x');
  assert.deepEqual(creds, [
    { username: 'u', password: 'p', identityToken: 'tok' },
    { username: 'v', password: 'q' },
  ]);
});
