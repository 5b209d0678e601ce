/**
 * Fan-out of committed writes to in-process watchers, shared by the stores that keep their own log
 * (SQLite, memory). It gives every watcher the Store's watch guarantees — revision order, no gaps,
 * history first — without unbounded buffering: a watcher that falls behind is switched to reading
 * history from the log until it has caught up, then goes live again.
 */
import type { Clock } from '../util/clock.ts';
import { checkPrefix, checkRevision } from './keys.ts';
import type { DeleteEvent, PutEvent, WatchEvent, WatchOptions } from './store.ts';
import { InvalidArgumentError, StoreClosedError } from './store.ts';

export type ChangeEvent = PutEvent | DeleteEvent;

/**
 * Where watchers read history from. Both methods are synchronous on purpose: between reading the last
 * page of history and going live no write may commit, and synchronous calls make that so.
 */
export interface HistorySource {
  /** The revision of the latest committed (and already published) write. */
  headRevision(): number;
  /**
   * Up to `limit` events matching `prefix` with afterRevision < revision ≤ untilRevision, in revision
   * order. Throws CompactedError when history after `afterRevision` is no longer complete.
   */
  readHistory(prefix: string, afterRevision: number, untilRevision: number, limit: number): ChangeEvent[];
}

export interface WatchHubOptions {
  clock: Clock;
  /** Events a live watcher may have queued before it is switched to reading history instead. */
  maxQueued?: number;
  /** Events read from history per page while catching up. */
  historyPage?: number;
}

function keyOf(e: ChangeEvent): string {
  return e.type === 'put' ? e.kv.key : e.key;
}

class Watcher {
  /** Revision of the last event handed to the consumer (or skipped as not matching). */
  delivered: number;
  live: boolean;
  queue: ChangeEvent[] = [];
  closed = false;
  progressRequested = false;
  wake: (() => void) | null = null;
  readonly prefix: string;

  constructor(prefix: string, delivered: number, live: boolean) {
    this.prefix = prefix;
    this.delivered = delivered;
    this.live = live;
  }

  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

export class WatchHub {
  readonly #source: HistorySource;
  readonly #clock: Clock;
  readonly #maxQueued: number;
  readonly #historyPage: number;
  readonly #watchers = new Set<Watcher>();
  #closed = false;

  constructor(source: HistorySource, options: WatchHubOptions) {
    this.#source = source;
    this.#clock = options.clock;
    this.#maxQueued = options.maxQueued ?? 10_000;
    this.#historyPage = options.historyPage ?? 1_000;
  }

  get size(): number {
    return this.#watchers.size;
  }

  /**
   * Hands committed events (in revision order, contiguous with everything published before) to every
   * live watcher whose prefix matches. Must be called synchronously with the commit that made them.
   */
  publish(events: readonly ChangeEvent[]): void {
    if (events.length === 0 || this.#watchers.size === 0) return;
    for (const w of this.#watchers) {
      if (!w.live) continue;
      let added = false;
      for (const e of events) {
        if (e.revision <= w.delivered) continue;
        if (!keyOf(e).startsWith(w.prefix)) continue;
        w.queue.push(e);
        added = true;
      }
      if (w.queue.length > this.#maxQueued) {
        // Too far behind: drop the queue and let it re-read from the log from where it is.
        w.queue = [];
        w.live = false;
        added = true;
      }
      if (added) w.notify();
    }
  }

  /** Makes every live watch with nothing queued report progress now (see Store.requestProgress). */
  requestProgress(): void {
    for (const w of this.#watchers) {
      w.progressRequested = true;
      w.notify();
    }
  }

  /** Ends every watch; their iterators finish. */
  close(): void {
    this.#closed = true;
    for (const w of this.#watchers) {
      w.closed = true;
      w.notify();
    }
    this.#watchers.clear();
  }

  watch(prefix: string, options: WatchOptions): AsyncIterable<WatchEvent> {
    checkPrefix(prefix);
    checkRevision(options.afterRevision, 'afterRevision');
    const progressMs = options.progressIntervalMs ?? 0;
    if (!Number.isFinite(progressMs) || progressMs < 0) {
      throw new InvalidArgumentError('progressIntervalMs must be a non-negative number');
    }
    if (this.#closed) throw new StoreClosedError();
    return this.#run(prefix, options.afterRevision, options.signal, progressMs);
  }

  async *#run(
    prefix: string,
    afterRevision: number | undefined,
    signal: AbortSignal | undefined,
    progressMs: number,
  ): AsyncGenerator<WatchEvent> {
    const current = this.#source.headRevision();
    const fromNow = afterRevision === undefined || afterRevision >= current;
    const w = new Watcher(prefix, afterRevision ?? current, fromNow);
    this.#watchers.add(w);
    const onAbort = () => {
      w.closed = true;
      w.notify();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) w.closed = true;
    const progress: { cancel: (() => void) | null; due: boolean } = { cancel: null, due: false };
    const armProgress = () => {
      progress.cancel?.();
      progress.cancel = null;
      progress.due = false;
      if (progressMs > 0) {
        progress.cancel = this.#clock.setTimeout(() => {
          progress.due = true;
          w.notify();
        }, progressMs);
      }
    };
    armProgress();
    try {
      while (!w.closed) {
        if (!w.live) {
          const until = this.#source.headRevision();
          const page = this.#source.readHistory(prefix, w.delivered, until, this.#historyPage);
          if (page.length < this.#historyPage) {
            // Caught up: everything up to `until` is in `page`, and nothing committed since
            // (this is synchronous with the read), so live events continue right after it.
            w.live = true;
            w.delivered = until;
          } else {
            w.delivered = page[page.length - 1]!.revision;
          }
          for (const e of page) {
            if (w.closed) return;
            yield e;
            armProgress();
          }
          continue;
        }
        const next = w.queue.shift();
        if (next) {
          w.delivered = next.revision;
          yield next;
          armProgress();
          continue;
        }
        if (progress.due || w.progressRequested) {
          w.progressRequested = false;
          // Live with an empty queue: every matching event up to the current revision was delivered.
          armProgress();
          yield { type: 'progress', revision: this.#source.headRevision() };
          continue;
        }
        await new Promise<void>((resolve) => {
          w.wake = resolve;
        });
      }
    } finally {
      progress.cancel?.();
      signal?.removeEventListener('abort', onAbort);
      this.#watchers.delete(w);
    }
  }
}
