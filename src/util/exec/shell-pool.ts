/**
 * A {@link CommandRunner} that forks from small helper shells instead of from this process: a few
 * `/bin/sh -s` children (started on first use) each run one command at a time, given as a line of
 * shell script on their stdin. Forking a 1 MB shell costs well under a millisecond and happens in
 * the shell, so the event loop of a big process never waits on fork (see runner.ts).
 *
 * Protocol, per command (arguments single-quoted, so nothing in them is interpreted):
 *
 *     'file' 'arg'… <IN >OUT 2>ERR &      # IN is /dev/null or a file holding `input`
 *     echo "p ID $!"                       # its PID, so it can be killed on abort or timeout
 *     wait $!; echo "d ID $?"              # its exit status (128 + N when killed by signal N)
 *
 * OUT and ERR are files in the shell's own private directory (mode 0700, under /dev/shm when there
 * is one), read and removed when the command is done. A shell that dies fails its command and is
 * replaced on the next run. The shells exit on their own when this process goes away, however it
 * goes (their stdin closes), and each removes its directory as it exits (`trap … EXIT`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CommandRunner,
  CommandTimeoutError,
  type RunOptions,
  type RunResult,
  sbinPath,
} from './runner.ts';

export interface ShellPoolOptions {
  /** Commands run at once (one shell each); more wait in order. Default 4. */
  size?: number;
  /** The shell (default /bin/sh). */
  shell?: string;
  /** Where the private directory for stdin/stdout/stderr files goes (default /dev/shm, else the OS temp dir). */
  tmpDir?: string;
}

/** The shell running a command died before reporting its status. */
export class ShellExitedError extends Error {
  override name = 'ShellExitedError';
}

interface Job {
  id: number;
  file: string;
  args: readonly string[];
  opts: RunOptions;
  resolve: (r: RunResult) => void;
  reject: (e: unknown) => void;
  pid?: number;
  /** Why the command was killed (abort reason or timeout), once it was asked to be. */
  killedFor?: unknown;
  paths?: { in: string; out: string; err: string };
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
}

interface Shell {
  proc: ChildProcess;
  /** Its private directory for the commands' stdin, stdout and stderr files. */
  dir: string;
  stdin: Socket;
  stdout: Socket;
  job?: Job;
  buffered: string;
  dead: boolean;
}

/** Quotes `s` for sh: inside single quotes nothing is special except the quote itself. */
export function shellQuote(s: string): string {
  if (s.includes('\0')) throw new TypeError('a command argument cannot contain a NUL byte');
  return `'${s.replaceAll("'", "'\\''")}'`;
}

export class ShellPoolRunner implements CommandRunner {
  readonly #size: number;
  readonly #shell: string;
  readonly #tmpBase: string;
  #shells: Shell[] = [];
  #queue: Job[] = [];
  #nextId = 1;

  constructor(opts: ShellPoolOptions = {}) {
    this.#size = Math.max(1, opts.size ?? 4);
    this.#shell = opts.shell ?? '/bin/sh';
    this.#tmpBase = opts.tmpDir ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  }

  run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      opts.signal?.throwIfAborted();
      for (const a of [file, ...args]) shellQuote(a); // reject NUL bytes before anything starts
      const job: Job = { id: this.#nextId++, file, args, opts, resolve, reject };
      if (opts.signal) {
        job.onAbort = () => this.#kill(job, opts.signal?.reason);
        opts.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      if (opts.timeoutMs !== undefined) {
        job.timer = setTimeout(
          () => this.#kill(job, new CommandTimeoutError([file, ...args], opts.timeoutMs!)),
          opts.timeoutMs,
        );
      }
      this.#queue.push(job);
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    const shells = this.#shells;
    this.#shells = [];
    await Promise.all(
      shells.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.dead) return resolve();
            s.proc.once('close', () => resolve());
            s.stdin.end();
          }),
      ),
    );
    for (const s of shells) rmSync(s.dir, { recursive: true, force: true });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const job = this.#queue[0]!;
      let shell = this.#shells.find((s) => !s.dead && !s.job);
      if (!shell && this.#shells.length < this.#size) shell = this.#startShell();
      if (!shell) return;
      this.#queue.shift();
      shell.job = job;
      shell.stdout.ref();
      void this.#send(shell, job);
    }
  }

  #startShell(): Shell {
    const dir = mkdtempSync(join(this.#tmpBase, 'skiff-exec-'));
    const proc = spawn(this.#shell, ['-s'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PATH: sbinPath() },
    });
    // Only a shell running a command keeps this process alive (its stdout is ref'd meanwhile).
    const stdin = proc.stdin as Socket;
    const stdout = proc.stdout as Socket;
    const stderr = proc.stderr as Socket;
    const shell: Shell = { proc, dir, stdin, stdout, buffered: '', dead: false };
    this.#shells.push(shell);
    proc.unref();
    stdin.unref();
    stderr.unref();
    stdout.unref();
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => this.#onOutput(shell, chunk));
    stderr.resume(); // the shell's own complaints; each command's stderr goes to its file
    stdin.on('error', () => {});
    stdin.write(`trap ${shellQuote(`rm -rf ${shellQuote(dir)}`)} EXIT\n`);
    proc.on('error', () => this.#shellDied(shell));
    proc.on('close', () => this.#shellDied(shell));
    return shell;
  }

  async #send(shell: Shell, job: Job): Promise<void> {
    try {
      const dir = shell.dir;
      job.paths = {
        in: join(dir, `${job.id}.in`),
        out: join(dir, `${job.id}.out`),
        err: join(dir, `${job.id}.err`),
      };
      let stdin = '/dev/null';
      if (job.opts.input !== undefined && job.opts.input.length > 0) {
        await writeFile(job.paths.in, job.opts.input, { mode: 0o600 });
        stdin = job.paths.in;
      }
      if (shell.dead) throw new ShellExitedError('the command shell exited');
      const argv = [job.file, ...job.args].map(shellQuote).join(' ');
      shell.stdin.write(
        `${argv} <${shellQuote(stdin)} >${shellQuote(job.paths.out)} 2>${shellQuote(job.paths.err)} &\n` +
          `echo "p ${job.id} $!"\nwait $!\necho "d ${job.id} $?"\n`,
      );
    } catch (err) {
      shell.job = undefined;
      this.#finish(job, undefined, err);
      this.#idle(shell);
    }
  }

  #onOutput(shell: Shell, chunk: string): void {
    shell.buffered += chunk;
    let nl = shell.buffered.indexOf('\n');
    while (nl >= 0) {
      const line = shell.buffered.slice(0, nl);
      shell.buffered = shell.buffered.slice(nl + 1);
      nl = shell.buffered.indexOf('\n');
      const m = /^([pd]) (\d+) (\d+)$/.exec(line);
      const job = shell.job;
      if (!m || !job || Number(m[2]) !== job.id) continue;
      if (m[1] === 'p') {
        job.pid = Number(m[3]);
        if (job.killedFor !== undefined) this.#signal(job);
      } else {
        shell.job = undefined;
        void this.#collect(job, Number(m[3]));
        this.#idle(shell);
      }
    }
  }

  async #collect(job: Job, code: number): Promise<void> {
    const p = job.paths!;
    try {
      const [stdout, stderr] = await Promise.all([
        readFile(p.out, 'utf8').catch(() => ''),
        readFile(p.err, 'utf8').catch(() => ''),
      ]);
      this.#finish(job, { code, stdout, stderr }, job.killedFor);
    } finally {
      void Promise.all([rm(p.in, { force: true }), rm(p.out, { force: true }), rm(p.err, { force: true })]);
    }
  }

  #idle(shell: Shell): void {
    if (!shell.dead) shell.stdout.unref();
    this.#dispatch();
  }

  #kill(job: Job, why: unknown): void {
    if (job.killedFor !== undefined) return;
    job.killedFor = why ?? new Error('aborted');
    if (job.pid !== undefined) {
      this.#signal(job);
      return;
    }
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      // Not started: it fails at once. (A job being sent is killed when its PID arrives.)
      this.#queue.splice(queued, 1);
      this.#finish(job, undefined, job.killedFor);
    }
  }

  #signal(job: Job): void {
    try {
      process.kill(job.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  #finish(job: Job, result: RunResult | undefined, error: unknown): void {
    clearTimeout(job.timer);
    if (job.onAbort) job.opts.signal?.removeEventListener('abort', job.onAbort);
    if (error !== undefined) job.reject(error);
    else job.resolve(result!);
  }

  #shellDied(shell: Shell): void {
    if (shell.dead) return;
    shell.dead = true;
    this.#shells = this.#shells.filter((s) => s !== shell);
    rmSync(shell.dir, { recursive: true, force: true }); // a killed shell could not
    const job = shell.job;
    shell.job = undefined;
    if (job) this.#finish(job, undefined, job.killedFor ?? new ShellExitedError('the command shell exited'));
    this.#dispatch();
  }
}
