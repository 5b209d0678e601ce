/**
 * The Job controller (kube-controller-manager's job-controller, pkg/controller/job): runs a Job's
 * pods to completion.
 *
 * - keeps min(parallelism, completions − succeeded) pods active (any number of successes ends a
 *   Job without completions once its pods are done); Indexed Jobs get one pod per pending index;
 * - counts finished pods through the batch.kubernetes.io/job-tracking finalizer and
 *   status.uncountedTerminatedPods (tracking.ts), and reports active, ready, terminating,
 *   succeeded, failed, completedIndexes, startTime and completionTime;
 * - fails the Job (FailureTarget, then Failed) past backoffLimit (or restarts over it under
 *   restartPolicy OnFailure), past activeDeadlineSeconds (DeadlineExceeded), or on a
 *   podFailurePolicy FailJob rule; completes it (SuccessCriteriaMet, then Complete) when enough
 *   pods succeeded or a successPolicy rule holds — deleting its remaining active pods first;
 * - waits 10 s × 2^(failures−1) (≤ 10 min) after pod failures before creating replacements;
 * - suspends (deletes active pods, Suspended condition) and resumes (resets startTime);
 * - removes the finalizer from orphaned pods (no Job, or a finished one).
 */
import { labelSelectorAsSelector } from '../../api/labels.ts';
import { JOBS, PODS } from '../../client/resources.ts';
import type { Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { BackoffStore, DEFAULT_POD_FAILURE_BACKOFF_MS, MAX_POD_FAILURE_BACKOFF_MS } from './backoff.ts';
import { claimObjects } from './claim.ts';
import { EventRecorder } from './events.ts';
import { Expectations } from './expectations.ts';
import { OrderedIntervals } from './indexes.ts';
import { deleteActivePods, manageJob, removeFinalizerPatch } from './manage.ts';
import {
  CONTROLLER_UID_INDEX,
  controllerRefOf,
  controllerUidIndex,
  ensureIndex,
  isNotFound,
  isPodActive,
  isPodReady,
  isPodTerminating,
  type Pod,
  parseTime,
  rfc3339,
} from './podutil.ts';
import { matchPodFailurePolicy, matchSuccessPolicy } from './policy.ts';
import { ensureCondition, hasTrueCondition, type JobDeps, newCondition, type SyncJobCtx } from './sync.ts';
import { trackJobStatusAndRemoveFinalizers } from './tracking.ts';
import {
  completionIndex,
  hasTrackingFinalizer,
  isIndexedJob,
  isJobFinished,
  isPodFailed,
  JOB_CONTROLLER_NAME,
  JOB_TRACKING_FINALIZER,
  type Job,
} from './types.ts';

/** Queue keys of orphan pods whose finalizer must go carry this prefix. */
const ORPHAN_PREFIX = 'orphan-pod:';

export interface JobControllerOptions {
  /** Pod events are batched into one sync per Job after this long (syncJobBatchPeriod, 1 s). */
  podEventBatchMs?: number;
  /** The pod-failure back-off: first delay and cap (10 s, 10 min). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** --concurrent-job-syncs (5). */
  workers?: number;
}

export class JobController implements Controller {
  readonly name = 'job-controller';
  readonly workers: number;
  readonly #batchMs: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  #ctx!: ControllerContext;
  #jobs!: Lister<Job>;
  #pods!: Lister<Pod>;
  #expectations!: Expectations;
  #events!: EventRecorder;
  readonly #backoff = new BackoffStore();
  /** The Job status this controller last wrote, until the informer catches up (read your writes). */
  readonly #written = new Map<string, Job>();

  constructor(opts: JobControllerOptions = {}) {
    this.workers = opts.workers ?? 5;
    this.#batchMs = opts.podEventBatchMs ?? 1000;
    this.#backoffBaseMs = opts.backoffBaseMs ?? DEFAULT_POD_FAILURE_BACKOFF_MS;
    this.#backoffMaxMs = opts.backoffMaxMs ?? MAX_POD_FAILURE_BACKOFF_MS;
  }

  /** Events recorded (for tests). */
  get events(): EventRecorder {
    return this.#events;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#expectations = new Expectations(ctx.clock);
    this.#events = new EventRecorder(ctx.client, this.name, ctx.clock, ctx.log);
    const jobs = ctx.informers.informer<Job>(JOBS);
    const pods = ctx.informers.informer<Pod>(PODS);
    ensureIndex(pods, CONTROLLER_UID_INDEX, controllerUidIndex);
    this.#jobs = jobs.lister();
    this.#pods = pods.lister();
    jobs.addEventHandler({
      onAdd: (j) => ctx.queue.add(keyOf(j)),
      onUpdate: (_old, j) => ctx.queue.add(keyOf(j)),
      onDelete: (j) => {
        ctx.queue.add(keyOf(j));
        for (const p of this.#pods.byIndex(CONTROLLER_UID_INDEX, j.metadata.uid ?? '')) {
          if (hasTrackingFinalizer(p)) ctx.queue.add(ORPHAN_PREFIX + keyOf(p));
        }
      },
    });
    pods.addEventHandler({
      onAdd: (p) => this.#podAdded(p),
      onUpdate: (old, p) => this.#podUpdated(old, p),
      onDelete: (p) => this.#podDeleted(p),
    });
  }

  /** The Job controlling `pod`, if it is in the cache. */
  #jobOf(pod: Pod): Job | undefined {
    const ref = controllerRefOf(pod);
    if (ref?.kind !== 'Job' || !ref.apiVersion.startsWith('batch/')) return undefined;
    const job = this.#jobs.get(`${pod.metadata.namespace ?? ''}/${ref.name}`);
    return job?.metadata.uid === ref.uid ? job : undefined;
  }

  #enqueueBatched(job: Job): void {
    this.#ctx.queue.addAfter(keyOf(job), this.#batchMs);
  }

  /** An orphan: wake the Jobs that may adopt it; a leftover finalizer goes. */
  #orphan(pod: Pod): void {
    if (hasTrackingFinalizer(pod)) this.#ctx.queue.add(ORPHAN_PREFIX + keyOf(pod));
    if (controllerRefOf(pod)) return;
    for (const job of this.#jobs.byIndex('namespace', pod.metadata.namespace ?? '')) {
      try {
        if (labelSelectorAsSelector(job.spec.selector).matches(pod.metadata.labels))
          this.#enqueueBatched(job);
      } catch {
        // A Job with a bad selector adopts nothing.
      }
    }
  }

  #podAdded(pod: Pod): void {
    const job = this.#jobOf(pod);
    if (!job) {
      this.#orphan(pod);
      return;
    }
    this.#expectations.creationObserved(keyOf(job));
    if (isJobFinished(job) && hasTrackingFinalizer(pod)) this.#ctx.queue.add(ORPHAN_PREFIX + keyOf(pod));
    this.#enqueueBatched(job);
  }

  #podUpdated(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const oldJob = this.#jobOf(old);
    const job = this.#jobOf(cur);
    if (oldJob && oldJob.metadata.uid !== job?.metadata.uid) this.#enqueueBatched(oldJob);
    if (!job) {
      this.#orphan(cur);
      return;
    }
    const key = keyOf(job);
    if (cur.metadata.deletionTimestamp && !old.metadata.deletionTimestamp)
      this.#expectations.deletionObserved(key);
    if (hasTrackingFinalizer(old) && !hasTrackingFinalizer(cur))
      this.#expectations.uidObserved(key, cur.metadata.uid ?? '');
    if (isJobFinished(job) && hasTrackingFinalizer(cur)) this.#ctx.queue.add(ORPHAN_PREFIX + keyOf(cur));
    this.#enqueueBatched(job);
  }

  #podDeleted(pod: Pod): void {
    const job = this.#jobOf(pod);
    if (!job) return;
    const key = keyOf(job);
    if (!pod.metadata.deletionTimestamp) this.#expectations.deletionObserved(key);
    this.#expectations.uidObserved(key, pod.metadata.uid ?? '');
    this.#enqueueBatched(job);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    if (key.startsWith(ORPHAN_PREFIX)) {
      await this.#syncOrphanPod(key.slice(ORPHAN_PREFIX.length));
      return undefined;
    }
    const cached = this.#jobs.get(key);
    if (!cached) {
      this.#expectations.delete(key);
      this.#backoff.delete(key);
      this.#written.delete(key);
      return undefined;
    }
    const job = structuredClone(this.#freshest(key, cached));
    if (job.spec.managedBy && job.spec.managedBy !== JOB_CONTROLLER_NAME) return undefined;
    if (isJobFinished(job)) {
      this.#backoff.delete(key);
      return undefined;
    }
    const mode = job.spec.completionMode;
    if (mode && mode !== 'NonIndexed' && mode !== 'Indexed') {
      this.#events.event(
        JOBS,
        job,
        'Warning',
        'UnknownCompletionMode',
        'Skipped Job sync because completion mode is unknown',
      );
      return undefined;
    }
    const requeue = await this.#syncJob(key, job);
    const delays = requeue.filter((d) => d >= 0);
    return delays.length ? { requeueAfterMs: Math.max(this.#batchMs, Math.min(...delays)) } : undefined;
  }

  /** The cached Job, or the one this controller last wrote when the cache is behind it. */
  #freshest(key: string, cached: Job): Job {
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

  #deps(): JobDeps {
    const client = this.#ctx.client;
    return {
      client,
      clock: this.#ctx.clock,
      expectations: this.#expectations,
      events: this.#events,
      backoff: this.#backoff,
      backoffBaseMs: this.#backoffBaseMs,
      backoffMaxMs: this.#backoffMaxMs,
      updateStatus: async (job) => {
        const out = await client.update<Job>(JOBS, job.metadata.namespace ?? '', job, {
          subresource: 'status',
        });
        this.#written.set(keyOf(out), out);
        return out;
      },
    };
  }

  async #podsForJob(job: Job): Promise<Pod[]> {
    const ns = job.metadata.namespace ?? '';
    const candidates = this.#pods
      .byIndex('namespace', ns)
      .filter((p) => controllerRefOf(p)?.uid === job.metadata.uid || !controllerRefOf(p));
    const client = this.#ctx.client;
    const pods = await claimObjects(candidates, {
      client,
      ref: PODS,
      owner: job,
      ownerRef: JOBS,
      selector: labelSelectorAsSelector(job.spec.selector),
      adoptFinalizer: JOB_TRACKING_FINALIZER,
      canAdopt: async () => {
        const fresh = await client.get<Job>(JOBS, ns, job.metadata.name ?? '');
        return fresh.metadata.uid === job.metadata.uid && !fresh.metadata.deletionTimestamp;
      },
    });
    return pods.map((p) => structuredClone(p));
  }

  /** syncJob: one pass over a Job that has not finished. Returns the delays it asks to be synced after. */
  async #syncJob(key: string, job: Job): Promise<number[]> {
    const deps = this.#deps();
    const now = this.#ctx.clock.now();
    job.status ??= {};
    job.status.uncountedTerminatedPods ??= {};
    const uncountedStatus = job.status.uncountedTerminatedPods;
    const satisfied = this.#expectations.satisfied(key);
    const pods = await this.#podsForJob(job);
    const active = pods.filter(isPodActive);
    const ctx: SyncJobCtx = {
      key,
      job,
      pods,
      active,
      ready: active.filter(isPodReady).length,
      terminating: pods.filter(isPodTerminating).length,
      uncounted: {
        succeeded: new Set(uncountedStatus.succeeded ?? []),
        failed: new Set(uncountedStatus.failed ?? []),
      },
      expectedRmFinalizers: new Set(this.#expectations.expectedUids(key)),
      succeeded: 0,
      failed: 0,
      newBackoff: { failuresAfterLastSuccess: 0 },
      requeue: [],
    };
    const indexed = isIndexedJob(job);
    const completions = job.spec.completions ?? 0;
    const isNew = (p: Pod, uncounted: Set<string>) => {
      const uid = p.metadata.uid ?? '';
      if (!hasTrackingFinalizer(p) || uncounted.has(uid) || ctx.expectedRmFinalizers.has(uid)) return false;
      if (!indexed) return true;
      const ix = completionIndex(p);
      return ix >= 0 && ix < completions;
    };
    const newSucceeded = pods.filter(
      (p) => isNew(p, ctx.uncounted.succeeded) && p.status?.phase === 'Succeeded',
    );
    const newFailed = pods.filter((p) => isNew(p, ctx.uncounted.failed) && isPodFailed(p, job));
    ctx.succeeded = (job.status.succeeded ?? 0) + newSucceeded.length + ctx.uncounted.succeeded.size;
    ctx.failed =
      (job.status.failed ?? 0) +
      newFailed.filter((p) => matchPodFailurePolicy(job, p).countFailed).length +
      ctx.uncounted.failed.size;
    const startTimeBefore = job.status.startTime;
    if (!job.status.startTime && !job.spec.suspend) job.status.startTime = rfc3339(now);
    ctx.newBackoff = this.#backoff.next(key, newSucceeded, newFailed);

    ctx.finished = hasTrueCondition(job, 'SuccessCriteriaMet');
    if (!ctx.finished) {
      const target = hasTrueCondition(job, 'FailureTarget');
      if (target)
        ctx.finished = newCondition('Failed', 'True', target.reason ?? '', target.message ?? '', now);
      else {
        const message = failJobMessage(job, pods);
        if (message) ctx.finished = newCondition('FailureTarget', 'True', 'PodFailurePolicy', message, now);
      }
    }
    if (!ctx.finished) {
      const backoffLimit = job.spec.backoffLimit ?? 6;
      if (ctx.failed > backoffLimit || pastBackoffLimitOnFailure(job, pods)) {
        ctx.finished = newCondition(
          'FailureTarget',
          'True',
          'BackoffLimitExceeded',
          'Job has reached the specified backoff limit',
          now,
        );
      } else if (pastActiveDeadline(job, now)) {
        ctx.finished = newCondition(
          'FailureTarget',
          'True',
          'DeadlineExceeded',
          'Job was active longer than specified deadline',
          now,
        );
      } else if (job.spec.activeDeadlineSeconds != null && !job.spec.suspend) {
        const start = parseTime(job.status.startTime) ?? now;
        ctx.requeue.push(start + job.spec.activeDeadlineSeconds * 1000 - now);
      }
    }
    if (indexed) {
      ctx.prevSucceededIndexes = OrderedIntervals.parse(job.status.completedIndexes, completions);
      const fresh = pods
        .filter((p) => p.status?.phase === 'Succeeded' && hasTrackingFinalizer(p))
        .map(completionIndex)
        .filter((ix) => ix >= 0 && ix < completions);
      ctx.succeededIndexes = ctx.prevSucceededIndexes.withIndexes([...new Set(fresh)].sort((a, b) => a - b));
      ctx.succeeded = ctx.succeededIndexes.total();
      if (!ctx.finished) {
        const msg = matchSuccessPolicy(job, ctx.succeededIndexes);
        if (msg) ctx.finished = newCondition('SuccessCriteriaMet', 'True', 'SuccessPolicy', msg, now);
      }
    }

    let activeCount = active.length;
    let manageError: unknown;
    let suspendChanged = false;
    if (ctx.finished) {
      const r = await deleteActivePods(deps, job, active);
      if (r.deleted !== active.length || !satisfied) ctx.finished = undefined;
      activeCount -= r.deleted;
      ctx.terminating += r.deleted;
      ctx.ready -= r.deletedReady;
      manageError = r.error;
    } else {
      let managed = false;
      if (satisfied && !job.metadata.deletionTimestamp) {
        const r = await manageJob(deps, ctx);
        activeCount = r.active;
        manageError = r.error;
        managed = true;
      }
      const complete =
        job.spec.completions == null
          ? ctx.succeeded > 0 && activeCount === 0
          : ctx.succeeded >= job.spec.completions && activeCount === 0;
      if (complete) {
        ctx.finished = newCondition(
          'SuccessCriteriaMet',
          'True',
          'CompletionsReached',
          'Reached expected number of succeeded pods',
          now,
        );
      } else if (managed) {
        if (job.spec.suspend) {
          if (ensureCondition(job, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) {
            suspendChanged = true;
            this.#events.event(JOBS, job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(job, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
          suspendChanged = true;
          this.#events.event(JOBS, job, 'Normal', 'Resumed', 'Job resumed');
          // activeDeadlineSeconds counts the time a Job is continuously active.
          job.status.startTime = rfc3339(now);
        }
      }
    }

    const status = job.status;
    const needsFlush =
      suspendChanged ||
      activeCount !== (status.active ?? 0) ||
      ctx.ready !== status.ready ||
      ctx.terminating !== status.terminating ||
      status.startTime !== startTimeBefore;
    status.active = activeCount;
    status.ready = ctx.ready;
    status.terminating = ctx.terminating;
    await trackJobStatusAndRemoveFinalizers(deps, ctx, needsFlush);
    if (manageError) throw manageError;
    return ctx.requeue;
  }

  /** syncOrphanPod: removes the tracking finalizer from a pod no running Job controls. */
  async #syncOrphanPod(podKey: string): Promise<void> {
    const pod = this.#pods.get(podKey);
    if (!pod) return;
    const ref = controllerRefOf(pod);
    if (ref) {
      if (ref.kind !== 'Job' || !ref.apiVersion.startsWith('batch/')) return;
      const job = this.#jobOf(pod);
      if (job?.spec.managedBy && job.spec.managedBy !== JOB_CONTROLLER_NAME) return;
      if (job && !isJobFinished(job)) return;
    }
    const patch = removeFinalizerPatch(pod);
    if (!patch) return;
    try {
      await this.#ctx.client.patch(
        PODS,
        pod.metadata.namespace ?? '',
        pod.metadata.name ?? '',
        'json',
        patch,
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function keyOf(obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

/** getFailJobMessage: the message of the first failed pod that matches a FailJob rule. */
function failJobMessage(job: Job, pods: readonly Pod[]): string | undefined {
  if (!job.spec.podFailurePolicy) return undefined;
  for (const p of pods) {
    if (!isPodFailed(p, job)) continue;
    const m = matchPodFailurePolicy(job, p).failJobMessage;
    if (m) return m;
  }
  return undefined;
}

/** pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts count as failures. */
function pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
  if (job.spec.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    const phase = p.status?.phase;
    if (phase !== 'Running' && phase !== 'Pending') continue;
    for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
      restarts += s.restartCount ?? 0;
    }
  }
  const limit = job.spec.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** pastActiveDeadline: running (not suspended) for activeDeadlineSeconds or more. */
function pastActiveDeadline(job: Job, now: number): boolean {
  const deadline = job.spec.activeDeadlineSeconds;
  const start = parseTime(job.status?.startTime);
  if (deadline == null || start === undefined || job.spec.suspend) return false;
  return now - start >= deadline * 1000;
}
