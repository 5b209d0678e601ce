/**
 * Kubernetes' per-item back-off (k8s.io/client-go/util/flowcontrol.Backoff) as the kubelet uses it
 * for crashing containers: the first restart is immediate, then 10 s doubling up to 5 min; an entry
 * whose last update is more than twice the maximum (10 min) before the event is forgotten, so a
 * container that ran fine for 10 minutes starts again from 10 s.
 */
import type { Clock } from '../../util/clock.ts';

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

export class Backoff {
  readonly #clock: Clock;
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #entries = new Map<string, Entry>();

  constructor(clock: Clock, initialMs = 10_000, maxMs = 300_000) {
    this.#clock = clock;
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
  }

  /** The current back-off of `id` (0 when none). */
  get(id: string): number {
    return this.#entries.get(id)?.backoffMs ?? 0;
  }

  /** Whether `id` is still backing off from an event (e.g. a container exit) at `eventTime`. */
  isInBackOffSince(id: string, eventTime: number): boolean {
    const e = this.#entries.get(id);
    if (!e) return false;
    if (this.#hasExpired(eventTime, e.lastUpdate)) return false;
    return this.#clock.now() - eventTime < e.backoffMs;
  }

  /** When the back-off from `eventTime` ends (ms since epoch); undefined when not backing off. */
  expiresAt(id: string, eventTime: number): number | undefined {
    if (!this.isInBackOffSince(id, eventTime)) return undefined;
    return eventTime + this.#entries.get(id)!.backoffMs;
  }

  /** Records another event: starts at the initial back-off, else doubles it up to the maximum. */
  next(id: string, eventTime: number): void {
    const e = this.#entries.get(id);
    if (!e || this.#hasExpired(eventTime, e.lastUpdate)) {
      this.#entries.set(id, { backoffMs: this.#initialMs, lastUpdate: this.#clock.now() });
    } else {
      e.backoffMs = Math.min(e.backoffMs * 2, this.#maxMs);
      e.lastUpdate = this.#clock.now();
    }
  }

  /** Forgets `id`. */
  reset(id: string): void {
    this.#entries.delete(id);
  }

  /** Forgets every entry whose key starts with `prefix` (a pod's entries when it goes away). */
  resetPrefix(prefix: string): void {
    for (const k of this.#entries.keys()) if (k.startsWith(prefix)) this.#entries.delete(k);
  }

  /** Drops entries idle for more than twice the maximum (the kubelet's periodic GC). */
  gc(): void {
    const now = this.#clock.now();
    for (const [k, e] of this.#entries) if (this.#hasExpired(now, e.lastUpdate)) this.#entries.delete(k);
  }

  #hasExpired(eventTime: number, lastUpdate: number): boolean {
    return eventTime - lastUpdate > this.#maxMs * 2;
  }
}
