/**
 * Pods as the ReplicaSet and Deployment controllers see them (k8s.io/kubernetes pkg/api/v1/pod and
 * pkg/controller/controller_utils.go): the narrow shapes they read, the predicates active, ready and
 * available, controller references, and the pod a controller creates from its template.
 */
import type { KubeObject } from '../../client/types.ts';

export type ObjectMeta = KubeObject['metadata'];
export type OwnerReference = NonNullable<ObjectMeta['ownerReferences']>[number];

/** A status condition (pods, ReplicaSets, Deployments). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown' | string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string | null;
  lastUpdateTime?: string | null;
  lastProbeTime?: string | null;
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  [k: string]: unknown;
}

export interface PodSpec {
  nodeName?: string;
  initContainers?: { name: string; restartPolicy?: string; [k: string]: unknown }[];
  containers?: { name: string; image?: string; [k: string]: unknown }[];
  [k: string]: unknown;
}

export interface PodStatus {
  phase?: string;
  conditions?: Condition[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
  [k: string]: unknown;
}

export interface Pod extends KubeObject {
  spec?: PodSpec;
  status?: PodStatus;
}

/** v1.PodTemplateSpec */
export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec?: PodSpec;
}

/** The annotations of `obj`, created empty when absent (to write to). */
export function annotationsOf(obj: KubeObject): Record<string, string> {
  obj.metadata.annotations ??= {};
  return obj.metadata.annotations;
}

/** Milliseconds of an RFC 3339 time; 0 for an absent or unreadable one (Go's zero time). */
export function parseTime(t: string | null | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : ms;
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function rfc3339(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** controller.IsPodActive: not finished and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

/** controller.FilterActivePods */
export function filterActivePods<T extends Pod>(pods: readonly T[]): T[] {
  return pods.filter(isPodActive);
}

export function podCondition(pod: Pod, type: string): Condition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/**
 * podutil.IsPodAvailable: ready, and (with minReadySeconds) ready since at least that long before
 * `now` (ms).
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTime(podCondition(pod, 'Ready')?.lastTransitionTime);
  return since > 0 && since + minReadySeconds * 1000 < now;
}

/** metav1.GetControllerOf */
export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** metav1.NewControllerRef */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** controller.PodKey: `namespace/name`. */
export function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

/** A pod name is a DNS subdomain: at most 253 characters, also as a generateName prefix. */
const MAX_GENERATED_NAME_PREFIX = 253;

/**
 * controller.GetPodFromTemplate: the pod a controller creates for `owner` — the template's labels,
 * annotations, finalizers and spec, generateName `<owner>-`, and the controller reference.
 */
export function podFromTemplate(
  template: PodTemplateSpec,
  owner: KubeObject,
  controllerRef: OwnerReference,
): Pod {
  const meta = template.metadata ?? {};
  const name = owner.metadata.name ?? '';
  let prefix = `${name}-`;
  if (prefix.length > MAX_GENERATED_NAME_PREFIX) prefix = name;
  const metadata: ObjectMeta = {
    generateName: prefix,
    labels: { ...(meta.labels ?? {}) },
    ownerReferences: [controllerRef],
  };
  if (meta.annotations && Object.keys(meta.annotations).length) {
    metadata.annotations = { ...meta.annotations };
  }
  if (meta.finalizers?.length) metadata.finalizers = [...meta.finalizers];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: structuredClone(template.spec ?? {}),
  };
}
