/**
 * The eviction manager (pkg/kubelet/eviction/eviction_manager.go), hard thresholds only:
 *
 * Every 10 s it observes the signals, finds the thresholds met (and those met before whose
 * min-reclaim is not yet satisfied), and derives the node conditions: MemoryPressure,
 * DiskPressure, PIDPressure — each stays on for the pressure transition period (5 min) after its
 * last observation. When a threshold is met it reclaims node-level resources first (for disk
 * signals: the `reclaimDisk` callback — container and image GC), and if the thresholds still hold
 * it evicts one pod per interval: memory first, ranked as the kubelet ranks them (rank.ts),
 * skipping critical pods (static, mirror, or priority ≥ 2,000,000,000), with the kubelet's message:
 * "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. " plus one
 * "Container c was using 300Mi, request is 100Mi, has larger consumption of memory. " per container
 * over its request. Hard thresholds evict with a grace period of 1 s (the pod is killed at once).
 *
 * It also admits pods as the kubelet does under pressure (admit()).
 */
import type { Pod, Toleration } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../../api/quantity.ts';
import { type Clock, systemClock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import { qosClass } from '../cm/qos.ts';
import {
  type PodUsage,
  rankDiskPressure,
  rankInodePressure,
  rankMemoryPressure,
  rankPidPressure,
} from './rank.ts';
import type { NodeSignals, SignalSource } from './signals.ts';
import {
  DEFAULT_EVICTION_HARD,
  parseThresholds,
  SIGNAL_CONDITION,
  SIGNAL_RESOURCE,
  type Signal,
  type Threshold,
  thresholdQuantity,
} from './thresholds.ts';

export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

/** Annotations the kubelet puts on an evicted pod's status (OffendingContainersKey, …). */
export const OFFENDING_CONTAINERS_KEY = 'offending_containers';
export const OFFENDING_CONTAINERS_USAGE_KEY = 'offending_containers_usage';
export const STARVED_RESOURCE_KEY = 'starved_resource';
/** Pod status reason of an evicted pod. */
export const EVICTION_REASON = 'Evicted';
/** Priority of system-node-critical and above (scheduling.SystemCriticalPriority). */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

export interface EvictionDetails {
  signal: Signal;
  /** The starved resource: memory, ephemeral-storage, inodes, pids. */
  resource: string;
  /** 1 for hard thresholds (kill at once). */
  gracePeriodSeconds: number;
  annotations: Record<string, string>;
  /** The DisruptionTarget condition the pod gets. */
  condition: { type: 'DisruptionTarget'; status: 'True'; reason: 'TerminationByKubelet'; message: string };
}

export interface EvictionManagerOptions {
  /** Observes the node (signals.ts hostSignals, or a fake). */
  signals: SignalSource;
  /** The pods that may be evicted (the kubelet's active pods). */
  activePods: () => Pod[];
  /** Usage per pod uid, for ranking and the message. */
  podStats: (pods: Pod[]) => Promise<Map<string, PodUsage>>;
  /**
   * Kills the pod and marks it Failed / Evicted with `message`. Resolving with anything but
   * `false` counts as evicted; rejecting or `false` moves on to the next pod.
   */
  evict: (podUid: string, message: string, details: EvictionDetails) => Promise<boolean | undefined>;
  /** Frees disk at node level (container GC, unused images) before pods are evicted. */
  reclaimDisk?: (signal: Signal) => Promise<void>;
  /** Default: the kubelet's hard thresholds. */
  thresholds?: Threshold[];
  /** Default 10 s. */
  intervalMs?: number;
  /** Default 5 min. */
  pressureTransitionMs?: number;
  /** Called when the set of pressure conditions changes (e.g. to post node status at once). */
  onConditionsChanged?: (conditions: PressureCondition[]) => void;
  clock?: Clock;
  log?: Logger;
}

interface Observation {
  available: Quantity;
  capacity: Quantity;
}

export type Observations = Map<Signal, Observation>;

/** makeSignalObservations. */
export function observe(s: NodeSignals): Observations {
  const out: Observations = new Map();
  const bin = (n: number) => Quantity.fromInt(Math.max(0, Math.round(n)), 'BinarySI');
  const dec = (n: number) => Quantity.fromInt(Math.max(0, Math.round(n)), 'DecimalSI');
  if (s.memory) {
    out.set('memory.available', {
      available: bin(s.memory.availableBytes),
      capacity: bin(s.memory.availableBytes + s.memory.workingSetBytes),
    });
  }
  if (s.nodefs) {
    out.set('nodefs.available', {
      available: bin(s.nodefs.availableBytes),
      capacity: bin(s.nodefs.capacityBytes),
    });
    out.set('nodefs.inodesFree', { available: dec(s.nodefs.inodesFree), capacity: dec(s.nodefs.inodes) });
  }
  if (s.imagefs) {
    out.set('imagefs.available', {
      available: bin(s.imagefs.availableBytes),
      capacity: bin(s.imagefs.capacityBytes),
    });
    out.set('imagefs.inodesFree', { available: dec(s.imagefs.inodesFree), capacity: dec(s.imagefs.inodes) });
  }
  if (s.pid) {
    out.set('pid.available', {
      available: dec(s.pid.maxPids - s.pid.processes),
      capacity: dec(s.pid.maxPids),
    });
  }
  return out;
}

/** thresholdsMet: thresholds whose signal's available amount is below the threshold (plus
 * min-reclaim when `enforceMinReclaim`). */
export function thresholdsMet(
  thresholds: readonly Threshold[],
  obs: Observations,
  enforceMinReclaim: boolean,
): Threshold[] {
  return thresholds.filter((t) => {
    const o = obs.get(t.signal);
    if (!o) return false;
    let quantity = thresholdQuantity(t, o.capacity);
    if (enforceMinReclaim && t.minReclaim) quantity = quantity.add(t.minReclaim);
    return quantity.cmp(o.available) > 0;
  });
}

/** IsCriticalPod. */
export function isCriticalPod(pod: Pod): boolean {
  const a = pod.metadata?.annotations ?? {};
  const source = a['kubernetes.io/config.source'];
  if (source !== undefined && source !== 'api') return true;
  if (a['kubernetes.io/config.mirror'] !== undefined) return true;
  return (pod.spec?.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}

function tolerates(tolerations: readonly Toleration[] | undefined, key: string, effect: string): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== effect) return false;
    if (t.key && t.key !== key) return false;
    if (!t.key && t.operator !== 'Exists') return false;
    return t.operator === 'Exists' || (t.value ?? '') === '';
  });
}

function isBestEffort(pod: Pod): boolean {
  return qosClass(pod) === 'BestEffort';
}

function safeQuantity(v: string | number | undefined): Quantity {
  try {
    return v === undefined ? Quantity.zero() : Quantity.parse(String(v));
  } catch {
    return Quantity.zero();
  }
}

const CONDITION_ORDER: PressureCondition[] = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];

export class EvictionManager {
  readonly #o: EvictionManagerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #thresholds: Threshold[];
  #met: Threshold[] = [];
  #conditions: PressureCondition[] = [];
  readonly #lastObserved = new Map<PressureCondition, number>();
  #stopTimer: (() => void) | undefined;
  #running = false;
  /** Last observations (for inspection). */
  observations: Observations = new Map();

  constructor(opts: EvictionManagerOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.log ?? silentLogger;
    this.#thresholds = opts.thresholds ?? parseThresholds(DEFAULT_EVICTION_HARD);
  }

  isUnderMemoryPressure(): boolean {
    return this.#conditions.includes('MemoryPressure');
  }

  isUnderDiskPressure(): boolean {
    return this.#conditions.includes('DiskPressure');
  }

  isUnderPIDPressure(): boolean {
    return this.#conditions.includes('PIDPressure');
  }

  /** The pressure conditions now in force. */
  conditions(): PressureCondition[] {
    return [...this.#conditions];
  }

  /**
   * The kubelet's eviction admission: with no pressure, or for critical pods, admit; under memory
   * pressure alone admit all but BestEffort pods (those only if they tolerate the memory-pressure
   * taint); under any other pressure reject, reason "Evicted", message
   * "The node had condition: [DiskPressure]. ".
   */
  admit(pod: Pod): { admit: true } | { admit: false; reason: string; message: string } {
    if (this.#conditions.length === 0 || isCriticalPod(pod)) return { admit: true };
    if (this.#conditions.length === 1 && this.#conditions[0] === 'MemoryPressure') {
      if (!isBestEffort(pod)) return { admit: true };
      if (tolerates(pod.spec?.tolerations, 'node.kubernetes.io/memory-pressure', 'NoSchedule'))
        return { admit: true };
    }
    return {
      admit: false,
      reason: EVICTION_REASON,
      message: `The node had condition: [${this.#conditions.join(' ')}]. `,
    };
  }

  /** Synchronizes every interval until `signal` aborts (or stop()). */
  start(signal?: AbortSignal): void {
    if (this.#running) return;
    this.#running = true;
    const every = this.#o.intervalMs ?? 10_000;
    const tick = () => {
      if (!this.#running) return;
      this.synchronize()
        .catch((err) => this.#log.warn({ err }, 'eviction manager: failed to synchronize'))
        .finally(() => {
          if (this.#running) this.#stopTimer = this.#clock.setTimeout(tick, every);
        });
    };
    signal?.addEventListener('abort', () => this.stop(), { once: true });
    tick();
  }

  stop(): void {
    this.#running = false;
    this.#stopTimer?.();
  }

  /** One pass. Returns the uid of the pod evicted, if any. */
  async synchronize(): Promise<string | undefined> {
    if (this.#thresholds.length === 0) return undefined;
    const signals = await this.#o.signals();
    const observations = observe(signals);
    this.observations = observations;
    const thresholds = thresholdsMet(this.#thresholds, observations, false);
    if (this.#met.length > 0) {
      const notResolved = thresholdsMet(this.#met, observations, true);
      for (const t of notResolved) if (!thresholds.includes(t)) thresholds.push(t);
    }
    const now = this.#clock.now();
    for (const t of thresholds) this.#lastObserved.set(SIGNAL_CONDITION[t.signal], now);
    const transition = this.#o.pressureTransitionMs ?? 300_000;
    const conditions = CONDITION_ORDER.filter((c) => {
      const at = this.#lastObserved.get(c);
      return at !== undefined && now - at < transition;
    });
    const changed = conditions.join() !== this.#conditions.join();
    this.#conditions = conditions;
    this.#met = thresholds;
    if (changed) {
      this.#log.info({ conditions }, 'eviction manager: node pressure changed');
      this.#o.onConditionsChanged?.(conditions);
    }
    if (thresholds.length === 0) return undefined;

    // byEvictionPriority: memory first, then the rest in signal order; then the first with a resource.
    const ordered = [...thresholds].sort(
      (a, b) => Number(b.signal === 'memory.available') - Number(a.signal === 'memory.available'),
    );
    const toReclaim = ordered[0] as Threshold;
    const resource = SIGNAL_RESOURCE[toReclaim.signal];
    this.#log.info({ resource }, 'eviction manager: attempting to reclaim');

    // buildSignalToNodeReclaimFuncs: with a dedicated imagefs only imagefs pressure is helped by
    // container and image GC; without one every disk signal is.
    const imageSignal = toReclaim.signal.startsWith('imagefs.');
    const reclaims =
      SIGNAL_CONDITION[toReclaim.signal] === 'DiskPressure' && (!signals.dedicatedImageFs || imageSignal);
    if (reclaims && this.#o.reclaimDisk) {
      try {
        await this.#o.reclaimDisk(toReclaim.signal);
      } catch (err) {
        this.#log.info(
          { err, resource },
          'eviction manager: unexpected error when attempting to reduce resource pressure',
        );
      }
      const after = observe(await this.#o.signals());
      if (thresholdsMet(this.#thresholds, after, true).length === 0) {
        this.#log.info(
          { resource },
          'eviction manager: able to reduce resource pressure without evicting pods',
        );
        return undefined;
      }
    }

    const pods = this.#o.activePods();
    if (pods.length === 0) {
      this.#log.warn('eviction manager: eviction thresholds have been met, but no pods are active to evict');
      return undefined;
    }
    const stats = await this.#o.podStats(pods);
    const usage = (p: Pod) => stats.get(p.metadata?.uid ?? '');
    const measure = !signals.dedicatedImageFs ? 'all' : imageSignal ? 'imagefs' : 'nodefs';
    const ranked =
      resource === 'memory'
        ? rankMemoryPressure(pods, usage)
        : resource === 'pids'
          ? rankPidPressure(pods, usage)
          : resource === 'inodes'
            ? rankInodePressure(pods, usage)
            : rankDiskPressure(pods, usage, measure);
    for (const pod of ranked) {
      const uid = pod.metadata?.uid ?? '';
      if (isCriticalPod(pod)) {
        this.#log.warn({ pod: pod.metadata?.name }, 'eviction manager: cannot evict a critical pod');
        continue;
      }
      const { message, annotations } = evictionMessage(resource, pod, usage(pod), thresholds, observations);
      const details: EvictionDetails = {
        signal: toReclaim.signal,
        resource,
        gracePeriodSeconds: 1,
        annotations,
        condition: { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message },
      };
      try {
        if ((await this.#o.evict(uid, message, details)) === false) continue;
      } catch (err) {
        this.#log.warn({ err, pod: pod.metadata?.name }, 'eviction manager: evicting a pod failed');
        continue;
      }
      this.#log.info(
        { pod: pod.metadata?.name, namespace: pod.metadata?.namespace, message },
        'eviction manager: pod evicted',
      );
      return uid;
    }
    this.#log.warn('eviction manager: unable to evict any pods from the node');
    return undefined;
  }
}

/** evictionMessage. */
export function evictionMessage(
  resource: string,
  pod: Pod,
  usage: PodUsage | undefined,
  thresholds: readonly Threshold[],
  observations: Observations,
): { message: string; annotations: Record<string, string> } {
  let message = `The node was low on resource: ${resource}. `;
  for (const t of thresholds) {
    if (SIGNAL_RESOURCE[t.signal] !== resource) continue;
    const o = observations.get(t.signal);
    if (!o) continue;
    message += `Threshold quantity: ${thresholdQuantity(t, o.capacity).toString()}, available: ${o.available.toString()}. `;
    break;
  }
  const annotations: Record<string, string> = {};
  if (!usage) return { message, annotations };
  const offending: string[] = [];
  const amounts: string[] = [];
  for (const cs of usage.containers ?? []) {
    const c = pod.spec?.containers?.find((x) => x.name === cs.name);
    if (!c) continue;
    const request = safeQuantity(c.resources?.requests?.[resource]);
    let used: Quantity | undefined;
    if (resource === 'memory' && cs.memoryWorkingSetBytes !== undefined)
      used = Quantity.fromInt(cs.memoryWorkingSetBytes, 'BinarySI');
    if (resource === 'ephemeral-storage' && cs.rootfsBytes !== undefined && cs.logsBytes !== undefined) {
      used = Quantity.fromInt(cs.rootfsBytes + cs.logsBytes, 'BinarySI');
    }
    if (used && used.cmp(request) > 0) {
      message += `Container ${c.name} was using ${used.toString()}, request is ${request.toString()}, has larger consumption of ${resource}. `;
      offending.push(c.name);
      amounts.push(used.toString());
    }
  }
  annotations[OFFENDING_CONTAINERS_KEY] = offending.join(',');
  annotations[OFFENDING_CONTAINERS_USAGE_KEY] = amounts.join(',');
  annotations[STARVED_RESOURCE_KEY] = resource;
  return { message, annotations };
}
