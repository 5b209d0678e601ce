/**
 * controller.UIDTrackingControllerExpectations: what a controller expects its informers to show
 * after its own writes. After creating N pods (or deleting some), a controller must not act on a
 * cache that does not show them yet, or it would create (or delete) them again. It records the
 * writes here; its informer handlers count them off as the pods arrive (or go); reconcile skips the
 * pod math until the counts reach zero — or until the record is five minutes old, so that a lost
 * event cannot wedge the object.
 *
 * Deletions are tracked by pod key, so that a pod seen first with a deletionTimestamp and then
 * deleted is counted once.
 */
import type { Clock } from '../../util/clock.ts';

/** controller.ExpectationsTimeout */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expectation {
  add: number;
  del: number;
  /** When it was set, ms. */
  at: number;
}

export class ControllerExpectations {
  readonly #clock: Clock;
  readonly #records = new Map<string, Expectation>();
  /** controller key → keys of the pods whose deletion is expected */
  readonly #deleting = new Map<string, Set<string>>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * SatisfiedExpectations: true when `key` has no record (a new controller, or one whose record was
   * deleted), when every expected write was observed, or when the record expired.
   */
  satisfied(key: string): boolean {
    const r = this.#records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del <= 0) return true;
    return this.#clock.now() - r.at > EXPECTATIONS_TIMEOUT_MS;
  }

  /** ExpectCreations: `count` pods are being created (replaces the record). */
  expectCreations(key: string, count: number): void {
    this.#records.set(key, { add: count, del: 0, at: this.#clock.now() });
  }

  /** ExpectDeletions: the pods of `podKeys` are being deleted (replaces the record). */
  expectDeletions(key: string, podKeys: readonly string[]): void {
    this.#deleting.set(key, new Set(podKeys));
    this.#records.set(key, { add: 0, del: podKeys.length, at: this.#clock.now() });
  }

  /** CreationObserved: one pod of `key` appeared (or one creation will never happen). */
  creationObserved(key: string): void {
    this.#lower(key, 1, 0);
  }

  /** DeletionObserved: pod `podKey` of `key` was deleted (counted once, and only if expected). */
  deletionObserved(key: string, podKey: string): void {
    const keys = this.#deleting.get(key);
    if (!keys?.has(podKey)) return;
    keys.delete(podKey);
    this.#lower(key, 0, 1);
  }

  /** DeleteExpectations: forgets `key` (its object is gone). */
  delete(key: string): void {
    this.#records.delete(key);
    this.#deleting.delete(key);
  }

  /** The pending counts of `key`, for tests and logs. */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.#records.get(key);
    return r ? { add: r.add, del: r.del } : undefined;
  }

  #lower(key: string, add: number, del: number): void {
    const r = this.#records.get(key);
    if (!r) return;
    r.add -= add;
    r.del -= del;
  }
}
