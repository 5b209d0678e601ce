/**
 * The node agent's flags, shared by `skiff server` (its own node) and `skiff agent` (a joining
 * node), and the one way both start a kubelet: the same code runs on every node.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { KUBELET_CLIENT_USER } from '../apiserver/auth/names.ts';
import { HttpRestClient } from '../client/rest.ts';
import { Kubelet, type PreparedRuntime } from '../kubelet/kubelet.ts';
import { PodNetwork } from '../network/index.ts';
import { DEFAULT_PROXY_MODE, KubeProxy, parseProxyMode } from '../proxy/index.ts';
import type { Logger } from '../util/log.ts';

export const nodeFlagsHelp = `Node flags:
  --node-name NAME           this node's name (default: the host name, lower-cased)
  --node-ip IP               this node's InternalIP (default: the default route's address)
  --node-label KEY=VALUE     a label for this node (repeatable)
  --node-taint KEY=VALUE:EFFECT  a taint registered with this node (repeatable)
  --container-runtime-endpoint SOCKET  use this CRI socket instead of starting containerd
  --kubelet-port PORT        the kubelet's HTTPS port (default 10250; 0 picks a free one)
  --cni-bridge NAME          the pod network's Linux bridge (default cni0)
  --cluster-dns IP           DNS server pods with dnsPolicy ClusterFirst use (repeatable;
                             default: none, pods use the host's resolv.conf)
  --cluster-domain DOMAIN    the cluster's DNS domain (default cluster.local)
  --disable-kube-proxy       do not run kube-proxy (Service routing) on this node
  --proxy-mode MODE          how kube-proxy programs Services: iptables or nftables
                             (default ${DEFAULT_PROXY_MODE})
  --disable-pod-network      do not route to other nodes' pods nor masquerade by cluster CIDR
                             (the CNI bridge then masquerades everything leaving the node)`;

/** parseArgs options for the node flags. */
export const nodeFlagOptions = {
  'node-name': { type: 'string' as const },
  'node-ip': { type: 'string' as const },
  'node-label': { type: 'string' as const, multiple: true as const, default: [] as string[] },
  'node-taint': { type: 'string' as const, multiple: true as const, default: [] as string[] },
  'container-runtime-endpoint': { type: 'string' as const },
  'kubelet-port': { type: 'string' as const, default: '10250' },
  'cni-bridge': { type: 'string' as const, default: 'cni0' },
  'cluster-dns': { type: 'string' as const, multiple: true as const, default: [] as string[] },
  'cluster-domain': { type: 'string' as const, default: 'cluster.local' },
  'disable-kube-proxy': { type: 'boolean' as const, default: false },
  'proxy-mode': { type: 'string' as const, default: DEFAULT_PROXY_MODE as string },
  'disable-pod-network': { type: 'boolean' as const, default: false },
};

export interface NodeFlags {
  'node-name'?: string;
  'node-ip'?: string;
  'node-label': string[];
  'node-taint': string[];
  'container-runtime-endpoint'?: string;
  'kubelet-port': string;
  'cni-bridge': string;
  'cluster-dns': string[];
  'cluster-domain': string;
  'disable-kube-proxy': boolean;
  'proxy-mode'?: string;
  'disable-pod-network'?: boolean;
}

/** The node name from --node-name or the host name, as the kubelet derives it. */
export function nodeNameOf(flags: Pick<NodeFlags, 'node-name'>): string {
  return (flags['node-name'] ?? hostname()).toLowerCase();
}

/** `key=value` labels; throws an Error naming the bad flag value. */
export function parseLabels(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new Error(`--node-label must be KEY=VALUE, got ${JSON.stringify(v)}`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

const EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/** `key[=value]:Effect` taints, as kubelet's --register-with-taints. */
export function parseTaints(values: string[]): Taint[] {
  return values.map((v) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(\w+)$/.exec(v);
    if (!m || !EFFECTS.has(m[3]!)) {
      throw new Error(
        `--node-taint must be KEY[=VALUE]:EFFECT with EFFECT one of NoSchedule, PreferNoSchedule, NoExecute; got ${JSON.stringify(v)}`,
      );
    }
    return { key: m[1]!, ...(m[2] ? { value: m[2] } : {}), effect: m[3]! };
  });
}

export function parsePort(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${flag} must be a port number, got ${text}`);
  return n;
}

/** A running node: its kubelet, kube-proxy and pod network. */
export interface RunningNode {
  kubelet: Kubelet;
  proxy?: KubeProxy;
  network?: PodNetwork;
  /** Stops all three (containers, Service rules and routes stay, as with the real components). */
  stop(): Promise<void>;
}

/**
 * Starts this node's pod network (routes to the other nodes' pods, masquerade out of the cluster
 * CIDR), kubelet and kube-proxy with the node's identity; resolves once pods run and Service rules
 * are programmed.
 */
export async function startNode(
  opts: {
    dataDir: string;
    flags: NodeFlags;
    /** The pod network (kube-proxy masquerades traffic to cluster IPs from outside it). */
    clusterCidr: string;
    server: string;
    credentials: {
      ca: string;
      client: { cert: string; key: string };
      serving: { cert: string; key: string };
    };
    roles?: string[];
    localStorageRoot?: string;
    /** The runtime, already being started (prepareRuntime); default: the kubelet starts it. */
    runtime?: Promise<PreparedRuntime>;
    log: Logger;
  },
  signal: AbortSignal,
): Promise<RunningNode> {
  const f = opts.flags;
  const proxyMode = parseProxyMode(f['proxy-mode'] ?? DEFAULT_PROXY_MODE);
  const podNetwork = !f['disable-pod-network'];
  const kubelet = new Kubelet({
    dataDir: opts.dataDir,
    nodeName: nodeNameOf(f),
    nodeIP: f['node-ip'],
    client: {
      server: opts.server,
      ca: opts.credentials.ca,
      cert: opts.credentials.client.cert,
      key: opts.credentials.client.key,
    },
    serving: { ...opts.credentials.serving, ca: opts.credentials.ca },
    allowedClients: [KUBELET_CLIENT_USER],
    port: parsePort(f['kubelet-port'], '--kubelet-port'),
    containerRuntimeEndpoint: f['container-runtime-endpoint'],
    cniBridge: f['cni-bridge'],
    // The pod network masquerades by cluster CIDR; the bridge plugin's would NAT pod → remote pod.
    cniIpMasq: !podNetwork,
    clusterDns: f['cluster-dns'],
    clusterDomain: f['cluster-domain'],
    labels: parseLabels(f['node-label']),
    taints: parseTaints(f['node-taint']),
    roles: opts.roles,
    localStorageRoot: opts.localStorageRoot,
    runtime: opts.runtime,
    logger: opts.log,
  });
  enableForwarding(opts.log);
  const connection = {
    server: opts.server,
    ca: opts.credentials.ca,
    cert: opts.credentials.client.cert,
    key: opts.credentials.client.key,
  };
  let network: PodNetwork | undefined;
  if (podNetwork) {
    // Before the kubelet, so the routes and masquerade rules are there when the first pods start.
    network = new PodNetwork({
      client: new HttpRestClient(connection, { component: 'pod-network' }),
      nodeName: nodeNameOf(f),
      clusterCIDR: opts.clusterCidr,
      dataDir: opts.dataDir,
      logger: opts.log.child({ component: 'pod-network' }),
    });
    await network.start(signal);
  }
  await kubelet.start(signal);
  let proxy: KubeProxy | undefined;
  if (!f['disable-kube-proxy']) {
    const client = new HttpRestClient(connection, { component: 'kube-proxy' });
    proxy = new KubeProxy({
      client,
      mode: proxyMode,
      nodeName: nodeNameOf(f),
      nodeIPs: kubelet.nodeIPs,
      clusterCIDR: opts.clusterCidr,
      logger: opts.log.child({ component: 'kube-proxy' }),
    });
    await proxy.start(signal);
  }
  return {
    kubelet,
    proxy,
    network,
    async stop() {
      await proxy?.stop();
      await network?.stop();
      await kubelet.stop();
    },
  };
}

/**
 * What a node's network needs from the kernel, as k3s sets it: IP forwarding, and bridged traffic
 * through iptables (so kube-proxy's rules see pod-to-Service traffic on the CNI bridge).
 */
function enableForwarding(log: Logger): void {
  for (const [file, value] of [
    ['/proc/sys/net/ipv4/ip_forward', '1'],
    ['/proc/sys/net/bridge/bridge-nf-call-iptables', '1'],
  ] as const) {
    try {
      if (readFileSync(file, 'utf8').trim() !== value) writeFileSync(file, value);
    } catch (err) {
      log.warn({ file, err: (err as Error).message }, 'cannot set a kernel network setting the node needs');
    }
  }
}
