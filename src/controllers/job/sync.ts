/** What one Job sync carries between its steps (job_controller.go's syncJobCtx), and condition helpers. */
import type { RestClient } from '../../client/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { BackoffRecord, BackoffStore } from './backoff.ts';
import type { EventRecorder } from './events.ts';
import type { Expectations } from './expectations.ts';
import type { OrderedIntervals } from './indexes.ts';
import { type Condition, type Pod, rfc3339 } from './podutil.ts';
import type { Job } from './types.ts';

/** At most this many pod uids wait in status.uncountedTerminatedPods (and finalizer removals per sync). */
export const MAX_UNCOUNTED_PODS = 500;
/** At most this many pods created or deleted per sync. */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
/** Pod creations start with batches of this many, doubling while they succeed. */
export const SLOW_START_INITIAL_BATCH = 1;

/** The controller's collaborators a sync uses. */
export interface JobDeps {
  client: RestClient;
  clock: Clock;
  expectations: Expectations;
  events: EventRecorder;
  backoff: BackoffStore;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Writes job.status (conditional on its resourceVersion) and returns the stored Job. */
  updateStatus(job: Job): Promise<Job>;
}

export interface SyncJobCtx {
  key: string;
  job: Job;
  /** Every pod the Job owns (terminated ones too). */
  pods: Pod[];
  active: Pod[];
  ready: number;
  terminating: number;
  uncounted: { succeeded: Set<string>; failed: Set<string> };
  /** Pods whose finalizer removal was sent but not yet seen. */
  expectedRmFinalizers: ReadonlySet<string>;
  succeeded: number;
  failed: number;
  prevSucceededIndexes?: OrderedIntervals;
  succeededIndexes?: OrderedIntervals;
  /** The condition the Job is heading to (FailureTarget, SuccessCriteriaMet, Failed or Complete). */
  finished?: Condition;
  newBackoff: BackoffRecord;
  /** Delays (ms) after which the Job wants another sync. */
  requeue: number[];
}

export function newCondition(
  type: string,
  status: string,
  reason: string,
  message: string,
  now: number,
): Condition {
  const t = rfc3339(now);
  return { type, status, lastProbeTime: t, lastTransitionTime: t, reason, message };
}

/**
 * ensureJobConditionStatus: sets the condition of `type` (replacing it when status, reason or
 * message differ); a False condition is never added where there was none. Returns whether it changed.
 */
export function ensureCondition(
  job: Job,
  type: string,
  status: string,
  reason: string,
  message: string,
  now: number,
): boolean {
  job.status ??= {};
  const list = job.status.conditions ?? [];
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i] as Condition;
    if (c.status === status && (c.reason ?? '') === reason && (c.message ?? '') === message) return false;
    list[i] = newCondition(type, status, reason, message, now);
    job.status.conditions = list;
    return true;
  }
  if (status === 'False') return false;
  job.status.conditions = [...list, newCondition(type, status, reason, message, now)];
  return true;
}

export function hasTrueCondition(job: Job, type: string): Condition | undefined {
  return (job.status?.conditions ?? []).find((c) => c.type === type && c.status === 'True');
}
