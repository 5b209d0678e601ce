/**
 * NodeAgent: this node's presence in the cluster, as the kubelet keeps it (kubelet_node_status.go,
 * nodestatus setters, nodelease):
 *
 * - registration: creates the Node (labels, taints, capacity, status); when one of that name
 *   exists it is adopted and only its default labels and the attach-detach annotation are
 *   reconciled (the kubelet's tryRegisterWithAPIServer); retried with back-off until it works;
 * - status: every 10 s the status is recomputed (addresses, capacity, allocatable, nodeInfo,
 *   images, MemoryPressure / DiskPressure / PIDPressure from the eviction manager, Ready from the
 *   runtime) and written when it changed — or at least every 5 min (nodeStatusReportFrequency),
 *   every write refreshing the condition heartbeats; until the node first reports Ready it is
 *   checked every 500 ms; when someone else (the node lifecycle controller) changes a condition
 *   the kubelet owns, the status is written again at once;
 * - the Lease in kube-node-lease, renewed every 10 s (lease.ts);
 * - spec.podCIDR(s), set by the node IPAM controller, reported through onPodCIDR().
 *
 * stop() leaves the Node and the Lease as they are, so the node lifecycle controller sees the
 * node die.
 */
import type { Node, NodeAddress, NodeCondition, NodeStatus, Taint } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.ts';
import { SharedInformer } from '../../client/informer.ts';
import { NODES } from '../../client/resources.ts';
import type { KubeObject, RestClient } from '../../client/types.ts';
import { type Clock, sleep, systemClock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import type { Image, RuntimeCondition } from '../cri/types.ts';
import { computeAllocatable, readCapacity } from './capacity.ts';
import {
  KUBELET_CONDITIONS,
  type NodeEventSink,
  setPressureCondition,
  setReadyCondition,
} from './conditions.ts';
import { chooseNodeIP, goArch, type HostReader, machineIds, osImage, realHost } from './host.ts';
import { NodeLease } from './lease.ts';
import { nodeImages, runtimeErrors, statusHasChanged } from './status.ts';
import { DEFAULT_EVICTION_HARD, parseThresholds, type Threshold } from './thresholds.ts';
import { rfc3339 } from './time.ts';

/** A Node as read from and written to the API. */
export type NodeObject = Node & KubeObject;

/** Where the pressure conditions come from (the eviction manager). */
export interface PressureSource {
  isUnderMemoryPressure(): boolean;
  isUnderDiskPressure(): boolean;
  isUnderPIDPressure(): boolean;
}

export interface NodeAgentOptions {
  client: RestClient;
  nodeName: string;
  /** The kubelet's data dir: its filesystem is the node's ephemeral-storage. */
  rootDir: string;
  /** nodeInfo.kubeletVersion, e.g. "v1.35.0-skiff". */
  kubeletVersion: string;
  /** nodeInfo.kubeProxyVersion (deprecated upstream; default ""). */
  kubeProxyVersion?: string;
  /** nodeInfo.containerRuntimeVersion, e.g. "containerd://1.6.20". */
  runtimeVersion: () => Promise<string>;
  /** CRI Status conditions (RuntimeReady, NetworkReady); Ready follows them. */
  runtimeStatus: () => Promise<RuntimeCondition[]>;
  /** The runtime's images, for node.status.images. */
  images?: () => Promise<Image[]>;
  /** Pressure conditions; default: never under pressure. */
  pressure?: PressureSource;
  /** InternalIP; default: the default-route interface's address, else the first non-loopback one. */
  nodeIP?: string;
  /** daemonEndpoints.kubeletEndpoint.Port (default 10250). */
  kubeletPort?: number;
  /** Default 110. */
  maxPods?: number;
  /** node-role.kubernetes.io/<role> labels, e.g. ["control-plane"]. */
  roles?: string[];
  /** More labels, set at registration. */
  labels?: Record<string, string>;
  /** --register-with-taints. */
  taints?: Taint[];
  /** --register-schedulable=false. */
  unschedulable?: boolean;
  /** system-reserved + kube-reserved, e.g. { cpu: "100m", memory: "256Mi" }. */
  reserved?: Record<string, string>;
  /** Hard eviction thresholds (subtracted from allocatable); default the kubelet's. */
  evictionHard?: Threshold[];
  /** Default 10 s (nodeStatusUpdateFrequency). */
  statusUpdateIntervalMs?: number;
  /** Default 5 min (nodeStatusReportFrequency). */
  statusReportIntervalMs?: number;
  /** Until Ready: default 500 ms. */
  fastStatusIntervalMs?: number;
  leaseDurationSeconds?: number;
  leaseRenewIntervalMs?: number;
  /** How long a runtime callback may take before it counts as failed (default 5 s). */
  runtimeTimeoutMs?: number;
  host?: HostReader;
  clock?: Clock;
  log?: Logger;
  /** Node events the kubelet would record (NodeReady, NodeHasSufficientMemory, …). */
  onEvent?: NodeEventSink;
}

const STATUS_UPDATE_RETRIES = 5;
const CMAD_ANNOTATION = 'volumes.kubernetes.io/controller-managed-attach-detach';
const DEFAULT_LABELS = [
  'kubernetes.io/hostname',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'node.kubernetes.io/instance-type',
  'beta.kubernetes.io/instance-type',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
];

/** Registration did not happen before stop(). */
export class NodeRegistrationError extends Error {
  override name = 'NodeRegistrationError';
}

export class NodeAgent {
  readonly #o: NodeAgentOptions;
  readonly #client: RestClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #host: HostReader;
  readonly #evictionHard: Threshold[];
  readonly #abort = new AbortController();
  readonly lease: NodeLease;
  #node: NodeObject | undefined;
  #ids: Awaited<ReturnType<typeof machineIds>> | undefined;
  #osImage = '';
  #runtimeVersion = '';
  #lastReport = Number.NEGATIVE_INFINITY;
  #posted = new Map<string, string>();
  #everReady = false;
  #cidrs: string[] = [];
  readonly #cidrListeners = new Set<(cidrs: string[]) => void>();
  #syncing: Promise<void> | undefined;
  #resync = false;
  #wake: (() => void) | undefined;

  constructor(opts: NodeAgentOptions) {
    this.#o = opts;
    this.#client = opts.client;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.log ?? silentLogger;
    this.#host = opts.host ?? realHost;
    this.#evictionHard = opts.evictionHard ?? parseThresholds(DEFAULT_EVICTION_HARD);
    this.lease = new NodeLease({
      client: opts.client,
      nodeName: opts.nodeName,
      nodeUid: () => this.#node?.metadata.uid,
      leaseDurationSeconds: opts.leaseDurationSeconds,
      renewIntervalMs: opts.leaseRenewIntervalMs,
      clock: this.#clock,
      log: this.#log,
    });
  }

  /** The Node as last read or written. */
  node(): NodeObject | undefined {
    return this.#node;
  }

  /**
   * Registers the Node (retrying with back-off 100 ms → 7 s), then runs the Lease, the status loop
   * and the Node watch until stop() or `signal`. Resolves with the registered Node; rejects with a
   * NodeRegistrationError when stopped first.
   */
  async start(signal?: AbortSignal): Promise<NodeObject> {
    signal?.addEventListener('abort', () => this.stop(), { once: true });
    const stop = this.#abort.signal;
    this.#ids = await machineIds(this.#host);
    this.#osImage = await osImage(this.#host);
    let delay = 100;
    for (;;) {
      if (stop.aborted)
        throw new NodeRegistrationError(`node ${this.#o.nodeName} was not registered before stop`);
      try {
        this.#node = await this.#register();
        break;
      } catch (err) {
        this.#log.warn({ err, node: this.#o.nodeName }, 'registering the node failed; retrying');
        await sleep(this.#clock, delay, stop).catch(() => undefined);
        delay = Math.min(delay * 2, 7000);
      }
    }
    this.#log.info({ node: this.#o.nodeName }, 'node registered');
    void this.lease.run(stop);
    this.#notifyCidrs(this.#node);
    this.#watch(stop);
    await this.syncNodeStatus().catch((err) => this.#log.warn({ err }, 'updating node status failed'));
    void this.#statusLoop(stop);
    return this.#node;
  }

  /** Stops every loop; the Node and Lease stay as they are. Idempotent. */
  stop(): void {
    this.#abort.abort();
    this.#wake?.();
  }

  /**
   * Calls `cb` with spec.podCIDRs (or [spec.podCIDR]) once known and whenever they change; at once
   * when already known. Returns a function that unsubscribes.
   */
  onPodCIDR(cb: (cidrs: string[]) => void): () => void {
    this.#cidrListeners.add(cb);
    if (this.#cidrs.length > 0) cb([...this.#cidrs]);
    return () => this.#cidrListeners.delete(cb);
  }

  /** Recomputes the status and writes it if it changed (or the report interval passed). Calls made
   * while one runs are folded into one more run. */
  syncNodeStatus(): Promise<void> {
    if (this.#syncing) {
      this.#resync = true;
      return this.#syncing;
    }
    const run = async () => {
      try {
        do {
          this.#resync = false;
          await this.#updateNodeStatus();
        } while (this.#resync && !this.#abort.signal.aborted);
      } finally {
        this.#syncing = undefined;
      }
    };
    this.#syncing = run();
    return this.#syncing;
  }

  async #statusLoop(stop: AbortSignal): Promise<void> {
    const every = this.#o.statusUpdateIntervalMs ?? 10_000;
    const fast = this.#o.fastStatusIntervalMs ?? 500;
    while (!stop.aborted) {
      await new Promise<void>((resolve) => {
        const cancel = this.#clock.setTimeout(resolve, this.#everReady ? every : Math.min(fast, every));
        this.#wake = () => {
          cancel();
          resolve();
        };
      });
      this.#wake = undefined;
      if (stop.aborted) return;
      await this.syncNodeStatus().catch((err) => this.#log.warn({ err }, 'updating node status failed'));
    }
  }

  #watch(stop: AbortSignal): void {
    const informer = new SharedInformer<NodeObject>(this.#client, NODES, {
      fieldSelector: `metadata.name=${this.#o.nodeName}`,
      clock: this.#clock,
      logger: this.#log,
    });
    const seen = (node: NodeObject) => {
      if (node.metadata.name !== this.#o.nodeName) return;
      if (!this.#node || rvNewer(node, this.#node)) this.#node = node;
      this.#notifyCidrs(node);
      // Someone else changed a condition the kubelet owns: post the truth at once.
      const overridden = (node.status?.conditions ?? []).some(
        (c) => this.#posted.has(c.type) && this.#posted.get(c.type) !== c.status,
      );
      if (overridden) void this.syncNodeStatus().catch(() => undefined);
    };
    informer.addEventHandler({ onAdd: seen, onUpdate: (_, n) => seen(n) });
    informer.run(stop);
  }

  #notifyCidrs(node: NodeObject): void {
    const spec = node.spec ?? {};
    const cidrs = spec.podCIDRs?.length ? [...spec.podCIDRs] : spec.podCIDR ? [spec.podCIDR] : [];
    if (cidrs.length === 0 || cidrs.join(',') === this.#cidrs.join(',')) return;
    this.#cidrs = cidrs;
    for (const cb of this.#cidrListeners) {
      try {
        cb([...cidrs]);
      } catch (err) {
        this.#log.warn({ err }, 'a podCIDR listener failed');
      }
    }
  }

  // ---- registration ----

  #defaultLabels(): Record<string, string> {
    const arch = goArch(this.#host.arch());
    return {
      'beta.kubernetes.io/arch': arch,
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': arch,
      'kubernetes.io/hostname': this.#o.nodeName.toLowerCase(),
      'kubernetes.io/os': 'linux',
    };
  }

  /** initialNode. */
  async #initialNode(): Promise<NodeObject> {
    const taints = [...(this.#o.taints ?? [])];
    if (
      this.#o.unschedulable &&
      !taints.some((t) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule')
    ) {
      taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
    }
    const roles = Object.fromEntries((this.#o.roles ?? []).map((r) => [`node-role.kubernetes.io/${r}`, '']));
    const node: NodeObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: this.#o.nodeName,
        labels: { ...this.#defaultLabels(), ...roles, ...this.#o.labels },
        annotations: { [CMAD_ANNOTATION]: 'true' },
      },
      spec: {
        ...(taints.length > 0 ? { taints } : {}),
        ...(this.#o.unschedulable ? { unschedulable: true } : {}),
      },
    };
    return { ...node, status: await this.#computeStatus(node) };
  }

  async #register(): Promise<NodeObject> {
    const node = await this.#initialNode();
    try {
      const created = await this.#client.create<NodeObject>(NODES, '', node);
      this.#rememberPosted(created.status);
      this.#lastReport = this.#clock.now();
      return created;
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 409) throw err;
    }
    const existing = await this.#client.get<NodeObject>(NODES, '', this.#o.nodeName);
    this.#log.info({ node: this.#o.nodeName }, 'node was previously registered');
    const labels = { ...existing.metadata.labels };
    let changed = false;
    const wanted = node.metadata.labels ?? {};
    for (const key of DEFAULT_LABELS) {
      if (wanted[key] !== undefined && labels[key] !== wanted[key]) {
        labels[key] = wanted[key];
        changed = true;
      } else if (
        wanted[key] === undefined &&
        labels[key] !== undefined &&
        key.startsWith('beta.kubernetes.io/')
      ) {
        // updateDefaultLabels drops a beta label whose GA twin the node does not carry
        delete labels[key];
        changed = true;
      }
    }
    const annotations = { ...existing.metadata.annotations };
    if (annotations[CMAD_ANNOTATION] !== 'true') {
      annotations[CMAD_ANNOTATION] = 'true';
      changed = true;
    }
    if (!changed) return existing;
    return this.#client.update<NodeObject>(NODES, '', {
      ...existing,
      metadata: { ...existing.metadata, labels, annotations },
    });
  }

  // ---- status ----

  async #computeStatus(node: NodeObject): Promise<NodeStatus> {
    const prev = node.status ?? {};
    const now = rfc3339(this.#clock.now());
    const capacity = await readCapacity(this.#host, { rootDir: this.#o.rootDir, maxPods: this.#o.maxPods });
    const allocatable = computeAllocatable(capacity, this.#o.reserved, this.#evictionHard);
    const ip = await chooseNodeIP(this.#host, this.#o.nodeIP);
    const addresses: NodeAddress[] = [
      ...(ip ? [{ type: 'InternalIP', address: ip }] : []),
      { type: 'Hostname', address: this.#o.nodeName.toLowerCase() },
    ];
    try {
      this.#runtimeVersion = await this.#bounded(this.#o.runtimeVersion());
    } catch (err) {
      this.#log.debug({ err }, 'asking the runtime its version failed');
    }
    let images = prev.images;
    if (this.#o.images) {
      try {
        images = nodeImages(await this.#bounded(this.#o.images()));
      } catch (err) {
        this.#log.debug({ err }, 'listing images for node status failed');
        images = [];
      }
    }
    let readyErrors: string[];
    try {
      readyErrors = runtimeErrors(await this.#bounded(this.#o.runtimeStatus()));
    } catch (err) {
      readyErrors = runtimeErrors(err as Error);
    }
    const conditions: NodeCondition[] = structuredClone(prev.conditions ?? []);
    const event = this.#o.onEvent ?? (() => {});
    const p = this.#o.pressure;
    setPressureCondition(conditions, 'MemoryPressure', p?.isUnderMemoryPressure() ?? false, now, event);
    setPressureCondition(conditions, 'DiskPressure', p?.isUnderDiskPressure() ?? false, now, event);
    setPressureCondition(conditions, 'PIDPressure', p?.isUnderPIDPressure() ?? false, now, event);
    setReadyCondition(conditions, readyErrors, capacity, now, event);
    const arch = goArch(this.#host.arch());
    return {
      ...prev,
      capacity,
      allocatable,
      conditions,
      addresses,
      daemonEndpoints: { kubeletEndpoint: { Port: this.#o.kubeletPort ?? 10250 } },
      nodeInfo: {
        machineID: this.#ids?.machineID ?? '',
        systemUUID: this.#ids?.systemUUID ?? '',
        bootID: this.#ids?.bootID ?? '',
        kernelVersion: this.#host.kernelRelease(),
        osImage: this.#osImage,
        containerRuntimeVersion: this.#runtimeVersion,
        kubeletVersion: this.#o.kubeletVersion,
        kubeProxyVersion: this.#o.kubeProxyVersion ?? '',
        operatingSystem: 'linux',
        architecture: arch,
      },
      ...(images !== undefined ? { images } : {}),
    };
  }

  /** `p`, or a rejection once runtimeTimeoutMs passed (a hung runtime must not stall the status). */
  #bounded<T>(p: Promise<T>): Promise<T> {
    const ms = this.#o.runtimeTimeoutMs ?? 5000;
    return new Promise<T>((resolve, reject) => {
      const cancel = this.#clock.setTimeout(
        () => reject(new Error(`runtime call timed out after ${ms} ms`)),
        ms,
      );
      p.then(
        (v) => {
          cancel();
          resolve(v);
        },
        (err) => {
          cancel();
          reject(err);
        },
      );
    });
  }

  /** updateNodeStatus: up to 5 tries, the first from the watched copy, then fresh reads. */
  async #updateNodeStatus(): Promise<void> {
    let lastErr: unknown;
    for (let i = 0; i < STATUS_UPDATE_RETRIES; i++) {
      try {
        const base =
          i === 0 && this.#node
            ? this.#node
            : await this.#client.get<NodeObject>(NODES, '', this.#o.nodeName);
        await this.#tryUpdateNodeStatus(base);
        return;
      } catch (err) {
        lastErr = err;
        if (this.#abort.signal.aborted) break;
      }
    }
    throw lastErr;
  }

  async #tryUpdateNodeStatus(node: NodeObject): Promise<void> {
    const status = await this.#computeStatus(node);
    const now = this.#clock.now();
    const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const firstReady = ready && !this.#everReady;
    if (firstReady) this.#everReady = true;
    if (
      now < this.#lastReport + (this.#o.statusReportIntervalMs ?? 300_000) &&
      !statusHasChanged(node.status, status)
    ) {
      return;
    }
    const written = await this.#client.update<NodeObject>(
      NODES,
      '',
      { ...node, status },
      { subresource: 'status' },
    );
    if (!this.#node || !rvNewer(this.#node, written)) this.#node = written;
    this.#lastReport = now;
    this.#rememberPosted(written.status);
    if (firstReady) this.#log.debug({ node: this.#o.nodeName }, 'node is Ready');
  }

  #rememberPosted(status: NodeStatus | undefined): void {
    this.#posted = new Map(
      (status?.conditions ?? [])
        .filter((c) => (KUBELET_CONDITIONS as readonly string[]).includes(c.type))
        .map((c) => [c.type, c.status]),
    );
  }
}

/** Whether `a` carries a newer resourceVersion than `b` (numeric where both are). */
function rvNewer(a: NodeObject, b: NodeObject): boolean {
  const x = Number(a.metadata.resourceVersion);
  const y = Number(b.metadata.resourceVersion);
  if (Number.isFinite(x) && Number.isFinite(y)) return x > y;
  return a.metadata.resourceVersion !== b.metadata.resourceVersion;
}
