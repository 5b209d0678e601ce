/**
 * Timer wheels and a concurrency limit: what lets one process keep thousands of nodes alive. Each
 * periodic duty (lease renewal, status heartbeat) is a wheel of `period / tick` slots; members are
 * dealt round-robin into slots so their work is spread evenly over the period, and one clock timer
 * per tick drives every wheel.
 */

const GOLDEN = (Math.sqrt(5) - 1) / 2;

export class TimerWheel {
  readonly slots: Set<string>[];
  readonly #slotOf = new Map<string, number>();
  #deal = 0;

  constructor(periodMs: number, tickMs: number) {
    const n = Math.max(1, Math.round(periodMs / tickMs));
    this.slots = Array.from({ length: n }, () => new Set<string>());
  }

  get size(): number {
    return this.#slotOf.size;
  }

  /**
   * Adds `member` (no-op when present). Slots are dealt along a low-discrepancy sequence (multiples
   * of the golden ratio), so any number of members is spread evenly over the period.
   */
  add(member: string): void {
    if (this.#slotOf.has(member)) return;
    const slot = Math.floor(((this.#deal++ * GOLDEN) % 1) * this.slots.length);
    this.#slotOf.set(member, slot);
    this.slots[slot]!.add(member);
  }

  remove(member: string): void {
    const slot = this.#slotOf.get(member);
    if (slot === undefined) return;
    this.#slotOf.delete(member);
    this.slots[slot]!.delete(member);
  }

  /** The members due at tick number `tick`. */
  due(tick: number): ReadonlySet<string> {
    return this.slots[tick % this.slots.length]!;
  }
}

/** At most `limit` tasks at a time; the rest wait in order. */
export class Semaphore {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  #idle: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** Tasks running or waiting. */
  get pending(): number {
    return this.#active + this.#waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit) await new Promise<void>((r) => this.#waiting.push(r));
    else this.#active++;
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else {
        this.#active--;
        if (this.#active === 0) {
          const idle = this.#idle;
          this.#idle = [];
          for (const r of idle) r();
        }
      }
    }
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }
}
