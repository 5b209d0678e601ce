/**
 * `skiff server`'s scheduler on its own thread. Scheduling is CPU work (filter and score over
 * hundreds of nodes per pod); in a worker thread it runs on the second core instead of taking turns
 * with the API server's request handling. It is the same elected scheduler as `skiff scheduler`,
 * talking to the API server through loopback connections to the main thread (loopback/thread.ts):
 * in memory, with the loopback token, through the same handler chain as every request.
 *
 * A worker that dies is started again after a second, until `signal` aborts.
 */
import { Worker } from 'node:worker_threads';
import { serveThreadDials } from '../apiserver/loopback/thread.ts';
import type { LoopbackClientConfig } from '../apiserver/server.ts';
import type { Logger } from '../util/log.ts';

/** The message that asks the worker to stop. */
export const STOP = 'skiff-scheduler-stop';

/** What the worker is started with. */
export interface SchedulerWorkerData {
  /** The loopback token's Authorization header value. */
  authorization: string;
  loggerName: string;
  logLevel: string;
}

const RESTART_DELAY_MS = 1000;
/** How long a stopping worker may take (releasing its Lease) before it is terminated. */
const STOP_TIMEOUT_MS = 5000;

/** Runs the scheduler in a worker thread until `signal` aborts; resolves once the worker ended. */
export async function runSchedulerThread(
  loopback: LoopbackClientConfig,
  log: Logger,
  signal: AbortSignal,
  opts: { loggerName?: string; logLevel?: string } = {},
): Promise<void> {
  const workerData: SchedulerWorkerData = {
    authorization: loopback.authorization(),
    loggerName: opts.loggerName ?? 'skiff',
    logLevel: opts.logLevel ?? log.level,
  };
  while (!signal.aborted) {
    const worker = new Worker(new URL('./scheduler-worker.ts', import.meta.url), { workerData });
    const unserve = serveThreadDials(worker, loopback);
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    worker.on('error', (err) => log.error({ err }, 'the scheduler thread failed'));
    const onAbort = () => {
      worker.postMessage(STOP);
      setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS).unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const code = await exited;
    signal.removeEventListener('abort', onAbort);
    unserve();
    if (signal.aborted) return;
    log.error({ code }, `the scheduler thread exited; starting it again in ${RESTART_DELAY_MS} ms`);
    await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
  }
}
