/**
 * Service account tokens end to end with the real kubectl (1.35) and a real `skiff server`:
 * `kubectl create token`, the token as a bearer credential, pods' kube-api-access volume and the
 * kube-root-ca.crt ConfigMap in every namespace.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pkiPaths } from '../../src/apiserver/auth/pki.ts';
import { ensureClient } from '../../src/cli/tools.ts';
import { TestCluster } from '../helpers/cluster.ts';

const exec = promisify(execFile);

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('service account tokens', () => {
  let cluster: TestCluster;
  let emptyKubeconfig = '';
  const ok = (args: string[], input?: string) => cluster.kubectlOk(args, { input });

  /** kubectl with only a bearer token: no kubeconfig credentials, the cluster CA to trust. */
  async function withToken(
    token: string,
    args: string[],
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const bin = await ensureClient('kubectl', '1.35');
    try {
      const { stdout, stderr } = await exec(bin, [
        `--kubeconfig=${emptyKubeconfig}`,
        `--server=${cluster.server}`,
        `--certificate-authority=${pkiPaths(cluster.dataDir).caCert}`,
        `--token=${token}`,
        ...args,
      ]);
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : 1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      };
    }
  }

  before(async () => {
    cluster = await TestCluster.start();
    emptyKubeconfig = join(cluster.dataDir, 'empty-kubeconfig.yaml');
    writeFileSync(emptyKubeconfig, 'apiVersion: v1\nkind: Config\n');
    await until('the default ServiceAccount', async () =>
      (await cluster.kubectl(['get', 'serviceaccount', 'default'])).code === 0 ? true : undefined,
    );
  });
  after(async () => {
    await cluster?.stop();
  });

  it('kubectl create token issues a token the API server accepts', async () => {
    const token = (await ok(['create', 'token', 'default'])).trim();
    const claims = claimsOf(token);
    assert.equal(claims.sub, 'system:serviceaccount:default:default');
    assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
    assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(Number(claims.exp) - Number(claims.iat), 3600);

    const api = await withToken(token, ['get', '--raw', '/api']);
    assert.equal(api.code, 0, api.stderr);
    assert.equal((JSON.parse(api.stdout) as { kind: string }).kind, 'APIVersions');
    const who = await withToken(token, ['auth', 'whoami', '-o', 'json']);
    if (who.code === 0) {
      // Served only when SelfSubjectReview is; the identity must then be the service account.
      assert.match(who.stdout, /system:serviceaccount:default:default/);
    }

    const custom = (
      await ok(['create', 'token', 'default', '--duration', '20m', '--audience', 'vault'])
    ).trim();
    const c = claimsOf(custom);
    assert.deepEqual(c.aud, ['vault']);
    assert.equal(Number(c.exp) - Number(c.iat), 1200);
    const refused = await withToken(custom, ['get', '--raw', '/api']);
    assert.notEqual(refused.code, 0, 'a token for another audience is refused');
    assert.match(refused.stderr, /Unauthorized|must be logged in/);
  });

  it('refuses the token of a deleted service account with 401', async () => {
    await ok(['create', 'serviceaccount', 'robot']);
    const token = (await ok(['create', 'token', 'robot'])).trim();
    assert.equal((await withToken(token, ['get', '--raw', '/api'])).code, 0);
    await ok(['delete', 'serviceaccount', 'robot']);
    const r = await withToken(token, ['get', '--raw', '/api']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unauthorized|must be logged in/);
    const missing = await cluster.kubectl(['create', 'token', 'robot']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /serviceaccounts "robot" not found/);
  });

  it('gives pods the kube-api-access volume, unless they opt out', async () => {
    await ok(['run', 'web', '--image=busybox:1.36', '--restart=Never', '--', 'sleep', '3600']);
    const pod = JSON.parse(await ok(['get', 'pod', 'web', '-o', 'json'])) as {
      spec: {
        serviceAccountName: string;
        volumes: { name: string; projected?: { sources: Record<string, unknown>[] } }[];
        containers: { volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
      };
    };
    assert.equal(pod.spec.serviceAccountName, 'default');
    const vol = pod.spec.volumes.find((v) => /^kube-api-access-[a-z0-9]{5}$/.test(v.name));
    assert.ok(vol?.projected, JSON.stringify(pod.spec.volumes));
    assert.deepEqual(
      vol.projected.sources.map((s) => Object.keys(s)[0]),
      ['serviceAccountToken', 'configMap', 'downwardAPI'],
    );
    assert.deepEqual(pod.spec.containers[0]!.volumeMounts, [
      { name: vol.name, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ]);

    await ok(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'quiet' },
        spec: {
          automountServiceAccountToken: false,
          containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }],
        },
      }),
    );
    const quiet = JSON.parse(await ok(['get', 'pod', 'quiet', '-o', 'json'])) as {
      spec: { volumes?: unknown[] };
    };
    assert.equal(quiet.spec.volumes, undefined);

    const denied = await cluster.kubectl([
      'run',
      'ghostly',
      '--image=busybox:1.36',
      '--restart=Never',
      '--overrides={"spec":{"serviceAccountName":"ghost"}}',
    ]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /forbidden: error looking up service account default\/ghost/);
  });

  it('publishes kube-root-ca.crt with the cluster CA in every namespace, new ones too', async () => {
    await ok(['create', 'namespace', 'fresh']);
    const cm = await until('kube-root-ca.crt in a new namespace', async () => {
      const r = await cluster.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'fresh', '-o', 'json']);
      return r.code === 0
        ? (JSON.parse(r.stdout) as {
            data: Record<string, string>;
            metadata: { annotations: Record<string, string> };
          })
        : undefined;
    });
    assert.equal(cm.data['ca.crt'], readFileSync(pkiPaths(cluster.dataDir).caCert, 'utf8'));
    assert.match(cm.metadata.annotations['kubernetes.io/description'] ?? '', /^Contains a CA bundle/);
    // A pod in the new namespace is admitted once its default ServiceAccount exists.
    await ok(['run', 'p', '-n', 'fresh', '--image=busybox:1.36', '--restart=Never']);
    // Deleted: published again.
    await ok(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'fresh']);
    await until('kube-root-ca.crt again', async () =>
      (await cluster.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'fresh'])).code === 0
        ? true
        : undefined,
    );
  });
});
