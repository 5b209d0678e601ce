/**
 * The node lifecycle controller (kube-controller-manager's node-lifecycle-controller):
 *
 * - monitors node health every --node-monitor-period (5 s): a node whose Ready condition heartbeat
 *   and whose Lease (kube-node-lease/<node>) renewTime have not moved for --node-monitor-grace-period
 *   (60 s --node-startup-grace-period before it first posts Ready) gets Ready, MemoryPressure,
 *   DiskPressure and PIDPressure set to Unknown ("NodeStatusUnknown", "Kubelet stopped posting node
 *   status."), and the Ready condition of its pods set to False;
 * - taints nodes NoExecute by their Ready condition — node.kubernetes.io/not-ready (False) or
 *   node.kubernetes.io/unreachable (Unknown), timeAdded set — through per-zone queues drained at
 *   --node-eviction-rate (0.1/s; --secondary-node-eviction-rate 0.01/s when a large zone is mostly
 *   unhealthy, none when a small one is); removes them once the node is Ready again; when every node
 *   of every zone is not Ready it removes them all and stops (master disruption mode);
 * - keeps the NoSchedule taints of node conditions (TaintNodesByCondition) and spec.unschedulable
 *   in step, and the beta os/arch labels equal to the stable ones.
 *
 * Keys of its queue: node names (NoSchedule taints and labels), `namespace/name` of pods newly on a
 * node (marked not ready when the node is not), and two passes that requeue themselves.
 */

import { LEASES, NODES, PODS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { Informer, Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { EventRecorder } from './events.ts';
import { markPodsNotReady, nodeCondition, swapNodeTaints } from './nodes.ts';
import { podsOnNode, usePodsByNode } from './pods.ts';
import { parseTime, rfc3339, sameTaint, taintExists } from './taints.ts';
import {
  type Lease,
  NODE_LEASE_NAMESPACE,
  type Node,
  type NodeCondition,
  type Pod,
  TAINT_NODE_DISK_PRESSURE,
  TAINT_NODE_MEMORY_PRESSURE,
  TAINT_NODE_NETWORK_UNAVAILABLE,
  TAINT_NODE_NOT_READY,
  TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE,
  TAINT_NODE_UNSCHEDULABLE,
  type Taint,
} from './types.ts';
import { computeZoneState, RateLimitedTimedQueue, TokenBucket, type ZoneState, zoneKey } from './zones.ts';

export const UNREACHABLE_TAINT: Taint = { key: TAINT_NODE_UNREACHABLE, effect: 'NoExecute' };
export const NOT_READY_TAINT: Taint = { key: TAINT_NODE_NOT_READY, effect: 'NoExecute' };

/** nodeConditionToTaintKeyStatusMap */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NODE_NOT_READY, Unknown: TAINT_NODE_UNREACHABLE },
  MemoryPressure: { True: TAINT_NODE_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_NODE_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NODE_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_NODE_PID_PRESSURE },
};
const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)));

/** The conditions set to Unknown when the kubelet goes quiet (not NetworkUnavailable). */
const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

/** Beta labels kept equal to the stable ones (labelReconcileInfo). */
const LABEL_PAIRS: [string, string][] = [
  ['kubernetes.io/os', 'beta.kubernetes.io/os'],
  ['kubernetes.io/arch', 'beta.kubernetes.io/arch'],
];

const EXCLUDE_DISRUPTION_LABEL = 'node.kubernetes.io/exclude-disruption';
const MONITOR_KEY = '$monitor-node-health';
const TAINT_PASS_KEY = '$no-execute-tainting';
const HEALTH_UPDATE_RETRIES = 5;
/** How many nodes a monitor pass handles at once (nodeUpdateWorkerSize). */
const PARALLELISM = 8;

export interface NodeLifecycleOptions {
  /** --node-monitor-period, ms (5 s). */
  nodeMonitorPeriodMs?: number;
  /** --node-startup-grace-period, ms (60 s): for nodes that never posted Ready. */
  nodeStartupGracePeriodMs?: number;
  /** --node-eviction-rate, nodes tainted per second per zone (0.1). */
  nodeEvictionRate?: number;
  /** --secondary-node-eviction-rate (0.01). */
  secondaryNodeEvictionRate?: number;
  /** --large-cluster-size-threshold (50). */
  largeClusterSizeThreshold?: number;
  /** --unhealthy-zone-threshold (0.55). */
  unhealthyZoneThreshold?: number;
}

interface NodeHealth {
  /** Local time the node last showed a sign of life. */
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  /** The Ready condition last observed (or written). */
  ready: NodeCondition | undefined;
  leaseRenewTime: number | undefined;
}

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle-controller';
  readonly workers = 4;
  readonly #o: Required<NodeLifecycleOptions>;
  #ctx!: ControllerContext;
  #nodes!: Lister<Node>;
  #leases!: Lister<Lease>;
  #pods!: Informer<Pod>;
  #events!: EventRecorder;
  readonly #known = new Map<string, Node>();
  readonly #health = new Map<string, NodeHealth>();
  readonly #retry = new Set<string>();
  readonly #zoneStates = new Map<string, ZoneState>();
  readonly #tainters = new Map<string, RateLimitedTimedQueue>();

  constructor(opts: NodeLifecycleOptions = {}) {
    this.#o = {
      nodeMonitorPeriodMs: opts.nodeMonitorPeriodMs ?? 5_000,
      nodeStartupGracePeriodMs: opts.nodeStartupGracePeriodMs ?? 60_000,
      nodeEvictionRate: opts.nodeEvictionRate ?? 0.1,
      secondaryNodeEvictionRate: opts.secondaryNodeEvictionRate ?? 0.01,
      largeClusterSizeThreshold: opts.largeClusterSizeThreshold ?? 50,
      unhealthyZoneThreshold: opts.unhealthyZoneThreshold ?? 0.55,
    };
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#events = new EventRecorder(ctx.client, ctx.clock, ctx.log, 'node-controller');
    const nodes = ctx.informers.informer<Node>(NODES);
    this.#nodes = nodes.lister();
    this.#leases = ctx.informers.informer<Lease>(LEASES).lister();
    this.#pods = ctx.informers.informer<Pod>(PODS);
    usePodsByNode(this.#pods);
    nodes.addEventHandler({
      onAdd: (n) => ctx.queue.add(n.metadata.name ?? ''),
      onUpdate: (_, n) => ctx.queue.add(n.metadata.name ?? ''),
    });
    this.#pods.addEventHandler({
      onAdd: (p) => this.#podUpdated(undefined, p),
      onUpdate: (a, b) => this.#podUpdated(a, b),
    });
    ctx.queue.add(MONITOR_KEY);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    if (key === MONITOR_KEY) {
      try {
        await this.monitorNodeHealth();
      } catch (err) {
        this.#ctx.log.warn({ err }, 'monitoring node health failed');
      }
      return { requeueAfterMs: this.#o.nodeMonitorPeriodMs };
    }
    if (key === TAINT_PASS_KEY) {
      const wait = await this.#noExecuteTaintingPass();
      return Number.isFinite(wait) ? { requeueAfterMs: Math.max(wait, 10) } : undefined;
    }
    if (key.includes('/')) {
      await this.#processPod(key);
      return undefined;
    }
    await this.#noScheduleTaintingPass(key);
    await this.#reconcileLabels(key);
    return undefined;
  }

  #podUpdated(oldPod: Pod | undefined, pod: Pod): void {
    const node = pod.spec?.nodeName;
    if (node && node !== oldPod?.spec?.nodeName) {
      this.#ctx.queue.add(`${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`);
    }
  }

  /** One pass over every node (monitorNodeHealth). Exposed for tests. */
  async monitorNodeHealth(): Promise<void> {
    const nodes = this.#nodes.list();
    const seen = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata.name ?? '';
      seen.add(name);
      if (this.#known.has(name)) {
        if (!this.#zoneStates.has(zoneKey(node))) this.#addZone(node);
        continue;
      }
      this.#ctx.log.debug({ node: name }, 'observed a new node');
      void this.#nodeEvent(node, 'RegisteredNode', `Registered Node ${name} in Controller`);
      this.#known.set(name, node);
      this.#addZone(node);
      await this.#markNodeAsReachable(node);
    }
    for (const [name, node] of this.#known) {
      if (seen.has(name)) continue;
      this.#ctx.log.debug({ node: name }, 'observed a node deletion');
      void this.#nodeEvent(node, 'RemovingNode', `Removing Node ${name} from Controller`);
      this.#known.delete(name);
      this.#health.delete(name);
      this.#retry.delete(name);
      this.#tainters.get(zoneKey(node))?.remove(name);
    }

    const zoneConditions = new Map<string, (NodeCondition | undefined)[]>();
    let next = 0;
    const worker = async () => {
      while (next < nodes.length) {
        const node = nodes[next++]!;
        try {
          await this.#monitorNode(node, zoneConditions);
        } catch (err) {
          this.#ctx.log.warn({ err, node: node.metadata.name }, 'updating node health failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLELISM, nodes.length) }, worker));
    await this.#handleDisruption(zoneConditions, nodes);
  }

  async #monitorNode(node: Node, zoneConditions: Map<string, (NodeCondition | undefined)[]>): Promise<void> {
    const name = node.metadata.name ?? '';
    let current = node;
    let result: { observed: NodeCondition; current: NodeCondition | undefined; node: Node } | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        result = await this.#tryUpdateNodeHealth(current);
        break;
      } catch (err) {
        if (attempt + 1 >= HEALTH_UPDATE_RETRIES || isApiError(err, 404)) {
          this.#ctx.log.warn({ err, node: name }, 'could not update node health; no pods will be evicted');
          return;
        }
        current = await this.#ctx.client.get<Node>(NODES, '', name);
      }
    }
    const { observed, current: ready } = result;
    if (!node.metadata.labels?.[EXCLUDE_DISRUPTION_LABEL]) {
      const zone = zoneKey(node);
      const list = zoneConditions.get(zone) ?? [];
      list.push(ready);
      zoneConditions.set(zone, list);
    }
    if (!ready) {
      this.#retry.delete(name);
      return;
    }
    await this.#processTaintBasedEviction(result.node, observed);
    const needsRetry = this.#retry.has(name);
    const becameNotReady = ready.status !== 'True' && observed.status === 'True';
    if (becameNotReady) {
      void this.#nodeEvent(node, 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    if (becameNotReady || (needsRetry && observed.status !== 'True')) {
      try {
        const changed = await markPodsNotReady(
          this.#ctx.client,
          podsOnNode(this.#pods, name),
          name,
          this.#ctx.clock.now(),
        );
        for (const pod of changed) void this.#podEvent(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        this.#ctx.log.debug({ err, node: name }, 'could not mark all pods not ready; will retry');
        this.#retry.add(name);
        return;
      }
    }
    this.#retry.delete(name);
  }

  /**
   * tryUpdateNodeHealth: works out when the node last showed a sign of life (Ready heartbeat or
   * Lease renewal, in local time) and, past the grace period, writes its kubelet conditions Unknown.
   */
  async #tryUpdateNodeHealth(
    node: Node,
  ): Promise<{ observed: NodeCondition; current: NodeCondition | undefined; node: Node }> {
    const name = node.metadata.name ?? '';
    const now = this.#ctx.clock.now();
    const created = parseTime(node.metadata.creationTimestamp) ?? now;
    let health = this.#health.get(name);
    let current = nodeCondition(node, 'Ready');
    let observed: NodeCondition;
    let gracePeriod: number;
    if (!current) {
      observed = {
        type: 'Ready',
        status: 'Unknown',
        lastHeartbeatTime: node.metadata.creationTimestamp ?? null,
        lastTransitionTime: node.metadata.creationTimestamp ?? null,
      };
      gracePeriod = this.#o.nodeStartupGracePeriodMs;
      health ??= {
        probeTimestamp: created,
        readyTransitionTimestamp: created,
        ready: undefined,
        leaseRenewTime: undefined,
      };
    } else {
      observed = { ...current };
      gracePeriod = this.#ctx.options.nodeMonitorGracePeriodMs;
    }
    const saved = health?.ready;
    const savedLease = health?.leaseRenewTime;
    if (!health || (!saved && current) || (saved && !current)) {
      health = {
        probeTimestamp: now,
        readyTransitionTimestamp: now,
        ready: current,
        leaseRenewTime: undefined,
      };
    } else if (saved && current && saved.lastHeartbeatTime !== current.lastHeartbeatTime) {
      const transition =
        saved.lastTransitionTime !== current.lastTransitionTime ? now : health.readyTransitionTimestamp;
      health = {
        probeTimestamp: now,
        readyTransitionTimestamp: transition,
        ready: current,
        leaseRenewTime: savedLease,
      };
    }
    // A renewed Lease is a sign of life too.
    const lease = this.#leases.get(`${NODE_LEASE_NAMESPACE}/${name}`);
    const renewed = parseTime(lease?.spec?.renewTime);
    if (renewed !== undefined && (savedLease === undefined || savedLease < renewed)) {
      health.leaseRenewTime = renewed;
      health.probeTimestamp = now;
    }
    this.#health.set(name, health);

    if (now > health.probeTimestamp + gracePeriod) {
      const next = structuredClone(node);
      next.status ??= {};
      next.status.conditions ??= [];
      const conditions = next.status.conditions;
      const stamp = rfc3339(now);
      for (const type of KUBELET_CONDITIONS) {
        const c = conditions.find((x) => x.type === type);
        if (!c) {
          conditions.push({
            type,
            status: 'Unknown',
            reason: 'NodeStatusNeverUpdated',
            message: 'Kubelet never posted node status.',
            lastHeartbeatTime: node.metadata.creationTimestamp ?? null,
            lastTransitionTime: stamp,
          });
        } else if (c.status !== 'Unknown') {
          c.status = 'Unknown';
          c.reason = 'NodeStatusUnknown';
          c.message = 'Kubelet stopped posting node status.';
          c.lastTransitionTime = stamp;
        }
      }
      current = nodeCondition(next, 'Ready');
      if (!sameCondition(current, observed)) {
        const written = await this.#ctx.client.update<Node>(NODES, '', next, { subresource: 'status' });
        this.#ctx.log.info({ node: name }, 'node stopped posting status; conditions set to Unknown');
        this.#health.set(name, {
          probeTimestamp: health.probeTimestamp,
          readyTransitionTimestamp: now,
          ready: nodeCondition(written, 'Ready') ?? current,
          leaseRenewTime: health.leaseRenewTime,
        });
        return { observed, current, node: written };
      }
    }
    return { observed, current, node };
  }

  /** processTaintBaseEviction: NoExecute taints follow the Ready condition seen before this pass. */
  async #processTaintBasedEviction(node: Node, observed: NodeCondition): Promise<void> {
    const name = node.metadata.name ?? '';
    const now = this.#ctx.clock.now();
    const taints = node.spec?.taints;
    switch (observed.status) {
      case 'False':
        if (taintExists(taints, UNREACHABLE_TAINT)) {
          await swapNodeTaints(
            this.#ctx.client,
            this.#nodes,
            name,
            [NOT_READY_TAINT],
            [UNREACHABLE_TAINT],
            now,
          );
        } else if (this.#markNodeForTainting(node, 'False')) {
          this.#ctx.log.debug({ node: name }, 'node is NotReady; queued for tainting');
        }
        break;
      case 'Unknown':
        if (taintExists(taints, NOT_READY_TAINT)) {
          await swapNodeTaints(
            this.#ctx.client,
            this.#nodes,
            name,
            [UNREACHABLE_TAINT],
            [NOT_READY_TAINT],
            now,
          );
        } else if (this.#markNodeForTainting(node, 'Unknown')) {
          this.#ctx.log.debug({ node: name }, 'node is unreachable; queued for tainting');
        }
        break;
      case 'True':
        if (await this.#markNodeAsReachable(node)) {
          this.#ctx.log.debug({ node: name }, 'node is healthy again; NoExecute taints removed');
        }
        break;
    }
  }

  #markNodeForTainting(node: Node, status: 'False' | 'Unknown'): boolean {
    const name = node.metadata.name ?? '';
    const zone = zoneKey(node);
    const tainter = this.#tainters.get(zone) ?? this.#addZone(node);
    const template = status === 'False' ? NOT_READY_TAINT : UNREACHABLE_TAINT;
    // The cache may be newer than the pass's snapshot (the tainting pass runs alongside).
    const latest = this.#nodes.get(name) ?? node;
    if (!taintExists(latest.spec?.taints, template)) tainter.remove(name);
    const added = tainter.add(name);
    if (added) this.#ctx.queue.add(TAINT_PASS_KEY);
    return added;
  }

  /** Removes both NoExecute taints (when present) and forgets the node in its zone's queue. */
  async #markNodeAsReachable(node: Node): Promise<boolean> {
    const name = node.metadata.name ?? '';
    const taints = node.spec?.taints;
    if (taintExists(taints, UNREACHABLE_TAINT) || taintExists(taints, NOT_READY_TAINT)) {
      await swapNodeTaints(
        this.#ctx.client,
        this.#nodes,
        name,
        [],
        [UNREACHABLE_TAINT, NOT_READY_TAINT],
        this.#ctx.clock.now(),
      );
    }
    return this.#tainters.get(zoneKey(node))?.remove(name) ?? false;
  }

  #addZone(node: Node): RateLimitedTimedQueue {
    const zone = zoneKey(node);
    let tainter = this.#tainters.get(zone);
    if (!this.#zoneStates.has(zone)) this.#zoneStates.set(zone, 'Initial');
    if (!tainter) {
      const clock = this.#ctx.clock;
      tainter = new RateLimitedTimedQueue(new TokenBucket(this.#o.nodeEvictionRate, 1, clock), clock);
      this.#tainters.set(zone, tainter);
    }
    return tainter;
  }

  /** doNoExecuteTaintingPass; returns ms until it is worth running again. */
  async #noExecuteTaintingPass(): Promise<number> {
    let wait = Number.POSITIVE_INFINITY;
    for (const tainter of this.#tainters.values()) {
      const w = await tainter.try(async (name) => {
        const node = this.#nodes.get(name);
        if (!node) return { done: true };
        const ready = nodeCondition(node, 'Ready');
        if (!ready) return { done: false, retryAfterMs: 50 };
        let add: Taint;
        let remove: Taint;
        if (ready.status === 'False') {
          add = NOT_READY_TAINT;
          remove = UNREACHABLE_TAINT;
        } else if (ready.status === 'Unknown') {
          add = UNREACHABLE_TAINT;
          remove = NOT_READY_TAINT;
        } else {
          return { done: true };
        }
        try {
          const ok = await swapNodeTaints(
            this.#ctx.client,
            this.#nodes,
            name,
            [add],
            [remove],
            this.#ctx.clock.now(),
          );
          if (ok) this.#ctx.log.info({ node: name, taint: add.key }, 'tainted node NoExecute');
          return { done: ok };
        } catch (err) {
          this.#ctx.log.debug({ err, node: name }, 'tainting node failed; will retry');
          return { done: false };
        }
      });
      wait = Math.min(wait, w);
    }
    return wait;
  }

  /** handleDisruption: zone states set the tainting rates; all zones down stops tainting. */
  async #handleDisruption(
    zoneConditions: Map<string, (NodeCondition | undefined)[]>,
    nodes: Node[],
  ): Promise<void> {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, conds] of zoneConditions) {
      const { state } = computeZoneState(conds, this.#o.unhealthyZoneThreshold);
      if (state !== 'FullDisruption') allAreFullyDisrupted = false;
      newStates.set(zone, state);
      if (!this.#zoneStates.has(zone)) this.#zoneStates.set(zone, 'Initial');
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of [...this.#zoneStates]) {
      if (!zoneConditions.has(zone)) {
        this.#zoneStates.delete(zone);
        continue;
      }
      if (state !== 'FullDisruption') {
        allWasFullyDisrupted = false;
        break;
      }
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;
    if (allAreFullyDisrupted) {
      this.#ctx.log.info('every node is not Ready: entering master disruption mode (no NoExecute tainting)');
      for (const node of nodes) {
        try {
          await this.#markNodeAsReachable(this.#nodes.get(node.metadata.name ?? '') ?? node);
        } catch (err) {
          this.#ctx.log.warn({ err, node: node.metadata.name }, 'could not remove taints from node');
        }
      }
      for (const zone of this.#zoneStates.keys()) {
        this.#tainters.get(zone)?.swapLimiter(0);
        this.#zoneStates.set(zone, 'FullDisruption');
      }
      return;
    }
    if (allWasFullyDisrupted) {
      this.#ctx.log.info('some nodes are Ready: leaving master disruption mode');
      const now = this.#ctx.clock.now();
      for (const node of nodes) {
        const h = this.#health.get(node.metadata.name ?? '');
        if (h) {
          h.probeTimestamp = now;
          h.readyTransitionTimestamp = now;
        }
      }
      for (const zone of this.#zoneStates.keys()) {
        const state = newStates.get(zone) ?? 'Normal';
        this.#setZoneRate(zone, zoneConditions.get(zone)?.length ?? 0, state);
        this.#zoneStates.set(zone, state);
      }
      return;
    }
    for (const [zone, state] of this.#zoneStates) {
      const next = newStates.get(zone);
      if (!next || next === state) continue;
      this.#ctx.log.info({ zone, state: next }, 'zone is in a new state');
      this.#setZoneRate(zone, zoneConditions.get(zone)?.length ?? 0, next);
      this.#zoneStates.set(zone, next);
    }
  }

  #setZoneRate(zone: string, size: number, state: ZoneState): void {
    const tainter = this.#tainters.get(zone);
    if (!tainter) return;
    if (state === 'Normal' || state === 'FullDisruption') tainter.swapLimiter(this.#o.nodeEvictionRate);
    else if (state === 'PartialDisruption') {
      tainter.swapLimiter(size > this.#o.largeClusterSizeThreshold ? this.#o.secondaryNodeEvictionRate : 0);
    }
    this.#ctx.queue.add(TAINT_PASS_KEY);
  }

  /** processPod: a pod newly on a node that is not Ready is marked not ready. */
  async #processPod(key: string): Promise<void> {
    const pod = this.#pods.lister().get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    const health = this.#health.get(nodeName);
    if (!health) return;
    if (!this.#nodes.get(nodeName)) throw new Error(`node ${nodeName} of pod ${key} is not in the cache yet`);
    if (!health.ready || health.ready.status === 'True') return;
    await markPodsNotReady(this.#ctx.client, [pod], nodeName, this.#ctx.clock.now());
  }

  /** doNoScheduleTaintingPass: NoSchedule taints mirror the node's conditions and spec.unschedulable. */
  async #noScheduleTaintingPass(name: string): Promise<void> {
    const node = this.#nodes.get(name);
    if (!node) return;
    const want: Taint[] = [];
    for (const c of node.status?.conditions ?? []) {
      const key = CONDITION_TAINTS[c.type]?.[c.status];
      if (key) want.push({ key, effect: 'NoSchedule' });
    }
    if (node.spec?.unschedulable) want.push({ key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' });
    const have = (node.spec?.taints ?? []).filter(
      (t) =>
        t.effect === 'NoSchedule' && (t.key === TAINT_NODE_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key)),
    );
    const add = want.filter((w) => !have.some((h) => sameTaint(h, w)));
    const remove = have.filter((h) => !want.some((w) => sameTaint(h, w)));
    if (add.length === 0 && remove.length === 0) return;
    await swapNodeTaints(this.#ctx.client, this.#nodes, name, add, remove, this.#ctx.clock.now());
  }

  /** reconcileNodeLabels: beta.kubernetes.io/os and /arch follow the stable labels. */
  async #reconcileLabels(name: string): Promise<void> {
    const node = this.#nodes.get(name);
    const labels = node?.metadata.labels;
    if (!labels) return;
    const patch: Record<string, string> = {};
    for (const [primary, secondary] of LABEL_PAIRS) {
      const v = labels[primary];
      if (v !== undefined && labels[secondary] !== v) patch[secondary] = v;
    }
    if (Object.keys(patch).length === 0) return;
    await this.#ctx.client.patch(NODES, '', name, 'merge', { metadata: { labels: patch } });
  }

  #nodeEvent(node: Node, reason: string, message: string): Promise<void> {
    return this.#events.event(
      { kind: 'Node', name: node.metadata.name ?? '', uid: node.metadata.uid },
      'Normal',
      reason,
      message,
    );
  }

  #podEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.#events.event(
      {
        kind: 'Pod',
        name: pod.metadata.name ?? '',
        namespace: pod.metadata.namespace,
        uid: pod.metadata.uid,
      },
      type,
      reason,
      message,
    );
  }
}

function sameCondition(a: NodeCondition | undefined, b: NodeCondition | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.lastHeartbeatTime === b.lastHeartbeatTime &&
    a.lastTransitionTime === b.lastTransitionTime
  );
}
