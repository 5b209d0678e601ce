/**
 * The pod-failure back-off of a Job (backoff_utils.go): after n consecutive failures (since the
 * last success) the controller waits 10 s × 2^(n-1), at most 10 min, from the last failure before
 * it creates replacement pods.
 */
import { findCondition, type Pod, parseTime } from './podutil.ts';

export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 600_000;

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/**
 * When a pod finished: the latest container finish time when all containers terminated, else the
 * Ready=False transition, else deletion time minus grace, else its creation.
 */
export function podFinishedTime(pod: Pod): number {
  const statuses = pod.status?.containerStatuses ?? [];
  let latest: number | undefined;
  let all = statuses.length > 0;
  for (const s of statuses) {
    const t = parseTime(s.state?.terminated?.finishedAt);
    if (t === undefined) {
      all = false;
      break;
    }
    latest = latest === undefined ? t : Math.max(latest, t);
  }
  if (all && latest !== undefined) return latest;
  const ready = findCondition(pod.status?.conditions, 'Ready');
  const readyFalse = ready?.status === 'False' ? parseTime(ready.lastTransitionTime) : undefined;
  if (readyFalse !== undefined) return readyFalse;
  const deleted = parseTime(pod.metadata.deletionTimestamp);
  if (deleted !== undefined) return deleted - (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return parseTime(pod.metadata.creationTimestamp) ?? 0;
}

/** Per-Job back-off records (kept in memory, as kube-controller-manager does). */
export class BackoffStore {
  readonly #records = new Map<string, BackoffRecord>();

  get(key: string): BackoffRecord {
    return this.#records.get(key) ?? { failuresAfterLastSuccess: 0 };
  }

  /** The record after counting newly finished pods (not stored until {@link BackoffStore.set}). */
  next(key: string, newSucceeded: readonly Pod[], newFailed: readonly Pod[]): BackoffRecord {
    const rec = { ...this.get(key) };
    const failedTimes = newFailed.map(podFinishedTime).sort((a, b) => a - b);
    if (newSucceeded.length === 0) {
      if (failedTimes.length === 0) return rec;
      rec.failuresAfterLastSuccess += failedTimes.length;
      rec.lastFailureTime = failedTimes.at(-1);
      return rec;
    }
    const lastSuccess = Math.max(...newSucceeded.map(podFinishedTime));
    const out: BackoffRecord = { failuresAfterLastSuccess: 0 };
    for (let i = failedTimes.length - 1; i >= 0; i--) {
      const t = failedTimes[i] as number;
      if (t <= lastSuccess) break;
      out.lastFailureTime ??= t;
      out.failuresAfterLastSuccess++;
    }
    return out;
  }

  set(key: string, rec: BackoffRecord): void {
    this.#records.set(key, rec);
  }

  delete(key: string): void {
    this.#records.delete(key);
  }
}

/** How long to wait before creating pods again (0: now). */
export function remainingBackoffMs(
  rec: BackoffRecord,
  now: number,
  baseMs = DEFAULT_POD_FAILURE_BACKOFF_MS,
  maxMs = MAX_POD_FAILURE_BACKOFF_MS,
): number {
  if (rec.failuresAfterLastSuccess === 0 || rec.lastFailureTime === undefined) return 0;
  let backoff = baseMs;
  for (let i = 1; i < rec.failuresAfterLastSuccess; i++) {
    backoff *= 2;
    if (backoff >= maxMs) {
      backoff = maxMs;
      break;
    }
  }
  const elapsed = now - rec.lastFailureTime;
  return backoff < elapsed ? 0 : backoff - elapsed;
}
