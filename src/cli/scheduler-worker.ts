/**
 * The scheduler's worker thread inside `skiff server` (see scheduler-thread.ts): runs the same
 * elected scheduler as `skiff scheduler`, reaching the API server over loopback connections to the
 * main thread. Stops when the main thread posts {@link STOP}, then ends the thread.
 *
 * Imported outside a worker thread (as scripts/precompile.ts does, to compile it ahead) it does
 * nothing.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { threadLoopbackConnection } from '../apiserver/loopback/thread.ts';
import { createLogger } from '../util/log.ts';
import { runScheduler } from './run-scheduler.ts';
import { type SchedulerWorkerData, STOP } from './scheduler-thread.ts';

async function main(parent: MessagePort, data: SchedulerWorkerData): Promise<never> {
  const log = createLogger(data.loggerName, data.logLevel).child({ component: 'scheduler' });
  const ac = new AbortController();
  parent.on('message', (m: unknown) => {
    if (m === STOP) ac.abort();
  });
  try {
    await runScheduler(threadLoopbackConnection(parent, data.authorization), log, ac.signal);
  } catch (err) {
    log.error({ err }, 'the scheduler failed');
    process.exitCode = 1;
  }
  // Ends this thread only: its loopback connections and the parent port would keep it alive.
  process.exit();
}

if (parentPort && (workerData as Partial<SchedulerWorkerData> | null)?.authorization) {
  await main(parentPort, workerData as SchedulerWorkerData);
}
