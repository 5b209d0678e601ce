/**
 * Names in skiff's nftables table, as kube-proxy's nftables proxier names things in its own
 * `kube-proxy` table: everything lives in one table skiff owns (`ip skiff-proxy`), so nothing needs
 * a prefix of ours, and removing the table removes everything. Per-service chains are named
 * `<kind>-<HASH>-<namespace>/<service>/<protocol>/<port name>` (endpoint chains add
 * `__<ip>/<port>`), HASH being the first 8 base32 characters of SHA-256 of the rest, so the names are
 * upstream's for the same service port. The `/` that only service-derived names contain tells them
 * apart from the fixed chains. Only services with ClientIP affinity have endpoint chains (see
 * rules.ts).
 */
import { hash16 } from '../chains.ts';

/** The table's family: IPv4 (skiff's Services are IPv4). */
export const FAMILY = 'ip';
/** skiff's table; nothing else of skiff's (nor anyone's) lives in it. */
export const TABLE = 'skiff-proxy';

/** A chain attached to a netfilter hook. */
export interface BaseChain {
  name: string;
  type: 'filter' | 'nat';
  hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  /**
   * Numeric priority: nft 1.0.6 accepts the name `dstnat` at prerouting only. dstnat is -100, srcnat
   * 100; the filter chains run 10 before DNAT (they see the service IP), one 10 after (sees the
   * endpoint).
   */
  priority: number;
}

export const BASE_CHAINS: readonly BaseChain[] = [
  { name: 'filter-prerouting', type: 'filter', hook: 'prerouting', priority: -110 },
  { name: 'filter-input', type: 'filter', hook: 'input', priority: -110 },
  { name: 'filter-forward', type: 'filter', hook: 'forward', priority: -110 },
  { name: 'filter-output', type: 'filter', hook: 'output', priority: -110 },
  { name: 'filter-output-post-dnat', type: 'filter', hook: 'output', priority: -90 },
  { name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: -100 },
  { name: 'nat-output', type: 'nat', hook: 'output', priority: -100 },
  { name: 'nat-postrouting', type: 'nat', hook: 'postrouting', priority: 100 },
];

/** nat: dispatch by destination to the service chains. */
export const SERVICES_CHAIN = 'services';
/** filter: rejects/drops new connections to services without (local) endpoints. */
export const SERVICE_ENDPOINTS_CHECK_CHAIN = 'service-endpoints-check';
/** filter: the same for node ports. */
export const NODEPORT_ENDPOINTS_CHECK_CHAIN = 'nodeport-endpoints-check';
/** filter: rejects connections to a cluster IP's ports that no Service defines. */
export const CLUSTER_IPS_CHECK_CHAIN = 'cluster-ips-check';
/** filter: loadBalancerSourceRanges. */
export const FIREWALL_CHECK_CHAIN = 'firewall-check';
/** nat: sets the masquerade mark. */
export const MARK_MASQ_CHAIN = 'mark-for-masquerade';
/** nat: masquerades packets carrying the mark. */
export const MASQUERADING_CHAIN = 'masquerading';
/** filter: `reject` (the target of the no-endpoint maps). */
export const REJECT_CHAIN = 'reject-chain';

/** set of active cluster IPs. */
export const CLUSTER_IPS_SET = 'cluster-ips';
/** map: `ip . proto . port` of cluster, external and load-balancer IPs → service chain. */
export const SERVICE_IPS_MAP = 'service-ips';
/** map: `proto . port` of node ports → external chain. */
export const SERVICE_NODEPORTS_MAP = 'service-nodeports';
/** map: `ip . proto . port` of services without (local) endpoints → reject or drop. */
export const NO_ENDPOINT_SERVICES_MAP = 'no-endpoint-services';
/** map: `proto . port` of node ports without (local) endpoints → reject or drop. */
export const NO_ENDPOINT_NODEPORTS_MAP = 'no-endpoint-nodeports';
/** map: `ip . proto . port` of load-balancer IPs with source ranges → firewall chain. */
export const FIREWALL_IPS_MAP = 'firewall-ips';
/**
 * set: `ip . ip` for every endpoint a rule may DNAT to (the endpoint's address twice). A connection
 * DNATed to its own source (a pod reaching itself through its Service) matches, in the masquerading
 * chain, and is masqueraded: upstream's per-endpoint `ip saddr <endpoint> jump mark-for-masquerade`.
 */
export const HAIRPIN_SET = 'hairpin-pairs';

/**
 * Prefix of a service chain's load-balancing map (`lb-service-...`, `lb-local-...`): endpoint index →
 * `address . port` to DNAT to (or, with ClientIP affinity, → `goto` the endpoint's chain). Upstream
 * writes an inline verdict map (`numgen random mod N vmap { 0 : goto ..., ... }`); an inline map is an
 * anonymous set, and binding one costs the kernel (6.x, `__nft_set_trans_bind`) a walk of the whole
 * transaction: O(n²) for a full sync (8.5 s instead of 1.6 s at 1,000 Services × 10 endpoints).
 */
export const LB_MAP_PREFIX = 'lb-';

/** nft's longest name is 255 characters; upstream keeps 16 for the prefix. */
const NAME_BASE_MAX = 240;

/** The first 8 characters of the base32 SHA-256 of `name`, a `-`, then `name` (truncated to fit). */
export function hashAndTruncate(name: string): string {
  const out = `${hash16(name).slice(0, 8)}-${name}`;
  return out.length > NAME_BASE_MAX ? `${out.slice(0, NAME_BASE_MAX - 3)}...` : out;
}

/** The chains of one service port. */
export interface NftServicePortChains {
  /** Endpoints for Cluster traffic policy. */
  cluster: string;
  /** Node-local endpoints for Local traffic policy. */
  local: string;
  /** External destinations (node ports, external IPs, LB IPs). */
  external: string;
  /** loadBalancerSourceRanges filtering. */
  firewall: string;
}

/** `namespace/name` of a service port (its ServicePortInfo.serviceKey) and its port name. */
function portBase(serviceKey: string, protocol: string, portName: string): string {
  return `${serviceKey}/${protocol}/${portName}`;
}

const chainCache = new Map<string, NftServicePortChains>();

/** The chains of a service port (memoized). `protocol` is lower case. */
export function servicePortChainNames(
  serviceKey: string,
  protocol: string,
  portName: string,
): NftServicePortChains {
  const base = portBase(serviceKey, protocol, portName);
  let c = chainCache.get(base);
  if (!c) {
    if (chainCache.size >= 100_000) chainCache.clear();
    const h = hashAndTruncate(base);
    c = {
      cluster: `service-${h}`,
      local: `local-${h}`,
      external: `external-${h}`,
      firewall: `firewall-${h}`,
    };
    chainCache.set(base, c);
  }
  return c;
}

/** An endpoint's chain and ClientIP affinity set (only services with ClientIP affinity have them). */
export interface NftEndpointNames {
  chain: string;
  affinitySet: string;
}

const endpointCache = new Map<string, NftEndpointNames>();

/** The names of endpoint `ip:port` of a service port (memoized: hashing is most of the cost). */
export function endpointNames(
  serviceKey: string,
  protocol: string,
  portName: string,
  endpoint: string,
): NftEndpointNames {
  const i = endpoint.lastIndexOf(':');
  const key = `${portBase(serviceKey, protocol, portName)}__${endpoint.slice(0, i)}/${endpoint.slice(i + 1)}`;
  let n = endpointCache.get(key);
  if (!n) {
    if (endpointCache.size >= 200_000) endpointCache.clear();
    const h = hashAndTruncate(key);
    n = { chain: `endpoint-${h}`, affinitySet: `affinity-${h}` };
    endpointCache.set(key, n);
  }
  return n;
}

/** The load-balancing map of a service or local chain. */
export function lbMapName(chain: string): string {
  return LB_MAP_PREFIX + chain;
}

/** True for chains named after a service port (they hold a `/`), which syncs create and delete. */
export function isServiceChainName(name: string): boolean {
  return name.includes('/');
}
