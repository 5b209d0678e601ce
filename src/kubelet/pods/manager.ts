/**
 * PodManager: the kubelet's pod workers (pkg/kubelet/pod_workers.go) and what feeds them.
 *
 * - An informer on pods with `spec.nodeName=<node>` tells it which pods run here.
 * - One worker per pod UID: syncs are serialized per pod and concurrent across pods; an update
 *   that arrives during a sync queues exactly one more. Each pod is synced again at least every
 *   `resyncMs`, at the end of a crash back-off, when a probe result changes, and when the runtime
 *   shows a change in its containers (the PLEG: one listPodSandbox + listContainers per
 *   `relistMs` for the whole node).
 * - A sync of a running pod: volumes and cgroup, then computePodActions carried out through CRI
 *   (at most `maxConcurrentStarts` pods at once), then the status written when it changed.
 * - A pod with a deletionTimestamp, an evicted pod, or one that finished (Succeeded/Failed) is
 *   terminated: preStop and stop with the grace period, sandbox stopped, volumes and cgroup torn
 *   down, the final status written; a deleted pod is then deleted for good (grace 0, UID
 *   precondition), as the kubelet finishes the deletion. Containers of finished pods stay (stopped)
 *   for their logs until the pod is deleted.
 * - A pod gone from the API has its containers and sandboxes removed. Housekeeping (every
 *   `housekeepingMs`, and first right after start) removes the sandboxes, containers, volume
 *   directories and cgroups of pods not bound here any more — e.g. deleted while the kubelet was
 *   down.
 * - Restart safety: nothing runs before the first relist; containers found running with the spec
 *   hash of their annotations are kept, their restart counts continue from the annotations.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.ts';
import { SharedInformer } from '../../client/informer.ts';
import { PODS } from '../../client/resources.ts';
import type { Informer, KubeObject, RestClient } from '../../client/types.ts';
import { type Clock, sleep, systemClock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import type {
  EnvResolver,
  ImageManager,
  PodCgroups,
  PodLookup,
  RunningPodInfo,
  VolumeManager,
} from '../contracts.ts';
import type { CriRuntime, DNSConfig } from '../cri/types.ts';
import { ProberManager } from '../prober/manager.ts';
import type { ContainerInstance } from '../prober/worker.ts';
import { podGracePeriod } from './container-config.ts';
import { readResolvConf } from './dns.ts';
import { ApiEventRecorder, type EventRecorder } from './events.ts';
import { formatPod, rfc3339 } from './format.ts';
import { RuntimeCache } from './runtime-state.ts';
import { podLogDirectory } from './sandbox.ts';
import { Semaphore } from './semaphore.ts';
import { generatePodStatus } from './status.ts';
import { StatusManager } from './status-manager.ts';
import { PodSyncer, type PodSyncState } from './sync.ts';

export interface PodManagerOptions {
  /** This node's name: pods with spec.nodeName equal to it are run. */
  nodeName: string;
  /** API access: pod informer, status writes, the final delete, Events, pull secrets. */
  client: RestClient;
  cri: CriRuntime;
  volumes: VolumeManager;
  env: EnvResolver;
  cgroups: PodCgroups;
  images: ImageManager;
  /** The node's IPs: the pods' hostIP/hostIPs (and podIPs of host-network pods). */
  nodeIPs: string[];
  /** The node's memory in bytes (burstable oom_score_adj). */
  memoryCapacity: number;
  /** Root of the pods' log directories; default /var/log/pods. */
  podLogRoot?: string;
  /** Cluster DNS server IPs; empty: ClusterFirst pods use the host's DNS. */
  clusterDns?: string[];
  /** Default "cluster.local". */
  clusterDomain?: string;
  /** The resolv.conf used for dnsPolicy Default; default /etc/resolv.conf. */
  resolvConf?: string;
  /** Prefix of containerIDs in status; default "containerd". */
  runtimeName?: string;
  /** CRI runtime handler for sandboxes; default the runtime's. */
  runtimeHandler?: string;
  /** Where pod Events go; default Events written through `client`. */
  recorder?: EventRecorder;
  /** A pod informer to use instead of creating one (it must select spec.nodeName=<node>); it is
   * run by its owner. */
  informer?: Informer<PodObject>;
  clock?: Clock;
  logger?: Logger;
  /** Periodic sync of every pod, ms; default 10,000. */
  resyncMs?: number;
  /** PLEG relist period, ms; default 1,000. */
  relistMs?: number;
  /** Orphan clean-up period, ms; default 2,000 (the first runs at start). */
  housekeepingMs?: number;
  /** Pods being synced with the runtime at once (volume set-up is not limited); default 10. */
  maxConcurrentStarts?: number;
  /** Wait before syncing a pod again after a failed sync (a runtime error), ms; default 10,000. */
  errorBackoffMs?: number;
  /** Crash back-off: first delay and cap, ms (10 s, 5 min). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

/** A container for stats and log rotation. */
export interface RunningContainer {
  id: string;
  name: string;
  /** Absolute path of its CRI log file. */
  logPath: string;
  state: string;
}

export interface RunningPod {
  uid: string;
  namespace: string;
  name: string;
  sandboxId?: string;
  containers: RunningContainer[];
}

interface Worker {
  uid: string;
  pod: Pod;
  st: PodSyncState;
  gone: boolean;
  evicted?: { reason: string; message: string };
  /** The pod finished (terminal phase): it is terminated, not deleted. */
  finished: boolean;
  /** Containers stopped, sandbox stopped, volumes and cgroup removed. */
  killed: boolean;
  deleteSent: boolean;
  busy: boolean;
  pending: boolean;
  syncAbort?: AbortController;
  cancelTimer?: () => void;
  waiters: (() => void)[];
}

/** A Pod as the client library stores it. */
export type PodObject = Pod & KubeObject;

function terminalPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Whether two versions of a pod differ in more than status and bookkeeping (podsDifferSemantically). */
function differsSemantically(a: Pod, b: Pod): boolean {
  const strip = (p: Pod) => {
    const { resourceVersion: _rv, managedFields: _mf, generation: _g, ...meta } = p.metadata ?? {};
    return JSON.stringify([meta, p.spec]);
  };
  if (strip(a) !== strip(b)) return true;
  // Conditions others own (readiness gates) matter to the status.
  const others = (p: Pod) =>
    JSON.stringify((p.status?.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type)));
  return others(a) !== others(b);
}

const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']);

export class PodManager implements PodLookup {
  readonly #o: PodManagerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #cache: RuntimeCache;
  readonly #prober: ProberManager;
  readonly #syncer: PodSyncer;
  readonly #status: StatusManager;
  readonly #sem: Semaphore;
  readonly #workers = new Map<string, Worker>();
  readonly #informer: Informer<PodObject>;
  readonly #ownInformer: boolean;
  readonly recorder: EventRecorder;
  readonly #hostDns: DNSConfig = { servers: [], searches: [], options: [] };
  #ready = false;
  #abort = new AbortController();
  #timers: (() => void)[] = [];
  #relisting = false;
  #housekeeping = false;
  readonly #idleWaiters: (() => void)[] = [];

  constructor(o: PodManagerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#log = (o.logger ?? silentLogger).child({ component: 'pods' });
    this.recorder = o.recorder ?? new ApiEventRecorder(o.client, o.nodeName, this.#clock, this.#log);
    this.#cache = new RuntimeCache(o.cri);
    this.#prober = new ProberManager({
      cri: o.cri,
      clock: this.#clock,
      recorder: this.recorder,
      onChange: (uid) => this.#trigger(uid),
    });
    this.#syncer = new PodSyncer({
      cri: o.cri,
      cache: this.#cache,
      prober: this.#prober,
      recorder: this.recorder,
      volumes: o.volumes,
      env: o.env,
      cgroups: o.cgroups,
      images: o.images,
      client: o.client,
      clock: this.#clock,
      log: this.#log,
      sandbox: {
        podLogRoot: o.podLogRoot ?? '/var/log/pods',
        dns: {
          clusterDns: o.clusterDns ?? [],
          clusterDomain: o.clusterDomain ?? 'cluster.local',
          host: this.#hostDns,
        },
      },
      memoryCapacity: o.memoryCapacity,
      nodeIP: o.nodeIPs[0] ?? '',
      runtimeHandler: o.runtimeHandler,
      backoffInitialMs: o.backoffInitialMs,
      backoffMaxMs: o.backoffMaxMs,
    });
    this.#status = new StatusManager(o.client, this.#log);
    this.#sem = new Semaphore(o.maxConcurrentStarts ?? 10);
    this.#ownInformer = !o.informer;
    this.#informer =
      o.informer ??
      new SharedInformer<PodObject>(o.client, PODS, {
        fieldSelector: `spec.nodeName=${o.nodeName}`,
        clock: this.#clock,
        logger: this.#log,
      });
    this.#informer.addEventHandler({
      onAdd: (pod) => this.#upsert(pod),
      onUpdate: (_old, pod) => this.#upsert(pod),
      onDelete: (pod) => this.#removed(pod),
    });
  }

  /**
   * Starts: reads the host's resolv.conf, runs the informer (when it made it), waits for its
   * first list and the first relist of the runtime, then syncs every pod, cleans up orphans, and
   * keeps going until `signal` aborts (or stop()). Resolves once pods are being synced.
   */
  async start(signal?: AbortSignal): Promise<void> {
    signal?.addEventListener('abort', () => this.stop(), { once: true });
    const host = await readResolvConf(this.#o.resolvConf ?? '/etc/resolv.conf');
    Object.assign(this.#hostDns, host);
    if (this.#ownInformer) this.#informer.run(this.#abort.signal);
    await this.#informer.synced();
    // The runtime may still be coming up: retry the first relist until it answers.
    for (;;) {
      try {
        await this.#cache.relist(this.#abort.signal);
        break;
      } catch (err) {
        if (this.#abort.signal.aborted) throw err;
        this.#log.warn({ err }, 'first runtime relist failed; retrying');
        await sleep(this.#clock, 1000, this.#abort.signal);
      }
    }
    this.#ready = true;
    for (const uid of this.#workers.keys()) this.#trigger(uid);
    await this.#cleanupOrphans().catch((err) => this.#log.warn({ err }, 'orphan clean-up failed'));
    this.#every(this.#o.relistMs ?? 1000, () => this.#relist());
    this.#every(this.#o.housekeepingMs ?? 2000, () => this.#housekeep());
  }

  /** Stops syncing (containers keep running, as when the kubelet stops). */
  stop(): void {
    this.#abort.abort();
    for (const cancel of this.#timers) cancel();
    this.#timers = [];
    for (const w of this.#workers.values()) {
      w.cancelTimer?.();
      w.syncAbort?.abort();
    }
    this.#prober.stop();
  }

  /** Resolves when no pod sync is running or queued (for tests and orderly shutdown). */
  idle(): Promise<void> {
    if (!this.#busy()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #busy(): boolean {
    for (const w of this.#workers.values()) if (w.busy || (w.pending && this.#ready)) return true;
    return false;
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || this.#busy()) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  // ---- PodLookup and views ----------------------------------------------------------------------

  find(namespace: string, name: string): RunningPodInfo | undefined {
    for (const w of this.#workers.values()) {
      const m = w.pod.metadata ?? {};
      if (m.namespace !== namespace || m.name !== name || w.gone) continue;
      const rt = this.#cache.pod(w.uid);
      const containers = new Map<string, string>();
      for (const c of rt.containers) if (!containers.has(c.name)) containers.set(c.name, c.id);
      const sandbox = rt.sandboxes.find((s) => s.state === 'SANDBOX_READY') ?? rt.sandboxes[0];
      return {
        uid: w.uid,
        namespace,
        name,
        sandboxId: sandbox?.id,
        containers,
        logDirectory: podLogDirectory(this.#logRoot, w.pod),
      };
    }
    return undefined;
  }

  /** Pods with their containers (every instance still in the runtime), for stats and log rotation. */
  runningPods(): RunningPod[] {
    const out: RunningPod[] = [];
    for (const w of this.#workers.values()) {
      const rt = this.#cache.pod(w.uid);
      const m = w.pod.metadata ?? {};
      out.push({
        uid: w.uid,
        namespace: m.namespace ?? '',
        name: m.name ?? '',
        sandboxId: (rt.sandboxes.find((s) => s.state === 'SANDBOX_READY') ?? rt.sandboxes[0])?.id,
        containers: rt.containers.map((c) => ({
          id: c.id,
          name: c.name,
          logPath: c.logPath,
          state: c.state,
        })),
      });
    }
    return out;
  }

  /** Pods admitted and not yet terminated (the eviction manager's candidates). */
  activePods(): Pod[] {
    const out: Pod[] = [];
    for (const w of this.#workers.values()) if (!w.gone && !w.finished && !w.killed) out.push(w.pod);
    return out;
  }

  /** Syncs every pod again soon (e.g. after the runtime restarted). */
  resyncAll(): void {
    for (const uid of this.#workers.keys()) this.#trigger(uid);
  }

  /** The last status computed for a pod. */
  statusOf(uid: string): PodStatus | undefined {
    return this.#status.get(uid);
  }

  /**
   * Evicts a pod (for the eviction manager): kills it with its grace period, and reports phase
   * Failed with `reason` ("Evicted") and `message`, plus a DisruptionTarget condition. The pod
   * object stays (as Kubernetes leaves evicted pods). Resolves once it is killed and reported.
   */
  evict(podUid: string, reason: string, message: string): Promise<void> {
    const w = this.#workers.get(podUid);
    if (!w || w.gone) return Promise.resolve();
    w.evicted = { reason, message };
    const done = new Promise<void>((resolve) => w.waiters.push(resolve));
    w.syncAbort?.abort();
    this.#trigger(podUid);
    return done;
  }

  // ---- informer events --------------------------------------------------------------------------

  #upsert(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let w = this.#workers.get(uid);
    if (!w) {
      w = {
        uid,
        pod,
        st: { failures: new Map() },
        gone: false,
        finished: false,
        killed: false,
        deleteSent: false,
        busy: false,
        pending: false,
        waiters: [],
      };
      this.#workers.set(uid, w);
    } else {
      const old = w.pod;
      w.pod = pod;
      // Like the kubelet's pod config, a change of the status alone (often our own write) is no
      // reason to sync.
      if (!differsSemantically(old, pod)) return;
      // A deletion cancels the sync in flight, as the kubelet's pod workers do.
      if (!old.metadata?.deletionTimestamp && pod.metadata?.deletionTimestamp) w.syncAbort?.abort();
    }
    this.#trigger(uid);
  }

  #removed(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const w = this.#workers.get(uid);
    if (!w) return;
    w.gone = true;
    w.syncAbort?.abort();
    this.#trigger(uid);
  }

  // ---- the workers ------------------------------------------------------------------------------

  #trigger(uid: string): void {
    const w = this.#workers.get(uid);
    if (!w) return;
    w.pending = true;
    if (!this.#ready || w.busy || this.#abort.signal.aborted) return;
    void this.#run(w);
  }

  async #run(w: Worker): Promise<void> {
    w.busy = true;
    w.cancelTimer?.();
    w.cancelTimer = undefined;
    let retryMs: number | undefined;
    let wakeAt: number | undefined;
    try {
      while (w.pending && !this.#abort.signal.aborted) {
        // Let I/O in between syncs of one pod.
        await new Promise((r) => setImmediate(r));
        w.pending = false;
        retryMs = undefined;
        const ac = new AbortController();
        w.syncAbort = ac;
        try {
          wakeAt = await this.#sync(w, ac.signal);
        } catch (err) {
          if (ac.signal.aborted) {
            if (!this.#abort.signal.aborted) w.pending = true;
            continue;
          }
          this.#log.warn({ pod: formatPod(w.pod), err }, 'pod sync failed');
          // The kubelet's pod workers retry a failed sync after 10 s (backOffPeriod).
          retryMs = this.#o.errorBackoffMs ?? 10_000;
        } finally {
          w.syncAbort = undefined;
        }
      }
    } finally {
      w.busy = false;
      queueMicrotask(() => this.#checkIdle());
    }
    if (this.#workers.get(w.uid) !== w || this.#abort.signal.aborted) return;
    if (w.pending) {
      void this.#run(w);
      return;
    }
    const now = this.#clock.now();
    let delay = retryMs ?? this.#o.resyncMs ?? 10_000;
    if (wakeAt !== undefined) delay = Math.min(delay, Math.max(0, wakeAt - now));
    if (w.killed && !w.gone && retryMs === undefined && !w.pod.metadata?.deletionTimestamp) {
      // A finished or evicted pod needs no periodic sync until the API says something new.
      return;
    }
    w.cancelTimer = this.#clock.setTimeout(() => this.#trigger(w.uid), delay);
  }

  /** One sync of one pod; returns when it wants to be synced again at the latest. */
  async #sync(w: Worker, signal: AbortSignal): Promise<number | undefined> {
    if (w.gone) {
      await this.#finalize(w, signal);
      return undefined;
    }
    const pod = w.pod;
    const uid = w.uid;
    await this.#cache.refreshPod(uid, signal);
    const last = this.#status.get(uid);
    if (!w.finished && (terminalPhase(pod.status?.phase) || terminalPhase(last?.phase))) w.finished = true;
    if (pod.metadata?.deletionTimestamp || w.evicted || w.finished) {
      await this.#terminate(w, signal);
      return undefined;
    }

    let wakeAt: number | undefined;
    let failure: unknown;
    try {
      // Volumes (API reads, token requests, files) are set up outside the limit: only the
      // runtime's work is, so a burst of pods keeps containerd busy without queueing behind them.
      if (await this.#syncer.prepare(pod, w.st, signal)) {
        await this.#sem.run(async () => {
          const res = await this.#syncer.syncPod(pod, w.st, signal);
          wakeAt = res.wakeAt;
        });
      }
    } catch (err) {
      // Report what there is (as the kubelet does) before the worker backs off.
      if (signal.aborted) throw err;
      failure = err;
    }
    await this.#cache.refreshPod(uid, signal);
    await this.#pruneDead(uid, signal);
    this.#updateProbes(w);
    const status = this.#generate(w, false);
    await this.#status.set(this.#podForStatus(w), status);
    if (failure !== undefined) throw failure;
    if (terminalPhase(status.phase)) {
      w.finished = true;
      w.pending = true;
    }
    return wakeAt;
  }

  /** Kills a pod that is being deleted, evicted or finished; writes its final status. */
  async #terminate(w: Worker, signal: AbortSignal): Promise<void> {
    const pod = w.pod;
    const uid = w.uid;
    if (!w.killed) {
      const grace = w.evicted
        ? podGracePeriod(pod)
        : pod.metadata?.deletionTimestamp
          ? (pod.metadata.deletionGracePeriodSeconds ?? podGracePeriod(pod))
          : undefined;
      await this.#syncer.killPod(pod, this.#cache.pod(uid), grace, signal);
      this.#prober.removePod(uid);
      await this.#o.volumes.tearDown(uid);
      await this.#o.cgroups.remove(uid);
      w.st.volumePaths = undefined;
      w.killed = true;
    }
    const status = this.#generate(w, true);
    if (w.evicted) {
      status.phase = 'Failed';
      status.reason = w.evicted.reason;
      status.message = w.evicted.message;
      const conds = (status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
      const prev = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
      conds.push({
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'TerminationByKubelet',
        message: w.evicted.message,
        lastTransitionTime: prev?.status === 'True' ? prev.lastTransitionTime : rfc3339(this.#clock.now()),
      });
      status.conditions = conds;
    }
    await this.#status.set(this.#podForStatus(w), status);
    for (const resolve of w.waiters.splice(0)) resolve();
    if (pod.metadata?.deletionTimestamp && !w.deleteSent) {
      const m = pod.metadata;
      try {
        await this.#o.client.delete(PODS, m.namespace ?? 'default', m.name ?? '', {
          gracePeriodSeconds: 0,
          preconditions: { uid },
        });
      } catch (err) {
        if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
      }
      w.deleteSent = true;
    }
  }

  /** The pod is gone from the API: kill what is left and remove it from the runtime. */
  async #finalize(w: Worker, signal: AbortSignal): Promise<void> {
    const pod = w.pod;
    const uid = w.uid;
    await this.#cache.refreshPod(uid, signal);
    if (!w.killed) {
      const grace = pod.metadata?.deletionGracePeriodSeconds ?? podGracePeriod(pod);
      await this.#syncer.killPod(pod, this.#cache.pod(uid), grace, signal);
      this.#prober.removePod(uid);
      await this.#o.volumes.tearDown(uid);
      await this.#o.cgroups.remove(uid);
      w.killed = true;
    }
    await this.#syncer.removeAll(uid, signal);
    await rm(podLogDirectory(this.#logRoot, pod), { recursive: true, force: true });
    this.#status.remove(uid);
    const m = pod.metadata ?? {};
    this.#syncer.backoff.resetPrefix(`${m.name}_${m.namespace}_${uid}_`);
    for (const resolve of w.waiters.splice(0)) resolve();
    w.cancelTimer?.();
    if (this.#workers.get(uid) === w) this.#workers.delete(uid);
  }

  /** Container GC for one pod: keeps the newest two instances of each container name, and
   * removes dead sandboxes other than the newest once no container uses them. */
  async #pruneDead(uid: string, signal: AbortSignal): Promise<void> {
    const rt = this.#cache.pod(uid);
    const seen = new Map<string, number>();
    for (const c of rt.containers) {
      const n = (seen.get(c.name) ?? 0) + 1;
      seen.set(c.name, n);
      if (n > 2 && c.state === 'CONTAINER_EXITED') {
        await this.#o.cri.removeContainer(c.id, { signal });
        this.#cache.forgetContainer(c.id);
      }
    }
    const used = new Set(this.#cache.pod(uid).containers.map((c) => c.sandboxId));
    for (const s of rt.sandboxes.slice(1)) {
      if (s.state === 'SANDBOX_READY' || used.has(s.id)) continue;
      await this.#o.cri.removePodSandbox(s.id, { signal });
      this.#cache.forgetSandbox(s.id);
    }
  }

  #updateProbes(w: Worker): void {
    const rt = this.#cache.pod(w.uid);
    const instances = new Map<string, ContainerInstance>();
    for (const c of w.pod.spec?.containers ?? []) {
      const cur = rt.containers.find((x) => x.name === c.name && !x.isInit);
      if (cur)
        instances.set(c.name, {
          id: cur.id,
          startedAt: cur.startedAt || cur.createdAt,
          running: cur.state === 'CONTAINER_RUNNING',
        });
    }
    this.#prober.update(w.pod, instances, this.#syncer.podIP(w.pod, rt));
  }

  /** The pod with the kubelet's last status as the old status (API-owned conditions from the API). */
  #podForStatus(w: Worker): Pod {
    const api = w.pod.status ?? {};
    const last = this.#status.get(w.uid);
    if (!last) return w.pod;
    const conditions: PodCondition[] = [
      ...(last.conditions ?? []).filter((c) => KUBELET_CONDITIONS.has(c.type)),
      ...(api.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type)),
    ];
    const status: PodStatus = { ...last, conditions };
    // The API's own view wins for a terminal phase set by someone else.
    if (terminalPhase(api.phase) && !terminalPhase(last.phase)) status.phase = api.phase;
    return { ...w.pod, status };
  }

  #generate(w: Worker, terminal: boolean): PodStatus {
    return generatePodStatus({
      pod: this.#podForStatus(w),
      runtime: this.#cache.pod(w.uid),
      ready: (id) => this.#prober.ready(id),
      started: (id) => this.#prober.started(id),
      failures: w.st.failures,
      terminal,
      nodeIPs: this.#o.nodeIPs,
      runtimeName: this.#o.runtimeName ?? 'containerd',
      now: this.#clock.now(),
    });
  }

  // ---- PLEG and housekeeping --------------------------------------------------------------------

  #every(ms: number, fn: () => Promise<void>): void {
    let cancel = () => {};
    const tick = () => {
      if (this.#abort.signal.aborted) return;
      void fn()
        .catch((err) => this.#log.warn({ err }, 'periodic task failed'))
        .finally(() => {
          if (!this.#abort.signal.aborted) cancel = this.#clock.setTimeout(tick, ms);
        });
    };
    cancel = this.#clock.setTimeout(tick, ms);
    this.#timers.push(() => cancel());
  }

  async #relist(): Promise<void> {
    if (this.#relisting) return;
    this.#relisting = true;
    try {
      const changed = await this.#cache.relist(this.#abort.signal);
      for (const uid of changed) {
        const w = this.#workers.get(uid);
        if (w) this.#trigger(uid);
      }
    } catch (err) {
      if (!this.#abort.signal.aborted) this.#log.warn({ err }, 'runtime relist failed');
    } finally {
      this.#relisting = false;
    }
  }

  async #housekeep(): Promise<void> {
    if (this.#housekeeping) return;
    this.#housekeeping = true;
    try {
      await this.#cleanupOrphans();
      this.#syncer.backoff.gc();
    } catch (err) {
      if (!this.#abort.signal.aborted) this.#log.warn({ err }, 'housekeeping failed');
    } finally {
      this.#housekeeping = false;
    }
  }

  /** Removes what the runtime, the volume root and the cgroup tree hold for pods not bound here. */
  async #cleanupOrphans(): Promise<void> {
    const known = new Set<string>(this.#workers.keys());
    for (const p of this.#informer.lister().list()) if (p.metadata?.uid) known.add(p.metadata.uid);
    const signal = this.#abort.signal;
    for (const uid of this.#cache.podUids()) {
      if (known.has(uid)) continue;
      this.#log.info({ uid }, 'removing containers of a pod no longer bound to this node');
      await this.#syncer.removeAll(uid, signal);
    }
    for (const uid of await this.#o.volumes.podsOnDisk()) {
      if (!known.has(uid)) await this.#o.volumes.tearDown(uid);
    }
    for (const uid of await this.#o.cgroups.list()) {
      if (!known.has(uid)) await this.#o.cgroups.remove(uid);
    }
    // Log directories `<ns>_<name>_<uid>` of pods gone (names and UIDs hold no "_").
    let dirs: string[] = [];
    try {
      dirs = await readdir(this.#logRoot);
    } catch {
      dirs = [];
    }
    for (const d of dirs) {
      const parts = d.split('_');
      if (parts.length !== 3 || known.has(parts[2]!)) continue;
      await rm(join(this.#logRoot, d), { recursive: true, force: true });
    }
  }

  get #logRoot(): string {
    return this.#o.podLogRoot ?? '/var/log/pods';
  }
}
