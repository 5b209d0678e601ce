/**
 * The CronJob controller (kube-controller-manager's cronjob-controller, cronjob_controllerv2.go):
 * creates a Job at each scheduled time of a CronJob and keeps its status.
 *
 * - the schedule is read in spec.timeZone (or the controller's own zone); a schedule time is run
 *   at most once: the Job is named `<cronjob>-<minutes since the epoch>` and lastScheduleTime
 *   records it; with many missed times only the most recent runs (> 100 missed: a warning);
 * - startingDeadlineSeconds: a time missed by more than that is skipped (MissSchedule);
 * - concurrencyPolicy: Allow runs Jobs side by side, Forbid skips a time while one is active,
 *   Replace deletes the active ones first;
 * - status.active tracks unfinished Jobs; finished ones leave it, and successful ones set
 *   lastSuccessfulTime; successfulJobsHistoryLimit / failedJobsHistoryLimit keep the newest
 *   finished Jobs and delete older ones (background propagation);
 * - suspend stops new Jobs; each CronJob is looked at again just after its next schedule time.
 */
import { CRON_JOBS, JOBS } from '../../client/resources.ts';
import type { Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { EventRecorder } from '../job/events.ts';
import {
  CONTROLLER_UID_INDEX,
  controllerRefOf,
  controllerUidIndex,
  ensureIndex,
  isAlreadyExists,
  isControlledBy,
  isNotFound,
  parseTime,
  rfc3339,
} from '../job/podutil.ts';
import { finishedCondition, isJobFinished, type Job } from '../job/types.ts';
import { CronParseError, parseSchedule, type Schedule } from './schedule.ts';
import {
  type CronJob,
  jobFromTemplate,
  jobName,
  jobRef,
  mostRecentScheduleTime,
  nextScheduleDelayMs,
} from './utils.ts';
import { isKnownZone, localZone } from './zone.ts';

export interface CronJobControllerOptions {
  /** The zone of schedules without spec.timeZone (kube-controller-manager's local zone). */
  defaultTimeZone?: string;
  /** --concurrent-cron-job-syncs (5). */
  workers?: number;
}

export class CronJobController implements Controller {
  readonly name = 'cronjob-controller';
  readonly workers: number;
  readonly #defaultZone: string;
  #ctx!: ControllerContext;
  #cronJobs!: Lister<CronJob>;
  #jobs!: Lister<Job>;
  #events!: EventRecorder;
  /** Status this controller last wrote, until the informer catches up. */
  readonly #written = new Map<string, CronJob>();

  constructor(opts: CronJobControllerOptions = {}) {
    this.#defaultZone = opts.defaultTimeZone ?? localZone();
    this.workers = opts.workers ?? 5;
  }

  get events(): EventRecorder {
    return this.#events;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#events = new EventRecorder(ctx.client, this.name, ctx.clock, ctx.log);
    const cronJobs = ctx.informers.informer<CronJob>(CRON_JOBS);
    const jobs = ctx.informers.informer<Job>(JOBS);
    ensureIndex(jobs, CONTROLLER_UID_INDEX, controllerUidIndex);
    this.#cronJobs = cronJobs.lister();
    this.#jobs = jobs.lister();
    cronJobs.addEventHandler({
      onAdd: (cj) => ctx.queue.add(keyOf(cj)),
      onUpdate: (old, cj) => {
        if (
          old.spec.schedule !== cj.spec.schedule ||
          (old.spec.timeZone ?? null) !== (cj.spec.timeZone ?? null)
        ) {
          let sched: Schedule;
          try {
            sched = parseSchedule(this.#formatSchedule(cj, false), this.#defaultZone);
          } catch {
            this.#events.event(
              CRON_JOBS,
              cj,
              'Warning',
              'UnParseableCronJobSchedule',
              `unparseable schedule for cronjob: ${cj.spec.schedule}`,
            );
            return;
          }
          ctx.queue.addAfter(keyOf(cj), nextScheduleDelayMs(cj, ctx.clock.now(), sched));
          return;
        }
        ctx.queue.add(keyOf(cj));
      },
    });
    const enqueueOwner = (job: Job) => {
      const ref = controllerRefOf(job);
      if (ref?.kind !== 'CronJob') return;
      const cj = this.#cronJobs.get(`${job.metadata.namespace ?? ''}/${ref.name}`);
      if (cj?.metadata.uid === ref.uid) ctx.queue.add(keyOf(cj));
    };
    jobs.addEventHandler({
      onAdd: enqueueOwner,
      onUpdate: (old, job) => {
        if (old.metadata.resourceVersion === job.metadata.resourceVersion) return;
        if (controllerRefOf(old)?.uid !== controllerRefOf(job)?.uid) enqueueOwner(old);
        enqueueOwner(job);
      },
      onDelete: enqueueOwner,
    });
  }

  /** formatSchedule: spec.timeZone becomes a TZ= prefix; a TZ= in the schedule itself is warned about. */
  #formatSchedule(cj: CronJob, warn: boolean): string {
    if (cj.spec.schedule.includes('TZ')) {
      if (warn) {
        this.#events.event(
          CRON_JOBS,
          cj,
          'Warning',
          'UnsupportedSchedule',
          `CRON_TZ or TZ used in schedule "${cj.spec.schedule}" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
        );
      }
      return cj.spec.schedule;
    }
    const tz = cj.spec.timeZone;
    if (tz != null && isKnownZone(tz)) return `TZ=${tz} ${cj.spec.schedule}`;
    return cj.spec.schedule;
  }

  #zoneOf(cj: CronJob): string {
    const tz = cj.spec.timeZone;
    if (tz == null || tz === '' || tz === 'Local') return this.#defaultZone;
    return tz;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const cached = this.#cronJobs.get(key);
    if (!cached) {
      this.#written.delete(key);
      return undefined;
    }
    let cj = structuredClone(this.#freshest(key, cached));
    cj.status ??= {};
    const jobs = this.#jobs
      .byIndex(CONTROLLER_UID_INDEX, cj.metadata.uid ?? '')
      .filter((j) => isControlledBy(j, cj));
    const cleaned = await this.#cleanupFinishedJobs(cj, jobs);
    const r = await this.#syncCronJob(cj, jobs);
    cj = r.cj;
    if (cleaned || r.updateStatus) {
      const out = await this.#ctx.client.update<CronJob>(CRON_JOBS, cj.metadata.namespace ?? '', cj, {
        subresource: 'status',
      });
      this.#written.set(key, out);
    }
    if (r.requeueAfterMs !== undefined) return { requeueAfterMs: Math.max(0, r.requeueAfterMs) };
    if (r.error) throw r.error;
    return undefined;
  }

  #freshest(key: string, cached: CronJob): CronJob {
    const w = this.#written.get(key);
    if (
      w &&
      w.metadata.uid === cached.metadata.uid &&
      Number(w.metadata.resourceVersion) > Number(cached.metadata.resourceVersion)
    ) {
      return w;
    }
    this.#written.delete(key);
    return cached;
  }

  /** syncCronJob: reconciles status.active with the Jobs, then maybe starts the Job of the latest schedule time. */
  async #syncCronJob(
    cronJob: CronJob,
    jobs: readonly Job[],
  ): Promise<{ cj: CronJob; updateStatus: boolean; requeueAfterMs?: number; error?: unknown }> {
    let cj = cronJob;
    const client = this.#ctx.client;
    const now = this.#ctx.clock.now();
    let updateStatus = false;
    const ns = cj.metadata.namespace ?? '';
    const children = new Set<string>();
    const inActive = (c: CronJob, uid: string | undefined) =>
      (c.status?.active ?? []).some((a) => a.uid === uid);
    const removeActive = (uid: string | undefined) => {
      const st = cj.status ?? {};
      st.active = (st.active ?? []).filter((a) => a.uid !== uid);
      cj.status = st;
    };
    for (const j of jobs) {
      children.add(j.metadata.uid ?? '');
      const found = inActive(cj, j.metadata.uid);
      if (!found && !isJobFinished(j)) {
        const fresh = await client.get<CronJob>(CRON_JOBS, ns, cj.metadata.name ?? '');
        if (inActive(fresh, j.metadata.uid)) {
          cj = structuredClone(fresh);
          continue;
        }
        this.#events.event(
          CRON_JOBS,
          cj,
          'Warning',
          'UnexpectedJob',
          `Saw a job that the controller did not create or forgot: ${j.metadata.name}`,
        );
      } else if (found && isJobFinished(j)) {
        removeActive(j.metadata.uid);
        this.#events.event(
          CRON_JOBS,
          cj,
          'Normal',
          'SawCompletedJob',
          `Saw completed job: ${j.metadata.name}, condition: ${finishedCondition(j)?.type}`,
        );
        updateStatus = true;
      }
      // A Job need not be active to count: a successful one sets lastSuccessfulTime.
      if (finishedCondition(j)?.type === 'Complete') {
        const done = parseTime(j.status?.completionTime);
        const last = parseTime(cj.status?.lastSuccessfulTime);
        if (done !== undefined && (last === undefined || done > last)) {
          (cj.status ?? {}).lastSuccessfulTime = j.status?.completionTime;
          updateStatus = true;
        }
      }
    }
    for (const ref of [...(cj.status?.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await client.get(JOBS, ref.namespace ?? ns, ref.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) return { cj, updateStatus, error: err };
        this.#events.event(CRON_JOBS, cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        removeActive(ref.uid);
        updateStatus = true;
      }
    }

    if (cj.metadata.deletionTimestamp) return { cj, updateStatus };
    const tz = cj.spec.timeZone;
    if (tz != null && !isKnownZone(tz)) {
      this.#events.event(
        CRON_JOBS,
        cj,
        'Warning',
        'UnknownTimeZone',
        `invalid timeZone: "${tz}": unknown time zone ${tz}`,
      );
      return { cj, updateStatus };
    }
    if (cj.spec.suspend) return { cj, updateStatus };

    let sched: Schedule;
    try {
      sched = parseSchedule(this.#formatSchedule(cj, true), this.#defaultZone);
    } catch (err) {
      if (!(err instanceof CronParseError)) throw err;
      this.#events.event(
        CRON_JOBS,
        cj,
        'Warning',
        'UnparseableSchedule',
        `unparseable schedule: "${cj.spec.schedule}" : ${err.message}`,
      );
      return { cj, updateStatus };
    }
    const next = () => nextScheduleDelayMs(cj, now, sched);

    const recent = mostRecentScheduleTime(cj, now, sched, true);
    if (recent.error) {
      this.#events.event(
        CRON_JOBS,
        cj,
        'Warning',
        'InvalidSchedule',
        `invalid schedule: ${cj.spec.schedule} : ${recent.error}`,
      );
      return { cj, updateStatus };
    }
    const scheduled = recent.mostRecent;
    if (scheduled === undefined || scheduled > now) return { cj, updateStatus, requeueAfterMs: next() };
    if (recent.missed === 'many') {
      this.#events.event(
        CRON_JOBS,
        cj,
        'Warning',
        'TooManyMissedTimes',
        'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew',
      );
    }
    const deadline = cj.spec.startingDeadlineSeconds;
    if (deadline != null && scheduled + deadline * 1000 < now) {
      this.#events.event(
        CRON_JOBS,
        cj,
        'Warning',
        'MissSchedule',
        `Missed scheduled time to start a job: ${new Date(scheduled).toUTCString()}`,
      );
      return { cj, updateStatus, requeueAfterMs: next() };
    }
    const name = jobName(cj, scheduled);
    if (
      (cj.status?.active ?? []).some((a) => a.name === name) ||
      parseTime(cj.status?.lastScheduleTime) === scheduled
    ) {
      return { cj, updateStatus, requeueAfterMs: next() };
    }
    const policy = cj.spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && (cj.status?.active ?? []).length > 0) {
      this.#events.event(
        CRON_JOBS,
        cj,
        'Normal',
        'JobAlreadyActive',
        'Not starting job because prior execution is running and concurrency policy is Forbid',
      );
      return { cj, updateStatus, requeueAfterMs: next() };
    }
    if (policy === 'Replace') {
      for (const ref of [...(cj.status?.active ?? [])]) {
        let job: Job;
        try {
          job = await client.get<Job>(JOBS, ref.namespace ?? ns, ref.name ?? '');
        } catch (err) {
          this.#events.event(CRON_JOBS, cj, 'Warning', 'FailedGet', `Get job: ${(err as Error).message}`);
          return { cj, updateStatus, error: err };
        }
        if (!(await this.#deleteJob(cj, job))) {
          return { cj, updateStatus, error: new Error(`could not replace job ${ns}/${job.metadata.name}`) };
        }
        updateStatus = true;
      }
    }

    const req = jobFromTemplate(cj, scheduled, this.#zoneOf(cj));
    let created: Job;
    try {
      created = await client.create<Job>(JOBS, ns, req);
      this.#events.event(CRON_JOBS, cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.#events.event(
          CRON_JOBS,
          cj,
          'Warning',
          'FailedCreate',
          `Error creating job: ${(err as Error).message}`,
        );
        return { cj, updateStatus, error: err };
      }
      // Created before, but the status update was lost: record it now (if it is ours).
      created = await client.get<Job>(JOBS, ns, name);
      if (!isControlledBy(created, cj) || inActive(cj, created.metadata.uid)) return { cj, updateStatus };
    }
    const st = cj.status ?? {};
    st.active = [...(st.active ?? []), jobRef(created)];
    st.lastScheduleTime = rfc3339(scheduled);
    cj.status = st;
    return { cj, updateStatus: true, requeueAfterMs: next() };
  }

  /** cleanupFinishedJobs: keeps the newest finished Jobs within the history limits. */
  async #cleanupFinishedJobs(cj: CronJob, jobs: readonly Job[]): Promise<boolean> {
    const successLimit = cj.spec.successfulJobsHistoryLimit;
    const failedLimit = cj.spec.failedJobsHistoryLimit;
    if (successLimit == null && failedLimit == null) return false;
    const succeeded = jobs.filter((j) => finishedCondition(j)?.type === 'Complete');
    const failed = jobs.filter((j) => finishedCondition(j)?.type === 'Failed');
    let changed = false;
    if (successLimit != null && (await this.#removeOldest(cj, succeeded, successLimit))) changed = true;
    if (failedLimit != null && (await this.#removeOldest(cj, failed, failedLimit))) changed = true;
    return changed;
  }

  async #removeOldest(cj: CronJob, jobs: readonly Job[], keep: number): Promise<boolean> {
    const n = jobs.length - keep;
    if (n <= 0) return false;
    let changed = false;
    for (const job of [...jobs].sort(byStartTime).slice(0, n)) {
      if (await this.#deleteJob(cj, job)) changed = true;
    }
    return changed;
  }

  /** deleteJob: deletes with background propagation and drops it from status.active. */
  async #deleteJob(cj: CronJob, job: Job): Promise<boolean> {
    try {
      await this.#ctx.client.delete(JOBS, job.metadata.namespace ?? '', job.metadata.name ?? '', {
        propagationPolicy: 'Background',
      });
    } catch (err) {
      if (!isNotFound(err)) {
        this.#events.event(
          CRON_JOBS,
          cj,
          'Warning',
          'FailedDelete',
          `Deleted job: ${(err as Error).message}`,
        );
        return false;
      }
    }
    const st = cj.status ?? {};
    st.active = (st.active ?? []).filter((a) => a.uid !== job.metadata.uid);
    cj.status = st;
    this.#events.event(CRON_JOBS, cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    return true;
  }
}

function keyOf(obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

/** byJobStartTime: started before not started, earlier first, then by name. */
function byStartTime(a: Job, b: Job): number {
  const sa = parseTime(a.status?.startTime);
  const sb = parseTime(b.status?.startTime);
  if (sa === undefined && sb === undefined) return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  if (sa === undefined) return 1;
  if (sb === undefined) return -1;
  if (sa !== sb) return sa - sb;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}
