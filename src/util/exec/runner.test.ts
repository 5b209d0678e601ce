import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  CommandFailedError,
  type CommandRunner,
  CommandTimeoutError,
  runChecked,
  sbinPath,
  spawnRunner,
} from './runner.ts';
import { ShellExitedError, ShellPoolRunner, shellQuote } from './shell-pool.ts';

const tmp = mkdtempSync(join(tmpdir(), 'skiff-exec-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The same contract, for both runners. */
function contract(name: string, make: () => CommandRunner) {
  describe(name, () => {
    const runner = make();
    after(() => runner.close());

    test('stdout, stderr and the exit status come back apart; a non-zero exit resolves', async () => {
      const r = await runner.run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
      assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
    });

    test('arguments reach the command verbatim, whatever characters they hold', async () => {
      const args = ["it's", 'a b', '$HOME', '`id`', '"q"', 'x\ny', '\\', ';', '*', ''];
      const r = await runner.run('printf', ['%s|', ...args]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${args.join('|')}|`);
    });

    test('input goes to stdin (string and bytes); no input is an empty stdin', async () => {
      assert.equal((await runner.run('cat', [], { input: 'hello\nworld\n' })).stdout, 'hello\nworld\n');
      assert.equal(
        (await runner.run('wc', ['-c'], { input: new Uint8Array(70_000) })).stdout.trim(),
        '70000',
      );
      assert.equal((await runner.run('cat', [])).stdout, '');
    });

    test('a missing command reports 127', async () => {
      const r = await runner.run('/nonexistent/skiff-no-such-command', []);
      assert.equal(r.code, 127);
    });

    test('a timeout kills the command and rejects with CommandTimeoutError', async () => {
      const t0 = performance.now();
      await assert.rejects(runner.run('sleep', ['30'], { timeoutMs: 100 }), CommandTimeoutError);
      assert.ok(performance.now() - t0 < 5_000);
    });

    test('an abort kills the command and rejects with the reason', async () => {
      const ac = new AbortController();
      const p = runner.run('sleep', ['30'], { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('stop now')), 50);
      await assert.rejects(p, /stop now/);
      await assert.rejects(runner.run('true', [], { signal: ac.signal }), /stop now/);
    });

    test('commands run concurrently and keep their own output', async () => {
      const rs = await Promise.all(
        Array.from({ length: 12 }, (_, i) => runner.run('sh', ['-c', `sleep 0.0${i % 3}; echo ${i}`])),
      );
      assert.deepEqual(
        rs.map((r) => r.stdout),
        Array.from({ length: 12 }, (_, i) => `${i}\n`),
      );
    });

    test('runChecked returns stdout, or throws CommandFailedError with the status and stderr', async () => {
      assert.equal(await runChecked(runner, 'echo', ['ok']), 'ok\n');
      await assert.rejects(runChecked(runner, 'sh', ['-c', 'echo bad >&2; exit 2']), (err: unknown) => {
        assert.ok(err instanceof CommandFailedError);
        assert.equal(err.result.code, 2);
        assert.match(err.message, /exited with status 2: bad/);
        return true;
      });
    });

    test('/usr/sbin is on the PATH commands see', async () => {
      const r = await runner.run('sh', ['-c', 'echo "$PATH"']);
      assert.ok(r.stdout.split(':').includes('/usr/sbin'));
    });
  });
}

contract('spawnRunner', () => spawnRunner);
contract('ShellPoolRunner', () => new ShellPoolRunner({ size: 3, tmpDir: tmp }));

describe('ShellPoolRunner', () => {
  test('forks from its shells: commands are children of a shell, not of this process', async () => {
    const runner = new ShellPoolRunner({ size: 1, tmpDir: tmp });
    try {
      const ppid = Number((await runner.run('sh', ['-c', 'echo $PPID'])).stdout);
      assert.notEqual(ppid, process.pid);
    } finally {
      await runner.close();
    }
  });

  test('a shell killed under a command fails that command; the next run gets a new shell', async () => {
    const runner = new ShellPoolRunner({ size: 1, tmpDir: tmp });
    try {
      const p = runner.run('sh', ['-c', 'kill -9 $PPID; sleep 5']);
      await assert.rejects(p, ShellExitedError);
      assert.equal((await runner.run('echo', ['again'])).stdout, 'again\n');
    } finally {
      await runner.close();
    }
  });

  test('close removes its temporary files and lets its shells exit', async () => {
    const base = mkdtempSync(join(tmp, 'close-'));
    const runner = new ShellPoolRunner({ size: 2, tmpDir: base });
    await runner.run('cat', [], { input: 'x' });
    assert.equal(readdirSync(base).length, 1);
    await runner.close();
    assert.deepEqual(readdirSync(base), []);
    // A closed runner starts anew.
    assert.equal((await runner.run('echo', ['back'])).stdout, 'back\n');
    await runner.close();
  });

  test('a process killed with SIGKILL leaves no directory behind: its shells remove theirs', async () => {
    const base = mkdtempSync(join(tmp, 'killed-'));
    const script = `
      const { ShellPoolRunner } = await import(${JSON.stringify(new URL('./shell-pool.ts', import.meta.url).href)});
      const runner = new ShellPoolRunner({ size: 2, tmpDir: ${JSON.stringify(base)} });
      await Promise.all([runner.run('true', []), runner.run('cat', [], { input: 'x' })]);
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    assert.equal(signal, 'SIGKILL');
    for (let i = 0; i < 100 && readdirSync(base).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(readdirSync(base), []);
  });

  test('queued commands beyond the pool size wait, and an aborted queued one fails without running', async () => {
    const runner = new ShellPoolRunner({ size: 1, tmpDir: tmp });
    try {
      const marker = join(tmp, 'should-not-exist');
      const first = runner.run('sleep', ['0.2']);
      const ac = new AbortController();
      const queued = runner.run('touch', [marker], { signal: ac.signal });
      ac.abort(new Error('changed my mind'));
      await assert.rejects(queued, /changed my mind/);
      assert.equal((await first).code, 0);
      assert.equal(existsSync(marker), false);
    } finally {
      await runner.close();
    }
  });

  test('shellQuote refuses NUL bytes', () => {
    assert.throws(() => shellQuote('a\0b'), TypeError);
    assert.equal(shellQuote("a'b"), "'a'\\''b'");
  });
});

test('sbinPath puts the system directories first, once each', () => {
  assert.equal(
    sbinPath('/home/u/bin:/usr/bin:/opt/x'),
    '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/home/u/bin:/opt/x',
  );
});
