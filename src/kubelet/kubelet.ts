/**
 * The kubelet: wires the node's parts (contracts.ts) into one agent and starts them in the order a
 * node comes up —
 *
 *   containerd (ours, supervised; or an existing CRI socket) → the kubelet's HTTPS server → the
 *   Node registered, its Lease renewed, while the start-up images are imported (pause, archives in
 *   DIR/agent/images) → the CNI config written once the Node has a podCIDR → pods run → "node
 *   Ready" (which also waits for the images).
 *
 * Each step is logged once with its time; everything stops when the signal aborts (containers keep
 * running, to be re-adopted by the next start, as with the real kubelet and k3s).
 *
 * Files (DIR is skiff's data dir): DIR/agent/containerd, DIR/agent/run (socket, pid),
 * DIR/agent/cni/net.d, DIR/agent/images, DIR/agent/kubelet/pods/<uid> (volumes),
 * DIR/agent/logs/pods/<ns>_<name>_<uid> (container logs), DIR/agent/node.json (what
 * `skiff uninstall` needs to clean up). Pod cgroups live under /skiff-<nodeName>.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../api/quantity.ts';
import type { ConnectionConfig } from '../client/rest.ts';
import { HttpRestClient } from '../client/rest.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import { collectGarbage } from '../util/gc.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { CgroupfsPodCgroups } from './cm/index.ts';
import { createCriRuntime } from './cri/client.ts';
import type { CriRuntime, RuntimeCondition } from './cri/types.ts';
import { KubeletEnvResolver } from './env/index.ts';
import { DEFAULT_PAUSE_IMAGE } from './images/builder.ts';
import { ImageGC, importStartupImages, KubeletImageManager } from './images/index.ts';
import { EvictionManager, hostSignals, NodeAgent, podStatsFrom, realHost } from './node/index.ts';
import { ApiEventRecorder, imageEventSink, PodManager } from './pods/index.ts';
import { writeCniConfig } from './runtime/cni.ts';
import { ContainerdSupervisor } from './runtime/containerd.ts';
import { ContainerLogManager } from './server/logs/rotation.ts';
import { KubeletServer } from './server/server.ts';
import { KubeletVolumeManager, ObjectSource, runLocalPathReaper } from './volumes/index.ts';

export const KUBELET_VERSION = 'v1.35.0-skiff';
/**
 * The host's busybox-static as an image every node has without a registry (a tag other than
 * `latest`, so the default pull policy is IfNotPresent).
 */
export const BUSYBOX_IMAGE = 'skiff.local/busybox:stable';

export interface KubeletOptions {
  /** skiff's data dir (DIR); the node's files go under DIR/agent. */
  dataDir: string;
  nodeName: string;
  /** The node's InternalIP; default: the default-route interface's address. */
  nodeIP?: string;
  /** The kubelet's identity towards the API server (a system:node:<name> client certificate). */
  client: ConnectionConfig;
  /** The kubelet's HTTPS serving certificate, and the CA the API server's client cert chains to. */
  serving: { cert: string; key: string; ca: string };
  /** Client certificate CNs the HTTPS server accepts (default: any signed by `serving.ca`). */
  allowedClients?: string[];
  /** HTTPS port (default 10250; 0 picks a free one, published in the Node's daemonEndpoints). */
  port?: number;
  /** Default 0.0.0.0. */
  address?: string;
  /** Use this CRI socket instead of starting containerd. */
  containerRuntimeEndpoint?: string;
  /**
   * The runtime, already being brought up by {@link prepareRuntime} (so containerd starts while the
   * control plane does); default: start() prepares it itself. The kubelet owns it from then on.
   */
  runtime?: Promise<PreparedRuntime>;
  /** The CNI bridge (default cni0) and network name (default skiff-<nodeName>). */
  cniBridge?: string;
  cniNetwork?: string;
  /**
   * The CNI bridge plugin masquerades pod traffic leaving the node's pod subnet (default true);
   * false when the pod network (src/network) masquerades by cluster CIDR instead.
   */
  cniIpMasq?: boolean;
  /** Cluster DNS server IPs for dnsPolicy ClusterFirst; empty: pods use the host's DNS. */
  clusterDns?: string[];
  clusterDomain?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  roles?: string[];
  /** Where local-path PersistentVolumes live (the local-path controller's storage root). */
  localStorageRoot?: string;
  /**
   * The pods' cgroup root (default `skiff-<nodeName>`: one per node, so that several nodes on one
   * machine — test hosts in network namespaces — never clean up each other's pods).
   */
  cgroupRoot?: string;
  logger?: Logger;
  clock?: Clock;
}

/** What `skiff uninstall` reads to know what this node created. */
export interface NodeRecord {
  nodeName: string;
  cniBridge: string;
  cniNetwork: string;
  cgroupRoot: string;
  socket: string;
}

export function nodeRecordPath(dataDir: string): string {
  return join(dataDir, 'agent', 'node.json');
}

/** A node's container runtime, up, with its start-up images being imported. */
export interface PreparedRuntime {
  /** The CRI socket. */
  socket: string;
  /** Where the CNI config goes (our own containerd only). */
  cniConfDir?: string;
  /** Our own containerd; absent with --container-runtime-endpoint. */
  supervisor?: ContainerdSupervisor;
  /**
   * Settles when the start-up images (pause, busybox, DIR/agent/images) are imported; rejects when
   * the pause image cannot be (no pod could start). Already resolved with an existing CRI socket.
   */
  images: Promise<void>;
}

/**
 * Starts the node's own containerd (or takes `containerRuntimeEndpoint`) and begins importing the
 * start-up images. It needs nothing from the API server, so `skiff server` runs it while the control
 * plane starts. Resolves once containerd is up (the node can register meanwhile: it reports
 * Ready only once `images` settles); rejects when containerd cannot start.
 */
export async function prepareRuntime(o: {
  dataDir: string;
  containerRuntimeEndpoint?: string;
  logger?: Logger;
  clock?: Clock;
  signal?: AbortSignal;
}): Promise<PreparedRuntime> {
  if (o.containerRuntimeEndpoint) {
    return { socket: o.containerRuntimeEndpoint.replace(/^unix:\/\//, ''), images: Promise.resolve() };
  }
  mkdirSync(join(o.dataDir, 'agent'), { recursive: true, mode: 0o700 });
  const supervisor = new ContainerdSupervisor({ dataDir: o.dataDir, logger: o.logger, clock: o.clock });
  try {
    await supervisor.start();
  } catch (err) {
    await supervisor.stop().catch(() => {});
    throw err;
  }
  const images = importStartupImages({
    socket: supervisor.socketPath,
    dataDir: o.dataDir,
    busybox: BUSYBOX_IMAGE,
    logger: o.logger,
    signal: o.signal,
  }).then(() => {});
  images.catch(() => {}); // observed by Kubelet.start, which stops the node when it rejects
  return { socket: supervisor.socketPath, cniConfDir: supervisor.paths.cniConfDir, supervisor, images };
}

/** The runtime conditions the node reports while its start-up images are being imported. */
const IMPORTING_IMAGES: RuntimeCondition[] = [
  {
    type: 'RuntimeReady',
    status: false,
    reason: 'ImportingImages',
    message: 'the start-up images (pause) are being imported',
  },
];

export class Kubelet {
  readonly #opts: KubeletOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  #supervisor: ContainerdSupervisor | undefined;
  #cri: CriRuntime | undefined;
  #server: KubeletServer | undefined;
  #agent: NodeAgent | undefined;
  #pods: PodManager | undefined;
  #port = 0;
  #nodeIPs: string[] = [];

  constructor(opts: KubeletOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? systemClock;
  }

  /** The node's InternalIPs, once registered. */
  get nodeIPs(): string[] {
    return this.#nodeIPs;
  }

  /** The port the kubelet's HTTPS server listens on, once started. */
  get port(): number {
    return this.#port;
  }

  /**
   * Brings the node up; resolves once its pods are being run (the node turns Ready as soon as the
   * CNI config is written, which needs the podCIDR from the node IPAM controller). Rejects if
   * containerd cannot start. Everything stops when `signal` aborts.
   */
  async start(signal: AbortSignal): Promise<void> {
    const o = this.#opts;
    const log = this.#log;
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    const agentDir = join(o.dataDir, 'agent');
    mkdirSync(agentDir, { recursive: true, mode: 0o700 });
    const cniBridge = o.cniBridge ?? 'cni0';
    // One CNI network name per node: libcni's cached results and the bridge plugin's nat rules are
    // tagged with it, and nodes sharing a machine must never clean up each other's.
    const cniNetwork = o.cniNetwork ?? `skiff-${o.nodeName}`;
    const cgroupRoot = o.cgroupRoot ?? `skiff-${o.nodeName}`;

    // The container runtime: started ahead by the caller (prepareRuntime) or now.
    const runtime = await (o.runtime ??
      prepareRuntime({
        dataDir: o.dataDir,
        containerRuntimeEndpoint: o.containerRuntimeEndpoint,
        logger: log,
        clock: this.#clock,
        signal,
      }));
    this.#supervisor = runtime.supervisor;
    const { socket, cniConfDir } = runtime;
    const record: NodeRecord = { nodeName: o.nodeName, cniBridge, cniNetwork, cgroupRoot, socket };
    writeFileSync(nodeRecordPath(o.dataDir), `${JSON.stringify(record, null, 2)}\n`);
    const cri = createCriRuntime(socket, { logger: log });
    this.#cri = cri;
    signal.addEventListener('abort', () => void this.stop(), { once: true });

    const client = new HttpRestClient(o.client, { component: 'kubelet' });
    const podsLog = log.child({ component: 'kubelet' });
    const recorder = new ApiEventRecorder(client, o.nodeName, this.#clock, podsLog);
    const cgroups = new CgroupfsPodCgroups({ rootName: cgroupRoot, log: podsLog });
    await cgroups.init();
    const images = new KubeletImageManager({
      images: cri,
      recordEvent: imageEventSink(recorder),
      logger: podsLog,
    });
    let allocatable: Record<string, string> | undefined;
    let nodeIPs: string[] = o.nodeIP ? [o.nodeIP] : [];
    const sources = new ObjectSource({ client });
    const kubeletRoot = join(agentDir, 'kubelet');
    const volumes = new KubeletVolumeManager({
      root: kubeletRoot,
      client,
      sources,
      nodeAllocatable: () => allocatable,
      hostIPs: () => nodeIPs,
      clusterDomain: o.clusterDomain ?? 'cluster.local',
      logger: podsLog,
    });
    const env = new KubeletEnvResolver({
      client,
      sources,
      nodeAllocatable: () => allocatable,
      hostIPs: () => nodeIPs,
    });

    // The node: registered with the port the server got.
    let pods: PodManager | undefined;
    const eviction = new EvictionManager({
      signals: hostSignals({ host: realHost, rootDir: agentDir, imageFsDir: agentDir }),
      activePods: () => pods?.activePods() ?? [],
      podStats: podStatsFrom({
        listContainerStats: () => cri.listContainerStats(),
        podCgroupUsage: (uid) => cgroups.usage(uid),
      }),
      evict: async (uid, message) => {
        await pods?.evict(uid, 'Evicted', message);
        return true;
      },
      onConditionsChanged: () => void this.#agent?.syncNodeStatus(),
      log: podsLog,
      clock: this.#clock,
    });

    // The HTTPS server needs the pod lookup, which needs the node's IPs: start it with a lookup
    // that defers to the pod manager once it exists.
    const server = new KubeletServer({
      cert: o.serving.cert,
      key: o.serving.key,
      ca: o.serving.ca,
      port: o.port ?? 10250,
      address: o.address ?? '0.0.0.0',
      pods: { find: (ns, name) => pods?.find(ns, name) },
      runtime: cri,
      logger: podsLog,
      clock: this.#clock,
      allowedClients: o.allowedClients,
    });
    this.#server = server;
    this.#port = await server.start();

    const agent = new NodeAgent({
      client,
      nodeName: o.nodeName,
      rootDir: agentDir,
      kubeletVersion: KUBELET_VERSION,
      runtimeVersion: async () => {
        const v = await cri.version();
        return `${v.runtimeName}://${v.runtimeVersion}`;
      },
      // Ready waits for the start-up images: without the pause image no pod could start.
      runtimeStatus: async () => (imagesImported ? cri.status() : IMPORTING_IMAGES),
      images: () => cri.listImages(),
      pressure: eviction,
      nodeIP: o.nodeIP,
      kubeletPort: this.#port,
      roles: o.roles,
      labels: o.labels,
      taints: o.taints,
      log: podsLog,
      clock: this.#clock,
    });
    this.#agent = agent;
    let imagesImported = false;
    let cniWritten = false;
    agent.onPodCIDR((cidrs) => {
      if (!cniConfDir || cidrs.length === 0) return;
      void writeCniConfig(cniConfDir, {
        podCIDRs: cidrs,
        bridge: cniBridge,
        networkName: cniNetwork,
        ipMasq: o.cniIpMasq,
      })
        .then(() => {
          if (!cniWritten) log.info({ podCIDRs: cidrs, ms: ms() }, 'pod network configured');
          cniWritten = true;
          void agent.syncNodeStatus();
        })
        .catch((err: unknown) => log.error({ err }, 'cannot write the CNI config'));
    });
    const node = await agent.start(signal);
    await runtime.images;
    imagesImported = true;
    void agent.syncNodeStatus();
    nodeIPs = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
    this.#nodeIPs = nodeIPs;
    allocatable = node.status?.allocatable as Record<string, string> | undefined;

    pods = new PodManager({
      nodeName: o.nodeName,
      client,
      cri,
      volumes,
      env,
      cgroups,
      images,
      nodeIPs,
      memoryCapacity: quantityBytes(node.status?.capacity?.memory),
      podLogRoot: join(agentDir, 'logs', 'pods'),
      clusterDns: o.clusterDns ?? [],
      clusterDomain: o.clusterDomain ?? 'cluster.local',
      recorder,
      logger: podsLog,
      clock: this.#clock,
    });
    this.#pods = pods;
    await pods.start(signal);
    eviction.start(signal);
    const logs = new ContainerLogManager({
      runtime: cri,
      containers: {
        runningContainers: () =>
          (pods?.runningPods() ?? []).flatMap((p) =>
            p.containers
              .filter((c) => c.state === 'CONTAINER_RUNNING')
              .map((c) => ({ id: c.id, logPath: c.logPath })),
          ),
      },
      clock: this.#clock,
      logger: podsLog,
    });
    logs.start();
    signal.addEventListener('abort', () => void logs.stop(), { once: true });
    const gc = new ImageGC({
      runtime: cri,
      pauseImage: DEFAULT_PAUSE_IMAGE,
      clock: this.#clock,
      logger: podsLog,
    });
    void gc.start(signal);
    if (o.localStorageRoot) {
      void runLocalPathReaper(
        {
          client,
          storageRoot: o.localStorageRoot,
          inUse: () => volumes.persistentVolumePathsInUse(),
          logger: podsLog,
        },
        signal,
      );
    }
    this.#supervisor?.onRestart(() => {
      log.warn('containerd was restarted; re-syncing every pod');
      pods?.resyncAll();
    });
    void this.#waitReady(signal).then((ready) => {
      if (!ready) return;
      log.info({ node: o.nodeName, kubeletPort: this.#port, ms: ms() }, 'node Ready');
      // Start-up leaves ~9 MB of dead buffers in the old generation (the pause and busybox images
      // built and written for ctr); an idle agent allocates too little for V8 to collect them.
      collectGarbage();
    });
  }

  async #waitReady(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      const ready = this.#agent?.node()?.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status === 'True') return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  /** Stops the kubelet's loops and containerd; containers keep running. Idempotent. */
  async stop(): Promise<void> {
    this.#pods?.stop();
    this.#agent?.stop();
    await this.#server?.stop();
    this.#cri?.close();
    await this.#supervisor?.stop();
  }
}

/** Bytes of a memory quantity such as "16316412Ki"; 0 when absent or malformed. */
function quantityBytes(q: string | undefined): number {
  try {
    return q ? parseQuantity(q).toNumber() : 0;
  } catch {
    return 0;
  }
}
