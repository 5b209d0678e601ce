/**
 * Test helper: a real `skiff server` process on a free port in a temporary data dir, and real
 * kubectl/helm bound to its admin kubeconfig. Everything it starts is stopped by `stop()`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ClientVersion, ensureClient } from '../../src/cli/tools.ts';
import { buildBusyboxImage } from '../../src/kubelet/images/builder.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
export const SKIFF = join(root, 'bin', 'skiff');
/** The test image every node test uses: busybox-static in one layer, never pulled. */
export const BUSYBOX = 'skiff.local/busybox:1.36';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class TestCluster {
  readonly dataDir: string;
  readonly kubeconfig: string;
  readonly #child: ChildProcess;
  #args: string[] = [];
  #agent = false;
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

  /**
   * Starts `skiff server` and waits until it wrote its kubeconfig (it is then ready). The server runs
   * without its node agent (`--disable-agent`) unless `opts.agent` is set: most tests use simulated
   * nodes, and a kubelet brings up containerd.
   */
  static async start(
    extraArgs: string[] = [],
    dataDir?: string,
    opts: { agent?: boolean } = {},
  ): Promise<TestCluster> {
    const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'skiff-e2e-'));
    const agentArgs = opts.agent ? [] : ['--disable-agent'];
    const child = spawn(
      SKIFF,
      ['server', '--data-dir', dir, '--https-listen-port', '0', ...agentArgs, ...extraArgs],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, SKIFF_LOG_LEVEL: process.env.SKIFF_LOG_LEVEL ?? 'info' },
      },
    );
    const cluster = new TestCluster(dir, child);
    cluster.#args = extraArgs;
    cluster.#agent = opts.agent ?? false;
    try {
      await cluster.#waitReady();
    } catch (err) {
      // A server that never became ready must not outlive the test (nothing else holds its handle),
      // nor the data directory made for it here (a caller's directory is the caller's to remove).
      await cluster.kill();
      if (dataDir === undefined) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return cluster;
  }

  /**
   * Starts `skiff server` with its node agent (real containerd) on a bridge and pod range of the
   * test's own, with the busybox test image (`BUSYBOX`, built offline from busybox-static) placed in
   * DATA_DIR/agent/images for import, and waits until the node is Ready.
   */
  static async startWithNode(opts: {
    bridge: string;
    clusterCidr: string;
    extraArgs?: string[];
  }): Promise<TestCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-node-'));
    const images = join(dir, 'agent', 'images');
    mkdirSync(images, { recursive: true });
    const built = await buildBusyboxImage({ cacheDir: join(tmpdir(), 'skiff-test-images'), ref: BUSYBOX });
    copyFileSync(built.file, join(images, 'busybox.tar'));
    const cluster = await TestCluster.start(
      [
        '--kubelet-port',
        '0',
        '--cni-bridge',
        opts.bridge,
        '--node-name',
        `node-${opts.bridge}`,
        '--cluster-cidr',
        opts.clusterCidr,
        ...(opts.extraArgs ?? []),
      ],
      dir,
      { agent: true },
    );
    try {
      await cluster.waitNodeReady();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Waits (up to 60 s) until a Node is registered and Ready. */
  async waitNodeReady(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while ((await this.kubectlOk(['get', 'nodes', '-o', 'name'])).trim() === '') {
      if (Date.now() > deadline) throw new Error(`no node registered after 60 s:\n${this.#stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await this.kubectlOk(['wait', '--for=condition=Ready', 'node', '--all', '--timeout=60s']);
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
    if (!opts.keepData) {
      // A node's containers, mounts, network and cgroups outlive the server (as with k3s):
      // `skiff uninstall` removes all of them, and the data dir.
      if (existsSync(join(this.dataDir, 'agent'))) {
        const r = await run(SKIFF, ['uninstall', '--data-dir', this.dataDir], {});
        if (r.code !== 0) process.stderr.write(`skiff uninstall failed:\n${r.stderr}\n`);
      }
      rmSync(this.dataDir, { recursive: true, force: true });
    }
    return this.#child.exitCode;
  }

  /** Stops the server (SIGTERM) and starts it again on the same data dir and flags. */
  async restart(): Promise<TestCluster> {
    await this.stop({ keepData: true });
    return TestCluster.start(this.#args, this.dataDir, { agent: this.#agent });
  }

  /**
   * Runs `kubectl port-forward ARGS` (e.g. `pod/x :8080`) until `stop()`; resolves once kubectl
   * says where it listens, with that local port.
   */
  async portForward(
    args: string[],
    version: ClientVersion = '1.35',
  ): Promise<{ port: number; stop(): void }> {
    const bin = await ensureClient('kubectl', version);
    const child = spawn(
      bin,
      [
        '--kubeconfig',
        this.kubeconfig,
        '--cache-dir',
        join(this.dataDir, 'kubectl-cache'),
        'port-forward',
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kubectl port-forward did not start: ${out}`)), 20_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`kubectl port-forward exited ${code}: ${out}`));
      });
    });
    return { port, stop: () => child.kill('SIGTERM') };
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
