/**
 * Per-key exponential back-off, as the kubelet's flowcontrol.Backoff: the first failure waits
 * `initialMs`, each further failure doubles the wait up to `maxMs`; an entry left alone for twice
 * `maxMs` is forgotten (the next failure starts again at `initialMs`).
 */
import type { Clock } from '../../util/clock.ts';

interface Entry {
  /** The current back-off period. */
  backoffMs: number;
  /** When the last failure was recorded. */
  lastUpdate: number;
}

export class Backoff {
  readonly #clock: Clock;
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #entries = new Map<string, Entry>();

  constructor(clock: Clock, initialMs: number, maxMs: number) {
    this.#clock = clock;
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
  }

  /** Records a failure for `key` now: starts or doubles its back-off. Returns the new period. */
  next(key: string): number {
    const now = this.#clock.now();
    const e = this.#entries.get(key);
    if (!e || this.#expired(e, now)) {
      this.#entries.set(key, { backoffMs: this.#initialMs, lastUpdate: now });
      return this.#initialMs;
    }
    e.backoffMs = Math.min(e.backoffMs * 2, this.#maxMs);
    e.lastUpdate = now;
    return e.backoffMs;
  }

  /** True while `key` is still within the back-off period started by its last failure. */
  isInBackOff(key: string): boolean {
    const e = this.#entries.get(key);
    return e !== undefined && this.#clock.now() - e.lastUpdate < e.backoffMs;
  }

  /** Milliseconds until `key` may be retried (0 when it may be now). */
  remainingMs(key: string): number {
    const e = this.#entries.get(key);
    return e ? Math.max(0, e.lastUpdate + e.backoffMs - this.#clock.now()) : 0;
  }

  /** The current period of `key` (0 when none). */
  get(key: string): number {
    return this.#entries.get(key)?.backoffMs ?? 0;
  }

  /** Forgets `key` (after a success). */
  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets every entry that has expired. */
  gc(): void {
    const now = this.#clock.now();
    for (const [key, e] of this.#entries) if (this.#expired(e, now)) this.#entries.delete(key);
  }

  #expired(e: Entry, now: number): boolean {
    return now - e.lastUpdate > 2 * this.#maxMs;
  }
}
