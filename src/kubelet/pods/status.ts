/**
 * The API PodStatus of a pod, generated as the kubelet's generateAPIPodStatus does, from the pod,
 * what the runtime holds for it, the probe results and the last start failure of each container.
 *
 * - containerStatuses / initContainerStatuses: the newest instance gives state, restartCount,
 *   image, imageID and containerID; the one before gives lastState. A container that will be
 *   restarted and whose last start failed or is backing off shows `waiting` with that reason
 *   (CrashLoopBackOff, ErrImagePull, CreateContainerConfigError…) and its last run as lastState.
 *   A container never created shows waiting ContainerCreating (PodInitializing in pods with init
 *   containers).
 * - phase: getPhase; a terminal phase already reported never moves back.
 * - conditions: PodReadyToStartContainers, Initialized, Ready (with readinessGates),
 *   ContainersReady, then every condition the kubelet does not own (PodScheduled…) as it was.
 *   lastTransitionTime changes only when the status of a condition does.
 */
import type {
  Container,
  ContainerState,
  ContainerStatus,
  Pod,
  PodCondition,
  PodStatus,
} from 'kubernetes-types/core/v1.js';
import { rfc3339 } from './format.ts';
import { qosClass } from './qos.ts';
import { type ContainerInfo, lastTwo, type PodRuntime } from './runtime-state.ts';

/** Why the last attempt to start a container did not give a running container. */
export interface StartFailure {
  reason: string;
  message: string;
}

export interface StatusInput {
  pod: Pod;
  runtime: PodRuntime;
  /** Readiness of a container instance (by CRI id). */
  ready(containerId: string): boolean;
  /** Whether a container instance counts as started (startup probe passed, or none). */
  started(containerId: string): boolean;
  /** Last start failure by container name. */
  failures: Map<string, StartFailure>;
  /** The pod was killed or finished for good: no container will run again. */
  terminal: boolean;
  /** Pod-level reason/message (Evicted…). */
  reason?: string;
  message?: string;
  nodeIPs: string[];
  /** Prefix of container IDs: "containerd". */
  runtimeName: string;
  now: number;
}

const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']);

function terminated(c: ContainerInfo, runtimeName: string): ContainerState {
  return {
    terminated: {
      exitCode: c.exitCode,
      reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
      message: c.message || undefined,
      startedAt: c.startedAt ? rfc3339(c.startedAt) : undefined,
      finishedAt: c.finishedAt ? rfc3339(c.finishedAt) : undefined,
      containerID: `${runtimeName}://${c.id}`,
    },
  };
}

function stateOf(c: ContainerInfo, runtimeName: string): ContainerState {
  switch (c.state) {
    case 'CONTAINER_RUNNING':
      return { running: { startedAt: rfc3339(c.startedAt || c.createdAt) } };
    case 'CONTAINER_EXITED':
      return terminated(c, runtimeName);
    case 'CONTAINER_UNKNOWN':
      return {
        terminated: {
          exitCode: 137,
          reason: 'ContainerStatusUnknown',
          message: 'The container could not be located when the pod was terminated',
          containerID: `${runtimeName}://${c.id}`,
        },
      };
    default:
      return { waiting: { reason: 'ContainerCreating' } };
  }
}

/**
 * Whether the kubelet will start `container` again (kubecontainer.ShouldContainerBeRestarted):
 * never when the pod is being deleted; always when it never ran; not while running; per
 * restartPolicy once exited.
 */
export function shouldRestart(pod: Pod, cur: ContainerInfo | undefined): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (!cur) return true;
  if (cur.state === 'CONTAINER_RUNNING') return false;
  if (cur.state === 'CONTAINER_UNKNOWN' || cur.state === 'CONTAINER_CREATED') return true;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return cur.exitCode !== 0;
  return true;
}

function containerStatuses(
  i: StatusInput,
  specs: Container[],
  isInit: boolean,
  hasInit: boolean,
): ContainerStatus[] {
  const old = new Map<string, ContainerStatus>();
  for (const s of (isInit ? i.pod.status?.initContainerStatuses : i.pod.status?.containerStatuses) ?? [])
    old.set(s.name, s);
  return specs.map((spec) => {
    const [cur, prev] = lastTwo(i.runtime, spec.name);
    let st: ContainerStatus;
    if (!cur) {
      const was = old.get(spec.name);
      if (i.terminal && was?.state?.running) {
        st = {
          ...was,
          ready: false,
          started: false,
          state: {
            terminated: {
              exitCode: 137,
              reason: 'ContainerStatusUnknown',
              message: 'The container could not be located when the pod was terminated',
            },
          },
        };
      } else if (was?.state?.terminated || was?.lastState?.terminated) {
        // The runtime forgot it (removed); keep what was reported.
        st = { ...was, ready: false };
      } else {
        st = {
          name: spec.name,
          image: spec.image ?? '',
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason: hasInit ? 'PodInitializing' : 'ContainerCreating' } },
        };
      }
    } else {
      const running = cur.state === 'CONTAINER_RUNNING';
      st = {
        name: spec.name,
        state: stateOf(cur, i.runtimeName),
        lastState: prev && prev.state === 'CONTAINER_EXITED' ? terminated(prev, i.runtimeName) : {},
        ready: running && i.ready(cur.id),
        restartCount: cur.restartCount,
        image: cur.image || spec.image || '',
        imageID: cur.imageRef,
        containerID: `${i.runtimeName}://${cur.id}`,
        started: running && i.started(cur.id),
      };
    }
    const failure = i.failures.get(spec.name);
    if (failure && !i.terminal && shouldRestart(i.pod, cur)) {
      if (st.state?.terminated) st.lastState = st.state;
      st.state = { waiting: { reason: failure.reason, message: failure.message || undefined } };
      st.ready = false;
      st.started = false;
    }
    return st;
  });
}

/** getPhase (kubelet_pods.go). */
export function podPhase(
  pod: Pod,
  init: ContainerStatus[],
  regular: ContainerStatus[],
  terminal: boolean,
): PodStatus['phase'] {
  let pendingInit = 0;
  let failedInit = 0;
  for (const s of init) {
    if (s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInit++;
      } else pendingInit++;
    } else pendingInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of regular) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || waiting > 0) {
    // A terminal pod that never got its containers going failed.
    return terminal ? 'Failed' : 'Pending';
  }
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (terminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return terminal ? 'Failed' : 'Pending';
}

function condition(
  old: PodCondition[],
  type: string,
  ok: boolean,
  now: number,
  reason?: string,
  message?: string,
): PodCondition {
  const status = ok ? 'True' : 'False';
  const prev = old.find((c) => c.type === type);
  const c: PodCondition = {
    type,
    status,
    lastProbeTime: null as unknown as undefined,
    lastTransitionTime:
      prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now),
  };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

function names(list: string[]): string {
  return `[${list.join(' ')}]`;
}

/** The pod's status as the kubelet reports it. */
export function generatePodStatus(i: StatusInput): PodStatus {
  const pod = i.pod;
  const old = pod.status ?? {};
  const spec = pod.spec ?? { containers: [] };
  const initSpecs = spec.initContainers ?? [];
  const hasInit = initSpecs.length > 0;
  const initStatuses = containerStatuses(i, initSpecs, true, hasInit);
  const regularStatuses = containerStatuses(i, spec.containers ?? [], false, hasInit);

  const oldPhase = old.phase;
  let phase = podPhase(pod, initStatuses, regularStatuses, i.terminal);
  if (oldPhase === 'Succeeded' || oldPhase === 'Failed') phase = oldPhase;

  // Pod IPs from the newest ready sandbox (the node's for host-network pods).
  const sandbox = i.runtime.sandboxes.find((s) => s.state === 'SANDBOX_READY');
  let podIPs: string[] = [];
  if (spec.hostNetwork) podIPs = [...i.nodeIPs];
  else if (sandbox?.ip) podIPs = [sandbox.ip, ...sandbox.additionalIps];
  else if (i.terminal || phase === 'Succeeded' || phase === 'Failed')
    podIPs = (old.podIPs ?? []).map((p) => p.ip ?? '').filter(Boolean);

  const oldConds = old.conditions ?? [];
  const now = i.now;
  const conditions: PodCondition[] = [];
  const sandboxReady = !!sandbox && (spec.hostNetwork === true || !!sandbox.ip);
  conditions.push(condition(oldConds, 'PodReadyToStartContainers', sandboxReady && !i.terminal, now));

  const regularExists = i.runtime.containers.some(
    (c) => !c.isInit && (spec.containers ?? []).some((s) => s.name === c.name),
  );
  const incompleteInit = initStatuses
    .filter((s) => !(s.state?.terminated && s.state.terminated.exitCode === 0))
    .map((s) => s.name);
  const initialized = incompleteInit.length === 0 || regularExists;
  if (phase === 'Succeeded') conditions.push(condition(oldConds, 'Initialized', true, now, 'PodCompleted'));
  else
    conditions.push(
      condition(
        oldConds,
        'Initialized',
        initialized,
        now,
        initialized ? undefined : 'ContainersNotInitialized',
        initialized ? undefined : `containers with incomplete status: ${names(incompleteInit)}`,
      ),
    );

  const unready = regularStatuses.filter((s) => !s.ready).map((s) => s.name);
  let crReason: string | undefined;
  let crMessage: string | undefined;
  if (phase === 'Succeeded' || phase === 'Failed') {
    crReason = 'PodCompleted';
  } else if (!initialized) {
    crReason = 'ContainersNotInitialized';
    crMessage = `containers with incomplete status: ${names(incompleteInit)}`;
  } else if (unready.length) {
    crReason = 'ContainersNotReady';
    crMessage = `containers with unready status: ${names(unready)}`;
  }
  const containersReady = crReason === undefined;
  let readyReason = crReason;
  let readyMessage = crMessage;
  if (containersReady) {
    for (const gate of spec.readinessGates ?? []) {
      const c = oldConds.find((x) => x.type === gate.conditionType);
      if (!c) {
        readyReason = 'ReadinessGatesNotReady';
        readyMessage = `corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`;
        break;
      }
      if (c.status !== 'True') {
        readyReason = 'ReadinessGatesNotReady';
        readyMessage = `the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`;
        break;
      }
    }
  }
  conditions.push(condition(oldConds, 'Ready', readyReason === undefined, now, readyReason, readyMessage));
  conditions.push(condition(oldConds, 'ContainersReady', containersReady, now, crReason, crMessage));
  for (const c of oldConds) if (!KUBELET_CONDITIONS.has(c.type)) conditions.push(c);

  const status: PodStatus = {
    phase,
    conditions,
    hostIP: i.nodeIPs[0],
    hostIPs: i.nodeIPs.map((ip) => ({ ip })),
    startTime: old.startTime ?? rfc3339(now),
    qosClass: qosClass(pod),
    containerStatuses: regularStatuses,
  };
  if (podIPs.length) {
    status.podIP = podIPs[0];
    status.podIPs = podIPs.map((ip) => ({ ip }));
  }
  if (hasInit) status.initContainerStatuses = initStatuses;
  const reason = i.reason ?? old.reason;
  const message = i.message ?? old.message;
  if (reason) status.reason = reason;
  if (message) status.message = message;
  if (old.nominatedNodeName) status.nominatedNodeName = old.nominatedNodeName;
  return status;
}
