/**
 * A small TTL cache with least-recently-used eviction, on an injected clock. Entries expire at the
 * time given when set; a full cache drops its least recently used entry first.
 */
import type { Clock } from '../util/clock.ts';

interface Entry<V> {
  value: V;
  storedAt: number;
  expiresAt: number;
}

export class TtlCache<V> {
  readonly #items = new Map<string, Entry<V>>();
  readonly #capacity: number;
  readonly #clock: Clock;

  constructor(capacity: number, clock: Clock) {
    this.#capacity = Math.max(1, capacity);
    this.#clock = clock;
  }

  /** The value and its age in ms, or undefined when absent or expired (an expired entry is dropped). */
  get(key: string): { value: V; ageMs: number } | undefined {
    const e = this.#items.get(key);
    if (!e) return undefined;
    const now = this.#clock.now();
    if (now >= e.expiresAt) {
      this.#items.delete(key);
      return undefined;
    }
    // Move to the back: most recently used.
    this.#items.delete(key);
    this.#items.set(key, e);
    return { value: e.value, ageMs: now - e.storedAt };
  }

  /** Keeps `value` for `ttlMs` (nothing when ttlMs <= 0). */
  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    const now = this.#clock.now();
    this.#items.delete(key);
    if (this.#items.size >= this.#capacity) {
      const oldest = this.#items.keys().next().value;
      if (oldest !== undefined) this.#items.delete(oldest);
    }
    this.#items.set(key, { value, storedAt: now, expiresAt: now + ttlMs });
  }

  clear(): void {
    this.#items.clear();
  }

  get size(): number {
    return this.#items.size;
  }
}
