/**
 * Job tracking with finalizers (trackJobStatusAndRemoveFinalizers in job_controller.go). A pod
 * keeps the batch.kubernetes.io/job-tracking finalizer until the Job has counted it, in three
 * crash-safe steps:
 *  1. record finished pods' uids in status.uncountedTerminatedPods (Indexed: completedIndexes);
 *  2. remove their finalizers;
 *  3. move the uids whose finalizer is gone into status.succeeded / status.failed.
 * Once nothing is uncounted (and no pod is terminating) the interim FailureTarget or
 * SuccessCriteriaMet condition becomes Failed or Complete.
 */
import { JOBS, PODS } from '../../client/resources.ts';
import { removeFinalizerPatch } from './manage.ts';
import { isNotFound, type Pod, rfc3339 } from './podutil.ts';
import { matchPodFailurePolicy } from './policy.ts';
import {
  ensureCondition,
  hasTrueCondition,
  type JobDeps,
  MAX_UNCOUNTED_PODS,
  newCondition,
  type SyncJobCtx,
} from './sync.ts';
import { completionIndex, hasTrackingFinalizer, isIndexedJob, isPodFailed, type Job } from './types.ts';

/** Moves uids whose finalizer is gone from uncountedTerminatedPods to the counters. */
function cleanUncounted(job: Job, withFinalizer: ReadonlySet<string>): boolean {
  const status = job.status ?? {};
  const u = status.uncountedTerminatedPods ?? {};
  let changed = false;
  const s = (u.succeeded ?? []).filter((x) => withFinalizer.has(x));
  if (s.length !== (u.succeeded ?? []).length) {
    status.succeeded = (status.succeeded ?? 0) + (u.succeeded ?? []).length - s.length;
    u.succeeded = s;
    changed = true;
  }
  const f = (u.failed ?? []).filter((x) => withFinalizer.has(x));
  if (f.length !== (u.failed ?? []).length) {
    status.failed = (status.failed ?? 0) + (u.failed ?? []).length - f.length;
    u.failed = f;
    changed = true;
  }
  status.uncountedTerminatedPods = u;
  job.status = status;
  return changed;
}

function canRemoveFinalizer(ctx: SyncJobCtx, pod: Pod, considerFailed: boolean): boolean {
  return (
    !!ctx.job.metadata.deletionTimestamp ||
    !!ctx.finished ||
    pod.status?.phase === 'Succeeded' ||
    considerFailed
  );
}

/** Removes the tracking finalizer from `pods`; returns which succeeded and the first error. */
async function removeFinalizers(
  deps: JobDeps,
  ctx: SyncJobCtx,
  pods: readonly Pod[],
): Promise<{ ok: boolean[]; error?: unknown }> {
  deps.expectations.expectUids(
    ctx.key,
    pods.map((p) => p.metadata.uid ?? ''),
  );
  let error: unknown;
  const ok = await Promise.all(
    pods.map(async (p) => {
      const patch = removeFinalizerPatch(p);
      if (!patch) return true;
      try {
        await deps.client.patch(PODS, p.metadata.namespace ?? '', p.metadata.name ?? '', 'json', patch);
        return true;
      } catch (err) {
        deps.expectations.uidObserved(ctx.key, p.metadata.uid ?? '');
        if (isNotFound(err)) return true;
        error ??= err;
        return false;
      }
    }),
  );
  return { ok, error };
}

/** enactJobFinished: sets the final condition once every pod is counted and none is terminating. */
function enactJobFinished(deps: JobDeps, ctx: SyncJobCtx): boolean {
  const f = ctx.finished;
  if (!f) return false;
  const u = ctx.job.status?.uncountedTerminatedPods;
  if ((u?.succeeded?.length ?? 0) + (u?.failed?.length ?? 0) > 0) return false;
  if (ctx.terminating > 0) return false;
  const now = deps.clock.now();
  ensureCondition(ctx.job, f.type, f.status, f.reason ?? '', f.message ?? '', now);
  if (f.type === 'Complete') {
    const c = hasTrueCondition(ctx.job, 'Complete');
    (ctx.job.status ?? {}).completionTime = c?.lastTransitionTime ?? rfc3339(now);
  }
  return true;
}

function recordFinished(deps: JobDeps, job: Job, f: NonNullable<SyncJobCtx['finished']>): void {
  if (f.type === 'Complete') {
    const completions = job.spec.completions;
    if (completions != null && (job.status?.succeeded ?? 0) > completions) {
      deps.events.event(
        JOBS,
        job,
        'Warning',
        'TooManySucceededPods',
        'Too many succeeded pods running after completion count reached',
      );
    }
    deps.events.event(JOBS, job, 'Normal', 'Completed', 'Job completed');
  } else {
    deps.events.event(JOBS, job, 'Warning', f.reason ?? '', f.message ?? '');
  }
}

/** Steps 1–3 above, writing status as needed (`needsFlush`: status changed before this step). */
export async function trackJobStatusAndRemoveFinalizers(
  deps: JobDeps,
  ctx: SyncJobCtx,
  needsFlush: boolean,
): Promise<void> {
  const indexed = isIndexedJob(ctx.job);
  const completions = ctx.job.spec.completions ?? 0;
  if (indexed) ctx.pods.sort((a, b) => completionIndex(a) - completionIndex(b));
  const withFinalizer = new Set<string>();
  for (const p of ctx.pods) {
    const uid = p.metadata.uid ?? '';
    if (hasTrackingFinalizer(p) && !ctx.expectedRmFinalizers.has(uid)) withFinalizer.add(uid);
  }
  if (cleanUncounted(ctx.job, withFinalizer)) needsFlush = true;
  const status = ctx.job.status ?? {};
  const uncounted = status.uncountedTerminatedPods ?? {};
  uncounted.succeeded ??= [];
  uncounted.failed ??= [];
  const toRemove: Pod[] = [];
  const newSucceededIndexes: number[] = [];
  let reachedMax = false;
  const finishedAsFailure =
    !!ctx.finished && ctx.finished.type !== 'SuccessCriteriaMet' && ctx.finished.type !== 'Complete';
  for (const pod of ctx.pods) {
    const uid = pod.metadata.uid ?? '';
    if (!hasTrackingFinalizer(pod) || ctx.expectedRmFinalizers.has(uid)) continue;
    const considerFailed = isPodFailed(pod, ctx.job);
    if (!canRemoveFinalizer(ctx, pod, considerFailed)) continue;
    toRemove.push(pod);
    if (pod.status?.phase === 'Succeeded' && !ctx.uncounted.failed.has(uid)) {
      if (indexed) {
        const ix = completionIndex(pod);
        if (ix >= 0 && ix < completions && !ctx.prevSucceededIndexes?.has(ix)) {
          newSucceededIndexes.push(ix);
          needsFlush = true;
        }
      } else if (!ctx.uncounted.succeeded.has(uid)) {
        needsFlush = true;
        uncounted.succeeded.push(uid);
      }
    } else if (considerFailed || finishedAsFailure) {
      const ix = completionIndex(pod);
      if (!ctx.uncounted.failed.has(uid) && (!indexed || (ix >= 0 && ix < completions))) {
        if (matchPodFailurePolicy(ctx.job, pod).countFailed) {
          needsFlush = true;
          uncounted.failed.push(uid);
        }
      }
    }
    if (
      newSucceededIndexes.length + uncounted.succeeded.length + uncounted.failed.length >=
      MAX_UNCOUNTED_PODS
    ) {
      reachedMax = true;
      break;
    }
  }
  status.uncountedTerminatedPods = uncounted;
  ctx.job.status = status;
  if (indexed && ctx.succeededIndexes) {
    ctx.succeededIndexes = ctx.succeededIndexes.withIndexes(
      [...new Set(newSucceededIndexes)].sort((a, b) => a - b),
    );
    const text = ctx.succeededIndexes.toString();
    if (text !== (status.completedIndexes ?? '')) needsFlush = true;
    status.succeeded = ctx.succeededIndexes.total();
    status.completedIndexes = text;
  }
  const now = deps.clock.now();
  if (ctx.finished?.type === 'FailureTarget') {
    status.conditions = [...(status.conditions ?? []), ctx.finished];
    needsFlush = true;
    ctx.finished = newCondition('Failed', 'True', ctx.finished.reason ?? '', ctx.finished.message ?? '', now);
  }
  if (ctx.finished?.type === 'SuccessCriteriaMet') {
    if (!hasTrueCondition(ctx.job, 'SuccessCriteriaMet')) {
      status.conditions = [...(status.conditions ?? []), ctx.finished];
      needsFlush = true;
    }
    ctx.finished = newCondition(
      'Complete',
      'True',
      ctx.finished.reason ?? '',
      ctx.finished.message ?? '',
      now,
    );
  }

  // Step 1: record the uncounted uids (and interim conditions) before touching finalizers.
  if (needsFlush) {
    ctx.job = await deps.updateStatus(ctx.job);
    deps.backoff.set(ctx.key, ctx.newBackoff);
    needsFlush = false;
  }
  // Step 2.
  let rmError: unknown;
  if (toRemove.length > 0) {
    const r = await removeFinalizers(deps, ctx, toRemove);
    rmError = r.error;
    toRemove.forEach((p, i) => {
      if (r.ok[i]) withFinalizer.delete(p.metadata.uid ?? '');
    });
  }
  // Step 3.
  if (cleanUncounted(ctx.job, withFinalizer)) needsFlush = true;
  if (rmError) {
    if (needsFlush) ctx.job = await deps.updateStatus(ctx.job);
    throw rmError;
  }
  const finished = !reachedMax && enactJobFinished(deps, ctx);
  if (finished) needsFlush = true;
  if (needsFlush) {
    ctx.job = await deps.updateStatus(ctx.job);
    if (finished && ctx.finished) recordFinished(deps, ctx.job, ctx.finished);
  }
}
