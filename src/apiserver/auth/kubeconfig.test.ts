import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { KubeconfigError, loadKubeconfig, renderKubeconfig, writeKubeconfig } from './kubeconfig.ts';

const CA = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('kubeconfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-kubeconfig-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the admin kubeconfig is shaped like k3s’s', () => {
    const doc = parse(renderKubeconfig({ ca: CA, cert: CERT, key: KEY }));
    assert.deepEqual(doc, {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'default',
          cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64(CA) },
        },
      ],
      contexts: [{ name: 'default', context: { cluster: 'default', user: 'default' } }],
      'current-context': 'default',
      preferences: {},
      users: [
        { name: 'default', user: { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) } },
      ],
    });
  });

  test('written atomically with mode 0600, and read back', () => {
    const path = join(dir, 'sub', 'kubeconfig.yaml');
    writeKubeconfig(path, { ca: CA, cert: CERT, key: KEY, server: 'https://10.0.0.1:7443' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    // Overwriting a looser file leaves it 0600 too, and no temporary file behind.
    writeFileSync(path, 'old', { mode: 0o644 });
    writeKubeconfig(path, { ca: CA, cert: CERT, key: KEY, server: 'https://10.0.0.1:7443' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['kubeconfig.yaml']);
    assert.deepEqual(loadKubeconfig(path), {
      context: 'default',
      server: 'https://10.0.0.1:7443',
      ca: CA,
      cert: CERT,
      key: KEY,
      insecureSkipTlsVerify: false,
    });
  });

  test('file references are relative to the kubeconfig; tokenFile wins over token', () => {
    const path = join(dir, 'files.yaml');
    writeFileSync(join(dir, 'ca.crt'), CA);
    writeFileSync(join(dir, 'token'), 'file-token\n');
    writeFileSync(join(dir, 'client.crt'), CERT);
    writeFileSync(join(dir, 'client.key'), KEY);
    writeFileSync(
      path,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'a',
        contexts: [
          { name: 'a', context: { cluster: 'c1', user: 'u1', namespace: 'kube-system' } },
          { name: 'b', context: { cluster: 'c2', user: 'u2' } },
        ],
        clusters: [
          { name: 'c1', cluster: { server: 'https://a.example:6443', 'certificate-authority': 'ca.crt' } },
          {
            name: 'c2',
            cluster: {
              server: 'https://b.example',
              'insecure-skip-tls-verify': true,
              'tls-server-name': 'api',
            },
          },
        ],
        users: [
          { name: 'u1', user: { token: 'inline', tokenFile: 'token' } },
          { name: 'u2', user: { 'client-certificate': join(dir, 'client.crt'), 'client-key': 'client.key' } },
        ],
      }),
    );
    assert.deepEqual(loadKubeconfig(path), {
      context: 'a',
      server: 'https://a.example:6443',
      ca: CA,
      token: 'file-token',
      insecureSkipTlsVerify: false,
      namespace: 'kube-system',
    });
    assert.deepEqual(loadKubeconfig(path, { context: 'b' }), {
      context: 'b',
      server: 'https://b.example',
      cert: CERT,
      key: KEY,
      insecureSkipTlsVerify: true,
      tlsServerName: 'api',
    });
  });

  test('inline data wins over a file path', () => {
    const path = join(dir, 'both.yaml');
    const text = renderKubeconfig({ ca: CA, cert: CERT, key: KEY }).replace(
      'certificate-authority-data:',
      'certificate-authority: /nonexistent/ca.crt\n      certificate-authority-data:',
    );
    writeFileSync(path, text);
    assert.equal(loadKubeconfig(path).ca, CA);
  });

  test('malformed kubeconfigs are KubeconfigErrors', () => {
    const cases: Record<string, [string, RegExp]> = {
      missing: ['', /cannot read kubeconfig/],
      'not yaml': ['a: [', /not valid YAML/],
      'a list': ['- 1', /not a mapping/],
      'no current-context': ['apiVersion: v1\nkind: Config\n', /no current-context/],
      'unknown context': ['current-context: x\ncontexts: []\n', /no context named "x"/],
      'no server': [
        stringify({
          'current-context': 'x',
          contexts: [{ name: 'x', context: { cluster: 'c' } }],
          clusters: [{ name: 'c', cluster: {} }],
        }),
        /no valid server URL/,
      ],
      'cert without key': [
        renderKubeconfig({ ca: CA, cert: CERT, key: KEY }).replace(/\n\s+client-key-data: .*/, ''),
        /certificate without a key/,
      ],
      'bad data': [renderKubeconfig({ ca: 'not pem', cert: CERT, key: KEY }), /not base64 of a PEM/],
      'missing file': [
        stringify({
          'current-context': 'x',
          contexts: [{ name: 'x', context: { cluster: 'c' } }],
          clusters: [{ name: 'c', cluster: { server: 'https://s', 'certificate-authority': 'nope.crt' } }],
        }),
        /cannot read .*nope\.crt/,
      ],
    };
    for (const [name, [text, message]] of Object.entries(cases)) {
      const path = join(dir, `bad-${name.replace(/ /g, '-')}.yaml`);
      if (name !== 'missing') writeFileSync(path, text);
      assert.throws(
        () => loadKubeconfig(path),
        (err) => err instanceof KubeconfigError && message.test(err.message),
        name,
      );
    }
  });

  test('the written file round-trips through YAML untouched', () => {
    const path = join(dir, 'rt.yaml');
    writeKubeconfig(path, { ca: CA, cert: CERT, key: KEY, name: 'skiff' });
    const doc = parse(readFileSync(path, 'utf8'));
    assert.equal(doc['current-context'], 'skiff');
    assert.equal(loadKubeconfig(path).context, 'skiff');
  });
});
