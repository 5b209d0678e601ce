/**
 * The kubelet-managed /etc/hosts (pkg/kubelet/kubelet_pods.go managedHostsFileContent and
 * GeneratePodHostNameAndDomain): localhost lines, the pod's IPs with its hostname (and FQDN when it
 * has a subdomain), then spec.hostAliases. Pods on the host network get the node's /etc/hosts.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

const HEADER = '# Kubernetes-managed hosts file.\n';
const HEADER_HOST_NETWORK = '# Kubernetes-managed hosts file (host network).\n';

/** The pod's hostname and DNS domain (`<subdomain>.<ns>.svc.<clusterDomain>` or ''). */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain: string } {
  let hostname = pod.spec?.hostname || pod.metadata?.name || '';
  if (hostname.length > 63) hostname = hostname.slice(0, 63).replace(/[-.]+$/, '');
  const sub = pod.spec?.subdomain ?? '';
  const domain = sub ? `${sub}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

function aliases(pod: Pod): string {
  const list = pod.spec?.hostAliases ?? [];
  if (list.length === 0) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const a of list) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  return out;
}

/** managedHostsFileContent for a pod with `podIPs`. */
export function managedHostsFile(pod: Pod, podIPs: string[], clusterDomain = 'cluster.local'): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  let out = HEADER;
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs)
    out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + aliases(pod);
}

/** The hosts file of a host-network pod: the node's own, then the pod's aliases. */
export function hostNetworkHostsFile(pod: Pod, nodeHosts: string): string {
  return HEADER_HOST_NETWORK + nodeHosts + aliases(pod);
}
