/**
 * `skiff agent` joins a control plane with the server's token and runs pods on its own containerd;
 * `skiff uninstall` then removes everything the node made.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildBusyboxImage } from '../../src/kubelet/images/builder.ts';
import { SKIFF, TestCluster } from '../helpers/cluster.ts';

const CAN_RUN = process.getuid?.() === 0 && existsSync('/usr/bin/containerd') && existsSync('/usr/sbin/runc');
const skip = CAN_RUN ? false : 'needs root, containerd and runc (scripts/setup.sh installs them)';

describe('skiff agent', { skip, timeout: 5 * 60_000 }, () => {
  let cluster: TestCluster;
  let agent: ChildProcess | undefined;
  let agentLog = '';
  const agentDir = mkdtempSync(join(tmpdir(), 'skiff-agent-'));

  const startAgent = (args: string[]) => {
    const child = spawn(SKIFF, ['agent', '--data-dir', agentDir, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (d: Buffer) => {
      agentLog += d.toString();
    });
    return child;
  };
  const stopAgent = async () => {
    if (!agent || agent.exitCode !== null) return;
    const exited = new Promise((r) => agent?.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
  };

  before(async () => {
    cluster = await TestCluster.start(['--cluster-cidr', '10.78.0.0/16']);
  });
  after(async () => {
    await stopAgent();
    const r = spawn(SKIFF, ['uninstall', '--data-dir', agentDir], { stdio: 'ignore' });
    await new Promise((resolve) => r.once('exit', resolve));
    rmSync(agentDir, { recursive: true, force: true });
    await cluster?.stop();
  });

  test('a wrong token is refused with a message that says where the right one is', async () => {
    const child = startAgent([
      '--server',
      cluster.server,
      '--token',
      `K10${'0'.repeat(64)}::server:nope`,
      '--node-name',
      'bad-agent',
    ]);
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 1);
    assert.match(agentLog, /does not match the join token/);
    assert.equal(existsSync(join(agentDir, 'agent', 'run')), false, 'nothing was started');
  });

  test('the agent joins with the token, registers its node and runs pods', async () => {
    const token = readFileSync(join(cluster.dataDir, 'token'), 'utf8').trim();
    assert.match(token, /^K10[0-9a-f]{64}::server:[0-9a-f]{64}$/);
    agentLog = '';
    agent = startAgent([
      '--server',
      cluster.server,
      '--token',
      token,
      '--node-name',
      'worker-1',
      '--node-label',
      'tier=edge',
      '--kubelet-port',
      '0',
      '--cni-bridge',
      'skiffag0',
    ]);
    await cluster.waitNodeReady();
    const node = JSON.parse(await cluster.kubectlOk(['get', 'node', 'worker-1', '-o', 'json']));
    assert.equal(node.metadata.labels.tier, 'edge');
    assert.ok(node.spec.podCIDR.startsWith('10.78.'));
    await cluster.kubectlOk([
      'run',
      'hello',
      '--image=skiff.local/busybox:stable',
      '--restart=Never',
      '--',
      'sh',
      '-c',
      'echo hello from $(hostname)',
    ]);
    const deadline = Date.now() + 60_000;
    let phase = '';
    while (Date.now() < deadline && phase !== 'Succeeded') {
      phase = (await cluster.kubectlOk(['get', 'pod', 'hello', '-o', 'jsonpath={.status.phase}'])).trim();
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(phase, 'Succeeded', agentLog);
    assert.equal(await cluster.kubectlOk(['logs', 'hello']), 'hello from hello\n');
    // The kubelet accepts only the API server: the admin's own certificate is refused.
    const port = node.status.daemonEndpoints.kubeletEndpoint.Port;
    const admin = readFileSync(join(cluster.dataDir, 'tls', 'client-admin.crt'));
    const key = readFileSync(join(cluster.dataDir, 'tls', 'client-admin.key'));
    const ca = readFileSync(join(cluster.dataDir, 'tls', 'server-ca.crt'));
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      request(
        {
          host: '127.0.0.1',
          port,
          path: '/containerLogs/default/hello/hello',
          cert: admin,
          key,
          ca,
          checkServerIdentity: () => undefined,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end();
    });
    assert.equal(status, 403);
  });

  test('skiff images import puts an archive into the node and pods run from it', async () => {
    const built = await buildBusyboxImage({
      cacheDir: join(tmpdir(), 'skiff-test-images'),
      ref: 'skiff.local/imported:1',
    });
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(SKIFF, ['images', 'import', '--data-dir', agentDir, built.file], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.once('exit', (code) => resolve({ code, stdout }));
    });
    assert.equal(out.code, 0);
    assert.match(out.stdout, /imported skiff\.local\/imported:1/);
    await cluster.kubectlOk([
      'run',
      'from-archive',
      '--image=skiff.local/imported:1',
      '--image-pull-policy=Never',
      '--restart=Never',
      '--overrides={"spec":{"nodeName":"worker-1"}}',
      '--',
      'echo',
      'imported',
    ]);
    const deadline = Date.now() + 60_000;
    let phase = '';
    while (Date.now() < deadline && phase !== 'Succeeded') {
      phase = (
        await cluster.kubectlOk(['get', 'pod', 'from-archive', '-o', 'jsonpath={.status.phase}'])
      ).trim();
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(phase, 'Succeeded');
    assert.equal(await cluster.kubectlOk(['logs', 'from-archive']), 'imported\n');
  });
});
