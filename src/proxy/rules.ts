/**
 * Rule generation, kube-proxy's iptables proxier (syncProxyRules) with skiff's chain names: pure
 * functions from a service port and its endpoints to iptables-restore lines. Nothing here runs
 * iptables.
 *
 * For each service port:
 * - nat SKIFF-SERVICES: cluster IP → the internal chain (SVC, or SVL for internalTrafficPolicy
 *   Local); external IPs and LoadBalancer IPs → EXT. nat SKIFF-NODEPORTS: node port → EXT.
 * - filter SKIFF-SERVICES / SKIFF-EXTERNAL-SERVICES: REJECT when the service has no endpoints,
 *   DROP when a Local policy has no local endpoint.
 * - SKIFF-SVC-*: masquerade off-cluster sources, optional ClientIP affinity (`-m recent`), then one
 *   rule per endpoint with `-m statistic --mode random --probability 1/(n-i)` (the last has none).
 * - SKIFF-SVL-*: the same over local endpoints, without the masquerade rule (keeps the source IP).
 * - SKIFF-EXT-*: masquerade (Cluster policy) or short-circuit pod and node traffic to SVC (Local).
 * - SKIFF-FW-*: loadBalancerSourceRanges.
 * - SKIFF-SEP-*: hairpin masquerade (source is the endpoint itself), then DNAT.
 */
import {
  EXTERNAL_SERVICES_CHAIN,
  endpointChain,
  FORWARD_CHAIN,
  MARK_MASQ_CHAIN,
  NODEPORTS_CHAIN,
  POSTROUTING_CHAIN,
  PROXY_FIREWALL_CHAIN,
  SERVICES_CHAIN,
} from './chains.ts';
import { categorizeEndpoints, type EndpointInfo, type ServicePortInfo } from './model.ts';

/** Node-wide settings the rules depend on. */
export interface RuleConfig {
  /** The pod network; traffic to a cluster IP from outside it is masqueraded. '' disables that. */
  clusterCIDR: string;
  /** Masquerade all traffic to cluster IPs. */
  masqueradeAll: boolean;
  /** The masquerade mark, e.g. '0x4000'. */
  masqueradeMark: string;
  /**
   * Leave out the comments of endpoint rules (SEP chains and the jumps to them), as kube-proxy does
   * above 1,000 endpoints: ~40% less to write.
   */
  largeCluster?: boolean;
  /** This node's IPv4 addresses: a loadBalancerSourceRanges entry holding one allows the node. */
  nodeIPs?: readonly string[];
}

function ipv4Number(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** Whether IPv4 `cidr` (a.b.c.d/n, or an address) holds `ip`. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base = '', bitsText] = cidr.trim().split('/');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(base) || !/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !(bits >= 0 && bits <= 32))
    return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ipv4Number(base) / size) === Math.floor(ipv4Number(ip) / size);
}

/** kube-proxy's largeClusterEndpointsThreshold. */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

/** The lines one service port contributes. Lines are iptables-restore rules (`-A chain ...`). */
export interface ServicePortRules {
  natServices: string[];
  natNodePorts: string[];
  filterServices: string[];
  filterExternal: string[];
  filterFirewall: string[];
  /** The service port's own nat chains, in writing order: chain → its rules. */
  natChains: Map<string, string[]>;
  /** The endpoints its rules may send traffic to (those with a SEP chain). */
  reachable: EndpointInfo[];
}

/** `--comment` argument: quoted when it has spaces, as kube-proxy writes it. */
export function comment(text: string): string {
  return /[\s"]/.test(text) ? `"${text.replaceAll('"', '')}"` : text;
}

/** kube-proxy's probability format: 10 decimals. */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

export function generateServicePortRules(
  sp: ServicePortInfo,
  endpoints: EndpointInfo[],
  cfg: RuleConfig,
): ServicePortRules {
  const out: ServicePortRules = {
    natServices: [],
    natNodePorts: [],
    filterServices: [],
    filterExternal: [],
    filterFirewall: [],
    natChains: new Map(),
    reachable: [],
  };
  const { cluster, local, reachable, hasAny } = categorizeEndpoints(sp, endpoints);
  out.reachable = reachable;
  const proto = sp.protocol;
  const m = `-m ${proto} -p ${proto}`;
  const { cluster: svcChain, local: svlChain, external: extChain, firewall: fwChain } = sp.chains;

  const usesClusterChain =
    cluster.length > 0 && (!sp.internalPolicyLocal || (sp.externallyAccessible && !sp.externalPolicyLocal));
  const usesLocalChain = local.length > 0 && (sp.internalPolicyLocal || sp.externalPolicyLocal);

  const internalChain = sp.internalPolicyLocal ? svlChain : svcChain;
  const hasInternal = hasAny && (!sp.internalPolicyLocal || local.length > 0);
  const externalPolicyChain = sp.externalPolicyLocal ? svlChain : svcChain;
  const hasExternal = hasAny && (!sp.externalPolicyLocal || local.length > 0);
  const usesExtChain = hasAny && sp.externallyAccessible;
  const usesFwChain = hasAny && sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  const lbTarget = usesFwChain ? fwChain : extChain;

  let internalFilter = '';
  let internalFilterComment = '';
  let externalFilter = '';
  let externalFilterComment = '';
  if (!hasAny) {
    internalFilter = externalFilter = 'REJECT';
    internalFilterComment = externalFilterComment = comment(`${sp.name} has no endpoints`);
  } else {
    if (!hasInternal) {
      internalFilter = 'DROP';
      internalFilterComment = comment(`${sp.name} has no local endpoints`);
    }
    if (!hasExternal) {
      externalFilter = 'DROP';
      externalFilterComment = comment(`${sp.name} has no local endpoints`);
    }
  }

  const clusterIPMatch = `${m} -d ${sp.clusterIP} --dport ${sp.port}`;
  const clusterIPComment = comment(`${sp.name} cluster IP`);
  if (hasInternal) {
    out.natServices.push(
      `-A ${SERVICES_CHAIN} -m comment --comment ${clusterIPComment} ${clusterIPMatch} -j ${internalChain}`,
    );
  } else {
    out.filterServices.push(
      `-A ${SERVICES_CHAIN} -m comment --comment ${internalFilterComment} ${clusterIPMatch} -j ${internalFilter}`,
    );
  }

  for (const ip of sp.externalIPs) {
    const match = `${m} -d ${ip} --dport ${sp.port}`;
    if (hasAny) {
      out.natServices.push(
        `-A ${SERVICES_CHAIN} -m comment --comment ${comment(`${sp.name} external IP`)} ${match} -j ${extChain}`,
      );
    }
    if (!hasExternal) {
      out.filterExternal.push(
        `-A ${EXTERNAL_SERVICES_CHAIN} -m comment --comment ${externalFilterComment} ${match} -j ${externalFilter}`,
      );
    }
  }

  for (const ip of sp.loadBalancerIPs) {
    const match = `${m} -d ${ip} --dport ${sp.port}`;
    if (hasAny) {
      out.natServices.push(
        `-A ${SERVICES_CHAIN} -m comment --comment ${comment(`${sp.name} loadbalancer IP`)} ${match} -j ${lbTarget}`,
      );
    }
    if (usesFwChain) {
      out.filterFirewall.push(
        `-A ${PROXY_FIREWALL_CHAIN} -m comment --comment ${comment(`${sp.name} traffic not accepted by ${fwChain}`)} ${match} -j DROP`,
      );
    }
  }
  if (!hasExternal) {
    for (const ip of sp.loadBalancerIPs) {
      out.filterExternal.push(
        `-A ${EXTERNAL_SERVICES_CHAIN} -m comment --comment ${externalFilterComment} ${m} -d ${ip} --dport ${sp.port} -j ${externalFilter}`,
      );
    }
  }

  if (sp.nodePort) {
    if (hasAny) {
      out.natNodePorts.push(
        `-A ${NODEPORTS_CHAIN} -m comment --comment ${comment(sp.name)} ${m} --dport ${sp.nodePort} -j ${extChain}`,
      );
    }
    if (!hasExternal) {
      out.filterExternal.push(
        `-A ${EXTERNAL_SERVICES_CHAIN} -m comment --comment ${externalFilterComment} -m addrtype --dst-type LOCAL ${m} --dport ${sp.nodePort} -j ${externalFilter}`,
      );
    }
  }

  // The internal chain's masquerade rule goes first: it is created below with its endpoints.
  const internalMasq: string[] = [];
  if (hasInternal) {
    if (cfg.masqueradeAll) {
      internalMasq.push(
        `-A ${internalChain} -m comment --comment ${clusterIPComment} ${clusterIPMatch} -j ${MARK_MASQ_CHAIN}`,
      );
    } else if (cfg.clusterCIDR) {
      internalMasq.push(
        `-A ${internalChain} -m comment --comment ${clusterIPComment} ${clusterIPMatch} ! -s ${cfg.clusterCIDR} -j ${MARK_MASQ_CHAIN}`,
      );
    }
  }

  if (usesExtChain) {
    const ext: string[] = [];
    if (!sp.externalPolicyLocal) {
      ext.push(
        `-A ${extChain} -m comment --comment ${comment(`masquerade traffic for ${sp.name} external destinations`)} -j ${MARK_MASQ_CHAIN}`,
      );
    } else {
      if (cfg.clusterCIDR && usesClusterChain) {
        ext.push(
          `-A ${extChain} -m comment --comment ${comment(`pod traffic for ${sp.name} external destinations`)} -s ${cfg.clusterCIDR} -j ${svcChain}`,
        );
      }
      ext.push(
        `-A ${extChain} -m comment --comment ${comment(`masquerade LOCAL traffic for ${sp.name} external destinations`)} -m addrtype --src-type LOCAL -j ${MARK_MASQ_CHAIN}`,
      );
      if (usesClusterChain) {
        ext.push(
          `-A ${extChain} -m comment --comment ${comment(`route LOCAL traffic for ${sp.name} external destinations`)} -m addrtype --src-type LOCAL -j ${svcChain}`,
        );
      }
    }
    if (hasExternal) ext.push(`-A ${extChain} -j ${externalPolicyChain}`);
    out.natChains.set(extChain, ext);
  }

  if (usesFwChain) {
    const fwComment = comment(`${sp.name} loadbalancer IP`);
    const fw = sp.loadBalancerSourceRanges.map(
      (cidr) => `-A ${fwChain} -m comment --comment ${fwComment} -s ${cidr.trim()} -j ${extChain}`,
    );
    // A VIP that is a local address loops back with the VIP as source: let the node through.
    const nodeIPs = cfg.nodeIPs ?? [];
    if (sp.loadBalancerSourceRanges.some((cidr) => nodeIPs.some((ip) => cidrContains(cidr, ip)))) {
      for (const ip of sp.loadBalancerIPs)
        fw.push(`-A ${fwChain} -m comment --comment ${fwComment} -s ${ip} -j ${extChain}`);
    }
    fw.push(
      `-A ${fwChain} -m comment --comment ${comment(`other traffic to ${sp.name} will be dropped by ${PROXY_FIREWALL_CHAIN}`)}`,
    );
    out.natChains.set(fwChain, fw);
  }

  const large = cfg.largeCluster ?? false;
  if (usesClusterChain) {
    out.natChains.set(svcChain, [
      ...(internalChain === svcChain ? internalMasq : []),
      ...serviceToEndpointRules(sp, svcChain, cluster, large),
    ]);
  }
  if (usesLocalChain) {
    out.natChains.set(svlChain, [
      ...(internalChain === svlChain ? internalMasq : []),
      ...serviceToEndpointRules(sp, svlChain, local, large),
    ]);
  }

  for (const ep of reachable) {
    const c = cfg.largeCluster ? '' : ` -m comment --comment ${comment(sp.name)}`;
    const sep = sepChain(sp, ep);
    const affinity = sp.affinitySeconds ? ` -m recent --name ${sep} --set` : '';
    out.natChains.set(sep, [
      `-A ${sep}${c} -s ${ep.ip} -j ${MARK_MASQ_CHAIN}`,
      `-A ${sep}${c}${affinity} ${m} -j DNAT --to-destination ${ep.key}`,
    ]);
  }
  return out;
}

/** The SKIFF-SEP chain of an endpoint of a service port. */
function sepChain(sp: ServicePortInfo, ep: EndpointInfo): string {
  return endpointChain(sp.name, sp.protocol, ep.key);
}

/** Affinity rules first, then the random balancing over `endpoints`. */
function serviceToEndpointRules(
  sp: ServicePortInfo,
  chain: string,
  endpoints: EndpointInfo[],
  large: boolean,
): string[] {
  const lines: string[] = [];
  const c = (ep: EndpointInfo) =>
    large ? '' : ` -m comment --comment ${comment(`${sp.name} -> ${ep.key}`)}`;
  if (sp.affinitySeconds) {
    for (const ep of endpoints) {
      lines.push(
        `-A ${chain}${c(ep)} -m recent --name ${sepChain(sp, ep)} --rcheck --seconds ${sp.affinitySeconds} --reap -j ${sepChain(sp, ep)}`,
      );
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const stat = i < n - 1 ? ` -m statistic --mode random --probability ${probability(n - i)}` : '';
    lines.push(`-A ${chain}${c(ep)}${stat} -j ${sepChain(sp, ep)}`);
  });
  return lines;
}

/** The fixed rules of the top-level chains (the per-service lines go between/after them). */
export function postroutingRules(cfg: RuleConfig): string[] {
  const mark = cfg.masqueradeMark;
  return [
    `-A ${POSTROUTING_CHAIN} -m mark ! --mark ${mark}/${mark} -j RETURN`,
    `-A ${POSTROUTING_CHAIN} -j MARK --xor-mark ${mark}`,
    `-A ${POSTROUTING_CHAIN} -m comment --comment "skiff service traffic requiring SNAT" -j MASQUERADE --random-fully`,
  ];
}

export function markMasqRules(cfg: RuleConfig): string[] {
  return [`-A ${MARK_MASQ_CHAIN} -j MARK --or-mark ${cfg.masqueradeMark}`];
}

export function forwardRules(cfg: RuleConfig): string[] {
  const mark = cfg.masqueradeMark;
  return [
    `-A ${FORWARD_CHAIN} -m comment --comment "skiff forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`,
    `-A ${FORWARD_CHAIN} -m comment --comment "skiff forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  ];
}

/** The last rule of nat SKIFF-SERVICES: local destinations go on to the node ports. */
export const NODEPORTS_JUMP = `-A ${SERVICES_CHAIN} -m comment --comment "skiff service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j ${NODEPORTS_CHAIN}`;

/** A rule in a built-in chain that sends traffic into one of skiff's chains. */
export interface JumpRule {
  table: 'nat' | 'filter';
  /** The built-in chain. */
  chain: string;
  /** The rule without `-A chain`, exactly as iptables-save prints it. */
  spec: string;
}

function jump(
  table: 'nat' | 'filter',
  chain: string,
  target: string,
  text: string,
  newOnly: boolean,
): JumpRule {
  const ct = newOnly ? '-m conntrack --ctstate NEW ' : '';
  return { table, chain, spec: `${ct}-m comment --comment "${text}" -j ${target}` };
}

/** kube-proxy's iptablesJumpChains, to skiff's chains. Every one carries a comment naming skiff. */
export const JUMP_RULES: readonly JumpRule[] = [
  jump('filter', 'INPUT', EXTERNAL_SERVICES_CHAIN, 'skiff externally-visible service portals', true),
  jump('filter', 'FORWARD', EXTERNAL_SERVICES_CHAIN, 'skiff externally-visible service portals', true),
  jump('filter', 'FORWARD', SERVICES_CHAIN, 'skiff service portals', true),
  jump('filter', 'OUTPUT', SERVICES_CHAIN, 'skiff service portals', true),
  jump('filter', 'FORWARD', FORWARD_CHAIN, 'skiff forwarding rules', false),
  jump('filter', 'INPUT', PROXY_FIREWALL_CHAIN, 'skiff load balancer firewall', true),
  jump('filter', 'OUTPUT', PROXY_FIREWALL_CHAIN, 'skiff load balancer firewall', true),
  jump('filter', 'FORWARD', PROXY_FIREWALL_CHAIN, 'skiff load balancer firewall', true),
  jump('nat', 'OUTPUT', SERVICES_CHAIN, 'skiff service portals', false),
  jump('nat', 'PREROUTING', SERVICES_CHAIN, 'skiff service portals', false),
  jump('nat', 'POSTROUTING', POSTROUTING_CHAIN, 'skiff postrouting rules', false),
];

/** Top-level chains rewritten on every sync. */
export const FILTER_TOP_CHAINS = [
  SERVICES_CHAIN,
  EXTERNAL_SERVICES_CHAIN,
  FORWARD_CHAIN,
  PROXY_FIREWALL_CHAIN,
] as const;
export const NAT_TOP_CHAINS = [SERVICES_CHAIN, NODEPORTS_CHAIN, POSTROUTING_CHAIN, MARK_MASQ_CHAIN] as const;
