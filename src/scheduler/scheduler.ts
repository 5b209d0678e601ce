/**
 * The Scheduler: feeds the cache and the queue from informers and runs the scheduling loop
 * (scheduler.go, schedule_one.go, eventhandlers.go).
 *
 * Loop: pop a pod → update the snapshot → filter/score (synchronously) → assume it in the cache →
 * Reserve/Permit → bind in the background (PreBind, Bind, PostBind) while the next pod is
 * scheduled. On failure: PostFilter (preemption), then the pod goes back to the queue, a
 * FailedScheduling event is recorded and PodScheduled=False is patched with the FitError message.
 *
 * Pods: every pod feeds the cache once it has spec.nodeName; pods without one whose
 * spec.schedulerName names one of the profiles (default "default-scheduler") are queued.
 */
import type { Informer, Lister, RestClient } from '../client/types.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { SchedulerCache } from './cache.ts';
import { addEventHandlers, EVENT } from './eventhandlers.ts';
import { EventRecorder, updatePodSchedulingStatus } from './events.ts';
import { CycleState } from './framework/cycle_state.ts';
import { FitError } from './framework/fit_error.ts';
import type { ClusterEvent, PluginFactory } from './framework/interface.ts';
import { podInfoOf } from './framework/podinfo.ts';
import { Framework, type Profile } from './framework/runtime.ts';
import { Snapshot } from './framework/snapshot.ts';
import { Code, isSuccess, type MaybeStatus } from './framework/status.ts';
import { defaultProfile, IN_TREE_REGISTRY } from './plugins/registry.ts';
import { PriorityResolver } from './priority.ts';
import { type QueuedPodInfo, SchedulingQueue } from './queue.ts';
import { Algorithm, NoNodesAvailableError } from './schedule_one.ts';
import {
  DEFAULT_SCHEDULER_NAME,
  type Namespace,
  type Node,
  type Pod,
  type PodDisruptionBudget,
  type PriorityClass,
  podRef,
} from './types.ts';

/** How long the scheduling loop may run before letting I/O in (see run()). */
const YIELD_EVERY_MS = 10;

/** The informers the scheduler reads. Pods and nodes are required. */
export interface SchedulerInformers {
  pods: Informer<Pod>;
  nodes: Informer<Node>;
  /** For namespaceSelector in pod affinity terms. */
  namespaces?: Informer<Namespace>;
  /** For preemption to prefer victims whose eviction keeps PDBs. */
  pdbs?: Informer<PodDisruptionBudget>;
  /** Resolves spec.priorityClassName when spec.priority is unset (no Priority admission). */
  priorityClasses?: Informer<PriorityClass>;
}

export interface SchedulerOptions {
  client: RestClient;
  informers: SchedulerInformers;
  clock?: Clock;
  logger?: Logger;
  /** One framework per profile, selected by spec.schedulerName (default: the default profile). */
  profiles?: Profile[];
  /** Out-of-tree plugins, added to (or overriding) the in-tree registry. */
  registry?: Record<string, PluginFactory>;
  /** 0 (default): adaptive. A profile's own value wins. */
  percentageOfNodesToScore?: number;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  podMaxInUnschedulableMs?: number;
  /** How long a bound but unconfirmed pod stays assumed (default 15 min, 0 = forever). */
  assumedPodTtlMs?: number;
  /** Start the informers in run() (default false: the caller runs shared informers). */
  runInformers?: boolean;
  /** Tie-breaking randomness (tests make it deterministic). */
  random?: () => number;
  /** reportingInstance of Events (e.g. the host name). */
  instance?: string;
  /** Event writes per second (default 50, kube-scheduler's client qps); 0: unlimited. */
  eventQps?: number;
  /** Event write burst (default 100). */
  eventBurst?: number;
}

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  readonly frameworks = new Map<string, Framework>();
  readonly priorities: PriorityResolver;
  readonly #o: SchedulerOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #snapshot = new Snapshot();
  readonly #algorithm: Algorithm;
  readonly #events: EventRecorder;
  readonly #podLister: Lister<Pod>;
  readonly #bindings = new Set<Promise<void>>();

  constructor(o: SchedulerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#logger = o.logger ?? silentLogger;
    this.cache = new SchedulerCache({
      clock: this.#clock,
      logger: this.#logger,
      assumedPodTtlMs: o.assumedPodTtlMs,
    });
    this.queue = new SchedulingQueue({
      clock: this.#clock,
      initialBackoffMs: o.podInitialBackoffMs,
      maxBackoffMs: o.podMaxBackoffMs,
      maxInUnschedulableMs: o.podMaxInUnschedulableMs,
    });
    this.#algorithm = new Algorithm(o.percentageOfNodesToScore ?? 0, o.random);
    const profiles = o.profiles ?? [defaultProfile()];
    this.#events = new EventRecorder(
      o.client,
      this.#clock,
      this.#logger,
      profiles[0]?.schedulerName ?? DEFAULT_SCHEDULER_NAME,
      o.instance ?? 'skiff-scheduler',
      { qps: o.eventQps, burst: o.eventBurst },
    );
    this.priorities = new PriorityResolver(o.informers.priorityClasses?.lister());
    this.#podLister = this.priorities.lister(o.informers.pods.lister());
    const registry = { ...IN_TREE_REGISTRY, ...o.registry };
    const events = new Map<string, ClusterEvent[]>();
    for (const profile of profiles) {
      const fw = new Framework({
        profile,
        registry,
        client: o.client,
        clock: this.#clock,
        logger: this.#logger.child({ profile: profile.schedulerName }),
        nominator: this.queue.nominator,
        podLister: this.#podLister,
        namespaceLister: o.informers.namespaces?.lister(),
        pdbLister: o.informers.pdbs?.lister(),
        random: o.random,
        recordEvent: (pod, type, reason, action, message) =>
          this.#events.record(pod, type, reason, action, message),
      });
      this.frameworks.set(profile.schedulerName, fw);
      for (const [plugin, evs] of fw.clusterEvents())
        events.set(plugin, [...(events.get(plugin) ?? []), ...evs]);
    }
    this.queue.setClusterEvents(events);
    addEventHandlers(o.informers, {
      cache: this.cache,
      queue: this.queue,
      priorities: this.priorities,
      responsible: (pod) => this.frameworks.has(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME),
      waitingPods: () => [...this.frameworks.values()].map((fw) => fw.waitingPods),
    });
  }

  /** Waits for the informers, then schedules until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const inf = this.#o.informers;
    const all = [inf.pods, inf.nodes, inf.namespaces, inf.pdbs, inf.priorityClasses].filter(
      (i): i is Informer<never> => i !== undefined,
    );
    if (this.#o.runInformers) for (const i of all) i.run(signal);
    await Promise.race([
      Promise.all(all.map((i) => i.synced())),
      new Promise((r) => signal.addEventListener('abort', r, { once: true })),
    ]);
    if (signal.aborted) return;
    this.queue.run();
    this.cache.run();
    signal.addEventListener('abort', () => this.queue.close(), { once: true });
    try {
      let slice = performance.now();
      while (!signal.aborted) {
        const info = await this.queue.pop(signal);
        if (!info) break;
        await this.scheduleOne(info);
        // pop() resolves at once while pods are queued: let I/O (watch events, binding responses)
        // in — but only every YIELD_EVERY_MS, so that the bindings sent meanwhile reach the API
        // (and its storage) together rather than one by one.
        if (performance.now() - slice >= YIELD_EVERY_MS) {
          await new Promise<void>((r) => setImmediate(r));
          slice = performance.now();
        }
      }
    } finally {
      this.queue.close();
      this.cache.close();
    }
  }

  /**
   * Resolves when every binding and status update started so far has finished and every Event
   * recorded has been written (tests, shutdown).
   */
  async idle(): Promise<void> {
    while (this.#bindings.size > 0) await Promise.allSettled([...this.#bindings]);
    await this.#events.flush();
  }

  /** The pod with spec.priority resolved (see PriorityResolver). */
  withPriority(pod: Pod): Pod {
    return this.priorities.withPriority(pod);
  }

  #frameworkFor(pod: Pod): Framework | undefined {
    return this.frameworks.get(pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME);
  }

  // ---- one cycle ----

  /** Schedules one popped pod: the scheduling cycle now, the binding cycle in the background. */
  async scheduleOne(info: QueuedPodInfo): Promise<void> {
    const pod = info.pod;
    const fw = this.#frameworkFor(pod);
    if (!fw || pod.metadata.deletionTimestamp || this.cache.isAssumedPod(pod)) {
      this.queue.done(pod);
      return;
    }
    this.cache.updateSnapshot(this.#snapshot);
    fw.setSnapshot(this.#snapshot);
    const state = new CycleState();
    const cycle = this.queue.schedulingCycle;
    let host: string;
    try {
      host = this.#algorithm.schedulePod(fw, state, pod, this.#snapshot).suggestedHost;
    } catch (err) {
      let nominated: string | undefined;
      if (err instanceof FitError && fw.postFilter.length > 0) {
        const r = await fw.runPostFilterPlugins(state, pod, err.diagnosis.nodeToStatus);
        if (r.status && !r.status.isSuccess() && !r.status.isRejected()) {
          this.#logger.warn({ pod: podRef(pod), err: r.status.message() }, 'preemption failed');
        }
        err.setPostFilterMsg(r.status && !r.status.isSuccess() ? r.status.message() : '');
        nominated = r.result?.nominatedNodeName;
      }
      await this.#handleFailure(fw, info, err, nominated, cycle);
      return;
    }
    const assumed: Pod = { ...pod, spec: { ...pod.spec, nodeName: host } };
    try {
      this.cache.assumePod(assumed);
    } catch (err) {
      await this.#handleFailure(fw, info, err, undefined, cycle);
      return;
    }
    this.queue.nominator.deleteNominatedPodIfExists(pod);
    const reject = (s: MaybeStatus): Promise<void> => {
      fw.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(assumed);
      return this.#handleFailure(fw, info, s!.asError(), undefined, cycle, s!.isRejected(), s!.plugin);
    };
    const reserved = fw.runReservePluginsReserve(state, assumed, host);
    if (!isSuccess(reserved)) return reject(reserved);
    const permit = fw.runPermitPlugins(state, assumed, host);
    if (permit && !permit.isSuccess() && permit.code !== Code.Wait) return reject(permit);
    this.#track(this.#bindingCycle(fw, state, info, assumed, host, cycle));
  }

  async #bindingCycle(
    fw: Framework,
    state: CycleState,
    info: QueuedPodInfo,
    assumed: Pod,
    host: string,
    cycle: number,
  ): Promise<void> {
    let s = await fw.waitOnPermit(assumed);
    if (isSuccess(s)) s = await fw.runPreBindPlugins(state, assumed, host);
    if (isSuccess(s)) s = await fw.runBindPlugins(state, assumed, host);
    if (!isSuccess(s)) {
      fw.runReservePluginsUnreserve(state, assumed, host);
      this.cache.forgetPod(assumed);
      this.queue.moveAllToActiveOrBackoffQueue(EVENT.podDelete);
      const err = s!.isSkip() ? new Error('no Bind plugin bound the pod') : s!.asError();
      await this.#handleFailure(fw, info, err, undefined, cycle, s!.isRejected(), s!.plugin);
      return;
    }
    this.cache.finishBinding(assumed);
    this.queue.done(assumed);
    this.#logger.debug({ pod: podRef(assumed), node: host }, 'bound');
    fw.recordEvent(
      assumed,
      'Normal',
      'Scheduled',
      'Binding',
      `Successfully assigned ${podRef(assumed)} to ${host}`,
    );
    fw.runPostBindPlugins(state, assumed, host);
  }

  /**
   * handleSchedulingFailure: requeue (unless the pod is gone or was bound meanwhile), record
   * FailedScheduling, patch PodScheduled=False (and the nominated node).
   */
  async #handleFailure(
    fw: Framework,
    info: QueuedPodInfo,
    err: unknown,
    nominated: string | undefined,
    cycle: number,
    rejected = false,
    rejector = '',
  ): Promise<void> {
    const pod = info.pod;
    let reason = 'SchedulerError';
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof FitError) {
      reason = 'Unschedulable';
      info.unschedulablePlugins = new Set(err.diagnosis.unschedulablePlugins);
      this.#logger.debug({ pod: podRef(pod), err: message }, 'unable to schedule pod');
    } else if (err instanceof NoNodesAvailableError || rejected) {
      reason = 'Unschedulable';
      info.unschedulablePlugins = new Set([rejector || 'NoNodesAvailable']);
    } else {
      info.unschedulablePlugins = new Set();
      this.#logger.info({ pod: podRef(pod), err: message }, 'error scheduling pod; retrying');
    }
    const current = this.#podLister.get(`${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`);
    if (!current || current.metadata.uid !== pod.metadata.uid || current.spec?.nodeName) {
      this.queue.done(pod);
      return;
    }
    if (nominated !== undefined) this.queue.nominator.addNominatedPod(podInfoOf(current), nominated);
    info.pod = current;
    this.queue.addUnschedulableIfNotPresent(info, cycle);
    fw.recordEvent(current, 'Warning', 'FailedScheduling', 'Scheduling', message);
    this.#track(
      updatePodSchedulingStatus(fw.client, this.#clock, current, reason, message, nominated).catch(
        (e: unknown) => {
          this.#logger.debug({ err: e, pod: podRef(pod) }, 'could not update pod status');
        },
      ),
    );
  }

  #track(p: Promise<void>): void {
    const tracked: Promise<void> = p
      .catch((err: unknown) => this.#logger.error({ err }, 'binding cycle failed'))
      .finally(() => this.#bindings.delete(tracked));
    this.#bindings.add(tracked);
  }
}
