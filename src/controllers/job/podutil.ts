/**
 * What the workload controllers (job, cronjob, daemonset, statefulset) share about pods and owners,
 * as k8s.io/kubernetes pkg/api/v1/pod and pkg/controller have it: the narrow object shapes they
 * read, pod predicates (ready, active, terminating, available), controller references, the
 * ActivePods deletion order, and RFC 3339 times.
 */
import type { KubeObject, ResourceRef } from '../../client/types.ts';

export type { KubeObject };

/** metav1.OwnerReference */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** A status condition (pod, job, node ...). */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string | null;
  lastProbeTime?: string | null;
  lastHeartbeatTime?: string | null;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[] | null;
  matchFields?: NodeSelectorRequirement[] | null;
}

export interface Affinity {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } | null;
    [k: string]: unknown;
  } | null;
  [k: string]: unknown;
}

export interface Container {
  name: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  [k: string]: unknown;
}

export interface Volume {
  name: string;
  [k: string]: unknown;
}

export interface PodSpec {
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  restartPolicy?: string;
  hostNetwork?: boolean;
  nodeSelector?: Record<string, string> | null;
  affinity?: Affinity | null;
  tolerations?: Toleration[] | null;
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Volume[] | null;
  [k: string]: unknown;
}

export interface ContainerStatus {
  name?: string;
  restartCount?: number;
  state?: { terminated?: { finishedAt?: string; exitCode?: number } | null; [k: string]: unknown };
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

export interface PodTemplateSpec {
  metadata?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    [k: string]: unknown;
  };
  spec?: PodSpec;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface Node extends KubeObject {
  spec?: { unschedulable?: boolean; taints?: Taint[] | null; [k: string]: unknown };
  status?: { conditions?: Condition[]; [k: string]: unknown };
}

/** Milliseconds since the epoch of an RFC 3339 time, or undefined. */
export function parseTime(t: string | null | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** metav1.Time on the wire: RFC 3339 in UTC, whole seconds. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function findCondition<C extends Condition>(
  conditions: readonly C[] | null | undefined,
  type: string,
): C | undefined {
  return (conditions ?? []).find((c) => c.type === type);
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return findCondition(pod.status?.conditions, 'Ready')?.status === 'True';
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds. */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = parseTime(findCondition(pod.status?.conditions, 'Ready')?.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** controller.IsPodActive: not finished and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/** controller.IsPodTerminating: being deleted, not yet finished. */
export function isPodTerminating(pod: Pod): boolean {
  return !isPodTerminal(pod) && !!pod.metadata.deletionTimestamp;
}

/** The controller reference of an object (metav1.GetControllerOf). */
export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  return (obj.metadata.ownerReferences as OwnerReference[] | undefined)?.find((r) => r.controller === true);
}

/** metav1.NewControllerRef */
export function newControllerRef(owner: KubeObject, ref: ResourceRef): OwnerReference {
  return {
    apiVersion: ref.group ? `${ref.group}/${ref.version}` : ref.version,
    kind: ref.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Whether `obj` is controlled by `owner` (same uid). */
export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  const ref = controllerRefOf(obj);
  return !!ref && ref.uid === owner.metadata.uid;
}

function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => Math.max(n, c.restartCount ?? 0), 0);
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * controller.ActivePods' order: the pods to delete first come first — unassigned before assigned,
 * Pending before Unknown before Running, not ready before ready, ready for less time first, more
 * restarts first, newer first.
 */
export function compareActivePods(a: Pod, b: Pod): number {
  const na = a.spec?.nodeName ? 1 : 0;
  const nb = b.spec?.nodeName ? 1 : 0;
  if (na !== nb) return na - nb;
  const pa = PHASE_RANK[a.status?.phase ?? ''] ?? 0;
  const pb = PHASE_RANK[b.status?.phase ?? ''] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  if (ra && rb) {
    const ta = parseTime(findCondition(a.status?.conditions, 'Ready')?.lastTransitionTime) ?? 0;
    const tb = parseTime(findCondition(b.status?.conditions, 'Ready')?.lastTransitionTime) ?? 0;
    if (ta !== tb) return tb - ta;
  }
  const ca = restarts(a);
  const cb = restarts(b);
  if (ca !== cb) return cb - ca;
  const ka = parseTime(a.metadata.creationTimestamp) ?? 0;
  const kb = parseTime(b.metadata.creationTimestamp) ?? 0;
  return kb - ka;
}

/** Oldest first, then by name (for "keep the oldest" decisions). */
export function compareByCreation(a: KubeObject, b: KubeObject): number {
  const ka = parseTime(a.metadata.creationTimestamp) ?? 0;
  const kb = parseTime(b.metadata.creationTimestamp) ?? 0;
  if (ka !== kb) return ka - kb;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}

/** The bits of an error a controller branches on. */
export function errorCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown): boolean => errorCode(err) === 404;
export const isAlreadyExists = (err: unknown): boolean =>
  errorCode(err) === 409 && (err as { reason?: string }).reason === 'AlreadyExists';
export const isConflict = (err: unknown): boolean => errorCode(err) === 409;

/**
 * intstr.GetScaledValueFromIntOrPercent: a number as is, or "N%" of `total`, rounded up or down.
 */
export function scaledValue(v: number | string | undefined | null, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number.parseInt(v, 10) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/**
 * controller.slowStartBatch: calls `fn(0..count-1)`, `initialBatch` at once and doubling the batch
 * after each round in which all succeeded; stops after a round with a failure. Returns how many
 * succeeded, how many were attempted, and the first error.
 */
export async function slowStartBatch(
  count: number,
  initialBatch: number,
  fn: (i: number) => Promise<void>,
): Promise<{ successes: number; attempted: number; error?: unknown }> {
  let successes = 0;
  let attempted = 0;
  let batch = Math.min(count, initialBatch);
  while (attempted < count) {
    const start = attempted;
    const results = await Promise.allSettled(Array.from({ length: batch }, (_, i) => fn(start + i)));
    attempted += batch;
    successes += results.filter((r) => r.status === 'fulfilled').length;
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) return { successes, attempted, error: failed.reason };
    batch = Math.min(2 * batch, count - attempted);
  }
  return { successes, attempted };
}

/** The index of objects by the uid of their controller (owner with controller: true). */
export const CONTROLLER_UID_INDEX = 'workloads.controllerUid';

export function controllerUidIndex(obj: KubeObject): string[] {
  const ref = controllerRefOf(obj);
  return ref ? [ref.uid] : [];
}

/** Adds an index to a shared informer unless a controller sharing it already did. */
export function ensureIndex<T extends KubeObject>(
  informer: { addIndexers(indexers: Record<string, (obj: T) => string[]>): void },
  name: string,
  fn: (obj: T) => string[],
): void {
  try {
    informer.addIndexers({ [name]: fn });
  } catch (err) {
    if (!(err instanceof Error) || !err.message.includes('already exists')) throw err;
  }
}
