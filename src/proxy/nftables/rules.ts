/**
 * Rule generation for the nftables proxier, kube-proxy's nftables layout (pkg/proxy/nftables,
 * syncProxyRules and setupNFTables) in skiff's table, without upstream's per-endpoint chains: pure
 * functions from a service port and its endpoints to chains, sets and map elements. Nothing here
 * runs nft.
 *
 * The fixed part ({@link tableSkeleton}): base chains on the hooks jump to `services` (nat:
 * `ip daddr . meta l4proto . th dport vmap @service-ips`, then node ports by
 * `fib daddr type local`), `masquerading` (marks hairpin connections, see below, then masquerades
 * what carries the mark), the filter checks (`service-endpoints-check` / `nodeport-endpoints-check`:
 * the no-endpoint maps' reject or drop; `firewall-check`: loadBalancerSourceRanges;
 * `cluster-ips-check`: reject undefined ports of cluster IPs).
 *
 * Per service port ({@link servicePortObjects}), the same decisions as the iptables rules
 * (src/proxy/rules.ts): map elements sending its cluster IP to the internal chain (`service-*`, or
 * `local-*` for internalTrafficPolicy Local), its external IPs, LoadBalancer IPs and node port to
 * `external-*`, or to reject (no endpoints) / drop (no local endpoints); `service-*`/`local-*`:
 * masquerade off-cluster sources, then DNAT to a random endpoint,
 * `meta l4proto <p> dnat ip to numgen random mod N map @lb-...` (a map of endpoint index →
 * `address . port`); `external-*`: masquerade (Cluster policy) or short-circuit pod and node
 * traffic (Local); `firewall-*`: drop sources outside loadBalancerSourceRanges.
 *
 * Deviation from upstream's layout: upstream has a chain per endpoint (`endpoint-*`: hairpin
 * masquerade `ip saddr <endpoint> jump mark-for-masquerade`, then DNAT) reached through
 * `numgen random mod N vmap`. Those chains were 10,000 of 11,000 at 1,000 Services × 10 endpoints,
 * and the kernel checks every chain for jump loops on every transaction that adds a jump or verdict.
 * Here the DNAT is done from the service chain through the map above, and hairpin traffic is found
 * after DNAT instead: the endpoint's `address . address` is in the set `hairpin-pairs`, and the
 * masquerading chain marks `ct status dnat ip saddr . ip daddr @hairpin-pairs` (a connection DNATed
 * to its own source: the same connections upstream's rule marks). An endpoint change is then a change
 * of map and set elements only (and of the `mod N` rule when the number of endpoints changes).
 * Services with ClientIP affinity keep upstream's shape, which needs a chain per endpoint (its
 * affinity set, `ip saddr @affinity-* goto endpoint-*`, updated there before the DNAT): their
 * `lb-*` map is a verdict map to the endpoint chains; hairpin goes through `hairpin-pairs` for them
 * too.
 */

import { categorizeEndpoints, type EndpointInfo, type ServicePortInfo } from '../model.ts';
import { cidrContains } from '../rules.ts';
import {
  BASE_CHAINS,
  type BaseChain,
  CLUSTER_IPS_CHECK_CHAIN,
  CLUSTER_IPS_SET,
  endpointNames,
  FIREWALL_CHECK_CHAIN,
  FIREWALL_IPS_MAP,
  HAIRPIN_SET,
  lbMapName,
  MARK_MASQ_CHAIN,
  MASQUERADING_CHAIN,
  NO_ENDPOINT_NODEPORTS_MAP,
  NO_ENDPOINT_SERVICES_MAP,
  NODEPORT_ENDPOINTS_CHECK_CHAIN,
  REJECT_CHAIN,
  SERVICE_ENDPOINTS_CHECK_CHAIN,
  SERVICE_IPS_MAP,
  SERVICE_NODEPORTS_MAP,
  SERVICES_CHAIN,
  servicePortChainNames,
} from './names.ts';
import { type Element, type SetDecl, withComment } from './script.ts';

/** Node-wide settings the rules depend on. */
export interface NftRuleConfig {
  /** The pod network; traffic to a cluster IP from outside it is masqueraded. '' disables that. */
  clusterCIDR: string;
  /** Masquerade all traffic to cluster IPs. */
  masqueradeAll: boolean;
  /** The masquerade mark, e.g. '0x4000'. */
  masqueradeMark: string;
  /** This node's IPv4 addresses: a loadBalancerSourceRanges entry holding one allows the node. */
  nodeIPs?: readonly string[];
}

/** The fixed part of the table, written by every full sync. */
export interface TableSkeleton {
  baseChains: readonly BaseChain[];
  /** Regular chains, in declaration order. */
  chains: string[];
  /** The shared sets and maps. */
  sets: Map<string, SetDecl>;
  /** [chain, rule], in order. */
  rules: [string, string][];
}

const IP_PROTO_PORT = 'ipv4_addr . inet_proto . inet_service';
const PROTO_PORT = 'inet_proto . inet_service';

function decl(kind: SetDecl['kind'], type: string, comment: string): SetDecl {
  return { kind, spec: `type ${type} ; comment "${comment}" ;` };
}

export const TABLE_COMMENT = "rules for skiff's kube-proxy";

export function tableSkeleton(cfg: NftRuleConfig): TableSkeleton {
  const mark = cfg.masqueradeMark;
  const newConn = 'ct state new';
  const dispatch = 'ip daddr . meta l4proto . th dport vmap';
  return {
    baseChains: BASE_CHAINS,
    chains: [
      NODEPORT_ENDPOINTS_CHECK_CHAIN,
      SERVICE_ENDPOINTS_CHECK_CHAIN,
      FIREWALL_CHECK_CHAIN,
      SERVICES_CHAIN,
      MASQUERADING_CHAIN,
      CLUSTER_IPS_CHECK_CHAIN,
      MARK_MASQ_CHAIN,
      REJECT_CHAIN,
    ],
    sets: new Map([
      [CLUSTER_IPS_SET, decl('set', 'ipv4_addr', 'Active ClusterIPs')],
      [
        NO_ENDPOINT_SERVICES_MAP,
        decl(
          'map',
          `${IP_PROTO_PORT} : verdict`,
          'vmap to drop or reject packets to services with no endpoints',
        ),
      ],
      [
        NO_ENDPOINT_NODEPORTS_MAP,
        decl(
          'map',
          `${PROTO_PORT} : verdict`,
          'vmap to drop or reject packets to service nodeports with no endpoints',
        ),
      ],
      [
        FIREWALL_IPS_MAP,
        decl(
          'map',
          `${IP_PROTO_PORT} : verdict`,
          'destinations that are subject to LoadBalancerSourceRanges',
        ),
      ],
      [
        SERVICE_IPS_MAP,
        decl('map', `${IP_PROTO_PORT} : verdict`, 'ClusterIP, ExternalIP and LoadBalancer IP traffic'),
      ],
      [SERVICE_NODEPORTS_MAP, decl('map', `${PROTO_PORT} : verdict`, 'NodePort traffic')],
      [
        HAIRPIN_SET,
        decl('set', 'ipv4_addr . ipv4_addr', 'endpoint . endpoint: masquerade when DNATed to itself'),
      ],
    ]),
    rules: [
      // Jumps from the hooks (upstream's nftablesJumpChains). reject is valid in input, forward and
      // output only (kernels before 5.9), hence no endpoints check in prerouting.
      ['filter-input', `${newConn} jump ${NODEPORT_ENDPOINTS_CHECK_CHAIN}`],
      ['filter-input', `${newConn} jump ${SERVICE_ENDPOINTS_CHECK_CHAIN}`],
      ['filter-forward', `${newConn} jump ${SERVICE_ENDPOINTS_CHECK_CHAIN}`],
      ['filter-output', `${newConn} jump ${SERVICE_ENDPOINTS_CHECK_CHAIN}`],
      ['filter-prerouting', `${newConn} jump ${FIREWALL_CHECK_CHAIN}`],
      ['filter-output', `${newConn} jump ${FIREWALL_CHECK_CHAIN}`],
      ['nat-output', `jump ${SERVICES_CHAIN}`],
      ['nat-prerouting', `jump ${SERVICES_CHAIN}`],
      ['nat-postrouting', `jump ${MASQUERADING_CHAIN}`],
      ['filter-forward', `${newConn} jump ${CLUSTER_IPS_CHECK_CHAIN}`],
      ['filter-output-post-dnat', `${newConn} jump ${CLUSTER_IPS_CHECK_CHAIN}`],
      [MARK_MASQ_CHAIN, `mark set mark or ${mark}`],
      // Hairpin: a connection DNATed to its own source (upstream marks it in the endpoint chain).
      [MASQUERADING_CHAIN, `ct status dnat ip saddr . ip daddr @${HAIRPIN_SET} jump ${MARK_MASQ_CHAIN}`],
      [MASQUERADING_CHAIN, `mark and ${mark} == 0 return`],
      [MASQUERADING_CHAIN, `mark set mark xor ${mark}`],
      [MASQUERADING_CHAIN, 'masquerade fully-random'],
      [
        CLUSTER_IPS_CHECK_CHAIN,
        withComment(`ip daddr @${CLUSTER_IPS_SET} reject`, 'Reject traffic to invalid ports of ClusterIPs'),
      ],
      [REJECT_CHAIN, 'reject'],
      [SERVICE_ENDPOINTS_CHECK_CHAIN, `${dispatch} @${NO_ENDPOINT_SERVICES_MAP}`],
      [
        NODEPORT_ENDPOINTS_CHECK_CHAIN,
        `ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS_MAP}`,
      ],
      [FIREWALL_CHECK_CHAIN, `${dispatch} @${FIREWALL_IPS_MAP}`],
      [SERVICES_CHAIN, `${dispatch} @${SERVICE_IPS_MAP}`],
      [
        SERVICES_CHAIN,
        `fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @${SERVICE_NODEPORTS_MAP}`,
      ],
    ],
  };
}

/** What one service port contributes to the table. */
export interface ServicePortObjects {
  /** Its own chains, in writing order: chain → its rules. */
  chains: Map<string, string[]>;
  /** Its own sets and maps (affinity sets, load-balancing maps). */
  sets: Map<string, SetDecl>;
  /** Elements of the shared maps and of its own maps. */
  elements: Element[];
  /** The endpoints its rules may DNAT to. */
  reachable: EndpointInfo[];
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/(\d|[12]\d|3[0-2]))?$/;

/** A loadBalancerSourceRanges entry nft accepts (an IPv4 address or CIDR), or null. */
function sourceRange(cidr: string): string | null {
  const m = IPV4_CIDR.exec(cidr.trim());
  if (!m || [1, 2, 3, 4].some((i) => Number(m[i]) > 255)) return null;
  return cidr.trim();
}

/**
 * The load-balancing map of a service chain: endpoint index → `address . port`. nft 1.0.6 accepts a
 * concatenation as NAT data only from a `typeof` map, and takes the protocol of `<proto> dport` as a
 * dependency of the rule (`th dport` conflicts with the rule's `meta l4proto`): one per protocol.
 */
function lbDnatMap(proto: string): SetDecl {
  return { kind: 'map', spec: `typeof numgen random mod 1 : ip daddr . ${proto} dport ;` };
}

/** The load-balancing map of a service chain with ClientIP affinity: index → `goto` endpoint chain. */
const LB_VERDICT_MAP: SetDecl = { kind: 'map', spec: 'typeof numgen random mod 1 : verdict ;' };

function affinitySet(seconds: number): SetDecl {
  // "dynamic" as upstream: some kernels add it themselves, and re-adding without it then fails.
  return { kind: 'set', spec: `type ipv4_addr ; flags dynamic,timeout ; timeout ${seconds}s ;` };
}

export function servicePortObjects(
  sp: ServicePortInfo,
  endpoints: EndpointInfo[],
  cfg: NftRuleConfig,
): ServicePortObjects {
  const out: ServicePortObjects = { chains: new Map(), sets: new Map(), elements: [], reachable: [] };
  const { cluster, local, reachable, hasAny } = categorizeEndpoints(sp, endpoints);
  out.reachable = reachable;
  const proto = sp.protocol;
  const names = servicePortChainNames(sp.serviceKey, proto, sp.portName);
  const ep = (e: EndpointInfo) => endpointNames(sp.serviceKey, proto, sp.portName, e.key);

  const usesClusterChain =
    cluster.length > 0 && (!sp.internalPolicyLocal || (sp.externallyAccessible && !sp.externalPolicyLocal));
  const usesLocalChain = local.length > 0 && (sp.internalPolicyLocal || sp.externalPolicyLocal);
  const internalChain = sp.internalPolicyLocal ? names.local : names.cluster;
  const hasInternal = hasAny && (!sp.internalPolicyLocal || local.length > 0);
  const externalPolicyChain = sp.externalPolicyLocal ? names.local : names.cluster;
  const hasExternal = hasAny && (!sp.externalPolicyLocal || local.length > 0);
  const usesExtChain = hasAny && sp.externallyAccessible;
  const sourceRanges = sp.loadBalancerSourceRanges.map(sourceRange).filter((r): r is string => !!r);
  const usesFwChain = sp.loadBalancerIPs.length > 0 && sourceRanges.length > 0;

  // No endpoints at all: reject; endpoints but none local under a Local policy: drop.
  const rejectVerdict = `goto ${REJECT_CHAIN}`;
  const internalFilter = !hasAny ? rejectVerdict : !hasInternal ? 'drop' : '';
  const externalFilter = !hasAny ? rejectVerdict : !hasExternal ? 'drop' : '';
  const ipKey = (ip: string, port: number) => `${ip} . ${proto} . ${port}`;
  const el = (set: string, key: string, value?: string, comment?: string) =>
    out.elements.push({
      set,
      key,
      ...(value !== undefined ? { value } : {}),
      ...(comment ? { comment } : {}),
    });

  el(CLUSTER_IPS_SET, sp.clusterIP);
  const clusterKey = ipKey(sp.clusterIP, sp.port);
  if (hasInternal) el(SERVICE_IPS_MAP, clusterKey, `goto ${internalChain}`);
  else el(NO_ENDPOINT_SERVICES_MAP, clusterKey, internalFilter, sp.name);

  for (const ip of sp.externalIPs) {
    if (hasAny) el(SERVICE_IPS_MAP, ipKey(ip, sp.port), `goto ${names.external}`);
    if (!hasExternal) el(NO_ENDPOINT_SERVICES_MAP, ipKey(ip, sp.port), externalFilter, sp.name);
  }
  for (const ip of sp.loadBalancerIPs) {
    if (hasAny) el(SERVICE_IPS_MAP, ipKey(ip, sp.port), `goto ${names.external}`);
    if (usesFwChain) el(FIREWALL_IPS_MAP, ipKey(ip, sp.port), `goto ${names.firewall}`);
    if (!hasExternal) el(NO_ENDPOINT_SERVICES_MAP, ipKey(ip, sp.port), externalFilter, sp.name);
  }
  if (sp.nodePort) {
    const key = `${proto} . ${sp.nodePort}`;
    if (hasAny) el(SERVICE_NODEPORTS_MAP, key, `goto ${names.external}`);
    if (!hasExternal) el(NO_ENDPOINT_NODEPORTS_MAP, key, externalFilter, sp.name);
  }

  // The firewall chain filters (it does not route), so it is there even without endpoints.
  if (usesFwChain) {
    const sources = [...sourceRanges];
    // A VIP that is a local address loops back with the VIP as source: let the node through.
    const nodeIPs = cfg.nodeIPs ?? [];
    if (sourceRanges.some((cidr) => nodeIPs.some((ip) => cidrContains(cidr, ip))))
      sources.push(...sp.loadBalancerIPs);
    out.chains.set(names.firewall, [`ip saddr != { ${sources.join(', ')} } drop`]);
  }

  if (usesExtChain) {
    const ext: string[] = [];
    if (!sp.externalPolicyLocal) {
      // Endpoints may be on other nodes: masquerade, so replies come back through this node.
      ext.push(`jump ${MARK_MASQ_CHAIN}`);
    } else {
      if (cfg.clusterCIDR && usesClusterChain) {
        ext.push(
          withComment(`ip saddr ${cfg.clusterCIDR} goto ${names.cluster}`, 'short-circuit pod traffic'),
        );
      }
      ext.push(withComment(`fib saddr type local jump ${MARK_MASQ_CHAIN}`, 'masquerade local traffic'));
      if (usesClusterChain) {
        ext.push(withComment(`fib saddr type local goto ${names.cluster}`, 'short-circuit local traffic'));
      }
    }
    if (hasExternal) ext.push(`goto ${externalPolicyChain}`);
    out.chains.set(names.external, ext);
  }

  const masq: string[] = [];
  if (hasInternal) {
    const match = `ip daddr ${sp.clusterIP} ${proto} dport ${sp.port}`;
    if (cfg.masqueradeAll) masq.push(`${match} jump ${MARK_MASQ_CHAIN}`);
    else if (cfg.clusterCIDR) masq.push(`${match} ip saddr != ${cfg.clusterCIDR} jump ${MARK_MASQ_CHAIN}`);
  }
  const balance = (chain: string, eps: EndpointInfo[]) => {
    const rules = chain === internalChain ? [...masq] : [];
    const map = lbMapName(chain);
    if (sp.affinitySeconds) {
      for (const e of eps) rules.push(`ip saddr @${ep(e).affinitySet} goto ${ep(e).chain}`);
      rules.push(`numgen random mod ${eps.length} vmap @${map}`);
      out.sets.set(map, LB_VERDICT_MAP);
      eps.forEach((e, i) => {
        el(map, String(i), `goto ${ep(e).chain}`);
      });
    } else {
      rules.push(`meta l4proto ${proto} dnat ip to numgen random mod ${eps.length} map @${map}`);
      out.sets.set(map, lbDnatMap(proto));
      eps.forEach((e, i) => {
        el(map, String(i), `${e.ip} . ${e.port}`);
      });
    }
    out.chains.set(chain, rules);
  };
  if (usesClusterChain) balance(names.cluster, cluster);
  if (usesLocalChain) balance(names.local, local);

  for (const e of reachable) {
    el(HAIRPIN_SET, `${e.ip} . ${e.ip}`);
    if (!sp.affinitySeconds) continue;
    const n = ep(e);
    out.sets.set(n.affinitySet, affinitySet(sp.affinitySeconds));
    out.chains.set(n.chain, [
      `update @${n.affinitySet} { ip saddr }`,
      `meta l4proto ${proto} dnat to ${e.key}`,
    ]);
  }
  return out;
}
