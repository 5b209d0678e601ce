import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { containerdPaths, renderContainerdConfig } from './config.ts';
import { ContainerdError, ContainerdSupervisor } from './containerd.ts';
import { criVersion } from './probe.ts';

const FAKE = join(import.meta.dirname, 'testdata', 'fake-containerd.sh');

function logCapture() {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { lines, logger };
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-sup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('starts containerd with its config, waits for the CRI, restarts it when it dies, stops it', async (t) => {
  const dataDir = tempDir(t);
  const { lines, logger } = logCapture();
  const sup = new ContainerdSupervisor({ dataDir, containerd: FAKE, logger });
  t.after(() => sup.stop());
  await sup.start();
  await sup.ready;
  assert.equal(sup.version?.runtimeName, 'fakecontainerd');
  const pid = sup.pid!;
  assert.ok(alive(pid));
  assert.equal(readFileSync(sup.paths.pidFile, 'utf8').trim(), String(pid));
  assert.ok(readFileSync(sup.paths.configFile, 'utf8').includes('restrict_oom_score_adj = true'));
  assert.ok(lines.some((l) => l.msg === 'containerd up' && typeof l.ms === 'number'));
  await until(() => readFileSync(sup.paths.logFile, 'utf8').includes('fake containerd serving'));

  let restarted = 0;
  sup.onRestart(() => restarted++);
  process.kill(pid, 'SIGKILL');
  await until(() => restarted === 1);
  assert.notEqual(sup.pid, pid);
  assert.equal(sup.restarts, 1);
  assert.equal((await criVersion(sup.socketPath)).runtimeName, 'fakecontainerd');
  assert.ok(lines.some((l) => l.msg === 'containerd exited; restarting it'));

  const second = sup.pid!;
  await sup.stop();
  assert.ok(!alive(second), 'stop leaves no containerd');
  assert.ok(!existsSync(sup.paths.pidFile));
  await sup.stop(); // idempotent
});

test('adopts a containerd left running by a previous kubelet', async (t) => {
  const dataDir = tempDir(t);
  const paths = containerdPaths(dataDir);
  // Lay out what a previous supervisor left: config, pid file, a running containerd.
  const first = new ContainerdSupervisor({ dataDir, containerd: FAKE });
  await first.start();
  await first.stop();
  writeFileSync(paths.configFile, renderContainerdConfig({ paths }));
  const orphan = spawn(FAKE, ['--config', paths.configFile], { detached: true, stdio: 'ignore' });
  t.after(() => {
    try {
      process.kill(orphan.pid!, 'SIGKILL');
    } catch {}
  });
  writeFileSync(paths.pidFile, `${orphan.pid}\n`);
  await until(() => existsSync(paths.socket));

  const { lines, logger } = logCapture();
  const sup = new ContainerdSupervisor({ dataDir, containerd: FAKE, logger });
  await sup.start();
  assert.equal(sup.pid, orphan.pid, 'the running containerd is adopted, not a second one started');
  assert.ok(lines.some((l) => l.msg === 'adopting running containerd'));
  await sup.stop();
  await until(() => orphan.exitCode !== null || orphan.signalCode !== null);
});

test('a stale pid file (dead or foreign process) is ignored', async (t) => {
  const dataDir = tempDir(t);
  const paths = containerdPaths(dataDir);
  const sup = new ContainerdSupervisor({ dataDir, containerd: FAKE });
  t.after(() => sup.stop());
  // This test's own pid: alive, but not a containerd with our config.
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(dataDir, 'agent', 'run'), { recursive: true });
  writeFileSync(paths.pidFile, `${process.pid}\n`);
  await sup.start();
  assert.notEqual(sup.pid, process.pid);
});

test('a containerd that exits at start fails start() with its log', async (t) => {
  const dataDir = tempDir(t);
  const sup = new ContainerdSupervisor({ dataDir, containerd: FAKE });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(sup.paths.root, { recursive: true });
  writeFileSync(join(sup.paths.root, 'fail-start'), '');
  await assert.rejects(sup.start(), (err: unknown) => {
    assert.ok(err instanceof ContainerdError);
    assert.match(err.message, /failing at start as asked/);
    return true;
  });
  await assert.rejects(sup.ready, ContainerdError);
  await sup.stop();
});

test('a missing binary fails start()', async (t) => {
  const sup = new ContainerdSupervisor({ dataDir: tempDir(t), containerd: '/nonexistent/containerd' });
  await assert.rejects(sup.start(), ContainerdError);
});
