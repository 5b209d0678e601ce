/**
 * The CronJob controller's time and naming rules (pkg/controller/cronjob/utils.go): the most recent
 * unmet schedule time (counting missed ones, with startingDeadlineSeconds), when to look again,
 * and the Job made for a scheduled time.
 */

import type { LabelSelector } from '../../api/labels.ts';
import { CRON_JOBS } from '../../client/resources.ts';
import type { KubeObject, PodTemplateSpec } from '../job/podutil.ts';
import { newControllerRef, parseTime } from '../job/podutil.ts';
import type { Job, JobSpec } from '../job/types.ts';
import type { Schedule } from './schedule.ts';
import { rfc3339In } from './zone.ts';

/** The annotation with the time a Job was scheduled for (RFC 3339 in the CronJob's zone). */
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Requeue this long after the next schedule time, so that it has surely passed. */
export const NEXT_SCHEDULE_DELTA_MS = 100;

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface CronJob extends KubeObject {
  spec: {
    schedule: string;
    timeZone?: string | null;
    startingDeadlineSeconds?: number | null;
    concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace' | string;
    suspend?: boolean | null;
    jobTemplate: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: Omit<JobSpec, 'template'> & { template: PodTemplateSpec; selector?: LabelSelector | null };
    };
    successfulJobsHistoryLimit?: number | null;
    failedJobsHistoryLimit?: number | null;
  };
  status?: {
    active?: ObjectReference[] | null;
    lastScheduleTime?: string | null;
    lastSuccessfulTime?: string | null;
  };
}

export type MissedSchedules = 'none' | 'few' | 'many';

export interface MostRecent {
  earliest: number;
  /** The most recent schedule time not after now (undefined: none since `earliest`). */
  mostRecent?: number;
  missed: MissedSchedules;
  error?: string;
}

/**
 * mostRecentScheduleTime: from the last schedule time (or the CronJob's creation, or — with
 * `includeDeadline` — now minus startingDeadlineSeconds when later) the latest activation not after
 * `now`, estimating the missed ones from the interval between two activations.
 */
export function mostRecentScheduleTime(
  cj: CronJob,
  now: number,
  sched: Schedule,
  includeDeadline: boolean,
): MostRecent {
  let earliest = parseTime(cj.status?.lastScheduleTime) ?? parseTime(cj.metadata.creationTimestamp) ?? now;
  const deadline = cj.spec.startingDeadlineSeconds;
  if (includeDeadline && deadline != null) {
    const schedulingDeadline = now - deadline * 1000;
    if (schedulingDeadline > earliest) earliest = schedulingDeadline;
  }
  const t1 = sched.next(earliest);
  const t2 = sched.next(t1);
  if (now < t1) return { earliest, missed: 'none' };
  if (now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  // A schedule such as "59 23 31 2 *" never fires: its "interval" is 0.
  const interval = Math.round((t2 - t1) / 1000);
  if (t1 === 0 || t2 === 0 || interval < 1) {
    return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  }
  const elapsed = Math.floor((now - t1) / 1000);
  const missedCount = Math.floor(elapsed / interval) + 1;
  // Start one interval before the estimate, so that irregular schedules land right.
  const potentialEarliest = t1 + (missedCount - 2) * interval * 1000;
  let mostRecent = 0;
  for (let t = sched.next(potentialEarliest); t !== 0 && t <= now; t = sched.next(t)) mostRecent = t;
  const missed: MissedSchedules = missedCount > 100 ? 'many' : missedCount > 0 ? 'few' : 'none';
  return mostRecent === 0 ? { earliest, missed } : { earliest, mostRecent, missed };
}

/** nextScheduleTimeDuration: how long until the activation after the most recent one (plus a delta). */
export function nextScheduleDelayMs(cj: CronJob, now: number, sched: Schedule): number {
  const r = mostRecentScheduleTime(cj, now, sched, false);
  // No activation since `earliest` (or an estimate that found none): aim after `earliest`, or now.
  const from = r.error ? now : (r.mostRecent ?? (r.missed === 'none' ? r.earliest : now));
  const next = sched.next(from);
  return next === 0 ? 24 * 3_600_000 : next + NEXT_SCHEDULE_DELTA_MS - now;
}

/** getJobName: `<cronjob>-<scheduled time in minutes since the epoch>`. */
export function jobName(cj: CronJob, scheduled: number): string {
  return `${cj.metadata.name ?? ''}-${Math.floor(scheduled / 60_000)}`;
}

/** getJobFromTemplate2: the Job for a scheduled time. */
export function jobFromTemplate(cj: CronJob, scheduled: number, zone: string): Job {
  const t = cj.spec.jobTemplate;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(cj, scheduled),
      namespace: cj.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}) },
      annotations: {
        ...(t.metadata?.annotations ?? {}),
        [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339In(scheduled, zone),
      },
      ownerReferences: [newControllerRef(cj, CRON_JOBS)],
    },
    spec: structuredClone(t.spec) as JobSpec,
  };
}

/** The reference status.active holds. */
export function jobRef(job: Job): ObjectReference {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    namespace: job.metadata.namespace,
    name: job.metadata.name,
    uid: job.metadata.uid,
    resourceVersion: job.metadata.resourceVersion,
  };
}
