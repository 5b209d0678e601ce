/**
 * The SQLite store's writer thread, seen from the store: a worker (writer-worker.ts) that owns the
 * one write connection, so the commits' CPU and their syncs never hold the thread that serves the
 * store's callers. The store posts each turn's writes as one batch; the worker answers batches in
 * the order posted, each after its transaction committed, so an answered write is durable and
 * revisions and watch events keep the order of the log. Reads stay on the store's own connection.
 */
import { Worker } from 'node:worker_threads';
import type { CheckpointLog } from './checkpointer.ts';
import type { CompactionMetrics, WriteOp, WriteResult } from './writer.ts';

/** What the worker is started with. */
export interface WriterThreadData {
  path: string;
  /** The store's revision: the first write takes the next. */
  revision: number;
  checkpointWorker: boolean;
  /** Most writes in one transaction. */
  maxBatch: number;
}

/** A failure as it crosses threads: the message and SQLite's error code. */
export interface WriterError {
  message: string;
  errcode?: number;
}

export type ToWriter =
  | { t: 'batch'; ops: WriteOp[] }
  | { t: 'compact'; id: number; revision: number }
  | { t: 'stop' };

export type FromWriter =
  | { t: 'ready' }
  | { t: 'batch'; results?: WriteResult[]; error?: WriterError; checkpointPauseMs?: number }
  | { t: 'compacted'; id: number; metrics: CompactionMetrics; error?: WriterError }
  | { t: 'log'; level: 'debug' | 'warn'; obj: object; msg: string }
  | { t: 'stopped' };

export interface WriterThreadHandlers {
  /** The answer to the oldest batch not yet answered: its results, or why its transaction failed. */
  onBatch(
    results: WriteResult[] | undefined,
    error: WriterError | undefined,
    checkpointPauseMs: number,
  ): void;
  /** The worker died (not stopped): answers to the batches in flight will never come. */
  onFailure(err: Error): void;
  log: CheckpointLog;
}

export class WriterThread {
  readonly #worker: Worker;
  readonly #handlers: WriterThreadHandlers;
  #inFlight = 0;
  #nextId = 1;
  readonly #compactions = new Map<number, (m: Extract<FromWriter, { t: 'compacted' }>) => void>();
  #stopping: Promise<void> | null = null;
  #failed = false;

  constructor(data: WriterThreadData, handlers: WriterThreadHandlers) {
    this.#handlers = handlers;
    this.#worker = new Worker(new URL('./writer-worker.ts', import.meta.url), { workerData: data });
    // Only writes and compactions waiting for their answer keep the process alive.
    this.#worker.unref();
    this.#worker.on('message', (m: FromWriter) => this.#onMessage(m));
    this.#worker.on('error', (err: unknown) =>
      this.#fail(err instanceof Error ? err : new Error(String(err))),
    );
    this.#worker.once('exit', (code) => {
      if (!this.#stopping) this.#fail(new Error(`the SQLite writer thread exited (code ${code})`));
    });
  }

  #onMessage(m: FromWriter): void {
    switch (m.t) {
      case 'batch':
        if (--this.#inFlight === 0 && this.#compactions.size === 0) this.#worker.unref();
        this.#handlers.onBatch(m.results, m.error, m.checkpointPauseMs ?? 0);
        break;
      case 'compacted': {
        const done = this.#compactions.get(m.id);
        this.#compactions.delete(m.id);
        if (done && this.#inFlight === 0 && this.#compactions.size === 0) this.#worker.unref();
        done?.(m);
        break;
      }
      case 'log':
        this.#handlers.log[m.level](m.obj, m.msg);
        break;
      default:
        break;
    }
  }

  #fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    for (const done of this.#compactions.values()) {
      done({
        t: 'compacted',
        id: 0,
        metrics: { compactionChunks: 0, rowsCompacted: 0, maxCompactionPauseMs: 0 },
        error: { message: err.message },
      });
    }
    this.#compactions.clear();
    this.#handlers.onFailure(err);
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** Posts one batch; its answer comes through onBatch, after every batch posted before it. */
  send(ops: WriteOp[]): void {
    if (this.#inFlight++ === 0 && this.#compactions.size === 0) this.#worker.ref();
    this.#worker.postMessage({ t: 'batch', ops } satisfies ToWriter);
  }

  /**
   * Records `revision` as compacted (durably), then removes what it made unreachable and returns free
   * pages; resolves with the sweep's counters once done.
   */
  compact(revision: number): Promise<{ metrics: CompactionMetrics; error?: WriterError }> {
    if (this.#failed) return Promise.reject(new Error('the SQLite writer thread failed'));
    const id = this.#nextId++;
    return new Promise((resolve) => {
      // Like a batch in flight, a compaction waiting for its answer keeps the process alive.
      if (this.#inFlight === 0 && this.#compactions.size === 0) this.#worker.ref();
      this.#compactions.set(id, resolve);
      this.#worker.postMessage({ t: 'compact', id, revision } satisfies ToWriter);
    });
  }

  /** Stops the worker once it answered everything posted (the store waits for its answers first). */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#failed) {
        await this.#worker.terminate();
        return;
      }
      const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
      this.#worker.postMessage({ t: 'stop' } satisfies ToWriter);
      const timer = setTimeout(() => void this.#worker.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
    })();
    return this.#stopping;
  }
}
