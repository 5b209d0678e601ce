/**
 * The ContainerConfig of one container, as kuberuntime_container.go generateContainerConfig builds
 * it: command/args with `$(VAR)` expansion, working dir, env, mounts, log path
 * `<name>/<restartCount>.log`, stdio flags, the kubelet's labels and annotations (which is how a
 * restarted kubelet finds restart counts and spec hashes again), and the Linux part: resources and
 * the security context.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_GRACE,
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
} from '../contracts.ts';
import type { ContainerConfig, KeyValue, LinuxContainerSecurityContext, Mount } from '../cri/types.ts';
import { expandAll } from './expand.ts';
import { containerHash } from './hash.ts';
import { linuxResources } from './resources.ts';

export const ANNOTATION_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';
export const ANNOTATION_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const ANNOTATION_PRESTOP = 'io.kubernetes.container.preStopHandler';
export const ANNOTATION_PORTS = 'io.kubernetes.container.ports';
/** Set by skiff on init containers so status can tell them apart after a restart. */
export const ANNOTATION_INIT = 'io.kubernetes.container.init';

/** Paths masked in non-privileged containers (securitycontext.DefaultProcMountMaskedPaths). */
export const DEFAULT_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
/** Paths read-only in non-privileged containers (securitycontext.DefaultProcMountReadonlyPaths). */
export const DEFAULT_READONLY_PATHS = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/** A container config the kubelet refuses to create (status reason CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError';
  readonly reason = 'CreateContainerConfigError';
}

export interface ContainerConfigInput {
  pod: Pod;
  container: Container;
  isInit: boolean;
  /** Image ref from the ImageManager. */
  imageRef: string;
  /** The image's user, when known (CRI Image.uid / username), for runAsNonRoot. */
  imageUser?: { uid?: number; username?: string };
  envs: KeyValue[];
  mounts: Mount[];
  restartCount: number;
  /** Node memory capacity in bytes (for the burstable oom_score_adj). */
  memoryCapacity: number;
}

/** The labels of a container (and the filter that finds it). */
export function containerLabels(pod: Pod, name: string): Record<string, string> {
  const m = pod.metadata ?? {};
  return {
    [LABEL_POD_NAME]: m.name ?? '',
    [LABEL_POD_NAMESPACE]: m.namespace ?? '',
    [LABEL_POD_UID]: m.uid ?? '',
    [LABEL_CONTAINER_NAME]: name,
  };
}

/** The grace period of a pod's containers when stopped normally. */
export function podGracePeriod(pod: Pod): number {
  return pod.spec?.terminationGracePeriodSeconds ?? 30;
}

function securityContext(
  pod: Pod,
  c: Container,
  imageUser: ContainerConfigInput['imageUser'],
): LinuxContainerSecurityContext {
  const psc = pod.spec?.securityContext ?? {};
  const csc = c.securityContext ?? {};
  const out: LinuxContainerSecurityContext = {
    namespaceOptions: {
      network: pod.spec?.hostNetwork ? 'NODE' : 'POD',
      pid: pod.spec?.hostPID ? 'NODE' : pod.spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
      ipc: pod.spec?.hostIPC ? 'NODE' : 'POD',
    },
  };
  const privileged = csc.privileged === true;
  if (privileged) out.privileged = true;
  if (csc.readOnlyRootFilesystem) out.readonlyRootfs = true;
  const runAsUser = csc.runAsUser ?? psc.runAsUser;
  const runAsGroup = csc.runAsGroup ?? psc.runAsGroup;
  if (runAsUser !== undefined) out.runAsUser = { value: runAsUser };
  if (runAsGroup !== undefined) out.runAsGroup = { value: runAsGroup };
  const groups = [...(psc.supplementalGroups ?? [])];
  if (psc.fsGroup !== undefined) groups.unshift(psc.fsGroup);
  if (groups.length) out.supplementalGroups = groups;
  if (csc.capabilities) {
    out.capabilities = {
      addCapabilities: [...(csc.capabilities.add ?? [])],
      dropCapabilities: [...(csc.capabilities.drop ?? [])],
    };
  }
  if (csc.allowPrivilegeEscalation === false && !privileged) out.noNewPrivs = true;
  if (!privileged && csc.procMount !== 'Unmasked') {
    out.maskedPaths = [...DEFAULT_MASKED_PATHS];
    out.readonlyPaths = [...DEFAULT_READONLY_PATHS];
  }
  // verifyRunAsNonRoot
  const runAsNonRoot = csc.runAsNonRoot ?? psc.runAsNonRoot;
  if (runAsNonRoot) {
    const who = `(pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})", container: ${c.name})`;
    if (runAsUser !== undefined) {
      if (runAsUser === 0)
        throw new ContainerConfigError(`container's runAsUser breaks non-root policy ${who}`);
    } else if (imageUser?.uid !== undefined) {
      if (imageUser.uid === 0)
        throw new ContainerConfigError(`container has runAsNonRoot and image will run as root ${who}`);
    } else if (imageUser?.username) {
      throw new ContainerConfigError(
        `container has runAsNonRoot and image has non-numeric user (${imageUser.username}), cannot verify user is non-root ${who}`,
      );
    } else {
      // An image without a user runs as root.
      throw new ContainerConfigError(`container has runAsNonRoot and image will run as root ${who}`);
    }
  }
  return out;
}

/** The CRI config to create `container` with. Throws ContainerConfigError. */
export function containerConfig(i: ContainerConfigInput): ContainerConfig {
  const { pod, container: c } = i;
  const annotations: Record<string, string> = {
    [ANNOTATION_CONTAINER_HASH]: containerHash(c),
    [ANNOTATION_RESTART_COUNT]: String(i.restartCount),
    [ANNOTATION_TERMINATION_MESSAGE_PATH]: c.terminationMessagePath ?? '/dev/termination-log',
    [ANNOTATION_TERMINATION_MESSAGE_POLICY]: c.terminationMessagePolicy ?? 'File',
    [ANNOTATION_TERMINATION_GRACE]: String(podGracePeriod(pod)),
  };
  if (c.lifecycle?.preStop) annotations[ANNOTATION_PRESTOP] = JSON.stringify(c.lifecycle.preStop);
  if (c.ports?.length) annotations[ANNOTATION_PORTS] = JSON.stringify(c.ports);
  if (i.isInit) annotations[ANNOTATION_INIT] = 'true';
  const cfg: ContainerConfig = {
    metadata: { name: c.name, attempt: i.restartCount },
    image: { image: i.imageRef },
    command: expandAll(c.command, i.envs),
    args: expandAll(c.args, i.envs),
    workingDir: c.workingDir,
    envs: i.envs,
    mounts: i.mounts,
    labels: containerLabels(pod, c.name),
    annotations,
    logPath: `${c.name}/${i.restartCount}.log`,
    stdin: c.stdin === true,
    stdinOnce: c.stdinOnce === true,
    tty: c.tty === true,
    linux: {
      resources: linuxResources(pod, c, i.memoryCapacity),
      securityContext: securityContext(pod, c, i.imageUser),
    },
  };
  return cfg;
}
