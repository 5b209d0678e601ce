/**
 * The node conditions the kubelet owns, set as its nodestatus setters do
 * (pkg/kubelet/nodestatus/setters.go): every sync refreshes lastHeartbeatTime; lastTransitionTime,
 * reason and message change only when the status flips (a new condition starts as Unknown, so it
 * always "flips" on first set).
 */
import type { NodeCondition } from 'kubernetes-types/core/v1.js';

export type PressureType = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

const PRESSURE_TEXT: Record<
  PressureType,
  { on: [string, string]; off: [string, string]; events: [string, string] }
> = {
  MemoryPressure: {
    on: ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
    off: ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    events: ['NodeHasInsufficientMemory', 'NodeHasSufficientMemory'],
  },
  DiskPressure: {
    on: ['KubeletHasDiskPressure', 'kubelet has disk pressure'],
    off: ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    events: ['NodeHasDiskPressure', 'NodeHasNoDiskPressure'],
  },
  PIDPressure: {
    on: ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
    off: ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    events: ['NodeHasInsufficientPID', 'NodeHasSufficientPID'],
  },
};

/** The conditions this kubelet writes; any other type (e.g. NetworkUnavailable) is left alone. */
export const KUBELET_CONDITIONS = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'] as const;

/** Receives the node events the setters raise (e.g. "NodeHasSufficientMemory", "NodeReady"). */
export type NodeEventSink = (type: 'Normal' | 'Warning', reason: string) => void;

/**
 * Sets a pressure condition in `conditions` (modified in place) to `pressure` at time `now`
 * (RFC 3339, seconds).
 */
export function setPressureCondition(
  conditions: NodeCondition[],
  type: PressureType,
  pressure: boolean,
  now: string,
  event: NodeEventSink = () => {},
): void {
  let c = conditions.find((x) => x.type === type);
  if (!c) {
    c = { type, status: 'Unknown' };
    conditions.push(c);
  }
  c.lastHeartbeatTime = now;
  const text = PRESSURE_TEXT[type];
  if (pressure) {
    if (c.status !== 'True') {
      c.status = 'True';
      [c.reason, c.message] = text.on;
      c.lastTransitionTime = now;
      event('Normal', text.events[0]);
    }
  } else if (c.status !== 'False') {
    c.status = 'False';
    [c.reason, c.message] = text.off;
    c.lastTransitionTime = now;
    event('Normal', text.events[1]);
  }
}

/**
 * Sets Ready (ReadyCondition): True "KubeletReady" / "kubelet is posting ready status" when `errors`
 * is empty and capacity has cpu, memory, pods and ephemeral-storage; else False "KubeletNotReady"
 * with the errors aggregated as Kubernetes prints them (one: its text; several: "[a, b]").
 * lastTransitionTime is kept unless the status changes.
 */
export function setReadyCondition(
  conditions: NodeCondition[],
  errors: readonly string[],
  capacity: Readonly<Record<string, string>> | undefined,
  now: string,
  event: NodeEventSink = () => {},
): void {
  const errs = [...errors];
  const missing = ['cpu', 'memory', 'pods', 'ephemeral-storage'].filter((r) => capacity?.[r] === undefined);
  if (missing.length > 0) errs.push(`missing node capacity for resources: ${missing.join(', ')}`);
  const next: NodeCondition =
    errs.length === 0
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: aggregate(errs) };
  next.lastHeartbeatTime = now;
  const i = conditions.findIndex((x) => x.type === 'Ready');
  const prev = i >= 0 ? conditions[i] : undefined;
  if (prev && prev.status === next.status) {
    next.lastTransitionTime = prev.lastTransitionTime;
  } else {
    next.lastTransitionTime = now;
    if (prev) event('Normal', next.status === 'True' ? 'NodeReady' : 'NodeNotReady');
  }
  // Field order as the API prints it.
  const ordered: NodeCondition = {
    type: next.type,
    status: next.status,
    lastHeartbeatTime: next.lastHeartbeatTime,
    lastTransitionTime: next.lastTransitionTime,
    reason: next.reason,
    message: next.message,
  };
  if (i >= 0) conditions[i] = ordered;
  else conditions.push(ordered);
}

/** utilerrors.NewAggregate(errs).Error(). */
export function aggregate(errs: readonly string[]): string {
  const unique = [...new Set(errs)];
  return unique.length === 1 ? (unique[0] as string) : `[${unique.join(', ')}]`;
}

/** nodeConditionsHaveChanged: any difference but lastHeartbeatTime. */
export function conditionsChanged(
  a: readonly NodeCondition[] = [],
  b: readonly NodeCondition[] = [],
): boolean {
  if (a.length !== b.length) return true;
  const strip = (c: NodeCondition) =>
    JSON.stringify([c.type, c.status, c.reason ?? '', c.message ?? '', c.lastTransitionTime ?? '']);
  const byType = new Map(a.map((c) => [c.type, strip(c)]));
  return b.some((c) => byType.get(c.type) !== strip(c));
}
