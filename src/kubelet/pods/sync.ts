/**
 * The runtime side of a pod sync (kuberuntime_manager.go SyncPod / KillPod and
 * kuberuntime_container.go startContainer / killContainer): carries out computePodActions, with
 * the kubelet's events, crash back-off, lifecycle hooks and grace periods.
 */
import { mkdir, readdir } from 'node:fs/promises';
import type { Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { SECRETS } from '../../client/resources.ts';
import type { KubeObject, RestClient } from '../../client/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { Logger } from '../../util/log.ts';
import type { EnvResolver, ImageManager, PodCgroups, VolumeManager } from '../contracts.ts';
import { ANNOTATION_TERMINATION_GRACE, VolumeError } from '../contracts.ts';
import type { AuthConfig, CriRuntime, PodSandboxConfig } from '../cri/types.ts';
import { credentialsFor } from '../images/keyring.ts';
import type { ProberManager } from '../prober/manager.ts';
import { computePodActions, type PodActions } from './actions.ts';
import { Backoff } from './backoff.ts';
import {
  ANNOTATION_PRESTOP,
  ContainerConfigError,
  containerConfig,
  podGracePeriod,
} from './container-config.ts';
import { containerFieldPath, type EventRecorder } from './events.ts';
import { formatPod, goDuration } from './format.ts';
import { containerHash } from './hash.ts';
import { runHook } from './lifecycle.ts';
import type { ContainerInfo, PodRuntime, RuntimeCache } from './runtime-state.ts';
import { latest } from './runtime-state.ts';
import { podLogDirectory, type SandboxOptions, sandboxConfig } from './sandbox.ts';
import type { StartFailure } from './status.ts';

/** The kubelet never gives a container less than this to stop (minimumGracePeriodInSeconds). */
export const MIN_GRACE_SECONDS = 2;

export interface SyncerDeps {
  cri: CriRuntime;
  cache: RuntimeCache;
  prober: ProberManager;
  recorder: EventRecorder;
  volumes: VolumeManager;
  env: EnvResolver;
  cgroups: PodCgroups;
  images: ImageManager;
  client: RestClient;
  clock: Clock;
  log: Logger;
  sandbox: SandboxOptions;
  memoryCapacity: number;
  /** The node's (first) IP: the pod IP of host-network pods for probes and hooks. */
  nodeIP: string;
  runtimeHandler?: string;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

/** What the pod workers keep about a pod between syncs. */
export interface PodSyncState {
  /** Last start failure per container name (the kubelet's reasonCache). */
  failures: Map<string, StartFailure>;
  /** Host paths of the pod's volumes once set up. */
  volumePaths?: Map<string, string>;
  cgroupParent?: string;
}

export interface SyncResult {
  actions: PodActions;
  /** When the pod should be synced again at the latest (a back-off ending), ms since epoch. */
  wakeAt?: number;
}

/** One more than the highest `<n>.log` in a container's log directory; 0 when there is none. */
export async function restartCountFromLogs(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let max = -1;
  for (const n of names) {
    const m = /^(\d+)\.log$/.exec(n);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class PodSyncer {
  readonly #d: SyncerDeps;
  readonly backoff: Backoff;

  constructor(d: SyncerDeps) {
    this.#d = d;
    this.backoff = new Backoff(d.clock, d.backoffInitialMs ?? 10_000, d.backoffMaxMs ?? 300_000);
  }

  /** The crash back-off key of a container (getStableKey). */
  static backoffKey(pod: Pod, c: Container): string {
    const m = pod.metadata ?? {};
    return `${m.name}_${m.namespace}_${m.uid}_${c.name}_${containerHash(c)}`;
  }

  /** Brings the pod's volumes and cgroup up; false (with an event) when a volume is not ready. */
  async prepare(pod: Pod, st: PodSyncState, signal?: AbortSignal): Promise<boolean> {
    try {
      if (!st.volumePaths) st.volumePaths = await this.#d.volumes.setUp(pod, signal);
      else await this.#d.volumes.refresh(pod, signal);
    } catch (err) {
      const reason = err instanceof VolumeError ? err.reason : 'FailedMount';
      this.#d.recorder.event(pod, undefined, 'Warning', reason, errMessage(err));
      this.#d.log.debug({ pod: formatPod(pod), err }, 'volumes not ready');
      return false;
    }
    if (st.cgroupParent === undefined || this.#d.cache.pod(pod.metadata?.uid ?? '').sandboxes.length === 0) {
      st.cgroupParent = await this.#d.cgroups.ensure(pod);
    }
    return true;
  }

  /** One SyncPod: computes the actions and carries them out. */
  async syncPod(pod: Pod, st: PodSyncState, signal?: AbortSignal): Promise<SyncResult> {
    const uid = pod.metadata?.uid ?? '';
    const rt = this.#d.cache.pod(uid);
    const actions = computePodActions(pod, rt, this.#d.prober);
    const result: SyncResult = { actions };

    if (actions.killPod) {
      if (actions.createSandbox && rt.sandboxes.length > 0) {
        this.#d.recorder.event(
          pod,
          undefined,
          'Normal',
          'SandboxChanged',
          'Pod sandbox changed, it will be killed and re-created.',
        );
      }
      await this.killPod(pod, rt, undefined, signal);
      if (!actions.createSandbox) return result;
    } else {
      await Promise.all(
        actions.containersToKill.map(async (k) => {
          const grace = this.#killGrace(pod, k.spec, k.info, k.reason);
          await this.killContainer(pod, k.info, k.spec, grace, k.message, signal);
        }),
      );
    }

    let sandboxId = actions.sandboxId;
    const sbConfig = sandboxConfig(pod, actions.attempt, st.cgroupParent ?? '', this.#d.sandbox);
    if (actions.createSandbox) {
      // A new sandbox starts its init containers over: remove the old ones (purgeInitContainers).
      for (const c of rt.containers) {
        if (!c.isInit) continue;
        await this.#d.cri.removeContainer(c.id, { signal }).catch(() => {});
        this.#d.cache.forgetContainer(c.id);
      }
      try {
        sandboxId = await this.#d.cri.runPodSandbox(sbConfig, {
          signal,
          runtimeHandler: this.#d.runtimeHandler,
        });
      } catch (err) {
        this.#d.recorder.event(
          pod,
          undefined,
          'Warning',
          'FailedCreatePodSandBox',
          `Failed to create pod sandbox: ${errMessage(err)}`,
        );
        throw err;
      }
      await this.#d.cache.refreshPod(uid, signal);
    }
    if (!sandboxId) return result;
    const podIP = this.podIP(pod, this.#d.cache.pod(uid));

    const wake = (t: number | undefined) => {
      if (t !== undefined && (result.wakeAt === undefined || t < result.wakeAt)) result.wakeAt = t;
    };
    if (actions.nextInit) {
      wake(await this.#start(pod, st, actions.nextInit, true, sandboxId, sbConfig, podIP, signal));
      return result;
    }
    for (const c of actions.containersToStart) {
      wake(await this.#start(pod, st, c, false, sandboxId, sbConfig, podIP, signal));
    }
    return result;
  }

  /** The pod's IP: the newest ready sandbox's (the node's for host-network pods). */
  podIP(pod: Pod, rt: PodRuntime): string {
    if (pod.spec?.hostNetwork) return this.#d.nodeIP;
    return rt.sandboxes.find((s) => s.state === 'SANDBOX_READY')?.ip ?? '';
  }

  #killGrace(pod: Pod, spec: Container | undefined, info: ContainerInfo, reason?: string): number {
    let grace = spec ? podGracePeriod(pod) : Number(info.annotations[ANNOTATION_TERMINATION_GRACE] ?? 30);
    const probe =
      reason === 'LivenessProbe'
        ? spec?.livenessProbe
        : reason === 'StartupProbe'
          ? spec?.startupProbe
          : undefined;
    if (probe?.terminationGracePeriodSeconds !== undefined) grace = probe.terminationGracePeriodSeconds;
    if (pod.metadata?.deletionGracePeriodSeconds !== undefined)
      grace = pod.metadata.deletionGracePeriodSeconds;
    return grace;
  }

  async #pullSecrets(pod: Pod, signal?: AbortSignal): Promise<Secret[]> {
    const names = (pod.spec?.imagePullSecrets ?? []).map((s) => s.name).filter((n): n is string => !!n);
    if (names.length === 0) return [];
    const ns = pod.metadata?.namespace ?? 'default';
    const secrets: Secret[] = [];
    const missing: string[] = [];
    for (const name of names) {
      if (signal?.aborted) break;
      try {
        secrets.push(await this.#d.client.get<Secret & KubeObject>(SECRETS, ns, name));
      } catch {
        missing.push(name);
      }
    }
    if (missing.length) {
      this.#d.recorder.event(
        pod,
        undefined,
        'Warning',
        'FailedToRetrieveImagePullSecret',
        `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`,
      );
    }
    return secrets;
  }

  /**
   * startContainer, with the back-off check before it (doBackOff). Returns when the pod should be
   * synced again for this container (its back-off end), if it is backing off.
   */
  async #start(
    pod: Pod,
    st: PodSyncState,
    c: Container,
    isInit: boolean,
    sandboxId: string,
    sbConfig: PodSandboxConfig,
    podIP: string,
    signal?: AbortSignal,
  ): Promise<number | undefined> {
    const uid = pod.metadata?.uid ?? '';
    const rec = this.#d.recorder;
    const field = containerFieldPath(pod, c.name);
    const cur = latest(this.#d.cache.pod(uid), c.name);
    if (cur?.state === 'CONTAINER_EXITED') {
      const key = PodSyncer.backoffKey(pod, c);
      const finished = cur.finishedAt || cur.createdAt;
      if (this.backoff.isInBackOffSince(key, finished)) {
        const message = `back-off ${goDuration(this.backoff.get(key))} restarting failed container=${c.name} pod=${formatPod(pod)}`;
        st.failures.set(c.name, { reason: 'CrashLoopBackOff', message });
        rec.event(
          pod,
          field,
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${c.name} in pod ${formatPod(pod)}`,
        );
        return this.backoff.expiresAt(key, finished);
      }
      this.backoff.next(key, finished);
    }
    const fail = (reason: string, message: string, event = true) => {
      st.failures.set(c.name, { reason, message });
      if (event) rec.event(pod, field, 'Warning', 'Failed', `Error: ${message}`);
    };

    // Image.
    let imageRef: string;
    try {
      const secrets = await this.#pullSecrets(pod, signal);
      const auth: AuthConfig[] = secrets.length ? credentialsFor(secrets, c.image ?? '') : [];
      imageRef = await this.#d.images.ensure(pod, c, auth, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      const reason = (err as { reason?: string }).reason ?? 'ErrImagePull';
      st.failures.set(c.name, { reason, message: errMessage(err) });
      if (reason !== 'ImagePullBackOff') rec.event(pod, field, 'Warning', 'Failed', `Error: ${reason}`);
      const remaining = (
        this.#d.images as { backOffRemainingMs?: (p: Pod, c: Container) => number }
      ).backOffRemainingMs?.(pod, c);
      return remaining !== undefined && remaining > 0 ? this.#d.clock.now() + remaining : undefined;
    }

    // Without an instance in the runtime (e.g. after a reboot wiped it), continue from the log
    // files so 0.log is not overwritten (calcRestartCountByLogDir).
    const logDir = podLogDirectory(this.#d.sandbox.podLogRoot, pod);
    const restartCount = cur ? cur.restartCount + 1 : await restartCountFromLogs(`${logDir}/${c.name}`);
    await mkdir(`${logDir}/${c.name}`, { recursive: true, mode: 0o755 });
    let config: ReturnType<typeof containerConfig>;
    try {
      const envs = await this.#d.env.resolve(pod, c, signal);
      const mounts = await this.#d.volumes.mountsFor(pod, c, st.volumePaths ?? new Map());
      let imageUser: { uid?: number; username?: string } | undefined;
      if (c.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot) {
        const img = await this.#d.cri.imageStatus(imageRef, { signal });
        imageUser = { uid: img?.uid?.value, username: img?.username || undefined };
      }
      config = containerConfig({
        pod,
        container: c,
        isInit,
        imageRef,
        imageUser,
        envs,
        mounts,
        restartCount,
        memoryCapacity: this.#d.memoryCapacity,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      fail(err instanceof ContainerConfigError ? err.reason : 'CreateContainerConfigError', errMessage(err));
      return undefined;
    }

    let id: string;
    try {
      id = await this.#d.cri.createContainer(sandboxId, config, sbConfig, { signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      fail('CreateContainerError', errMessage(err));
      return undefined;
    }
    rec.event(pod, field, 'Normal', 'Created', `Created container: ${c.name}`);
    try {
      await this.#d.cri.startContainer(id, { signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      fail('RunContainerError', errMessage(err));
      return undefined;
    }
    rec.event(pod, field, 'Normal', 'Started', `Started container ${c.name}`);

    if (c.lifecycle?.postStart) {
      try {
        await runHook(
          this.#d.cri,
          this.#d.clock,
          c.lifecycle.postStart,
          { pod, container: c, containerId: id, podIP },
          0,
          signal,
        );
      } catch (err) {
        if (signal?.aborted) throw err;
        const msg = errMessage(err);
        // The kubelet keeps the hook's output out of the event (it may hold secrets).
        rec.event(pod, field, 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
        await this.#d.cache.refreshPod(uid, signal);
        const info = this.#d.cache.pod(uid).containers.find((x) => x.id === id);
        if (info)
          await this.killContainer(pod, info, c, podGracePeriod(pod), 'FailedPostStartHook', signal, {
            skipPreStop: true,
          });
        st.failures.set(c.name, { reason: 'PostStartHookError', message: msg });
        return undefined;
      }
    }
    st.failures.delete(c.name);
    return undefined;
  }

  /**
   * killContainer: the Killing event, preStop (when the container runs), then StopContainer with
   * what is left of the grace period (never less than 2 s after a preStop).
   */
  async killContainer(
    pod: Pod,
    info: ContainerInfo,
    spec: Container | undefined,
    graceSeconds: number,
    message: string | undefined,
    signal?: AbortSignal,
    opts: { skipPreStop?: boolean } = {},
  ): Promise<void> {
    const field = containerFieldPath(pod, info.name);
    this.#d.recorder.event(pod, field, 'Normal', 'Killing', message || `Stopping container ${info.name}`);
    let grace = graceSeconds;
    let preStop = spec?.lifecycle?.preStop;
    if (!preStop && info.annotations[ANNOTATION_PRESTOP]) {
      try {
        preStop = JSON.parse(info.annotations[ANNOTATION_PRESTOP]);
      } catch {
        preStop = undefined;
      }
    }
    if (preStop && !opts.skipPreStop && info.state === 'CONTAINER_RUNNING' && grace > 0) {
      const began = this.#d.clock.now();
      const container: Container = spec ?? { name: info.name };
      const rt = this.#d.cache.pod(info.uid);
      try {
        await runHook(
          this.#d.cri,
          this.#d.clock,
          preStop,
          { pod, container, containerId: info.id, podIP: this.podIP(pod, rt) },
          grace,
          signal,
        );
      } catch (err) {
        if (signal?.aborted) throw err;
        this.#d.recorder.event(pod, field, 'Warning', 'FailedPreStopHook', errMessage(err));
      }
      const spent = Math.floor((this.#d.clock.now() - began) / 1000);
      grace = Math.max(grace - spent, MIN_GRACE_SECONDS);
    }
    try {
      await this.#d.cri.stopContainer(info.id, grace, { signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      this.#d.log.warn({ pod: formatPod(pod), container: info.name, err }, 'stopping container failed');
      throw err;
    }
  }

  /**
   * KillPod: stops every running container (in parallel, each with preStop and the grace period),
   * then every ready sandbox. `graceOverride` replaces the pod's own period (deletion, eviction).
   */
  async killPod(
    pod: Pod,
    rt: PodRuntime,
    graceOverride: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    const running = rt.containers.filter(
      (c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_UNKNOWN',
    );
    await Promise.all(
      running.map((c) => {
        const spec = specs.find((s) => s.name === c.name);
        const grace = graceOverride ?? this.#killGrace(pod, spec, c);
        return this.killContainer(pod, c, spec, grace, undefined, signal);
      }),
    );
    for (const s of rt.sandboxes) {
      if (s.state !== 'SANDBOX_READY') continue;
      await this.#d.cri.stopPodSandbox(s.id, { signal });
    }
    await this.#d.cache.refreshPod(rt.uid, signal);
  }

  /** Removes every container and sandbox of a pod from the runtime. */
  async removeAll(uid: string, signal?: AbortSignal): Promise<void> {
    const rt = this.#d.cache.pod(uid);
    for (const c of rt.containers) {
      if (c.state === 'CONTAINER_RUNNING')
        await this.#d.cri.stopContainer(c.id, 0, { signal }).catch(() => {});
      await this.#d.cri.removeContainer(c.id, { signal });
      this.#d.cache.forgetContainer(c.id);
    }
    for (const s of rt.sandboxes) {
      await this.#d.cri.stopPodSandbox(s.id, { signal }).catch(() => {});
      await this.#d.cri.removePodSandbox(s.id, { signal });
      this.#d.cache.forgetSandbox(s.id);
    }
  }
}
