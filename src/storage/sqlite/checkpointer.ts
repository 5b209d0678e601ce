/**
 * Keeps the WAL bounded without stalling writers: checkpoints run in a worker thread (see
 * checkpoint-worker.ts) while the writing connection has automatic checkpoints turned off. If the
 * worker cannot run, the writing connection falls back to SQLite's automatic checkpoints.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../util/log.ts';

export interface CheckpointerOptions {
  path: string;
  log: Logger;
  /** How often the worker looks at the WAL size, in ms. Default 100. */
  intervalMs?: number;
  /** Checkpoint once the WAL is at least this large. Default 4 MiB. */
  thresholdBytes?: number;
  /** Called when the worker fails, so the store can turn automatic checkpoints back on. */
  onFailure: () => void;
  /**
   * Called after each checkpoint of the worker. Under continuous writes the worker never catches up
   * with the WAL's end, and SQLite only restarts a WAL that is checkpointed to its end; the writing
   * connection then finishes the last few frames itself, cheaply, so the WAL restarts.
   */
  onCheckpoint: (result: { log: number; checkpointed: number }) => void;
}

export class Checkpointer {
  readonly #worker: Worker;
  #stopped = false;
  checkpoints = 0;

  constructor(opts: CheckpointerOptions) {
    this.#worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), {
      workerData: {
        path: opts.path,
        intervalMs: opts.intervalMs ?? 100,
        thresholdBytes: opts.thresholdBytes ?? 4 * 1024 * 1024,
      },
    });
    this.#worker.unref();
    this.#worker.on(
      'message',
      (msg: { type: string; message?: string; log?: number; checkpointed?: number }) => {
        if (msg.type === 'checkpoint') {
          this.checkpoints++;
          opts.onCheckpoint({ log: msg.log ?? 0, checkpointed: msg.checkpointed ?? 0 });
        } else if (msg.type === 'error')
          opts.log.debug({ err: msg.message }, 'WAL checkpoint failed; will retry');
      },
    );
    this.#worker.on('error', (err) => {
      if (this.#stopped) return;
      opts.log.warn({ err }, 'WAL checkpoint worker failed; using automatic checkpoints');
      opts.onFailure();
    });
  }

  /** Stops the worker and waits for it to exit. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.postMessage('stop');
    const timer = setTimeout(() => void this.#worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }
}
