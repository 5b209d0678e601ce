/**
 * The rate-limited work queue of client-go (util/workqueue): a FIFO of keys with a dirty set (keys
 * waiting) and a processing set (keys handed out and not yet done), a delaying layer (addAfter) on
 * the injected clock, and per-key exponential back-off (addRateLimited until forget).
 *
 * The rules:
 * - add() of a key already waiting does nothing (it stays in its place).
 * - a key being processed is never handed out again until done(); added meanwhile, it is marked
 *   dirty and queued again by done().
 * - after shutDown(), adds are ignored; get() still hands out what is queued (drain) and then
 *   resolves undefined.
 */
import { type Clock, systemClock } from '../util/clock.ts';
import type { WorkQueue } from './types.ts';

/** When a key may be retried (client-go's workqueue.RateLimiter). */
export interface RateLimiter {
  /** How long `key` should wait before its next try; counts the try. */
  when(key: string): number;
  forget(key: string): void;
  numRequeues(key: string): number;
}

/** base × 2^failures, capped at max (client-go's ItemExponentialFailureRateLimiter). */
export class ItemExponentialRateLimiter implements RateLimiter {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #failures = new Map<string, number>();

  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    return Math.min(this.#baseMs * 2 ** n, this.#maxMs);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/** An overall token bucket, `qps` a second up to `burst` (client-go's BucketRateLimiter). */
export class BucketRateLimiter implements RateLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps = 10, burst = 100, clock: Clock = systemClock) {
    this.#qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  when(): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#qps) * 1000;
  }

  forget(): void {}

  numRequeues(): number {
    return 0;
  }
}

/** The longest wait of several limiters (client-go's MaxOfRateLimiter). */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.#limiters = limiters;
  }

  when(key: string): number {
    return Math.max(0, ...this.#limiters.map((l) => l.when(key)));
  }

  forget(key: string): void {
    for (const l of this.#limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(0, ...this.#limiters.map((l) => l.numRequeues(key)));
  }
}

/** client-go's DefaultControllerRateLimiter: per-key 5 ms…1000 s, and 10 qps / burst 100 overall. */
export function defaultControllerRateLimiter(clock: Clock = systemClock): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialRateLimiter(5, 1_000_000),
    new BucketRateLimiter(10, 100, clock),
  );
}

export interface RateLimitingQueueOptions {
  clock?: Clock;
  /** Default: per-key exponential back-off, 5 ms doubling to 1000 s. */
  rateLimiter?: RateLimiter;
  /** Shorthands for the default limiter's base and cap, ms. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class RateLimitingQueue implements WorkQueue {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  #queue: string[] = [];
  #head = 0;
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** Keys waiting for addAfter, with when they are due and how to cancel the timer. */
  readonly #waiting = new Map<string, { at: number; cancel: () => void }>();
  #waiters: (() => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;

  constructor(opts: RateLimitingQueueOptions = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#limiter = opts.rateLimiter ?? new ItemExponentialRateLimiter(opts.baseDelayMs, opts.maxDelayMs);
  }

  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** True once shutDown() was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + delayMs;
    const existing = this.#waiting.get(key);
    // Like client-go: a key already waiting keeps the earlier of its two due times.
    if (existing) {
      if (existing.at <= at) return;
      existing.cancel();
    }
    const cancel = this.#clock.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.#waiting.set(key, { at, cancel });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.#limiter.when(key));
  }

  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  async get(): Promise<string | undefined> {
    while (this.length === 0 && !this.#shuttingDown) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.length === 0) return undefined;
    const key = this.#queue[this.#head++] as string;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#processing.add(key);
    this.#dirty.delete(key);
    return key;
  }

  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    if (this.#dirty.has(key)) this.#push(key);
    if (this.#processing.size === 0) this.#wake(true);
  }

  shutDown(): void {
    this.#shuttingDown = true;
    for (const w of this.#waiting.values()) w.cancel();
    this.#waiting.clear();
    this.#wake(false);
  }

  /** Shuts down, then resolves once every key handed out has been marked done (client-go's ShutDownWithDrain). */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    while (this.#processing.size > 0) {
      await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
    }
  }

  #push(key: string): void {
    this.#queue.push(key);
    this.#wake(false);
  }

  #wake(drained: boolean): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
    if (drained) {
      const d = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of d) w();
    }
  }
}
