/**
 * SimCluster: simulated nodes, like KWOK — Nodes, Leases and pod lifecycles with no containers, all
 * through the API, so the control plane sees what it would see of real kubelets.
 *
 * - registers N Nodes (capacity, labels, taints, addresses, nodeInfo, Ready conditions) and a Lease
 *   each in kube-node-lease (adopting ones that exist, so a restarted simulator picks its nodes up);
 * - keeps them alive: each Lease renewed every 10 s, each Node's conditions re-posted every minute
 *   (at once when someone else — the node lifecycle controller — set them otherwise), spread evenly
 *   over the interval by timer wheels driven by one clock timer, with a bounded number of requests
 *   in flight (a renewal still pending when the next is due is skipped);
 * - plays the kubelet for pods bound to its nodes, watched through one pod informer
 *   (spec.nodeName!=) indexed by node: Pending → Running with a pod IP from the node's
 *   spec.podCIDRs (or a stand-in /24); run-to-completion pods (a Job's, restartPolicy Never or
 *   OnFailure) → Succeeded after `podRunSeconds`; a pod being deleted is removed (gracePeriodSeconds
 *   0) once its deletionGracePeriodSeconds have passed;
 * - `fail(node)` stops a node's heartbeats and pod handling (its kubelet is gone); `recover(node)`
 *   resumes them.
 */
import { ApiError } from '../api/errors.ts';
import { SharedInformer } from '../client/informer.ts';
import { LEASES, NODES, PODS } from '../client/resources.ts';
import { isApiError } from '../client/rest.ts';
import type { RestClient } from '../client/types.ts';
import { RateLimitingQueue } from '../client/workqueue.ts';
import { type Clock, sleep, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { fallbackPodCIDR, hostIP, PodIPAllocator } from './addresses.ts';
import {
  buildLease,
  buildNode,
  microTime,
  NODE_LEASE_NAMESPACE,
  type NodeTemplate,
  nodeConditions,
  runningStatus,
  runsToCompletion,
  succeededStatus,
} from './objects.ts';
import type { Lease, SimNodeObject, SimPod, Taint } from './types.ts';
import { Semaphore, TimerWheel } from './wheel.ts';

export interface SimClusterOptions {
  client: RestClient;
  /** How many nodes. */
  nodes: number;
  /** Node names are `<prefix><index>`; default "sim-". */
  namePrefix?: string;
  /** Capacity (and allocatable): cpu "32", memory "256Gi", pods 110, ephemeral-storage "1Ti". */
  cpu?: string;
  memory?: string;
  pods?: number;
  ephemeralStorage?: string;
  /** kubernetes.io/arch; default amd64. */
  arch?: string;
  /** Extra node labels. */
  labels?: Record<string, string>;
  /** Node taints. */
  taints?: Taint[];
  /** How long run-to-completion pods run, s (5). */
  podRunSeconds?: number;
  /** Lease spec.leaseDurationSeconds (40). */
  leaseDurationSeconds?: number;
  /** How often each Lease is renewed, ms (10 s). */
  leaseRenewIntervalMs?: number;
  /** How often each Node's conditions are re-posted, ms (60 s). */
  statusUpdateIntervalMs?: number;
  /** Timer wheel resolution, ms (100). */
  tickMs?: number;
  /** Requests in flight at most, for heartbeats and for pods each (32). */
  maxInFlight?: number;
  /** Pods handled at once (16). */
  podWorkers?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface SimStats {
  nodes: number;
  registered: number;
  failed: number;
  podsRunning: number;
  podsSucceeded: number;
  podsDeleted: number;
  leaseRenewals: number;
  /** Renewals skipped because the previous one of that node was still in flight. */
  leaseRenewalsSkipped: number;
  statusUpdates: number;
  errors: number;
}

interface NodeState {
  name: string;
  index: number;
  address: string;
  uid?: string;
  lease?: Lease;
  registered: boolean;
  failed: boolean;
  gone: boolean;
  leaseBusy: boolean;
  statusBusy: boolean;
  /** When the conditions last changed (lastTransitionTime). */
  since: number;
  ips: PodIPAllocator;
}

interface PodState {
  uid: string;
  node: string;
  ips: string[];
  /** When we reported it Running (ms). */
  started?: number;
  deleteSeen?: number;
  done: boolean;
}

const BY_NODE = 'spec.nodeName';

export class SimCluster {
  readonly nodeNames: readonly string[];
  readonly #o: SimClusterOptions;
  readonly #client: RestClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #template: NodeTemplate;
  readonly #nodes = new Map<string, NodeState>();
  readonly #pods = new Map<string, PodState>();
  readonly #leaseWheel: TimerWheel;
  readonly #statusWheel: TimerWheel;
  readonly #heartbeats: Semaphore;
  readonly #podCalls: Semaphore;
  readonly #queue: RateLimitingQueue;
  readonly #podInformer: SharedInformer<SimPod>;
  readonly #nodeInformer: SharedInformer<SimNodeObject>;
  readonly #tickMs: number;
  #tick = 0;
  #t0 = 0;
  #cancelTick = () => {};
  #signal: AbortSignal | null = null;
  #workers: Promise<void>[] = [];
  readonly #stats: SimStats;

  constructor(opts: SimClusterOptions) {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 0)
      throw new Error(`nodes must be a count, got ${opts.nodes}`);
    this.#o = opts;
    this.#client = opts.client;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
    this.#template = {
      cpu: opts.cpu ?? '32',
      memory: opts.memory ?? '256Gi',
      pods: opts.pods ?? 110,
      ephemeralStorage: opts.ephemeralStorage ?? '1Ti',
      arch: opts.arch ?? 'amd64',
      labels: opts.labels ?? {},
      taints: opts.taints ?? [],
    };
    const prefix = opts.namePrefix ?? 'sim-';
    const names: string[] = [];
    for (let i = 0; i < opts.nodes; i++) {
      const name = `${prefix}${i}`;
      names.push(name);
      const ips = new PodIPAllocator();
      ips.setCIDRs([fallbackPodCIDR(prefix, i)]);
      this.#nodes.set(name, {
        name,
        index: i,
        address: hostIP(prefix, i),
        registered: false,
        failed: false,
        gone: false,
        leaseBusy: false,
        statusBusy: false,
        since: 0,
        ips,
      });
    }
    this.nodeNames = names;
    this.#tickMs = opts.tickMs ?? 100;
    this.#leaseWheel = new TimerWheel(opts.leaseRenewIntervalMs ?? 10_000, this.#tickMs);
    this.#statusWheel = new TimerWheel(opts.statusUpdateIntervalMs ?? 60_000, this.#tickMs);
    this.#heartbeats = new Semaphore(opts.maxInFlight ?? 32);
    this.#podCalls = new Semaphore(opts.maxInFlight ?? 32);
    this.#queue = new RateLimitingQueue({ clock: this.#clock, baseDelayMs: 100, maxDelayMs: 30_000 });
    const informerOpts = { clock: this.#clock, logger: this.#log };
    this.#podInformer = new SharedInformer<SimPod>(this.#client, PODS, {
      ...informerOpts,
      fieldSelector: 'spec.nodeName!=',
    });
    this.#podInformer.addIndexers({ [BY_NODE]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) });
    this.#nodeInformer = new SharedInformer<SimNodeObject>(this.#client, NODES, informerOpts);
    this.#stats = {
      nodes: opts.nodes,
      registered: 0,
      failed: 0,
      podsRunning: 0,
      podsSucceeded: 0,
      podsDeleted: 0,
      leaseRenewals: 0,
      leaseRenewalsSkipped: 0,
      statusUpdates: 0,
      errors: 0,
    };
  }

  stats(): SimStats {
    let running = 0;
    for (const p of this.#pods.values()) if (p.started !== undefined && !p.done) running++;
    let failed = 0;
    for (const n of this.#nodes.values()) if (n.failed) failed++;
    return { ...this.#stats, podsRunning: running, failed };
  }

  /**
   * Registers every node and starts keeping them alive; resolves once all are registered and the
   * informers have synced. Everything stops when `signal` aborts (see stopped()).
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#signal) throw new Error('the simulator is already started');
    this.#signal = signal;
    signal.addEventListener(
      'abort',
      () => {
        this.#cancelTick();
        this.#queue.shutDown();
      },
      { once: true },
    );
    this.#nodeInformer.addEventHandler({
      onAdd: (n) => this.#nodeSeen(n),
      onUpdate: (_, n) => this.#nodeSeen(n),
      onDelete: (n) => this.#nodeDeleted(n),
    });
    this.#podInformer.addEventHandler({
      onAdd: (p) => this.#podSeen(p),
      onUpdate: (_, p) => this.#podSeen(p),
      onDelete: (p) => this.#podDeleted(p),
    });
    this.#nodeInformer.run(signal);
    this.#podInformer.run(signal);
    const workers = this.#o.podWorkers ?? 16;
    for (let i = 0; i < workers; i++) this.#workers.push(this.#worker());
    this.#t0 = this.#clock.now();
    this.#scheduleTick();
    await Promise.all([...this.#nodes.values()].map((n) => this.#register(n, signal)));
    if (signal.aborted) return;
    await Promise.all([this.#nodeInformer.synced(), this.#podInformer.synced()]);
    this.#log.info({ nodes: this.#stats.registered }, 'simulated nodes registered');
  }

  /** Resolves once the pod workers have ended (after the start signal aborted). */
  async stopped(): Promise<void> {
    await Promise.all(this.#workers);
    await Promise.all([this.#nodeInformer.stopped(), this.#podInformer.stopped()]);
  }

  /** Resolves once no heartbeat or pod request is in flight or waiting (tests, benchmarks). */
  async idle(): Promise<void> {
    await Promise.all([this.#heartbeats.idle(), this.#podCalls.idle()]);
  }

  /** Stops heartbeats and pod handling of `name`, as if its kubelet died. */
  fail(name: string): void {
    const n = this.#node(name);
    n.failed = true;
    this.#log.info({ node: name }, 'simulated node failed');
  }

  /** Resumes a failed node: heartbeats at once, then its pods. */
  recover(name: string): void {
    const n = this.#node(name);
    if (!n.failed) return;
    n.failed = false;
    n.since = this.#clock.now();
    this.#log.info({ node: name }, 'simulated node recovered');
    this.#renewLease(n);
    this.#postStatus(n);
    for (const p of this.#podInformer.lister().byIndex(BY_NODE, name)) this.#queue.add(podKey(p));
  }

  #node(name: string): NodeState {
    const n = this.#nodes.get(name);
    if (!n) throw new Error(`no simulated node ${JSON.stringify(name)}`);
    return n;
  }

  // --- registration and heartbeats ---

  async #register(n: NodeState, signal: AbortSignal): Promise<void> {
    let delay = 500;
    while (!signal.aborted) {
      try {
        await this.#heartbeats.run(() => this.#registerOnce(n));
        n.registered = true;
        this.#stats.registered++;
        this.#leaseWheel.add(n.name);
        this.#statusWheel.add(n.name);
        return;
      } catch (err) {
        this.#stats.errors++;
        this.#log.warn({ err, node: n.name, retryInMs: delay }, 'registering a simulated node failed');
        await sleep(this.#clock, delay, signal).catch(() => {});
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  async #registerOnce(n: NodeState): Promise<void> {
    const now = this.#clock.now();
    n.since = now;
    let node: SimNodeObject;
    try {
      node = await this.#client.create(NODES, '', buildNode(n.name, n.address, this.#template, now));
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
      // Ours from an earlier run (or someone's): adopt it and post our status.
      node = await this.#client.patch<SimNodeObject>(
        NODES,
        '',
        n.name,
        'strategic',
        { status: { conditions: nodeConditions(now, now) } },
        { subresource: 'status' },
      );
    }
    n.uid = node.metadata.uid;
    this.#nodeCIDRs(n, node);
    const lease = buildLease(n.name, n.uid, this.#o.leaseDurationSeconds ?? 40, now);
    try {
      n.lease = await this.#client.create(LEASES, NODE_LEASE_NAMESPACE, lease);
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
      n.lease = await this.#client.get<Lease>(LEASES, NODE_LEASE_NAMESPACE, n.name);
    }
  }

  #scheduleTick(): void {
    if (this.#signal?.aborted) return;
    const at = this.#t0 + (this.#tick + 1) * this.#tickMs;
    this.#cancelTick = this.#clock.setTimeout(() => this.#onTick(), Math.max(0, at - this.#clock.now()));
  }

  #onTick(): void {
    if (this.#signal?.aborted) return;
    this.#tick++;
    for (const name of this.#leaseWheel.due(this.#tick)) {
      const n = this.#nodes.get(name);
      if (n) this.#renewLease(n);
    }
    for (const name of this.#statusWheel.due(this.#tick)) {
      const n = this.#nodes.get(name);
      if (n) this.#postStatus(n);
    }
    this.#scheduleTick();
  }

  #renewLease(n: NodeState): void {
    if (n.failed || n.gone || !n.registered) return;
    if (n.leaseBusy) {
      this.#stats.leaseRenewalsSkipped++;
      return;
    }
    n.leaseBusy = true;
    void this.#heartbeats
      .run(() => this.#renewOnce(n))
      .then(
        () => {
          this.#stats.leaseRenewals++;
        },
        (err) => {
          this.#stats.errors++;
          this.#log.debug({ err, node: n.name }, 'renewing a lease failed');
        },
      )
      .finally(() => {
        n.leaseBusy = false;
      });
  }

  async #renewOnce(n: NodeState): Promise<void> {
    if (n.failed || n.gone) return;
    const now = this.#clock.now();
    const renewed = (lease: Lease): Lease => ({
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: n.name,
        leaseDurationSeconds: this.#o.leaseDurationSeconds ?? 40,
        renewTime: microTime(now),
      },
    });
    try {
      if (!n.lease) throw ApiError.notFound({ group: 'coordination.k8s.io', resource: 'leases' }, n.name);
      n.lease = await this.#client.update(LEASES, NODE_LEASE_NAMESPACE, renewed(n.lease));
    } catch (err) {
      if (isApiError(err, 409)) {
        const fresh = await this.#client.get<Lease>(LEASES, NODE_LEASE_NAMESPACE, n.name);
        n.lease = await this.#client.update(LEASES, NODE_LEASE_NAMESPACE, renewed(fresh));
      } else if (isApiError(err, 404)) {
        n.lease = await this.#client.create(
          LEASES,
          NODE_LEASE_NAMESPACE,
          buildLease(n.name, n.uid, this.#o.leaseDurationSeconds ?? 40, now),
        );
      } else {
        throw err;
      }
    }
  }

  #postStatus(n: NodeState): void {
    if (n.failed || n.gone || !n.registered || n.statusBusy) return;
    n.statusBusy = true;
    void this.#heartbeats
      .run(async () => {
        if (n.failed || n.gone) return;
        const now = this.#clock.now();
        await this.#client.patch(
          NODES,
          '',
          n.name,
          'strategic',
          { status: { conditions: nodeConditions(now, n.since) } },
          { subresource: 'status' },
        );
        this.#stats.statusUpdates++;
      })
      .catch((err) => {
        if (isApiError(err, 404)) return this.#forgetNode(n);
        this.#stats.errors++;
        this.#log.debug({ err, node: n.name }, 'posting node status failed');
      })
      .finally(() => {
        n.statusBusy = false;
      });
  }

  #nodeSeen(obj: SimNodeObject): void {
    const n = this.#nodes.get(obj.metadata.name ?? '');
    if (!n || n.gone) return;
    if (n.uid && obj.metadata.uid && n.uid !== obj.metadata.uid) return;
    this.#nodeCIDRs(n, obj);
    // Someone else (the node lifecycle controller) changed our conditions: report ours at once.
    const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
    if (n.registered && !n.failed && ready && ready.status !== 'True') {
      n.since = this.#clock.now();
      this.#postStatus(n);
    }
  }

  #nodeCIDRs(n: NodeState, obj: SimNodeObject): void {
    const cidrs = obj.spec?.podCIDRs?.length
      ? obj.spec.podCIDRs
      : obj.spec?.podCIDR
        ? [obj.spec.podCIDR]
        : [];
    if (cidrs.length > 0) n.ips.setCIDRs(cidrs);
  }

  #nodeDeleted(obj: SimNodeObject): void {
    const n = this.#nodes.get(obj.metadata.name ?? '');
    if (n?.registered && (!n.uid || n.uid === obj.metadata.uid)) this.#forgetNode(n);
  }

  #forgetNode(n: NodeState): void {
    if (n.gone) return;
    n.gone = true;
    this.#leaseWheel.remove(n.name);
    this.#statusWheel.remove(n.name);
    this.#log.warn({ node: n.name }, 'simulated node was deleted; no longer simulating it');
  }

  // --- pods ---

  #podSeen(pod: SimPod): void {
    const n = this.#nodes.get(pod.spec?.nodeName ?? '');
    if (!n) return;
    const key = podKey(pod);
    const st = this.#pods.get(key);
    // Pods found running (by an earlier simulator): keep their addresses.
    if (!st && pod.status?.phase === 'Running' && !pod.spec?.hostNetwork) {
      const ips = (pod.status.podIPs ?? []).map((x) => x.ip);
      n.ips.reserve(ips);
      const started = Date.parse(pod.status.startTime ?? '');
      this.#pods.set(key, {
        uid: pod.metadata.uid ?? '',
        node: n.name,
        ips,
        started: Number.isNaN(started) ? this.#clock.now() : started,
        done: false,
      });
    }
    this.#queue.add(key);
  }

  #podDeleted(pod: SimPod): void {
    const key = podKey(pod);
    const st = this.#pods.get(key);
    if (!st) return;
    this.#forgetPod(key, st);
  }

  #forgetPod(key: string, st: PodState): void {
    this.#nodes.get(st.node)?.ips.release(st.ips);
    this.#pods.delete(key);
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      try {
        const after = await this.#syncPod(key);
        this.#queue.forget(key);
        if (after !== undefined) this.#queue.addAfter(key, after);
      } catch (err) {
        if (!this.#signal?.aborted) {
          this.#stats.errors++;
          this.#log.debug({ err, pod: key }, 'simulated kubelet: pod sync failed; retrying');
          this.#queue.addRateLimited(key);
        }
      } finally {
        this.#queue.done(key);
      }
    }
  }

  /** Moves one pod along its lifecycle; returns ms until it should be looked at again. */
  async #syncPod(key: string): Promise<number | undefined> {
    const pod = this.#podInformer.lister().get(key);
    let st = this.#pods.get(key);
    if (!pod) {
      if (st) this.#forgetPod(key, st);
      return undefined;
    }
    const n = this.#nodes.get(pod.spec?.nodeName ?? '');
    if (!n?.registered || n.gone || n.failed) return undefined;
    const uid = pod.metadata.uid ?? '';
    if (st && st.uid !== uid) {
      this.#forgetPod(key, st);
      st = undefined;
    }
    if (!st) {
      st = { uid, node: n.name, ips: [], done: false };
      this.#pods.set(key, st);
    }
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const now = this.#clock.now();

    if (pod.metadata.deletionTimestamp) {
      st.deleteSeen ??= now;
      const due = st.deleteSeen + (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
      if (now < due) return due - now;
      try {
        await this.#podCalls.run(() =>
          this.#client.delete(PODS, ns, name, { gracePeriodSeconds: 0, preconditions: { uid } }),
        );
        this.#stats.podsDeleted++;
      } catch (err) {
        if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
      }
      return undefined;
    }

    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      if (!st.done) {
        st.done = true;
        n.ips.release(st.ips);
      }
      return undefined;
    }

    if (st.started === undefined) {
      let podIPs: string[];
      if (pod.spec?.hostNetwork) podIPs = [n.address];
      else {
        if (st.ips.length === 0) st.ips = n.ips.allocate();
        if (st.ips.length === 0) throw new Error(`no pod IP left on node ${n.name}`);
        podIPs = st.ips;
      }
      const status = runningStatus(pod, { podIPs, hostIP: n.address, now });
      await this.#podCalls.run(() =>
        this.#client.patch(PODS, ns, name, 'merge', { status }, { subresource: 'status' }),
      );
      st.started = now;
    }

    if (!runsToCompletion(pod)) return undefined;
    const due = st.started + (this.#o.podRunSeconds ?? 5) * 1000;
    if (now < due) return due - now;
    // Our Running report may not be back in the cache yet: complete from what it said.
    const running =
      pod.status?.phase === 'Running'
        ? pod
        : { ...pod, status: runningStatus(pod, { podIPs: st.ips, hostIP: n.address, now: st.started }) };
    const status = succeededStatus(running, now);
    await this.#podCalls.run(() =>
      this.#client.patch(PODS, ns, name, 'merge', { status }, { subresource: 'status' }),
    );
    st.done = true;
    this.#stats.podsSucceeded++;
    n.ips.release(st.ips);
    return undefined;
  }
}

function podKey(p: SimPod): string {
  return `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
}
