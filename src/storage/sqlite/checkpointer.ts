/**
 * Keeps the WAL bounded without stalling writers. The writing connection has automatic checkpoints
 * off; when the WAL has grown past a threshold, a worker thread copies it into
 * the database from its own connection, then the writing connection checkpoints the few frames
 * appended meanwhile — SQLite restarts a WAL only once it is checkpointed to its end, which a
 * checkpointer racing a busy writer never reaches alone. If the worker fails, the writing connection
 * falls back to SQLite's automatic checkpoints.
 */
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** What the checkpointer logs through (a Logger, or a forwarder from the store's writer thread). */
export interface CheckpointLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * The worker: checkpoints the WAL from its own connection when asked, so copying WAL pages into the
 * database file and syncing it never block the event loop that serves writes. PASSIVE checkpoints
 * take no lock that writers wait on.
 */
const WORKER_SOURCE = `
const { DatabaseSync } = require('node:sqlite');
const { parentPort, workerData } = require('node:worker_threads');
const db = new DatabaseSync(workerData.path, { timeout: 0 });
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
parentPort.on('message', (msg) => {
  if (msg === 'checkpoint') {
    try {
      const r = checkpoint.get();
      parentPort.postMessage({ type: 'done', log: r ? r.log : 0, checkpointed: r ? r.checkpointed : 0 });
    } catch (err) {
      parentPort.postMessage({ type: 'error', message: String(err && err.message) });
    }
  } else if (msg === 'stop') {
    db.close();
    parentPort.close();
  }
});
`;

export interface CheckpointerOptions {
  path: string;
  log: CheckpointLog;
  /** Checkpoint once the WAL is at least this large. Default 2 MiB. */
  thresholdBytes?: number;
  /** How often the WAL size is checked, in ms. Default 100. */
  intervalMs?: number;
  /** Checkpoints the frames left on the writing connection (synchronously, between transactions). */
  finishOnWriter: () => void;
  /** Called when the worker fails, so the store can turn automatic checkpoints back on. */
  onFailure: () => void;
}

export class Checkpointer {
  readonly #worker: Worker;
  readonly #opts: CheckpointerOptions;
  readonly #timer: NodeJS.Timeout;
  #inFlight: ((ok: boolean) => void) | null = null;
  #stopped = false;
  #failed = false;
  #exited = false;
  /** Completed checkpoints. */
  checkpoints = 0;

  constructor(opts: CheckpointerOptions) {
    this.#opts = opts;
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path: opts.path },
    });
    this.#worker.unref();
    this.#worker.once('exit', () => {
      this.#exited = true;
      const pending = this.#inFlight;
      this.#inFlight = null;
      pending?.(false);
    });
    this.#worker.on('message', (msg: { type: string; message?: string }) => {
      if (msg.type === 'error') opts.log.debug({ err: msg.message }, 'WAL checkpoint failed; will retry');
      const done = this.#inFlight;
      this.#inFlight = null;
      done?.(msg.type === 'done');
    });
    this.#worker.on('error', (err) => {
      if (this.#stopped) return;
      this.#failed = true;
      opts.log.warn({ err }, 'WAL checkpoint worker failed; using automatic checkpoints');
      opts.onFailure();
    });
    this.#timer = setInterval(() => void this.#tick(), opts.intervalMs ?? 100);
    this.#timer.unref();
  }

  #walSize(): number {
    try {
      return statSync(`${this.#opts.path}-wal`).size;
    } catch {
      return 0;
    }
  }

  async #tick(): Promise<void> {
    if (this.#stopped || this.#failed || this.#inFlight) return;
    if (this.#walSize() < (this.#opts.thresholdBytes ?? 2 * 1024 * 1024)) return;
    const ok = await new Promise<boolean>((resolve) => {
      this.#inFlight = resolve;
      this.#worker.postMessage('checkpoint');
    });
    if (!ok || this.#stopped) return;
    this.#opts.finishOnWriter();
    this.checkpoints++;
  }

  /** Stops the worker and waits for it to exit. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#inFlight?.(false);
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.postMessage('stop');
    const timer = setTimeout(() => void this.#worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }
}
