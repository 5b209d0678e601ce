/**
 * manageJob and its helpers (job_controller.go): keep min(parallelism, remaining completions) pods
 * active — creating pods from the template (Indexed: one per pending index, with its index in an
 * annotation, a label, the hostname and $JOB_COMPLETION_INDEX) in slow-start batches once the
 * failure back-off allows, or deleting surplus ones (not-ready and unscheduled first) — and delete
 * every active pod of a suspended Job.
 */
import { JOBS, PODS } from '../../client/resources.ts';
import { remainingBackoffMs } from './backoff.ts';
import { firstPendingIndexes, type OrderedIntervals } from './indexes.ts';
import {
  compareActivePods,
  isNotFound,
  isPodReady,
  isPodTerminating,
  newControllerRef,
  type Pod,
  slowStartBatch,
} from './podutil.ts';
import {
  type JobDeps,
  MAX_POD_CREATE_DELETE_PER_SYNC,
  SLOW_START_INITIAL_BATCH,
  type SyncJobCtx,
} from './sync.ts';
import {
  completionIndex,
  isIndexedJob,
  JOB_COMPLETION_INDEX_ANNOTATION,
  JOB_COMPLETION_INDEX_ENV,
  JOB_TRACKING_FINALIZER,
  type Job,
  onlyReplaceFailedPods,
} from './types.ts';

/** names.MaxGeneratedNameLength: a generated name is the prefix plus 5 random characters. */
const MAX_GENERATED_NAME_LENGTH = 63 - 5;

/** podGenerateNameWithIndex */
export function generateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  return prefix.length > MAX_GENERATED_NAME_LENGTH
    ? prefix.slice(0, MAX_GENERATED_NAME_LENGTH - suffix.length) + suffix
    : prefix;
}

/** A pod for the Job (controller.GetPodFromTemplate plus the Job's additions). */
export function podFromTemplate(job: Job, index?: number): Pod {
  const t = structuredClone(job.spec.template ?? {});
  const meta = t.metadata ?? {};
  const finalizers = [...(meta.finalizers ?? [])];
  if (!finalizers.includes(JOB_TRACKING_FINALIZER)) finalizers.push(JOB_TRACKING_FINALIZER);
  const name = job.metadata.name ?? '';
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${name}-`,
      namespace: job.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      annotations: { ...(meta.annotations ?? {}) },
      finalizers,
      ownerReferences: [newControllerRef(job, JOBS)],
    },
    spec: t.spec ?? {},
  };
  if (index !== undefined && isIndexedJob(job)) {
    const ix = String(index);
    pod.metadata.annotations = { ...pod.metadata.annotations, [JOB_COMPLETION_INDEX_ANNOTATION]: ix };
    pod.metadata.labels = { ...pod.metadata.labels, [JOB_COMPLETION_INDEX_ANNOTATION]: ix };
    pod.metadata.generateName = generateNameWithIndex(name, index);
    const spec = pod.spec ?? {};
    spec.hostname = `${name}-${index}`;
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      if ((c.env ?? []).some((e) => e.name === JOB_COMPLETION_INDEX_ENV)) continue;
      c.env = [
        ...(c.env ?? []),
        {
          name: JOB_COMPLETION_INDEX_ENV,
          valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_COMPLETION_INDEX_ANNOTATION}']` } },
        },
      ];
    }
    pod.spec = spec;
  }
  return pod;
}

/** A JSON patch removing the tracking finalizer (guarded by a test), or null when absent. */
export function removeFinalizerPatch(pod: Pod): unknown[] | null {
  const i = (pod.metadata.finalizers ?? []).indexOf(JOB_TRACKING_FINALIZER);
  if (i < 0) return null;
  return [
    { op: 'test', path: `/metadata/finalizers/${i}`, value: JOB_TRACKING_FINALIZER },
    { op: 'remove', path: `/metadata/finalizers/${i}` },
  ];
}

/**
 * activePodsForRemoval: for Indexed Jobs first pods without a valid index or with a repeated one
 * (keeping the best of each index), then the ActivePods order, until `rmAtLeast`.
 */
export function activePodsForRemoval(job: Job, pods: readonly Pod[], rmAtLeast: number): Pod[] {
  const rm: Pod[] = [];
  let left: Pod[] = [...pods];
  if (isIndexedJob(job)) {
    const completions = job.spec.completions ?? 0;
    left = [];
    const byIndex = new Map<number, Pod[]>();
    for (const p of pods) {
      const ix = completionIndex(p);
      if (ix < 0 || ix >= completions) rm.push(p);
      else byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
    }
    for (const ix of [...byIndex.keys()].sort((a, b) => a - b)) {
      const same = (byIndex.get(ix) ?? []).sort(compareActivePods);
      rm.push(...same.slice(0, -1));
      left.push(same.at(-1) as Pod);
    }
  }
  if (rm.length < rmAtLeast) {
    left.sort(compareActivePods);
    rm.push(...left.slice(0, rmAtLeast - rm.length));
  }
  return rm;
}

/** Deletes pods, keeping their finalizers (the counting removes them). Returns counts. */
export async function deleteActivePods(
  deps: JobDeps,
  job: Job,
  pods: readonly Pod[],
): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
  let deleted = 0;
  let deletedReady = 0;
  let error: unknown;
  await Promise.all(
    pods.map(async (p) => {
      try {
        await deps.client.delete(PODS, job.metadata.namespace ?? '', p.metadata.name ?? '');
        deleted++;
      } catch (err) {
        if (isNotFound(err)) deleted++;
        else error ??= err;
      }
      if (isPodReady(p)) deletedReady++;
    }),
  );
  return { deleted, deletedReady, error };
}

/** deleteJobPods: removes the finalizer, then deletes (surplus or suspended pods). */
async function deleteJobPods(
  deps: JobDeps,
  ctx: SyncJobCtx,
  pods: readonly Pod[],
): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
  let deleted = 0;
  let deletedReady = 0;
  let error: unknown;
  const ns = ctx.job.metadata.namespace ?? '';
  await Promise.all(
    pods.map(async (p) => {
      const name = p.metadata.name ?? '';
      try {
        const patch = removeFinalizerPatch(p);
        if (patch) await deps.client.patch(PODS, ns, name, 'json', patch);
        await deps.client.delete(PODS, ns, name);
        deleted++;
      } catch (err) {
        deps.expectations.deletionObserved(ctx.key);
        if (isNotFound(err)) deleted++;
        else error ??= err;
      }
      if (isPodReady(p)) deletedReady++;
    }),
  );
  return { deleted, deletedReady, error };
}

function indexesOf(pods: readonly Pod[]): number[] {
  return [...new Set(pods.map(completionIndex).filter((i) => i >= 0))].sort((a, b) => a - b);
}

/**
 * manageJob: creates or deletes pods toward the wanted number of active pods. Returns the number
 * active afterwards (and the first write error, which fails the sync after status is recorded).
 */
export async function manageJob(
  deps: JobDeps,
  ctx: SyncJobCtx,
): Promise<{ active: number; error?: unknown }> {
  const job = ctx.job;
  let active = ctx.active.length;
  const parallelism = job.spec.parallelism ?? 1;
  if (job.spec.suspend) {
    const toDelete = activePodsForRemoval(job, ctx.active, ctx.active.length);
    deps.expectations.expect(ctx.key, 0, toDelete.length);
    const r = await deleteJobPods(deps, ctx, toDelete);
    ctx.terminating += r.deleted;
    ctx.ready -= r.deletedReady;
    return { active: active - r.deleted, error: r.error };
  }

  let wantActive: number;
  const completions = job.spec.completions;
  if (completions === undefined || completions === null) {
    wantActive = ctx.succeeded > 0 ? active : parallelism;
  } else {
    wantActive = Math.max(0, Math.min(completions - ctx.succeeded, parallelism));
  }

  const rmAtLeast = Math.max(0, active - wantActive);
  const toDelete = activePodsForRemoval(job, ctx.active, rmAtLeast).slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
  if (toDelete.length > 0) {
    deps.expectations.expect(ctx.key, 0, toDelete.length);
    const r = await deleteJobPods(deps, ctx, toDelete);
    ctx.terminating += r.deleted;
    ctx.ready -= r.deletedReady;
    // Deleting takes precedence: no creations in the same sync.
    return { active: active - r.deleted, error: r.error };
  }

  const terminating = onlyReplaceFailedPods(job) ? ctx.terminating : 0;
  let diff = wantActive - terminating - active;
  if (diff <= 0) return { active };
  const wait = remainingBackoffMs(ctx.newBackoff, deps.clock.now(), deps.backoffBaseMs, deps.backoffMaxMs);
  if (wait > 0) {
    ctx.requeue.push(wait);
    return { active };
  }
  diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
  let indexes: number[] | undefined;
  if (isIndexedJob(job)) {
    let taken = (ctx.succeededIndexes as OrderedIntervals).withIndexes(indexesOf(ctx.active));
    if (onlyReplaceFailedPods(job)) taken = taken.withIndexes(indexesOf(ctx.pods.filter(isPodTerminating)));
    indexes = firstPendingIndexes(taken, diff, completions ?? 0);
    diff = indexes.length;
  }
  if (diff === 0) return { active };
  deps.expectations.expect(ctx.key, diff, 0);
  const ns = job.metadata.namespace ?? '';
  const result = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH, async (i) => {
    const pod = podFromTemplate(job, indexes?.[i]);
    try {
      await deps.client.create(PODS, ns, pod);
    } catch (err) {
      deps.expectations.creationObserved(ctx.key);
      throw err;
    }
  });
  // Pods never attempted after a failed batch will not be observed either.
  deps.expectations.creationObserved(ctx.key, diff - result.attempted);
  active += result.successes;
  if (result.error) {
    deps.events.event(JOBS, job, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(result.error)}`);
  }
  return { active, error: result.error };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
