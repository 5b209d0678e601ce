/**
 * What a sync must do to bring a pod's runtime state to its spec — kuberuntime_manager.go
 * computePodActions, for pods without sidecars:
 *
 * 1. A sandbox is (re)created when there is none, more than one is ready, the newest is not
 *    ready, its network mode changed, or it has no IP (pod network). Re-creating kills the pod
 *    first. With restartPolicy Never a dead sandbox whose containers already ran is not recreated;
 *    with OnFailure, one whose containers all succeeded is not either. A new sandbox starts over
 *    with the first init container, else all containers.
 * 2. Init containers run one at a time in order; a failed one is retried per restartPolicy, and with
 *    Never the pod is killed (it has Failed). Regular containers wait until all succeeded.
 * 3. Each regular container that is not running is started if it should be (see shouldRestart).
 *    A running one is killed when its spec hash changed (and always restarted), or its liveness or
 *    startup probe failed (restarted unless restartPolicy is Never).
 * 4. When nothing is kept running and nothing is to start, the pod is done: killPod.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { containerHash } from './hash.ts';
import { type ContainerInfo, latest, type PodRuntime } from './runtime-state.ts';
import { shouldRestart } from './status.ts';

export interface KillInfo {
  info: ContainerInfo;
  spec?: Container;
  message: string;
  reason?: 'LivenessProbe' | 'StartupProbe' | 'Unknown';
}

export interface PodActions {
  killPod: boolean;
  createSandbox: boolean;
  /** The ready sandbox to use when not creating one. */
  sandboxId?: string;
  /** Attempt number of the sandbox to create. */
  attempt: number;
  nextInit?: Container;
  containersToStart: Container[];
  containersToKill: KillInfo[];
}

export interface ProbeView {
  livenessFailed(containerId: string): boolean;
  startupFailed(containerId: string): boolean;
}

function restartOnFailure(pod: Pod): boolean {
  return (pod.spec?.restartPolicy ?? 'Always') !== 'Never';
}

/** podSandboxChanged */
export function sandboxChanged(
  pod: Pod,
  rt: PodRuntime,
): { create: boolean; attempt: number; sandboxId?: string } {
  const sandboxes = rt.sandboxes;
  if (sandboxes.length === 0) return { create: true, attempt: 0 };
  const newest = sandboxes[0]!;
  const attempt = Math.max(...sandboxes.map((s) => s.attempt)) + 1;
  const ready = sandboxes.filter((s) => s.state === 'SANDBOX_READY').length;
  if (ready > 1) return { create: true, attempt, sandboxId: newest.id };
  if (newest.state !== 'SANDBOX_READY') return { create: true, attempt, sandboxId: newest.id };
  const hostNetwork = pod.spec?.hostNetwork === true;
  if (newest.hostNetwork !== hostNetwork) return { create: true, attempt, sandboxId: newest.id };
  if (!hostNetwork && !newest.ip) return { create: true, attempt, sandboxId: newest.id };
  return { create: false, attempt: newest.attempt, sandboxId: newest.id };
}

function initFailed(c: ContainerInfo): boolean {
  return (c.state === 'CONTAINER_EXITED' && c.exitCode !== 0) || c.state === 'CONTAINER_UNKNOWN';
}

/** findNextInitContainerToRun: [last failed status, next to run, done]. */
export function nextInitContainer(
  pod: Pod,
  rt: PodRuntime,
): { failed?: ContainerInfo; next?: Container; done: boolean } {
  const inits = pod.spec?.initContainers ?? [];
  if (inits.length === 0) return { done: true };
  for (const c of pod.spec?.containers ?? []) {
    if (latest(rt, c.name)?.state === 'CONTAINER_RUNNING') return { done: true };
  }
  for (let i = inits.length - 1; i >= 0; i--) {
    const s = latest(rt, inits[i]!.name);
    if (s && initFailed(s)) return { failed: s, next: inits[i], done: false };
  }
  for (let i = inits.length - 1; i >= 0; i--) {
    const s = latest(rt, inits[i]!.name);
    if (!s) continue;
    if (s.state === 'CONTAINER_RUNNING') return { done: false };
    if (s.state === 'CONTAINER_EXITED') {
      if (i === inits.length - 1) return { done: true };
      return { next: inits[i + 1], done: false };
    }
    // CREATED: it was never started; start it again.
    return { next: inits[i], done: false };
  }
  return { next: inits[0], done: false };
}

export function computePodActions(pod: Pod, rt: PodRuntime, probes: ProbeView): PodActions {
  const sb = sandboxChanged(pod, rt);
  const actions: PodActions = {
    killPod: sb.create,
    createSandbox: sb.create,
    sandboxId: sb.sandboxId,
    attempt: sb.attempt,
    containersToStart: [],
    containersToKill: [],
  };
  const containers = pod.spec?.containers ?? [];
  if (sb.create) {
    if (!restartOnFailure(pod) && sb.attempt !== 0 && rt.containers.length !== 0) {
      actions.createSandbox = false;
      return actions;
    }
    const toStart = containers.filter((c) => {
      const s = latest(rt, c.name);
      return !(
        pod.spec?.restartPolicy === 'OnFailure' &&
        s?.state === 'CONTAINER_EXITED' &&
        s.exitCode === 0
      );
    });
    if (toStart.length === 0) {
      actions.createSandbox = false;
      return actions;
    }
    const inits = pod.spec?.initContainers ?? [];
    if (inits.length) {
      actions.nextInit = inits[0];
      return actions;
    }
    actions.containersToStart = toStart;
    return actions;
  }

  const init = nextInitContainer(pod, rt);
  if (!init.done) {
    if (init.next) {
      if (init.failed && !restartOnFailure(pod)) actions.killPod = true;
      else {
        if (init.failed?.state === 'CONTAINER_UNKNOWN') {
          actions.containersToKill.push({
            info: init.failed,
            spec: init.next,
            message: 'Init container is in unknown state, try killing it before restart',
            reason: 'Unknown',
          });
        }
        actions.nextInit = init.next;
      }
    }
    return actions;
  }

  let keep = 0;
  for (const c of containers) {
    const s = latest(rt, c.name);
    if (s?.state !== 'CONTAINER_RUNNING') {
      if (shouldRestart(pod, s)) {
        actions.containersToStart.push(c);
        if (s?.state === 'CONTAINER_UNKNOWN') {
          actions.containersToKill.push({
            info: s,
            spec: c,
            message: 'Container is in unknown state, try killing it before restart',
            reason: 'Unknown',
          });
        }
      }
      continue;
    }
    let message: string;
    let reason: KillInfo['reason'];
    let restart = restartOnFailure(pod);
    if (s.hash && s.hash !== containerHash(c)) {
      message = `Container ${c.name} definition changed`;
      restart = true;
    } else if (probes.livenessFailed(s.id)) {
      message = `Container ${c.name} failed liveness probe`;
      reason = 'LivenessProbe';
    } else if (probes.startupFailed(s.id)) {
      message = `Container ${c.name} failed startup probe`;
      reason = 'StartupProbe';
    } else {
      keep++;
      continue;
    }
    if (restart) {
      message = `${message}, will be restarted`;
      actions.containersToStart.push(c);
    }
    actions.containersToKill.push({ info: s, spec: c, message, reason });
  }
  if (keep === 0 && actions.containersToStart.length === 0) actions.killPod = true;
  return actions;
}
