import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const skiff = join(import.meta.dirname, '..', '..', 'bin', 'skiff');
const dir = mkdtempSync(join(tmpdir(), 'skiff-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('skiff --help lists the commands; an unknown command exits 2', () => {
  const help = spawnSync(skiff, ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: skiff COMMAND/);
  assert.match(help.stdout, /server/);
  const serverHelp = spawnSync(skiff, ['server', '--help'], { encoding: 'utf8' });
  assert.equal(serverHelp.status, 0);
  assert.match(serverHelp.stdout, /--data-dir/);
  const bad = spawnSync(skiff, ['frobnicate'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
  const version = spawnSync(skiff, ['version'], { encoding: 'utf8' });
  assert.match(version.stdout, /node v26\./, 'runs on the pinned Node.js 26');
});

test('skiff server creates its datastore and stops cleanly on SIGTERM', async () => {
  const dataDir = join(dir, 'ok');
  const child = spawn(
    skiff,
    ['server', '--data-dir', dataDir, '--disable-agent', '--https-listen-port', '0'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('datastore opened')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
    });
    assert.ok(existsSync(join(dataDir, 'db', 'state.db')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('skiff server refuses a foreign database file with a clear message', () => {
  const dataDir = join(dir, 'foreign');
  mkdirSync(join(dataDir, 'db'), { recursive: true });
  writeFileSync(
    join(dataDir, 'db', 'state.db'),
    'this is not a database, it is a shopping list\n'.repeat(200),
  );
  const r = spawnSync(skiff, ['server', '--data-dir', dataDir, '--disable-agent'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /is not a SQLite database/);
  assert.match(r.stderr, /untouched/);
});
