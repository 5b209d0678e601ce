/**
 * The scheduling queue (internal/queue/scheduling_queue.go's PriorityQueue):
 * - activeQ: pods ready to be tried, highest priority first, then oldest;
 * - backoffQ: pods waiting out their back-off (1 s doubling per attempt, at most 10 s), flushed to
 *   activeQ every second;
 * - unschedulable pods: rejected pods parked until a cluster event that one of the rejecting
 *   plugins registered for (node added, pod deleted, ...) moves them back, or 5 minutes pass
 *   (checked every 30 s). A move request received while a pod was being scheduled sends that pod
 *   to backoffQ instead, so the event is not missed.
 * Pods with scheduling gates wait among the unschedulable pods until an update removes the gates.
 * Time comes from the injected clock.
 */

import type { Clock } from '../util/clock.ts';
import type { ClusterEvent } from './framework/interface.ts';
import { podInfoOf } from './framework/podinfo.ts';
import { KeyedHeap } from './heap.ts';
import { Nominator } from './nominator.ts';
import { type Pod, podKey, podPriority } from './types.ts';
import { jsonEqual } from './util.ts';

/** A pod in the queue with its scheduling history (framework.QueuedPodInfo). */
export interface QueuedPodInfo {
  pod: Pod;
  /** When the pod was last added or re-added to the queue. */
  timestamp: number;
  /** When the pod was first added. */
  initialAttemptTimestamp: number;
  /** Scheduling attempts so far (incremented at pop). */
  attempts: number;
  /** Plugins that rejected the pod in its last attempt; empty after an error. */
  unschedulablePlugins: Set<string>;
  /** Waiting for its scheduling gates to be removed. */
  gated: boolean;
}

export interface QueueOptions {
  clock: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a pod may stay unschedulable before being retried anyway (default 5 min). */
  maxInUnschedulableMs?: number;
  /** Events each plugin registered (Framework.clusterEvents()). */
  clusterEvents?: Map<string, ClusterEvent[]>;
}

export const EVENT_UNSCHEDULABLE_TIMEOUT: ClusterEvent = {
  resource: '*',
  actions: 0xff,
  label: 'UnschedulableTimeout',
};
export const EVENT_FORCE_ACTIVATE: ClusterEvent = { resource: '*', actions: 0xff, label: 'ForceActivate' };

/** The parts of a pod whose change makes a retry worthwhile: everything but status and bookkeeping. */
function strip(p: Pod): unknown {
  const { resourceVersion: _rv, generation: _g, managedFields: _mf, ...meta } = p.metadata;
  return { ...p, metadata: meta, status: undefined };
}

function gatedPod(pod: Pod): boolean {
  return (pod.spec?.schedulingGates ?? []).length > 0;
}

interface InFlight {
  info: QueuedPodInfo;
  deleted: boolean;
}

export class SchedulingQueue {
  readonly nominator = new Nominator();
  readonly #clock: Clock;
  readonly #initialBackoff: number;
  readonly #maxBackoff: number;
  readonly #maxInUnschedulable: number;
  #events: Map<string, ClusterEvent[]>;
  readonly #active = new KeyedHeap<QueuedPodInfo>(
    (p) => podKey(p.pod),
    (a, b) => {
      const pa = podPriority(a.pod);
      const pb = podPriority(b.pod);
      return pa > pb || (pa === pb && a.timestamp < b.timestamp);
    },
  );
  readonly #backoff = new KeyedHeap<QueuedPodInfo>(
    (p) => podKey(p.pod),
    (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
  );
  readonly #unschedulable = new Map<string, QueuedPodInfo>();
  readonly #inFlight = new Map<string, InFlight>();
  #cycle = 0;
  #moveRequestCycle = -1;
  #waiters: ((p: QueuedPodInfo | undefined) => void)[] = [];
  #closed = false;
  #timers: (() => void)[] = [];

  constructor(o: QueueOptions) {
    this.#clock = o.clock;
    this.#initialBackoff = o.initialBackoffMs ?? 1000;
    this.#maxBackoff = o.maxBackoffMs ?? 10_000;
    this.#maxInUnschedulable = o.maxInUnschedulableMs ?? 5 * 60_000;
    this.#events = o.clusterEvents ?? new Map();
  }

  setClusterEvents(events: Map<string, ClusterEvent[]>): void {
    this.#events = events;
  }

  /** Starts the periodic flushes (backoffQ every 1 s, unschedulable pods every 30 s). */
  run(): void {
    const every = (ms: number, fn: () => void) => {
      const tick = () => {
        if (this.#closed) return;
        fn();
        this.#timers.push(this.#clock.setTimeout(tick, ms));
      };
      this.#timers.push(this.#clock.setTimeout(tick, ms));
    };
    every(1000, () => this.flushBackoffQCompleted());
    every(30_000, () => this.flushUnschedulableLeftover());
  }

  /** Stops the flushes and wakes every pop() with undefined. */
  close(): void {
    this.#closed = true;
    for (const c of this.#timers) c();
    this.#timers = [];
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  /** The number of the scheduling cycle last started by pop(). */
  get schedulingCycle(): number {
    return this.#cycle;
  }

  // ---- adding and popping ----

  /** A new unscheduled pod. */
  add(pod: Pod): void {
    const key = podKey(pod);
    if (
      this.#inFlight.has(key) ||
      this.#active.has(key) ||
      this.#backoff.has(key) ||
      this.#unschedulable.has(key)
    ) {
      this.update(pod, pod);
      return;
    }
    const now = this.#clock.now();
    const info: QueuedPodInfo = {
      pod,
      timestamp: now,
      initialAttemptTimestamp: now,
      attempts: 0,
      unschedulablePlugins: new Set(),
      gated: gatedPod(pod),
    };
    if (info.gated) this.#unschedulable.set(key, info);
    else this.#pushActive(info);
    this.nominator.addNominatedPod(podInfoOf(pod));
  }

  #pushActive(info: QueuedPodInfo): void {
    const w = this.#waiters.shift();
    if (w) {
      this.#startCycle(info);
      w(info);
      return;
    }
    this.#active.addOrUpdate(info);
  }

  #startCycle(info: QueuedPodInfo): void {
    this.#cycle++;
    info.attempts++;
    this.#inFlight.set(podKey(info.pod), { info, deleted: false });
  }

  /** The next pod to schedule, waiting for one; undefined once closed or `signal` aborts. */
  pop(signal?: AbortSignal): Promise<QueuedPodInfo | undefined> {
    if (this.#closed || signal?.aborted) return Promise.resolve(undefined);
    const top = this.#active.pop();
    if (top) {
      this.#startCycle(top);
      return Promise.resolve(top);
    }
    return new Promise((resolve) => {
      const waiter = (p: QueuedPodInfo | undefined) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(p);
      };
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** The pod's cycle is over (bound, or requeued through addUnschedulableIfNotPresent). */
  done(pod: Pod): void {
    this.#inFlight.delete(podKey(pod));
  }

  /**
   * Requeues a pod whose attempt failed: to backoffQ after an error or when a move request came
   * during its cycle, else to the unschedulable pods. Dropped if the pod was deleted meanwhile.
   * Uses the latest version of the pod seen during the cycle.
   */
  addUnschedulableIfNotPresent(info: QueuedPodInfo, podSchedulingCycle: number): void {
    const key = podKey(info.pod);
    const flight = this.#inFlight.get(key);
    this.#inFlight.delete(key);
    if (flight?.deleted) return;
    if (flight) info.pod = flight.info.pod;
    if (this.#active.has(key) || this.#backoff.has(key) || this.#unschedulable.has(key)) return;
    info.timestamp = this.#clock.now();
    if (this.#moveRequestCycle >= podSchedulingCycle || info.unschedulablePlugins.size === 0) {
      this.#backoff.addOrUpdate(info);
    } else {
      this.#unschedulable.set(key, info);
    }
    this.nominator.addNominatedPod(podInfoOf(info.pod), this.nominator.nominatedNodeOf(info.pod));
  }

  // ---- updates from the informer ----

  update(oldPod: Pod, newPod: Pod): void {
    const key = podKey(newPod);
    this.nominator.updateNominatedPod(oldPod, newPod);
    const flight = this.#inFlight.get(key);
    if (flight) {
      flight.info.pod = newPod;
      if (!jsonEqual(strip(oldPod), strip(newPod))) this.#moveRequestCycle = this.#cycle;
      return;
    }
    const active = this.#active.get(key);
    if (active) {
      active.pod = newPod;
      this.#active.addOrUpdate(active);
      return;
    }
    const backoff = this.#backoff.get(key);
    if (backoff) {
      backoff.pod = newPod;
      this.#backoff.addOrUpdate(backoff);
      return;
    }
    const u = this.#unschedulable.get(key);
    if (u) {
      u.pod = newPod;
      if (u.gated) {
        if (!gatedPod(newPod)) {
          u.gated = false;
          this.#unschedulable.delete(key);
          this.#pushActive(u);
        }
        return;
      }
      if (!jsonEqual(strip(oldPod), strip(newPod))) this.#move(u);
      return;
    }
    this.add(newPod);
  }

  delete(pod: Pod): void {
    const key = podKey(pod);
    this.nominator.deleteNominatedPodIfExists(pod);
    const flight = this.#inFlight.get(key);
    if (flight) flight.deleted = true;
    this.#active.delete(key);
    this.#backoff.delete(key);
    this.#unschedulable.delete(key);
  }

  // ---- moving on cluster events ----

  /** Moves unschedulable pods that a plugin rejected and that registered for `event`. */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent): void {
    for (const info of [...this.#unschedulable.values()]) {
      if (!info.gated && this.#interested(info, event)) this.#move(info);
    }
    this.#moveRequestCycle = this.#cycle;
  }

  /** Moves the given pods to activeQ at once (framework Activate). */
  activate(pods: readonly Pod[]): void {
    for (const p of pods) {
      const key = podKey(p);
      const info = this.#unschedulable.get(key) ?? this.#backoff.get(key);
      if (!info || info.gated) continue;
      this.#unschedulable.delete(key);
      this.#backoff.delete(key);
      this.#pushActive(info);
    }
    this.#moveRequestCycle = this.#cycle;
  }

  #interested(info: QueuedPodInfo, event: ClusterEvent): boolean {
    if (event.resource === '*' || info.unschedulablePlugins.size === 0) return true;
    for (const plugin of info.unschedulablePlugins) {
      const events = this.#events.get(plugin);
      if (!events) return true; // a plugin (or reason) that registered nothing: any event may help
      for (const e of events) {
        if ((e.resource === '*' || e.resource === event.resource) && (e.actions & event.actions) !== 0)
          return true;
      }
    }
    return false;
  }

  #move(info: QueuedPodInfo): void {
    const key = podKey(info.pod);
    this.#unschedulable.delete(key);
    if (this.isBackingOff(info)) this.#backoff.addOrUpdate(info);
    else this.#pushActive(info);
  }

  // ---- back-off ----

  /** 1 s, 2 s, 4 s, ... per attempt, capped at the maximum; 0 before the first attempt. */
  backoffDuration(info: QueuedPodInfo): number {
    if (info.attempts === 0) return 0;
    let d = this.#initialBackoff;
    for (let i = 1; i < info.attempts; i++) {
      if (d > this.#maxBackoff - d) return this.#maxBackoff;
      d += d;
    }
    return Math.min(d, this.#maxBackoff);
  }

  backoffExpiry(info: QueuedPodInfo): number {
    return info.timestamp + this.backoffDuration(info);
  }

  isBackingOff(info: QueuedPodInfo): boolean {
    return this.backoffExpiry(info) > this.#clock.now();
  }

  /** Moves pods whose back-off is over to activeQ. */
  flushBackoffQCompleted(): void {
    const now = this.#clock.now();
    for (;;) {
      const top = this.#backoff.peek();
      if (!top || this.backoffExpiry(top) > now) break;
      this.#backoff.pop();
      this.#pushActive(top);
    }
  }

  /** Retries pods that stayed unschedulable longer than the maximum. */
  flushUnschedulableLeftover(): void {
    const now = this.#clock.now();
    for (const info of [...this.#unschedulable.values()]) {
      if (!info.gated && now - info.timestamp > this.#maxInUnschedulable) this.#move(info);
    }
  }

  // ---- introspection ----

  /** Counts per sub-queue (for tests, metrics and logs). */
  stats(): { active: number; backoff: number; unschedulable: number; inFlight: number } {
    return {
      active: this.#active.size,
      backoff: this.#backoff.size,
      unschedulable: this.#unschedulable.size,
      inFlight: this.#inFlight.size,
    };
  }

  /** Where the pod is: 'active', 'backoff', 'unschedulable', 'inFlight' or undefined. */
  whereIs(pod: Pod): 'active' | 'backoff' | 'unschedulable' | 'inFlight' | undefined {
    const key = podKey(pod);
    if (this.#active.has(key)) return 'active';
    if (this.#backoff.has(key)) return 'backoff';
    if (this.#unschedulable.has(key)) return 'unschedulable';
    if (this.#inFlight.has(key)) return 'inFlight';
    return undefined;
  }
}
