/**
 * The shape of a controller, as controller-runtime's level-based reconcilers: informers feed keys
 * into a work queue; workers take keys and reconcile the cluster toward the desired state of that
 * one object, reading from informer caches and writing through the API. Reconcile is idempotent and
 * works from the current state alone (never from the event that queued the key).
 */
import type { Informer, KubeObject, ResourceRef, RestClient, WorkQueue } from '../client/types.ts';
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/log.ts';

/** What reconcile asks for after a successful pass. */
export interface ReconcileResult {
  /** Look at the key again after this long (e.g. a deadline or a progress check), in ms. */
  requeueAfterMs?: number;
}

/** Shared informers by resource, created on first request and started by the manager. */
export interface InformerSource {
  informer<T extends KubeObject = KubeObject>(ref: ResourceRef): Informer<T>;
}

/** What a controller is given when it starts. */
export interface ControllerContext {
  client: RestClient;
  informers: InformerSource;
  clock: Clock;
  log: Logger;
  /** The controller's own queue: enqueue keys from event handlers. */
  queue: WorkQueue;
  /** Settings shared by controllers (flags of `skiff server`). */
  options: ControllerOptions;
}

/** Controller settings, with Kubernetes' flag names. */
export interface ControllerOptions {
  /** --node-monitor-grace-period, ms (40 s). */
  nodeMonitorGracePeriodMs: number;
  /** --default-not-ready-toleration-seconds (300). */
  defaultNotReadyTolerationSeconds: number;
  /** --default-unreachable-toleration-seconds (300). */
  defaultUnreachableTolerationSeconds: number;
  /** --cluster-cidr, for node IPAM. */
  clusterCidr: string;
  /** --node-cidr-mask-size (24). */
  nodeCidrMaskSize: number;
  /** --terminated-pod-gc-threshold (12500). */
  terminatedPodGcThreshold: number;
}

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
  nodeMonitorGracePeriodMs: 40_000,
  defaultNotReadyTolerationSeconds: 300,
  defaultUnreachableTolerationSeconds: 300,
  clusterCidr: '10.42.0.0/16',
  nodeCidrMaskSize: 24,
  terminatedPodGcThreshold: 12_500,
};

export interface Controller {
  /** Kubernetes' name for it, e.g. "replicaset-controller" (used in logs, events and field managers). */
  readonly name: string;
  /** Worker count (default 1). Keys are never reconciled by two workers at once. */
  readonly workers?: number;
  /** Registers event handlers that enqueue keys. Called once, before informers start. */
  setup(ctx: ControllerContext): void;
  /**
   * Drives the object named by `key` (usually `namespace/name`) toward its desired state. Throwing
   * re-queues the key with exponential back-off; returning requeueAfterMs re-queues it after that.
   */
  reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | undefined>;
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function keyOf(obj: KubeObject): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name ?? ''}` : (name ?? '');
}

/** Splits a key into namespace ('' for cluster-scoped) and name. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
