/**
 * `skiff sim`: simulated nodes (like KWOK) against any cluster — N Nodes kept alive with Leases and
 * status heartbeats, and the pods bound to them run through their lifecycle without containers.
 */
import { parseArgs } from 'node:util';
import { parseQuantity } from '../api/quantity.ts';
import { fromKubeconfig } from '../client/kubeconfig.ts';
import { SimCluster, type SimStats, type Taint } from '../sim/index.ts';
import { createLogger } from '../util/log.ts';

export const simHelp = `Usage: skiff sim --kubeconfig FILE --nodes N [flags]

Registers N simulated nodes (like KWOK) in the cluster FILE points at and keeps them alive until
SIGINT/SIGTERM: each renews its Lease in kube-node-lease every 10 s and posts its conditions every
minute. Pods bound to them go Pending → Running (IPs from the node's spec.podCIDR); pods of Jobs or
with restartPolicy Never/OnFailure succeed after --pod-run-seconds; deleted pods are removed once
their grace period is over. Nodes are named <prefix>0 … <prefix>N-1 and labelled type=kwok; nodes
that exist already are adopted. Prints a progress line every 10 s when something changed.

Flags:
  --kubeconfig FILE          cluster credentials (required)
  --nodes N                  how many nodes (required)
  --name-prefix PREFIX       node name prefix (default sim-)
  --cpu QUANTITY             cpu capacity of each node (default 32)
  --memory QUANTITY          memory capacity (default 256Gi)
  --pods N                   pod capacity (default 110)
  --ephemeral-storage Q      ephemeral-storage capacity (default 1Ti)
  --arch ARCH                kubernetes.io/arch label and nodeInfo (default amd64)
  --labels k=v,...           extra node labels
  --taints k=v:Effect,...    node taints (k:Effect without a value)
  --pod-run-seconds S        how long run-to-completion pods run (default 5)
  --fail NAME                register NAME but never heartbeat it (repeatable; tests node lifecycle)
  --max-in-flight N          API requests in flight at most, per kind of work (default 32)
  -h, --help                 show this help`;

const EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

/** `k=v,k2=v2` */
export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const i = part.indexOf('=');
    const key = i < 0 ? part : part.slice(0, i);
    if (i < 0 || !NAME.test(key))
      throw new Error(`--labels: expected key=value, got ${JSON.stringify(part)}`);
    out[key] = part.slice(i + 1);
  }
  return out;
}

/** `k=v:Effect,k:Effect`, as kubectl taint writes them. */
export function parseTaints(text: string): Taint[] {
  const out: Taint[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const colon = part.lastIndexOf(':');
    const effect = colon < 0 ? '' : part.slice(colon + 1);
    const kv = colon < 0 ? part : part.slice(0, colon);
    if (!EFFECTS.has(effect)) {
      throw new Error(
        `--taints: ${JSON.stringify(part)} needs an effect of NoSchedule, PreferNoSchedule or NoExecute (key=value:Effect)`,
      );
    }
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    if (!NAME.test(key)) throw new Error(`--taints: invalid key in ${JSON.stringify(part)}`);
    out.push(eq < 0 ? { key, effect } : { key, value: kv.slice(eq + 1), effect });
  }
  return out;
}

function count(text: string | undefined, flag: string, min: number): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < min) {
    throw new Error(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  }
  return n;
}

function quantity(text: string, flag: string): string {
  try {
    parseQuantity(text);
  } catch {
    throw new Error(`${flag} must be a quantity such as 32, 500m or 256Gi, got ${JSON.stringify(text)}`);
  }
  return text;
}

function summary(s: SimStats): string {
  return (
    `nodes ${s.registered}/${s.nodes} registered, ${s.failed} failed; pods ${s.podsRunning} running, ` +
    `${s.podsSucceeded} succeeded, ${s.podsDeleted} deleted`
  );
}

export async function runSim(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      kubeconfig: { type: 'string' },
      nodes: { type: 'string' },
      'name-prefix': { type: 'string', default: 'sim-' },
      cpu: { type: 'string', default: '32' },
      memory: { type: 'string', default: '256Gi' },
      pods: { type: 'string', default: '110' },
      'ephemeral-storage': { type: 'string', default: '1Ti' },
      arch: { type: 'string', default: 'amd64' },
      labels: { type: 'string', default: '' },
      taints: { type: 'string', default: '' },
      'pod-run-seconds': { type: 'string', default: '5' },
      fail: { type: 'string', multiple: true, default: [] },
      'max-in-flight': { type: 'string', default: '32' },
    },
    strict: true,
  });
  if (!values.kubeconfig) throw new Error('--kubeconfig is required');
  const nodes = count(values.nodes, '--nodes', 0);
  const prefix = values['name-prefix'];
  const log = createLogger('skiff-sim');
  const client = fromKubeconfig(values.kubeconfig, { component: 'sim' });
  const sim = new SimCluster({
    client,
    nodes,
    namePrefix: prefix,
    cpu: quantity(values.cpu, '--cpu'),
    memory: quantity(values.memory, '--memory'),
    pods: count(values.pods, '--pods', 0),
    ephemeralStorage: quantity(values['ephemeral-storage'], '--ephemeral-storage'),
    arch: values.arch,
    labels: parseLabels(values.labels),
    taints: parseTaints(values.taints),
    podRunSeconds: count(values['pod-run-seconds'], '--pod-run-seconds', 0),
    maxInFlight: count(values['max-in-flight'], '--max-in-flight', 1),
    logger: log,
  });
  for (const name of values.fail) {
    if (!sim.nodeNames.includes(name)) {
      throw new Error(`--fail ${name}: not one of the simulated nodes (${prefix}0 … ${prefix}${nodes - 1})`);
    }
  }

  const ac = new AbortController();
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    onSignal = resolve;
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  void stopped.then(() => ac.abort());
  const t0 = performance.now();
  const started = sim.start(ac.signal).then(() => {
    for (const name of values.fail) sim.fail(name);
    log.info({ nodes, ms: Math.round(performance.now() - t0) }, `${nodes} simulated nodes registered`);
  });
  let last = '';
  const progress = setInterval(() => {
    const line = summary(sim.stats());
    if (line !== last) log.info(line);
    last = line;
  }, 10_000);
  try {
    await Promise.race([started, stopped]);
    log.info({ signal: await stopped }, 'shutting down');
  } finally {
    clearInterval(progress);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    ac.abort();
  }
  await sim.stopped();
  client.close();
  log.info(summary(sim.stats()));
  return 0;
}
