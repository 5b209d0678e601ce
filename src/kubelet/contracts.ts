/**
 * The contracts between the kubelet's parts. Each part lives in its own folder and is wired by
 * kubelet.ts; parts meet only through these interfaces (and the CRI in cri/types.ts), so each can be
 * tested alone with a fake of the others.
 *
 *   node/      NodeAgent         registers the Node, renews its Lease, reports status and pressure
 *   runtime/   (containerd)      starts and supervises containerd; writes the CNI config
 *   images/    ImageManager      pulls per imagePullPolicy, imports archives, garbage-collects
 *   volumes/   VolumeManager     sets up and tears down a pod's volumes; EnvResolver builds env
 *   cm/        PodCgroups        the per-pod cgroup under the kubelet's own hierarchy
 *   pods/      PodWorkers        syncs each pod to its spec through CRI; probes; status
 *   server/    KubeletServer     HTTPS for the API server: logs, exec, attach, port-forward
 *
 * API objects are `kubernetes-types` shapes (type-only import; no runtime cost).
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { AuthConfig, KeyValue, Mount } from './cri/types.ts';

export type { Container, Pod };

/** Labels the kubelet puts on every sandbox and container, as the real kubelet does. */
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
/** Annotations on containers: restart count, spec hash, termination message path, etc. */
export const ANNOTATION_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const ANNOTATION_CONTAINER_HASH = 'io.kubernetes.container.hash';
export const ANNOTATION_TERMINATION_GRACE = 'io.kubernetes.pod.terminationGracePeriod';

/** A volume problem the pod's events should show (e.g. `configmap "x" not found`). */
export class VolumeError extends Error {
  override name = 'VolumeError';
  /** Event reason, e.g. "FailedMount". */
  readonly reason: string;
  constructor(message: string, reason = 'FailedMount') {
    super(message);
    this.reason = reason;
  }
}

/**
 * A pod's volumes on the host, under `<root>/pods/<uid>/volumes/…` as the kubelet lays them out.
 * Every method is idempotent and safe to call again after a kubelet restart.
 */
export interface VolumeManager {
  /**
   * Sets up every volume of `pod` (emptyDir, configMap, secret, downwardAPI, projected, hostPath,
   * persistentVolumeClaim) and returns the host path of each, by volume name. Rejects with a
   * VolumeError when a source is missing and not optional, or a claim is not bound yet.
   */
  setUp(pod: Pod, signal?: AbortSignal): Promise<Map<string, string>>;
  /**
   * The CRI mounts for one container: its volumeMounts (subPath, subPathExpr, readOnly,
   * mountPropagation) resolved against `paths` from setUp, plus /etc/hosts and the termination
   * message file the kubelet manages. `opts.podIPs` (the sandbox's) go into /etc/hosts;
   * `opts.env` (the container's resolved environment) expands subPathExpr.
   */
  mountsFor(
    pod: Pod,
    container: Container,
    paths: Map<string, string>,
    opts?: { podIPs?: string[]; env?: KeyValue[] },
  ): Promise<Mount[]>;
  /** Rewrites the content of configMap, secret, downwardAPI and projected volumes atomically
   * (the ..data symlink swap) when their sources changed. Called on every pod sync. */
  refresh(pod: Pod, signal?: AbortSignal): Promise<void>;
  /** Removes everything setUp made for the pod (unmounting tmpfs); hostPath and PV data stay. */
  tearDown(podUid: string): Promise<void>;
  /** Pod UIDs that have a directory on disk, for orphan clean-up after a restart. */
  podsOnDisk(): Promise<string[]>;
}

/** Builds a container's environment as the kubelet does (service links, env, envFrom, refs). */
export interface EnvResolver {
  /** Rejects with a VolumeError-like Error (reason CreateContainerConfigError) on a missing
   * non-optional configMap/secret/key. */
  resolve(pod: Pod, container: Container, signal?: AbortSignal): Promise<KeyValue[]>;
}

/** The per-pod cgroup the kubelet owns (containerd leaves pod-level cgroups behind). */
export interface PodCgroups {
  /** Creates (or updates the limits of) the pod's cgroup; returns the CRI cgroupParent. */
  ensure(pod: Pod): Promise<string>;
  /** Removes the pod's cgroup in every hierarchy; idempotent. */
  remove(podUid: string): Promise<void>;
  /** Pod UIDs with a cgroup, for orphan clean-up. */
  list(): Promise<string[]>;
}

/** Pulls images per imagePullPolicy and pull secrets. */
export interface ImageManager {
  /**
   * Makes the container's image present: Always pulls, IfNotPresent pulls when absent, Never fails
   * when absent (ErrImageNeverPull). Returns the image ref (id) to create the container with.
   * Rejects with an ImagePullError (reason ErrImagePull / ErrImageNeverPull / InvalidImageName).
   */
  ensure(pod: Pod, container: Container, auth: AuthConfig[], signal?: AbortSignal): Promise<string>;
}

/** A pod the kubelet runs, as the streaming server needs to find it. */
export interface RunningPodInfo {
  uid: string;
  namespace: string;
  name: string;
  sandboxId?: string;
  /** Container name → CRI id of its current (latest) instance. */
  containers: Map<string, string>;
  /** `/var/log/pods/<ns>_<name>_<uid>` */
  logDirectory: string;
}

/** How the streaming server finds the pods it serves. */
export interface PodLookup {
  find(namespace: string, name: string): RunningPodInfo | undefined;
}
