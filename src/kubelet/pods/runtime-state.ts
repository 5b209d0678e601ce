/**
 * What the runtime holds for each pod (kubecontainer.PodStatus): its sandboxes and containers, read
 * through CRI and identified by the kubelet's labels, with restart counts and spec hashes from the
 * annotations — so a restarted kubelet sees exactly what the previous one left.
 *
 * `RuntimeCache` is the PLEG's relist: one listPodSandbox + listContainers for the whole node,
 * containerStatus only for containers that are new or changed state (exited containers never
 * change again), and the set of pod UIDs whose runtime state changed since the last relist.
 */
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_RESTART_COUNT,
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
} from '../contracts.ts';
import { isNotFound } from '../cri/errors.ts';
import type { ContainerState, CriRuntime, PodSandboxState } from '../cri/types.ts';
import { ANNOTATION_INIT } from './container-config.ts';
import { nanosToMs } from './format.ts';
import { terminationMessage } from './termination-message.ts';

export interface SandboxInfo {
  id: string;
  state: PodSandboxState;
  attempt: number;
  createdAt: number;
  /** Pod IP; '' when none (host network, or not ready). */
  ip: string;
  additionalIps: string[];
  /** The namespace mode of its network ('NODE' for hostNetwork), from the labels skiff adds. */
  hostNetwork: boolean;
}

export interface ContainerInfo {
  id: string;
  /** The pod's UID (label). */
  uid: string;
  name: string;
  sandboxId: string;
  state: ContainerState;
  /** ms since epoch; 0 when unset. */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  image: string;
  imageRef: string;
  restartCount: number;
  hash: string;
  isInit: boolean;
  logPath: string;
  annotations: Record<string, string>;
}

export interface PodRuntime {
  uid: string;
  name: string;
  namespace: string;
  /** Newest first. */
  sandboxes: SandboxInfo[];
  /** Newest first. */
  containers: ContainerInfo[];
}

/** The newest instance of container `name`, if any. */
export function latest(pod: PodRuntime | undefined, name: string): ContainerInfo | undefined {
  return pod?.containers.find((c) => c.name === name);
}

/** The two newest instances of container `name` (current, previous). */
export function lastTwo(
  pod: PodRuntime | undefined,
  name: string,
): [ContainerInfo | undefined, ContainerInfo | undefined] {
  const all = pod?.containers.filter((c) => c.name === name) ?? [];
  return [all[0], all[1]];
}

/** Annotation on sandboxes telling whether the pod uses the host network. */
export const ANNOTATION_HOST_NETWORK = 'skiff.io/host-network';

export class RuntimeCache {
  readonly #cri: CriRuntime;
  /** id → status info of containers (refreshed when the listed state changes). */
  #containers = new Map<string, ContainerInfo>();
  /** id → sandbox info. */
  #sandboxes = new Map<string, SandboxInfo & { uid: string; name: string; namespace: string }>();
  #relisted = false;
  /** Bumped by every relist start and pod refresh, to tell which is newer. */
  #seq = 0;
  /** uid → #seq when the pod was last refreshed on its own. */
  readonly #refreshed = new Map<string, number>();

  constructor(cri: CriRuntime) {
    this.#cri = cri;
  }

  /** Whether one relist has completed. */
  get ready(): boolean {
    return this.#relisted;
  }

  /**
   * Lists everything again; returns the UIDs of pods whose sandboxes or containers appeared,
   * disappeared or changed state since the previous relist.
   */
  async relist(signal?: AbortSignal): Promise<Set<string>> {
    const changed = new Set<string>();
    const began = ++this.#seq;
    const [sandboxes, containers] = await Promise.all([
      this.#cri.listPodSandbox(undefined, { signal }),
      this.#cri.listContainers(undefined, { signal }),
    ]);
    const nextSandboxes = new Map<string, SandboxInfo & { uid: string; name: string; namespace: string }>();
    for (const s of sandboxes) {
      const uid = s.labels[LABEL_POD_UID] ?? s.metadata.uid;
      if (!uid) continue;
      const old = this.#sandboxes.get(s.id);
      if (old && old.state === s.state) {
        nextSandboxes.set(s.id, old);
        continue;
      }
      changed.add(uid);
      let ip = '';
      let additionalIps: string[] = [];
      if (s.state === 'SANDBOX_READY') {
        try {
          const st = await this.#cri.podSandboxStatus(s.id, { signal });
          ip = st.network?.ip ?? '';
          additionalIps = (st.network?.additionalIps ?? []).map((a) => a.ip).filter(Boolean);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          continue;
        }
      }
      nextSandboxes.set(s.id, {
        id: s.id,
        uid,
        name: s.labels[LABEL_POD_NAME] ?? s.metadata.name,
        namespace: s.labels[LABEL_POD_NAMESPACE] ?? s.metadata.namespace,
        state: s.state,
        attempt: s.metadata.attempt,
        createdAt: nanosToMs(s.createdAt),
        ip,
        additionalIps,
        hostNetwork: s.annotations[ANNOTATION_HOST_NETWORK] === 'true',
      });
    }
    for (const [id, s] of this.#sandboxes) if (!nextSandboxes.has(id)) changed.add(s.uid);
    const next = new Map<string, ContainerInfo>();
    await Promise.all(
      containers.map(async (c) => {
        const uid = c.labels[LABEL_POD_UID];
        const name = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
        if (!uid || !name) return;
        const old = this.#containers.get(c.id);
        if (old && old.state === c.state) {
          next.set(c.id, old);
          return;
        }
        changed.add(uid);
        try {
          next.set(c.id, await this.#status(c.id, uid, c.podSandboxId, signal));
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }),
    );
    for (const [id, c] of this.#containers) if (!next.has(id)) changed.add(c.uid);
    // A pod refreshed while this relist ran is newer in the cache than in the listing: keep it.
    const newer = new Set<string>();
    for (const [uid, at] of this.#refreshed) if (at > began) newer.add(uid);
    if (newer.size) {
      for (const [id, c] of next) if (newer.has(c.uid)) next.delete(id);
      for (const [id, c] of this.#containers) if (newer.has(c.uid)) next.set(id, c);
      for (const [id, sb] of nextSandboxes) if (newer.has(sb.uid)) nextSandboxes.delete(id);
      for (const [id, sb] of this.#sandboxes) if (newer.has(sb.uid)) nextSandboxes.set(id, sb);
      for (const uid of newer) changed.delete(uid);
    }
    for (const [uid, at] of this.#refreshed) if (at <= began) this.#refreshed.delete(uid);
    this.#containers = next;
    this.#sandboxes = nextSandboxes;
    this.#relisted = true;
    return changed;
  }

  async #status(id: string, uid: string, sandboxId: string, signal?: AbortSignal): Promise<ContainerInfo> {
    const s = await this.#cri.containerStatus(id, { signal });
    const info: ContainerInfo = {
      id,
      uid,
      name: s.labels[LABEL_CONTAINER_NAME] ?? s.metadata.name,
      sandboxId,
      state: s.state,
      createdAt: nanosToMs(s.createdAt),
      startedAt: nanosToMs(s.startedAt),
      finishedAt: nanosToMs(s.finishedAt),
      exitCode: s.exitCode,
      reason: s.reason,
      message: await terminationMessage(s),
      image: s.image?.image ?? '',
      imageRef: s.imageRef,
      restartCount: Number(s.annotations[ANNOTATION_RESTART_COUNT] ?? s.metadata.attempt ?? 0) || 0,
      hash: s.annotations[ANNOTATION_CONTAINER_HASH] ?? '',
      isInit: s.annotations[ANNOTATION_INIT] === 'true',
      logPath: s.logPath,
      annotations: s.annotations,
    };
    return info;
  }

  /**
   * Re-reads one pod's containers and sandboxes at once (after the kubelet acted on it), so its
   * status can be reported without waiting for the next relist.
   */
  async refreshPod(uid: string, signal?: AbortSignal): Promise<void> {
    this.#refreshed.set(uid, ++this.#seq);
    const [sandboxes, containers] = await Promise.all([
      this.#cri.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: uid } }, { signal }),
      this.#cri.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } }, { signal }),
    ]);
    for (const [id, s] of this.#sandboxes)
      if (s.uid === uid && !sandboxes.some((x) => x.id === id)) this.#sandboxes.delete(id);
    for (const s of sandboxes) {
      const old = this.#sandboxes.get(s.id);
      if (old && old.state === s.state) continue;
      let ip = '';
      let additionalIps: string[] = [];
      if (s.state === 'SANDBOX_READY') {
        try {
          const st = await this.#cri.podSandboxStatus(s.id, { signal });
          ip = st.network?.ip ?? '';
          additionalIps = (st.network?.additionalIps ?? []).map((a) => a.ip).filter(Boolean);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          continue;
        }
      }
      this.#sandboxes.set(s.id, {
        id: s.id,
        uid,
        name: s.labels[LABEL_POD_NAME] ?? s.metadata.name,
        namespace: s.labels[LABEL_POD_NAMESPACE] ?? s.metadata.namespace,
        state: s.state,
        attempt: s.metadata.attempt,
        createdAt: nanosToMs(s.createdAt),
        ip,
        additionalIps,
        hostNetwork: s.annotations[ANNOTATION_HOST_NETWORK] === 'true',
      });
    }
    for (const [id, c] of this.#containers) {
      if (c.uid === uid && !containers.some((x) => x.id === id)) this.#containers.delete(id);
    }
    await Promise.all(
      containers.map(async (c) => {
        const old = this.#containers.get(c.id);
        if (old && old.state === c.state) return;
        try {
          this.#containers.set(c.id, await this.#status(c.id, uid, c.podSandboxId, signal));
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }),
    );
  }

  /** Forgets a container (after removing it). */
  forgetContainer(id: string): void {
    this.#containers.delete(id);
  }

  /** Forgets a sandbox (after removing it). */
  forgetSandbox(id: string): void {
    this.#sandboxes.delete(id);
  }

  /** The runtime state of pod `uid` from the cache. */
  pod(uid: string): PodRuntime {
    const sandboxes = [...this.#sandboxes.values()]
      .filter((s) => s.uid === uid)
      .sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
    const containers = [...this.#containers.values()]
      .filter((c) => c.uid === uid)
      .sort((a, b) => b.createdAt - a.createdAt || b.restartCount - a.restartCount);
    const first = [...this.#sandboxes.values()].find((s) => s.uid === uid);
    return { uid, name: first?.name ?? '', namespace: first?.namespace ?? '', sandboxes, containers };
  }

  /** UIDs of every pod with a sandbox or container in the runtime. */
  podUids(): Set<string> {
    const out = new Set<string>();
    for (const s of this.#sandboxes.values()) out.add(s.uid);
    for (const c of this.#containers.values()) {
      out.add(c.uid);
    }
    return out;
  }
}
