/** `skiff scheduler --kubeconfig F`: the scheduler alone, as an API client (like kube-scheduler). */
import { parseArgs } from 'node:util';
import { loadKubeconfig } from '../apiserver/auth/kubeconfig.ts';
import { createLogger } from '../util/log.ts';
import { runScheduler } from './run-scheduler.ts';

export const schedulerHelp = `Usage: skiff scheduler --kubeconfig FILE

Runs the scheduler against a cluster's API server, elected through the kube-system/kube-scheduler
Lease (so it can run beside the one inside 'skiff server'). Stops on SIGINT/SIGTERM.

Flags:
  --kubeconfig FILE   credentials and address of the API server (required)
  -h, --help          show this help`;

export async function runSchedulerCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { kubeconfig: { type: 'string' } }, strict: true });
  if (!values.kubeconfig) throw new Error('--kubeconfig is required');
  const config = loadKubeconfig(values.kubeconfig);
  const log = createLogger('skiff-scheduler');
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  process.once('SIGTERM', () => ac.abort());
  await runScheduler(config, log, ac.signal);
  return 0;
}
