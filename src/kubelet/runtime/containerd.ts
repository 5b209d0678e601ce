/**
 * ContainerdSupervisor: runs skiff's own containerd (config from config.ts, files under the data
 * dir), waits until its CRI answers, restarts it with back-off when it dies, and adopts one left
 * running by a previous kubelet (found through the pid file), the way k3s does.
 *
 * Contract:
 *   - `start()` resolves once the CRI answers Version (logging "containerd up" with the time it
 *     took); it rejects with a ContainerdError if the first containerd exits or is not up within
 *     `readyTimeoutMs` (that containerd is killed). After that the supervisor keeps containerd
 *     alive until `stop()`: each time it dies it is started again (after 0.5 s, doubling to 30 s;
 *     reset after 60 s of uptime) and the `onRestart` hooks run once the new one answers.
 *   - containerd runs in its own process group and outlives a kubelet that crashes; its shims and
 *     containers outlive containerd itself. `stop()` sends SIGTERM, waits (SIGKILL after
 *     `stopTimeoutMs`) and leaves shims and containers running, to be re-adopted.
 *   - containerd's output goes to DIR/agent/containerd/containerd.log, never the console (moved to
 *     containerd.log.1 at a start when it passed 16 MiB).
 *   - One supervisor per data dir and process; `start()` is called once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Clock, sleep, systemClock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import { type ContainerdPaths, containerdPaths, renderContainerdConfig } from './config.ts';
import { type CriVersion, criVersion } from './probe.ts';

export interface ContainerdSupervisorOptions {
  /** skiff's data dir (DIR); containerd's files go under DIR/agent. */
  dataDir: string;
  /** CNI conf_dir; default DIR/agent/cni/net.d. */
  cniConfDir?: string;
  /** The sandbox image (default skiff.local/pause:3.10). */
  pauseImage?: string;
  /** The containerd binary (default `containerd` on PATH). */
  containerd?: string;
  logger?: Logger;
  clock?: Clock;
  /** How long a started containerd may take to answer (default 30 s). */
  readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL (default 10 s). */
  stopTimeoutMs?: number;
}

/** containerd could not be started (or did not come up in time). */
export class ContainerdError extends Error {
  override name = 'ContainerdError';
}

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const BACKOFF_RESET_AFTER_MS = 60_000;
const POLL_MS = 50;
const ADOPTED_POLL_MS = 500;

/** True if `pid` is a live (not zombie) process. */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function cmdline(pid: number): Promise<string[]> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  } catch {
    return [];
  }
}

async function tail(file: string, lines = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** containerd.log is kept below this size: at each start a bigger one becomes containerd.log.1. */
const LOG_MAX_BYTES = 16 << 20;

async function rotate(file: string): Promise<void> {
  try {
    if ((await stat(file)).size > LOG_MAX_BYTES) await rename(file, `${file}.1`);
  } catch {
    // no log yet
  }
}

/** A running containerd, ours (a child) or adopted (found by pid). */
interface Instance {
  pid: number;
  child?: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

export class ContainerdSupervisor {
  readonly paths: ContainerdPaths;
  /** The containerd gRPC socket (CRI endpoint: `unix://${socketPath}`). */
  readonly socketPath: string;
  /** Resolves when containerd first answers; rejects if the first start fails. */
  readonly ready: Promise<void>;
  /** The runtime's version, once up. */
  version: CriVersion | undefined;

  readonly #opts: ContainerdSupervisorOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #restartHooks = new Set<() => void>();
  readonly #stopController = new AbortController();
  #instance: Instance | undefined;
  #loop: Promise<void> | undefined;
  #resolveReady!: () => void;
  #rejectReady!: (err: unknown) => void;
  #restarts = 0;

  constructor(opts: ContainerdSupervisorOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? systemClock;
    this.paths = containerdPaths(opts.dataDir, opts.cniConfDir);
    this.socketPath = this.paths.socket;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed through start()
  }

  /** The pid of the running containerd, if any. */
  get pid(): number | undefined {
    return this.#instance?.pid;
  }

  /** How many times containerd was restarted after dying. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Registers a hook run each time a restarted containerd is up again; returns an unsubscribe. */
  onRestart(fn: () => void): () => void {
    this.#restartHooks.add(fn);
    return () => this.#restartHooks.delete(fn);
  }

  /** Writes the config, starts (or adopts) containerd and resolves when its CRI answers. */
  async start(): Promise<void> {
    if (this.#loop) return this.ready;
    await this.#prepare();
    const began = this.#clock.now();
    // The clock's timers do not hold the event loop; a caller awaiting start() must not see the
    // process exit under it.
    const keepAlive = setInterval(() => {}, 1 << 30);
    let first: Instance;
    try {
      first = await this.#launchOrAdopt();
      await this.#waitReady(first);
    } catch (err) {
      this.#instance = undefined;
      this.#rejectReady(err);
      throw err;
    } finally {
      clearInterval(keepAlive);
    }
    this.#log.info(
      { ms: this.#clock.now() - began, pid: first.pid, version: this.version?.runtimeVersion },
      'containerd up',
    );
    this.#resolveReady();
    this.#loop = this.#supervise(first);
    return this.ready;
  }

  /** Stops containerd (SIGTERM, then SIGKILL after the timeout); shims and containers stay. */
  async stop(): Promise<void> {
    this.#stopController.abort(new ContainerdError('supervisor stopped'));
    const inst = this.#instance;
    if (inst) await this.#terminate(inst);
    await this.#loop;
    await rm(this.paths.pidFile, { force: true });
  }

  async #prepare(): Promise<void> {
    const p = this.paths;
    for (const dir of [
      p.root,
      p.state,
      dirname(p.socket),
      dirname(p.pidFile),
      p.cniConfDir,
      p.certsDir,
      p.imagesDir,
    ]) {
      await mkdir(dir, { recursive: true });
    }
    const config = renderContainerdConfig({ paths: p, pauseImage: this.#opts.pauseImage });
    const tmp = `${p.configFile}.tmp`;
    await writeFile(tmp, config);
    await rename(tmp, p.configFile);
  }

  /** Adopts the containerd named in the pid file if it is alive and runs our config; else starts one. */
  async #launchOrAdopt(): Promise<Instance> {
    const adopted = await this.#findRunning();
    if (adopted !== undefined) {
      this.#log.info({ pid: adopted }, 'adopting running containerd');
      const inst: Instance = { pid: adopted, exited: this.#pollExit(adopted) };
      this.#instance = inst;
      return inst;
    }
    return this.#launch();
  }

  async #findRunning(): Promise<number | undefined> {
    let pid: number;
    try {
      pid = Number.parseInt(await readFile(this.paths.pidFile, 'utf8'), 10);
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !(await alive(pid))) return undefined;
    const argv = await cmdline(pid);
    return argv.includes(this.paths.configFile) ? pid : undefined;
  }

  async #launch(): Promise<Instance> {
    await rm(this.socketPath, { force: true });
    await rm(`${this.socketPath}.ttrpc`, { force: true });
    await rotate(this.paths.logFile);
    const fd = openSync(this.paths.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.#opts.containerd ?? 'containerd', ['--config', this.paths.configFile], {
        stdio: ['ignore', fd, fd],
        detached: true,
        env: {
          ...process.env,
          PATH: `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH ?? ''}`,
        },
      });
    } finally {
      closeSync(fd);
    }
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const spawned = await new Promise<boolean>((resolve) => {
      child.once('spawn', () => resolve(true));
      child.once('error', (err) => {
        this.#log.error({ err }, 'cannot start containerd');
        resolve(false);
      });
    });
    if (!spawned || child.pid === undefined)
      throw new ContainerdError('cannot start containerd (is it installed?)');
    child.unref();
    await writeFile(this.paths.pidFile, `${child.pid}\n`);
    const inst: Instance = { pid: child.pid, child, exited };
    this.#instance = inst;
    this.#log.debug({ pid: child.pid }, 'containerd started');
    return inst;
  }

  /** For an adopted (non-child) process: resolves when it is gone. */
  async #pollExit(pid: number): Promise<void> {
    while (await alive(pid)) {
      try {
        await sleep(this.#clock, ADOPTED_POLL_MS, this.#stopController.signal);
      } catch {
        // stopping: keep polling until stop() has terminated it
        await new Promise((r) => setTimeout(r, ADOPTED_POLL_MS / 10));
      }
    }
  }

  /** Polls CRI Version until it answers; kills the instance and rejects when it cannot. */
  async #waitReady(inst: Instance): Promise<void> {
    let exited = false;
    void inst.exited.then(() => {
      exited = true;
    });
    const deadline = this.#clock.now() + (this.#opts.readyTimeoutMs ?? 30_000);
    let lastErr: unknown;
    for (;;) {
      if (this.#stopController.signal.aborted) throw this.#stopController.signal.reason;
      try {
        this.version = await criVersion(this.socketPath, 1000);
        return;
      } catch (err) {
        lastErr = err;
      }
      if (exited) {
        throw new ContainerdError(
          `containerd exited before it was up; log:\n${await tail(this.paths.logFile)}`,
        );
      }
      if (this.#clock.now() >= deadline) {
        await this.#terminate(inst);
        throw new ContainerdError(
          `containerd not up after ${this.#opts.readyTimeoutMs ?? 30_000} ms (${(lastErr as Error)?.message}); log:\n${await tail(this.paths.logFile)}`,
        );
      }
      await sleep(this.#clock, POLL_MS, this.#stopController.signal).catch(() => {});
    }
  }

  async #terminate(inst: Instance): Promise<void> {
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(inst.pid, sig);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.#opts.stopTimeoutMs ?? 10_000);
    });
    const done = await Promise.race([inst.exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (done) {
      this.#log.warn({ pid: inst.pid }, 'containerd did not stop after SIGTERM; killing it');
      signal('SIGKILL');
      await inst.exited;
    }
  }

  /** Keeps containerd alive until stop(). */
  async #supervise(first: Instance): Promise<void> {
    const stop = this.#stopController.signal;
    let inst = first;
    let backoff = BACKOFF_START_MS;
    for (;;) {
      const upSince = this.#clock.now();
      await inst.exited;
      this.#instance = undefined;
      if (stop.aborted) return;
      if (this.#clock.now() - upSince >= BACKOFF_RESET_AFTER_MS) backoff = BACKOFF_START_MS;
      const code = inst.child?.exitCode ?? inst.child?.signalCode ?? 'unknown';
      this.#log.warn({ pid: inst.pid, exit: code, restartInMs: backoff }, 'containerd exited; restarting it');
      let began = this.#clock.now();
      for (;;) {
        try {
          await sleep(this.#clock, backoff, stop);
        } catch {
          return;
        }
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        began = this.#clock.now();
        try {
          inst = await this.#launchOrAdopt();
          await this.#waitReady(inst);
        } catch (err) {
          this.#instance = undefined;
          if (stop.aborted) return;
          this.#log.error({ err, restartInMs: backoff }, 'containerd restart failed');
          continue;
        }
        break;
      }
      this.#restarts++;
      this.#log.info({ ms: this.#clock.now() - began, pid: inst.pid }, 'containerd up (restarted)');
      for (const hook of this.#restartHooks) {
        try {
          hook();
        } catch (err) {
          this.#log.error({ err }, 'containerd onRestart hook failed');
        }
      }
    }
  }
}
