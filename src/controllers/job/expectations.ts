/**
 * controller.ControllerExpectations: what a controller expects its informers to show after its own
 * writes. A controller that just created (or deleted) N pods must not act on a cache that does not
 * show them yet, or it would create them again; it records the writes here, the informer's handlers
 * count them off as they arrive, and reconcile skips the pod math until the counts reach zero (or
 * the record is five minutes old, so a lost event cannot wedge the object).
 */
import type { Clock } from '../../util/clock.ts';

export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Record {
  adds: number;
  dels: number;
  at: number;
}

export class Expectations {
  readonly #clock: Clock;
  readonly #records = new Map<string, Record>();
  /** key → uids whose change (e.g. a finalizer removal) is expected. */
  readonly #uids = new Map<string, Set<string>>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Whether `key` has no pending writes to wait for. */
  satisfied(key: string): boolean {
    const r = this.#records.get(key);
    if (!r) return true;
    if (r.adds <= 0 && r.dels <= 0) return true;
    return this.#clock.now() - r.at > EXPECTATIONS_TIMEOUT_MS;
  }

  /** Replaces the expectations of `key`. */
  expect(key: string, adds: number, dels: number): void {
    this.#records.set(key, { adds, dels, at: this.#clock.now() });
  }

  /** Lowers the expected creations by `n` (an observed pod, or a create that failed). */
  creationObserved(key: string, n = 1): void {
    const r = this.#records.get(key);
    if (r) r.adds -= n;
  }

  deletionObserved(key: string, n = 1): void {
    const r = this.#records.get(key);
    if (r) r.dels -= n;
  }

  /** Expects changes of these object uids (the job controller's finalizer removals). */
  expectUids(key: string, uids: Iterable<string>): void {
    let set = this.#uids.get(key);
    if (!set) {
      set = new Set();
      this.#uids.set(key, set);
    }
    for (const u of uids) set.add(u);
  }

  uidObserved(key: string, uid: string): void {
    const set = this.#uids.get(key);
    if (!set) return;
    set.delete(uid);
    if (set.size === 0) this.#uids.delete(key);
  }

  /** The uids still expected to change. */
  expectedUids(key: string): ReadonlySet<string> {
    return this.#uids.get(key) ?? new Set();
  }

  delete(key: string): void {
    this.#records.delete(key);
    this.#uids.delete(key);
  }
}
