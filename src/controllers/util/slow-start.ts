/**
 * controller's slowStartBatch: runs `fn` `count` times in batches of 1, 2, 4, … (starting at
 * `initialBatchSize`), each batch concurrently; stops after the first batch in which a call failed.
 * A controller that cannot create pods (quota, admission) so fails after one call instead of
 * hundreds, and spams neither the API server nor the event stream.
 */

/** controller.SlowStartInitialBatchSize */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;

export interface SlowStartResult {
  /** Calls that succeeded. */
  successes: number;
  /** The first error of the failing batch, if one failed. */
  error?: Error;
}

export async function slowStartBatch(
  count: number,
  initialBatchSize: number,
  fn: () => Promise<void>,
): Promise<SlowStartResult> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failed.length;
    if (failed.length) {
      const reason: unknown = failed[0]!.reason;
      return { successes, error: reason instanceof Error ? reason : new Error(String(reason)) };
    }
    remaining -= batch;
  }
  return { successes };
}
