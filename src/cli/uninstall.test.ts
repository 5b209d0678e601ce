import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { UninstallSummary } from '../kubelet/runtime/cleanup.ts';
import { describeSummary, skiffCommandOf, skiffProcessesUsing } from './uninstall.ts';

test('skiffCommandOf: server/agent and their data dir, from bin/skiff or main.ts argv', () => {
  const main = '/work/main/src/cli/main.ts';
  const node = '/work/main/node_modules/.bin/node';
  assert.deepEqual(skiffCommandOf([node, main, 'server']), { command: 'server', dataDir: '/var/lib/skiff' });
  assert.deepEqual(skiffCommandOf([node, main, 'agent', '--data-dir', '/tmp/x/']), {
    command: 'agent',
    dataDir: '/tmp/x',
  });
  assert.deepEqual(skiffCommandOf([node, main, 'server', '--data-dir=d'], '/srv'), {
    command: 'server',
    dataDir: '/srv/d',
  });
  assert.deepEqual(skiffCommandOf(['/usr/local/bin/skiff', 'server', '--data-dir', '/d']), {
    command: 'server',
    dataDir: '/d',
  });
  assert.equal(skiffCommandOf([node, main, 'uninstall', '--data-dir', '/d']), undefined);
  assert.equal(skiffCommandOf([node, main, 'kubectl', 'get', 'pods']), undefined);
  assert.equal(
    skiffCommandOf(['/usr/bin/containerd', '--config', '/var/lib/skiff/agent/containerd/config.toml']),
    undefined,
  );
  assert.equal(skiffCommandOf(['vim', 'notes', 'skiff', 'server']), undefined, 'skiff must be the program');
});

test('skiffProcessesUsing reads a /proc-like tree', async (t) => {
  const proc = await mkdtemp(join(tmpdir(), 'skiff-uninstall-proc-'));
  t.after(() => rm(proc, { recursive: true, force: true }));
  const add = async (pid: number, argv: string[], cwd = '/') => {
    await mkdir(join(proc, String(pid)));
    await writeFile(join(proc, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
    await symlink(cwd, join(proc, String(pid), 'cwd'));
  };
  await add(10, ['node', '/x/src/cli/main.ts', 'server', '--data-dir', '/tmp/a']);
  await add(11, ['node', '/x/src/cli/main.ts', 'agent', '--data-dir', 'a'], '/tmp');
  await add(12, ['node', '/x/src/cli/main.ts', 'server', '--data-dir', '/tmp/b']);
  await add(13, ['sleep', '100']);
  await writeFile(join(proc, 'self'), '');
  const found = (await skiffProcessesUsing('/tmp/a/', proc)).sort((a, b) => a.pid - b.pid);
  assert.deepEqual(found, [
    { pid: 10, command: 'server', dataDir: '/tmp/a' },
    { pid: 11, command: 'agent', dataDir: '/tmp/a' },
  ]);
});

test('describeSummary says what went, or that nothing did', () => {
  const empty: UninstallSummary = {
    node: { nodeName: '', cniBridge: 'cni0', cniNetwork: 'skiff', cgroupRoot: 'skiff', socket: '/s' },
    sandboxes: [],
    tasks: [],
    processes: [],
    mounts: [],
    bridge: false,
    iptables: { rules: 0, chains: [] },
    proxy: { jumps: 0, chains: 0 },
    cgroups: [],
    paths: [],
    dataRemoved: false,
    problems: [],
  };
  assert.deepEqual(describeSummary(empty, '/d'), ['nothing to remove']);
  const full = describeSummary(
    {
      ...empty,
      sandboxes: ['a', 'b'],
      mounts: ['/d/m'],
      bridge: true,
      iptables: { rules: 4, chains: ['CNI-1'] },
      proxy: { jumps: 3, chains: 9 },
      cgroups: ['/sys/fs/cgroup/cpu/skiff'],
      dataRemoved: true,
      problems: ['unmounting /d/x: busy'],
    },
    '/d',
  );
  assert.deepEqual(full, [
    'removed 2 pod sandboxes',
    'unmounted 1 mount',
    'removed bridge cni0',
    'removed 4 iptables rules and 1 chain of the pod network',
    "removed kube-proxy's 9 chains and 3 jumps",
    'removed the pod cgroups (1 hierarchies)',
    'removed /d',
    'could not clean up: unmounting /d/x: busy',
  ]);
});

test('skiffProcessesUsing finds a live skiff server on the data dir (the refusal check)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-uninstall-live-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A stand-in whose argv looks like bin/skiff's: node -e … …/src/cli/main.ts server --data-dir DIR
  const child = spawn(
    process.execPath,
    ['-e', 'setInterval(() => {}, 1000)', '/opt/skiff/src/cli/main.ts', 'server', '--data-dir', dir],
    { stdio: 'ignore' },
  );
  t.after(() => child.kill('SIGKILL'));
  await once(child, 'spawn');
  const found = await skiffProcessesUsing(dir);
  assert.deepEqual(found, [{ pid: child.pid, command: 'server', dataDir: dir }]);
  assert.deepEqual(await skiffProcessesUsing(join(dir, 'other')), []);
});
