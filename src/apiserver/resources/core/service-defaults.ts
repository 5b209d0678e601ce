/**
 * Service defaulting (SetDefaults_Service, with clusterIPs and single-stack IP families) and what
 * an update does before validation (patchAllocatedValues, NormalizeClusterIPs and
 * dropTypeDependentFields of pkg/registry/core/service).
 */
import type { KubeObject } from '../../object.ts';
import { isIPv6String, parseIP } from './ip.ts';
import {
  arr,
  defaultTo,
  ensureObj,
  isObj,
  isSet,
  jsonEqual,
  num,
  type Obj,
  obj,
  objItems,
  optStr,
  str,
  strList,
} from './json.ts';

/** The default and maximum ClientIP session affinity timeout (3 hours, 1 day). */
export const DEFAULT_CLIENT_IP_TIMEOUT = 10800;
export const MAX_CLIENT_IP_TIMEOUT = 86400;

/** The node port range (the API server's --service-node-port-range). */
export interface ServiceOptions {
  nodePortRange?: readonly [number, number];
}

export const type = (s: Obj) => str(s.type) || 'ClusterIP';
export const isHeadless = (s: Obj) => {
  const ips = strList(s.clusterIPs);
  return ips.length === 1 && ips[0] === 'None';
};
/** ExternallyAccessible: NodePort, LoadBalancer, or ClusterIP with external IPs. */
export const externallyAccessible = (s: Obj) =>
  type(s) === 'LoadBalancer' ||
  type(s) === 'NodePort' ||
  (type(s) === 'ClusterIP' && arr(s.externalIPs).length > 0);
export const needsClusterIP = (s: Obj) => type(s) !== 'ExternalName';
export const needsNodePort = (s: Obj) => type(s) === 'NodePort' || type(s) === 'LoadBalancer';
export const needsHealthCheck = (s: Obj) =>
  type(s) === 'LoadBalancer' && str(s.externalTrafficPolicy) === 'Local';

/** SetDefaults_Service, plus clusterIPs from clusterIP and single-stack IP families when unset. */
export function defaultService(o: KubeObject): void {
  const s = ensureObj(o, 'spec');
  if (!s) return;
  defaultTo(s, 'sessionAffinity', 'None');
  if (s.sessionAffinity === 'None') delete s.sessionAffinityConfig;
  if (s.sessionAffinity === 'ClientIP') {
    const timeout = obj(obj(s.sessionAffinityConfig).clientIP).timeoutSeconds;
    if (!isSet(timeout))
      s.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_TIMEOUT } };
  }
  defaultTo(s, 'type', 'ClusterIP');
  for (const [p] of objItems(s.ports)) {
    defaultTo(p, 'protocol', 'TCP');
    if (!isSet(p.targetPort) || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(s)) defaultTo(s, 'externalTrafficPolicy', 'Cluster');
  if (!isSet(s.internalTrafficPolicy) && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(str(s.type)))
    s.internalTrafficPolicy = 'Cluster';
  if (s.type === 'LoadBalancer' && !isSet(s.allocateLoadBalancerNodePorts))
    s.allocateLoadBalancerNodePorts = true;
  if (s.type === 'LoadBalancer' && isObj(o.status) && isObj(o.status.loadBalancer)) {
    for (const [ing] of objItems(o.status.loadBalancer.ingress)) {
      if (str(ing.ip) && !isSet(ing.ipMode)) ing.ipMode = 'VIP';
    }
  }
  // NormalizeClusterIPs (create): an old client set only clusterIP.
  const clusterIP = str(s.clusterIP);
  if (clusterIP && arr(s.clusterIPs).length === 0) s.clusterIPs = [clusterIP];
  if (needsClusterIP(s)) {
    if (!isSet(s.ipFamilyPolicy)) s.ipFamilyPolicy = 'SingleStack';
    if (s.ipFamilyPolicy === 'SingleStack' && !isSet(s.ipFamilies)) {
      const first = strList(s.clusterIPs)[0] ?? '';
      s.ipFamilies = [parseIP(first) && isIPv6String(first) ? 'IPv6' : 'IPv4'];
    }
  }
}

export function sameStrings(a: unknown, b: unknown): boolean {
  return jsonEqual(strList(a), strList(b));
}

/**
 * Before an update: keep allocated values the new object omits (patchAllocatedValues), keep
 * clusterIP and clusterIPs in step (NormalizeClusterIPs), and drop what the new type no longer
 * uses when the user left it unchanged (dropTypeDependentFields).
 */
export function prepareServiceUpdate(next: KubeObject, old: KubeObject): void {
  if (!isObj(next.spec) || !isObj(old.spec)) return;
  const n = next.spec;
  const o = old.spec;
  // patchAllocatedValues
  if (needsClusterIP(o) && needsClusterIP(n)) {
    if (!str(n.clusterIP) && isSet(o.clusterIP)) n.clusterIP = o.clusterIP;
    if (arr(n.clusterIPs).length === 0 && arr(o.clusterIPs).length > 0) n.clusterIPs = o.clusterIPs;
    if (!isSet(n.ipFamilyPolicy) && isSet(o.ipFamilyPolicy)) n.ipFamilyPolicy = o.ipFamilyPolicy;
    if (arr(n.ipFamilies).length === 0 && arr(o.ipFamilies).length > 0) n.ipFamilies = o.ipFamilies;
  }
  if (needsNodePort(o) && needsNodePort(n)) {
    const used = new Set(objItems(n.ports).map(([p]) => num(p.nodePort) ?? 0));
    const byName = new Map(objItems(o.ports).map(([p]) => [str(p.name), num(p.nodePort) ?? 0]));
    for (const [p] of objItems(n.ports)) {
      if ((num(p.nodePort) ?? 0) === 0) {
        const prev = byName.get(str(p.name)) ?? 0;
        if (prev && !used.has(prev)) p.nodePort = prev;
      }
    }
  }
  if (needsHealthCheck(o) && needsHealthCheck(n) && !num(n.healthCheckNodePort))
    n.healthCheckNodePort = o.healthCheckNodePort;
  // NormalizeClusterIPs (update)
  if (arr(o.clusterIPs).length > 0 && arr(n.clusterIPs).length === 0 && str(o.clusterIP) === str(n.clusterIP))
    n.clusterIPs = o.clusterIPs;
  if (str(o.clusterIP) !== str(n.clusterIP)) {
    if (str(o.clusterIP) && !str(n.clusterIP) && sameStrings(o.clusterIPs, n.clusterIPs)) delete n.clusterIPs;
    if (str(n.clusterIP) && sameStrings(o.clusterIPs, n.clusterIPs)) n.clusterIPs = [str(n.clusterIP)];
  }
  // dropTypeDependentFields
  if (needsClusterIP(o) && !needsClusterIP(n)) {
    if (sameStrings(o.clusterIPs, n.clusterIPs)) {
      delete n.clusterIP;
      delete n.clusterIPs;
    }
    if (sameStrings(o.ipFamilies, n.ipFamilies)) delete n.ipFamilies;
    if (str(o.ipFamilyPolicy) === str(n.ipFamilyPolicy)) delete n.ipFamilyPolicy;
  }
  if (needsNodePort(o) && !needsNodePort(n)) {
    const np = (s: Obj) => objItems(s.ports).map(([p]) => num(p.nodePort) ?? 0);
    if (jsonEqual(np(o), np(n))) for (const [p] of objItems(n.ports)) delete p.nodePort;
  }
  if (
    needsHealthCheck(o) &&
    !needsHealthCheck(n) &&
    num(o.healthCheckNodePort) === num(n.healthCheckNodePort)
  )
    delete n.healthCheckNodePort;
  if (type(o) === 'LoadBalancer' && type(n) !== 'LoadBalancer') {
    if (
      isSet(n.allocateLoadBalancerNodePorts) &&
      n.allocateLoadBalancerNodePorts === o.allocateLoadBalancerNodePorts
    )
      delete n.allocateLoadBalancerNodePorts;
    if (optStr(o.loadBalancerClass) === optStr(n.loadBalancerClass)) delete n.loadBalancerClass;
  }
  if (
    externallyAccessible(o) &&
    !externallyAccessible(n) &&
    str(o.externalTrafficPolicy) === str(n.externalTrafficPolicy)
  )
    delete n.externalTrafficPolicy;
  if (type(n) !== 'LoadBalancer' && isObj(next.status)) next.status.loadBalancer = {};
}
