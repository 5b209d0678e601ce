/**
 * The sandbox's DNS config, as the kubelet builds it (pkg/kubelet/network/dns/dns.go):
 *
 * - ClusterFirst (the default): the cluster DNS servers, searches `<ns>.svc.<domain>`,
 *   `svc.<domain>`, `<domain>` then the host's searches, option `ndots:5`. With hostNetwork it
 *   behaves as Default; with no cluster DNS configured it falls back to Default.
 * - ClusterFirstWithHostNet: ClusterFirst, also for hostNetwork pods.
 * - Default: the host's resolv.conf (servers, searches, options).
 * - None: only what `spec.dnsConfig` says.
 *
 * `spec.dnsConfig` is then merged in for every policy: its nameservers and searches are appended
 * (duplicates dropped), its options override same-named ones. At most 3 servers and 32 searches
 * are kept, as the kubelet does.
 */
import { readFile } from 'node:fs/promises';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { DNSConfig } from '../cri/types.ts';

export interface DnsOptions {
  /** Cluster DNS server IPs; empty: ClusterFirst falls back to Default. */
  clusterDns: string[];
  /** Cluster domain, "cluster.local" by default. */
  clusterDomain: string;
  /** The host's resolv.conf, already parsed. */
  host: DNSConfig;
}

const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

/** Parses resolv.conf text: `nameserver`, `search`, `domain` and `options` lines. */
export function parseResolvConf(text: string): DNSConfig {
  const servers: string[] = [];
  let searches: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) servers.push(fields[0]);
    else if (key === 'search') searches = fields.filter((f) => f !== '.').map((f) => f.replace(/\.$/, ''));
    else if (key === 'domain' && fields[0]) searches = [fields[0]];
    else if (key === 'options') options.push(...fields);
  }
  return { servers, searches, options };
}

/** Reads and parses a resolv.conf file; a missing file is an empty config. */
export async function readResolvConf(path: string): Promise<DNSConfig> {
  try {
    return parseResolvConf(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: [], searches: [], options: [] };
    throw err;
  }
}

function uniq(list: string[]): string[] {
  return [...new Set(list)];
}

function mergeOptions(base: string[], extra: { name?: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const o of base) {
    const [name] = o.split(':');
    byName.set(name!, o);
  }
  for (const o of extra) {
    if (!o.name) continue;
    byName.set(o.name, o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  }
  return [...byName.values()];
}

/** The pod's effective DNS policy type: which of cluster, host or none applies. */
export function dnsType(pod: Pod, clusterDnsConfigured: boolean): 'cluster' | 'host' | 'none' {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const hostNetwork = pod.spec?.hostNetwork === true;
  if (policy === 'None') return 'none';
  if (policy === 'Default') return 'host';
  if (policy === 'ClusterFirstWithHostNet') return clusterDnsConfigured ? 'cluster' : 'host';
  // ClusterFirst
  if (hostNetwork || !clusterDnsConfigured) return 'host';
  return 'cluster';
}

/** The CRI DNS config of `pod`. */
export function podDnsConfig(pod: Pod, o: DnsOptions): DNSConfig {
  const kind = dnsType(pod, o.clusterDns.length > 0);
  let cfg: DNSConfig;
  if (kind === 'none') cfg = { servers: [], searches: [], options: [] };
  else if (kind === 'host')
    cfg = { servers: [...o.host.servers], searches: [...o.host.searches], options: [...o.host.options] };
  else {
    const ns = pod.metadata?.namespace ?? 'default';
    const d = o.clusterDomain;
    cfg = {
      servers: [...o.clusterDns],
      searches: uniq([`${ns}.svc.${d}`, `svc.${d}`, d, ...o.host.searches]),
      options: ['ndots:5'],
    };
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    cfg.servers = uniq([...cfg.servers, ...(extra.nameservers ?? [])]);
    cfg.searches = uniq([...cfg.searches, ...(extra.searches ?? [])]);
    cfg.options = mergeOptions(cfg.options, extra.options ?? []);
  }
  cfg.servers = cfg.servers.slice(0, MAX_NAMESERVERS);
  cfg.searches = cfg.searches.slice(0, MAX_SEARCHES);
  return cfg;
}
