/**
 * Running short-lived commands (mount, umount, ip, iptables-restore, nft, ctr) from a long-lived
 * process. Node's `child_process.spawn` forks the calling process, and fork copies its page tables
 * while the event loop waits: measured here, 6 ms per spawn at 50 MB RSS, 16 ms at 170 MB and 37 ms
 * at 390 MB. `skiff server` (API server, controllers, kubelet, kube-proxy in one process) would
 * stall everything it serves for that long on every command, so its commands go through a
 * {@link CommandRunner} that forks from a small process instead (see shell-pool.ts).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** How one command is run. */
export interface RunOptions {
  /** Written to the command's stdin (default: empty stdin). */
  input?: string | Uint8Array;
  /** Kills the command (SIGKILL) when aborted; the run then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Kills the command (SIGKILL) after this long; the run then rejects with a CommandTimeoutError. */
  timeoutMs?: number;
}

/** What a command did. */
export interface RunResult {
  /** The exit status; a command killed by signal N reports 128 + N, as a shell does. */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs commands. Contract: `run` resolves with the exit status and output whatever the status is
 * (a non-zero exit is not an error); it rejects only when the command cannot be run at all (not
 * found, not executable: code 127/126 are reported as such, as a shell does), when aborted, or on
 * timeout. Concurrent runs are allowed; each command gets its own stdin, stdout and stderr. `file` is
 * looked up on PATH (with /usr/sbin and /sbin added) unless it contains a slash.
 */
export interface CommandRunner {
  run(file: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Releases what the runner holds (helper processes, temporary files); later runs start anew. */
  close(): Promise<void>;
}

/** A command exited with a non-zero status (thrown by {@link runChecked}). */
export class CommandFailedError extends Error {
  override name = 'CommandFailedError';
  readonly argv: readonly string[];
  readonly result: RunResult;
  constructor(argv: readonly string[], result: RunResult) {
    super(
      `${argv.join(' ')} exited with status ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`,
    );
    this.argv = argv;
    this.result = result;
  }
}

/** A command ran past its timeout and was killed. */
export class CommandTimeoutError extends Error {
  override name = 'CommandTimeoutError';
  readonly argv: readonly string[];
  readonly timeoutMs: number;
  constructor(argv: readonly string[], timeoutMs: number) {
    super(`${argv.join(' ')} did not finish within ${timeoutMs} ms and was killed`);
    this.argv = argv;
    this.timeoutMs = timeoutMs;
  }
}

/** Runs a command and resolves with its stdout; rejects with a CommandFailedError on a non-zero exit. */
export async function runChecked(
  runner: CommandRunner,
  file: string,
  args: readonly string[],
  opts?: RunOptions,
): Promise<string> {
  const r = await runner.run(file, args, opts);
  if (r.code !== 0) throw new CommandFailedError([file, ...args], r);
  return r.stdout;
}

/** PATH with the system binary directories first (iptables, mount and ip live in /usr/sbin). */
export function sbinPath(path = process.env.PATH ?? ''): string {
  const sbin = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  const rest = path.split(':').filter((p) => p && !sbin.includes(p));
  return [...sbin, ...rest].join(':');
}

/**
 * The plain runner: one `child_process.spawn` per command, from this process. Right for small
 * processes (tests, one-off CLI commands); `skiff server` and `skiff agent` use the shell pool.
 */
export const spawnRunner: CommandRunner = {
  run(file, args, opts = {}) {
    return new Promise((resolve, reject) => {
      const argv = [file, ...args];
      opts.signal?.throwIfAborted();
      const child = spawn(file, [...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, PATH: sbinPath() },
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let failure: unknown;
      const kill = (why: unknown) => {
        failure ??= why;
        child.kill('SIGKILL');
      };
      const onAbort = () => kill(opts.signal?.reason);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const timer =
        opts.timeoutMs !== undefined
          ? setTimeout(() => kill(new CommandTimeoutError(argv, opts.timeoutMs!)), opts.timeoutMs)
          : undefined;
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e: NodeJS.ErrnoException) => {
        failure ??= e;
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        const stderr = Buffer.concat(err).toString();
        const enoent = (failure as NodeJS.ErrnoException | undefined)?.code;
        if (enoent === 'ENOENT' || enoent === 'EACCES') {
          resolve({ code: enoent === 'ENOENT' ? 127 : 126, stdout: '', stderr: `${file}: ${enoent}` });
          return;
        }
        if (failure !== undefined) {
          reject(failure);
          return;
        }
        const signo = sig ? signalNumber(sig) : 0;
        resolve({ code: code ?? 128 + signo, stdout: Buffer.concat(out).toString(), stderr });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input ?? '');
    });
  },
  async close() {},
};

function signalNumber(sig: NodeJS.Signals): number {
  return constants.signals[sig] ?? 0;
}
