/**
 * Test helper: a real `skiff server` process on a free port in a temporary data dir, and real
 * kubectl/helm bound to its admin kubeconfig. Everything it starts is stopped by `stop()`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ClientVersion, ensureClient } from '../../src/cli/tools.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
export const SKIFF = join(root, 'bin', 'skiff');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class TestCluster {
  readonly dataDir: string;
  readonly kubeconfig: string;
  readonly #child: ChildProcess;
  #stderr = '';
  #exited: Promise<number | null>;
  server = '';

  private constructor(dataDir: string, child: ChildProcess) {
    this.dataDir = dataDir;
    this.kubeconfig = join(dataDir, 'kubeconfig.yaml');
    this.#child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.#stderr += d.toString();
    });
    this.#exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Starts `skiff server` and waits until it wrote its kubeconfig (it is then ready). */
  static async start(extraArgs: string[] = [], dataDir?: string): Promise<TestCluster> {
    const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'skiff-e2e-'));
    const child = spawn(SKIFF, ['server', '--data-dir', dir, '--https-listen-port', '0', ...extraArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SKIFF_LOG_LEVEL: process.env.SKIFF_LOG_LEVEL ?? 'info' },
    });
    const cluster = new TestCluster(dir, child);
    try {
      await cluster.#waitReady();
    } catch (err) {
      // A server that never became ready must not outlive the test (nothing else holds its handle).
      await cluster.kill();
      throw err;
    }
    return cluster;
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.#child.exitCode !== null) throw new Error(`skiff server exited early:\n${this.#stderr}`);
      if (this.#stderr.includes('API server ready') && existsSync(this.kubeconfig)) {
        const m = /server: (https:\/\/\S+)/.exec(readFileSync(this.kubeconfig, 'utf8'));
        this.server = m?.[1] ?? '';
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`skiff server not ready after 30 s:\n${this.#stderr}`);
  }

  get logs(): string {
    return this.#stderr;
  }

  /** Runs kubectl (1.35 unless `version` says otherwise) against this cluster. Never throws on exit codes. */
  async kubectl(
    args: string[],
    opts: { version?: ClientVersion; input?: string; env?: Record<string, string> } = {},
  ): Promise<RunResult> {
    const bin = await ensureClient('kubectl', opts.version ?? '1.35');
    return run(
      bin,
      ['--kubeconfig', this.kubeconfig, '--cache-dir', join(this.dataDir, 'kubectl-cache'), ...args],
      opts,
    );
  }

  /** Like kubectl(), but fails the test with kubectl's stderr when it exits non-zero. */
  async kubectlOk(
    args: string[],
    opts: { version?: ClientVersion; input?: string; env?: Record<string, string> } = {},
  ): Promise<string> {
    const r = await this.kubectl(args, opts);
    if (r.code !== 0)
      throw new Error(`kubectl ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  }

  async helm(args: string[], opts: { version?: ClientVersion; input?: string } = {}): Promise<RunResult> {
    const bin = await ensureClient('helm', opts.version ?? '1.35');
    return run(bin, ['--kubeconfig', this.kubeconfig, ...args], {
      ...opts,
      env: {
        HELM_CACHE_HOME: join(this.dataDir, 'helm', 'cache'),
        HELM_CONFIG_HOME: join(this.dataDir, 'helm', 'config'),
        HELM_DATA_HOME: join(this.dataDir, 'helm', 'data'),
      },
    });
  }

  /** Stops the server with SIGTERM (SIGKILL after 10 s). Returns its exit code. */
  async stop(opts: { keepData?: boolean } = {}): Promise<number | null> {
    if (this.#child.exitCode === null) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
      await this.#exited;
      clearTimeout(timer);
    }
    if (!opts.keepData) rmSync(this.dataDir, { recursive: true, force: true });
    return this.#child.exitCode;
  }

  /** Kills the server with SIGKILL (for crash tests). */
  async kill(): Promise<void> {
    this.#child.kill('SIGKILL');
    await this.#exited;
  }
}

async function run(
  bin: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string> },
): Promise<RunResult> {
  if (opts.input === undefined) {
    try {
      const { stdout, stderr } = await exec(bin, args, {
        env: { ...process.env, ...opts.env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : 1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? String(err),
      };
    }
  }
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(opts.input);
  });
}
