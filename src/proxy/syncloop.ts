/**
 * Runs a sync function serialized and rate limited (kube-proxy's BoundedFrequencyRunner): never two
 * at once; a request runs as soon as `minIntervalMs` has passed since the last run started (at once
 * if it has); without requests it still runs every `maxIntervalMs`; after a failure the next run
 * waits `retryMs`. Requests made while a run is in progress cause exactly one more run.
 */
import { type Clock, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';

export interface SyncLoopOptions {
  minIntervalMs: number;
  maxIntervalMs: number;
  /** Wait after a failed run, ms (default 1,000). */
  retryMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export class SyncLoop {
  readonly #fn: () => Promise<void>;
  readonly #o: SyncLoopOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #requested = false;
  #running: Promise<void> | null = null;
  #lastStart = Number.NEGATIVE_INFINITY;
  #notBefore = Number.NEGATIVE_INFINITY;
  #cancelTimer: (() => void) | null = null;
  #stopped = true;

  constructor(fn: () => Promise<void>, opts: SyncLoopOptions) {
    this.#fn = fn;
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Starts the loop (with a run at once) until `signal` aborts. */
  start(signal: AbortSignal): void {
    if (signal.aborted) return;
    this.#stopped = false;
    this.#requested = true;
    signal.addEventListener('abort', () => this.#stop(), { once: true });
    this.#schedule();
  }

  /** Asks for a run as soon as the minimum interval allows. */
  request(): void {
    this.#requested = true;
    this.#schedule();
  }

  /** Resolves when no run is in progress. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  #stop(): void {
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#cancelTimer = null;
  }

  #schedule(): void {
    if (this.#stopped || this.#running) return;
    this.#cancelTimer?.();
    const now = this.#clock.now();
    const due = this.#requested
      ? this.#lastStart + this.#o.minIntervalMs
      : this.#lastStart + this.#o.maxIntervalMs;
    const delay = Math.max(0, due - now, this.#notBefore - now);
    this.#cancelTimer = this.#clock.setTimeout(() => {
      this.#cancelTimer = null;
      this.#run();
    }, delay);
  }

  #run(): void {
    if (this.#stopped || this.#running) return;
    this.#requested = false;
    this.#lastStart = this.#clock.now();
    this.#running = (async () => {
      try {
        await this.#fn();
      } catch (err) {
        this.#log.warn({ err }, 'sync failed; retrying');
        this.#requested = true;
        this.#notBefore = this.#clock.now() + (this.#o.retryMs ?? 1000);
      } finally {
        this.#running = null;
      }
      this.#schedule();
    })();
  }
}
