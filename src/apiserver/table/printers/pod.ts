/**
 * The pod printer (printPod): READY, the aggregate STATUS reason kubectl users know
 * (ContainerCreating, CrashLoopBackOff, Init:0/1, Terminating, Completed, ...), RESTARTS with the
 * time of the last restart, and the wide IP / NODE / NOMINATED NODE / READINESS GATES columns.
 */
import type { KubeObject } from '../../object.ts';
import { AGE_COLUMN, col, humanDuration, NAME_COLUMN, type Printer } from '../table.ts';
import { conditionTrue, int, isObj, type Obj, rec, recs, since, str, timeOf } from './format.ts';

/** node.NodeUnreachablePodReason */
const NODE_LOST = 'NodeLost';

/** When the container last terminated (lastState.terminated.finishedAt), if it did. */
function lastTerminated(status: Obj): number | undefined {
  const last = rec(status.lastState);
  return isObj(last.terminated) ? timeOf(last.terminated.finishedAt) : undefined;
}

function later(a: number | undefined, b: number | undefined): number | undefined {
  if (b === undefined) return a;
  return a === undefined || a < b ? b : a;
}

/** The reason of a terminated state with no reason: "Signal:9" or "ExitCode:1". */
function exitText(term: Obj): string {
  const signal = int(term.signal);
  return signal !== 0 ? `Signal:${signal}` : `ExitCode:${int(term.exitCode)}`;
}

/** The cells printPod renders, wide columns included. */
export function podRow(pod: KubeObject, now: number): unknown[] {
  const spec = rec(pod.spec);
  const status = rec(pod.status);
  const phase = str(status.phase);
  const conditions = status.conditions;

  let reason = str(status.reason) || phase;
  for (const c of recs(conditions)) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initSpecs = recs(spec.initContainers);
  // Sidecars (init containers with restartPolicy Always) count as containers.
  const restartable = new Set(initSpecs.filter((c) => c.restartPolicy === 'Always').map((c) => str(c.name)));
  const total = recs(spec.containers).length + initSpecs.filter((c) => c.restartPolicy === 'Always').length;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart: number | undefined;
  let lastSidecarRestart: number | undefined;

  let initializing = false;
  const initStatuses = recs(status.initContainerStatuses);
  for (const [i, c] of initStatuses.entries()) {
    const isSidecar = restartable.has(str(c.name));
    restarts += int(c.restartCount);
    lastRestart = later(lastRestart, lastTerminated(c));
    if (isSidecar) {
      sidecarRestarts += int(c.restartCount);
      lastSidecarRestart = later(lastSidecarRestart, lastTerminated(c));
    }
    const state = rec(c.state);
    const term = isObj(state.terminated) ? state.terminated : undefined;
    const waiting = isObj(state.waiting) ? state.waiting : undefined;
    if (term && int(term.exitCode) === 0) continue;
    if (isSidecar && c.started === true) {
      if (c.ready === true) ready++;
      continue;
    }
    if (term) {
      reason = str(term.reason) === '' ? `Init:${exitText(term)}` : `Init:${str(term.reason)}`;
    } else if (waiting && str(waiting.reason) !== '' && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(conditions, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = recs(status.containerStatuses);
    for (const c of statuses.toReversed()) {
      restarts += int(c.restartCount);
      lastRestart = later(lastRestart, lastTerminated(c));
      const state = rec(c.state);
      const term = isObj(state.terminated) ? state.terminated : undefined;
      const waiting = isObj(state.waiting) ? state.waiting : undefined;
      if (waiting && str(waiting.reason) !== '') {
        reason = str(waiting.reason);
      } else if (term && str(term.reason) !== '') {
        reason = str(term.reason);
      } else if (term) {
        reason = exitText(term);
      } else if (c.ready === true && isObj(state.running)) {
        hasRunning = true;
        ready++;
      }
    }
    // A pod whose last container completed but another still runs is still Running.
    if (reason === 'Completed' && hasRunning) {
      reason = conditionTrue(conditions, 'Ready') ? 'Running' : 'NotReady';
    }
  }

  const deleting =
    typeof pod.metadata.deletionTimestamp === 'string' && pod.metadata.deletionTimestamp !== '';
  if (deleting && status.reason === NODE_LOST) {
    reason = 'Unknown';
  } else if (deleting && phase !== 'Failed' && phase !== 'Succeeded') {
    reason = 'Terminating';
  }

  const restartsText =
    restarts !== 0 && lastRestart !== undefined
      ? `${restarts} (${humanDuration(now - lastRestart)} ago)`
      : String(restarts);

  const podIP = str(status.podIP) || str(recs(status.podIPs)[0]?.ip) || '<none>';
  const gates = recs(spec.readinessGates);
  let readinessGates = '<none>';
  if (gates.length > 0) {
    const conds = recs(conditions);
    const trueCount = gates.filter(
      (g) => conds.find((c) => c.type === g.conditionType)?.status === 'True',
    ).length;
    readinessGates = `${trueCount}/${gates.length}`;
  }

  return [
    pod.metadata.name ?? '',
    `${ready}/${total}`,
    reason,
    restartsText,
    since(pod.metadata.creationTimestamp, now),
    podIP,
    str(spec.nodeName) || '<none>',
    str(status.nominatedNodeName) || '<none>',
    readinessGates,
  ];
}

export const podPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col(
      'Restarts',
      'string',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    AGE_COLUMN,
    col(
      'IP',
      'string',
      'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
      1,
    ),
    col('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
    col(
      'Nominated Node',
      'string',
      'nominatedNodeName is set only when this pod preempts other pods on the node.',
      1,
    ),
    col(
      'Readiness Gates',
      'string',
      'If specified, all readiness gates will be evaluated for pod readiness.',
      1,
    ),
  ],
  row: podRow,
};
