/**
 * The TTL-after-finished controller (pkg/controller/ttlafterfinished): deletes a finished Job
 * (Complete or Failed) spec.ttlSecondsAfterFinished seconds after it finished, with background
 * propagation so that the garbage collector removes its pods. The expiry is checked again against
 * a fresh read of the Job just before deleting, and the delete is conditional on its uid.
 */
import { JOBS } from '../../client/resources.ts';
import type { Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { splitKey } from '../controller.ts';
import { isNotFound, parseTime } from './podutil.ts';
import { finishedCondition, isJobFinished, type Job } from './types.ts';

/** needsCleanup: a TTL is set and the Job has finished. */
export function needsCleanup(job: Job): boolean {
  return job.spec.ttlSecondsAfterFinished != null && isJobFinished(job);
}

/**
 * How long until the Job expires (≤ 0: expired), or undefined when it does not need cleanup. The
 * finish time is the Complete/Failed condition's lastTransitionTime.
 */
export function timeLeftMs(job: Job, now: number): number | undefined {
  if (!needsCleanup(job)) return undefined;
  const finishedAt = parseTime(finishedCondition(job)?.lastTransitionTime);
  if (finishedAt === undefined) return undefined;
  return finishedAt + (job.spec.ttlSecondsAfterFinished ?? 0) * 1000 - now;
}

export class TtlAfterFinishedController implements Controller {
  readonly name = 'ttl-after-finished-controller';
  readonly workers = 5;
  #ctx!: ControllerContext;
  #jobs!: Lister<Job>;

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    const jobs = ctx.informers.informer<Job>(JOBS);
    this.#jobs = jobs.lister();
    const enqueue = (job: Job) => {
      if (job.metadata.deletionTimestamp || !needsCleanup(job)) return;
      ctx.queue.add(`${job.metadata.namespace ?? ''}/${job.metadata.name ?? ''}`);
    };
    jobs.addEventHandler({ onAdd: enqueue, onUpdate: (_old, job) => enqueue(job) });
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const job = this.#jobs.get(key);
    if (!job || job.metadata.deletionTimestamp) return undefined;
    const now = this.#ctx.clock.now();
    const left = timeLeftMs(job, now);
    if (left === undefined) return undefined;
    if (left > 0) return { requeueAfterMs: left };
    // The cache may be stale (the TTL changed, the Job was re-run): check the live object.
    const { namespace, name } = splitKey(key);
    let fresh: Job;
    try {
      fresh = await this.#ctx.client.get<Job>(JOBS, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const freshLeft = timeLeftMs(fresh, this.#ctx.clock.now());
    if (freshLeft === undefined || fresh.metadata.deletionTimestamp) return undefined;
    if (freshLeft > 0) return { requeueAfterMs: freshLeft };
    this.#ctx.log.debug({ job: key }, 'cleaning up finished Job after its TTL');
    try {
      await this.#ctx.client.delete(JOBS, namespace, name, {
        propagationPolicy: 'Background',
        preconditions: { uid: fresh.metadata.uid },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return undefined;
  }
}
