/**
 * Stale UDP conntrack entries (kube-proxy's conntrack cleanup). UDP has no connection end, so a flow
 * DNATed to an endpoint that went away keeps going there until its entry expires; and a flow that
 * hit a REJECT while the service had no endpoints keeps failing. After the rules change:
 * - an endpoint removed from a UDP service port: delete flows to each of the port's addresses
 *   (cluster IP, external IPs, LoadBalancer IPs) DNATed to it, and node-port flows DNATed to it;
 * - a UDP service port that went from no endpoints to some: delete its flows to those addresses.
 */
import type { EndpointInfo, ServicePortInfo } from './model.ts';

/** `conntrack -D` argument lists for one service port's change of reachable endpoints. */
export function staleConntrackArgs(
  sp: ServicePortInfo,
  before: readonly EndpointInfo[] | undefined,
  after: readonly EndpointInfo[],
): string[][] {
  if (sp.protocol !== 'udp') return [];
  const out: string[][] = [];
  const ips = [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerIPs];
  const now = new Set(after.map((e) => e.ip));
  const gone = [...new Set((before ?? []).map((e) => e.ip))].filter((ip) => !now.has(ip));
  for (const ep of gone) {
    for (const ip of ips) out.push(['--orig-dst', ip, '--dst-nat', ep, '-p', 'udp']);
    if (sp.nodePort) out.push(['-p', 'udp', '--dport', String(sp.nodePort), '--dst-nat', ep]);
  }
  if ((before?.length ?? 0) === 0 && after.length > 0) {
    for (const ip of ips) out.push(['--orig-dst', ip, '-p', 'udp']);
    if (sp.nodePort) out.push(['-p', 'udp', '--dport', String(sp.nodePort)]);
  }
  return out;
}
