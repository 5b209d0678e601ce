/**
 * The cluster's well-known identities and this host's names, apart from the PKI that issues
 * certificates for them, so that components which only need the names (the node agent) do not load
 * the x509 library.
 */
import { isIP } from 'node:net';
import { networkInterfaces, hostname as osHostname } from 'node:os';

/** DNS names every serving certificate carries (the in-cluster names of the `kubernetes` Service). */
export const KUBERNETES_SERVICE_NAMES = [
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

export const ADMIN_USER = 'system:admin';
export const ADMIN_GROUP = 'system:masters';
/** The API server's identity towards kubelets (kubeadm's name); kubelets accept only this CN. */
export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';
/** Nodes authenticate as `system:node:<name>` in group `system:nodes`, as Kubernetes' Node authorizer expects. */
export const NODES_GROUP = 'system:nodes';

/**
 * The host's own SANs: localhost, its hostname, the loopback addresses and every non-internal
 * interface address (IPv6 link-local addresses are left out: they need a zone to be used).
 */
export function hostSans(
  hostname: string = osHostname(),
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): { dnsNames: string[]; ips: string[] } {
  const dnsNames = ['localhost'];
  if (hostname && !isIP(hostname)) dnsNames.push(hostname.toLowerCase());
  const ips = ['127.0.0.1', '::1'];
  for (const addrs of Object.values(interfaces)) {
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && /^fe[89ab]/i.test(a.address)) continue;
      ips.push(a.address);
    }
  }
  return { dnsNames: uniqSorted(dnsNames), ips: uniqSorted(ips.map(canonicalIp)) };
}

/** The canonical text of an IP address (IPv6 compressed, as WHATWG URLs serialise it). */
export function canonicalIp(ip: string): string {
  const v = isIP(ip);
  if (v === 4) return ip;
  if (v === 6) return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
}

/** The distinct values, sorted. */
export function uniqSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}
