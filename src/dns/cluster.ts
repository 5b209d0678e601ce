/**
 * Answers for names in the cluster domain, as CoreDNS's kubernetes plugin gives them (the Kubernetes
 * DNS-Based Service Discovery specification, plus `pods insecure` pod records):
 *
 * - `svc.ns.svc.<zone>`: A/AAAA the cluster IPs; headless: the ready endpoints' addresses;
 *   ExternalName: a CNAME (chased by the caller when the target is outside the zone).
 * - `host.svc.ns.svc.<zone>`: the endpoint of that Service whose hostname (or dashed IP) is `host`.
 * - `_port._proto.svc.ns.svc.<zone>` SRV: one record per matching port (and per endpoint when
 *   headless), target the Service's name (or the endpoint's), weight 100/n, addresses as additionals.
 *   Without `_port._proto`, every port.
 * - `a-b-c-d.ns.pod.<zone>`: A a.b.c.d (any address, as `pods insecure` answers) when `ns` exists.
 * - `dns-version.<zone>` TXT "1.1.0".
 *
 * NXDOMAIN where CoreDNS says the name does not exist (an unknown Service or namespace, a name whose
 * second label from the zone is neither `svc` nor `pod`, a headless Service without ready endpoints,
 * too many labels); NODATA (NOERROR, empty) where the name exists without records of the type asked,
 * at the apex, `svc.<zone>`, `pod.<zone>` and `ns.svc.<zone>` of an existing namespace. Negative
 * answers carry the zone's SOA in the authority section. Zone transfers are refused.
 *
 * Deliberate difference: a pod name with labels in front (`x.1-2-3-4.ns.pod.<zone>`) is NXDOMAIN
 * (CoreDNS ignores the extra labels).
 */

import { isIP } from 'node:net';
import type { Answer } from 'dns-packet';
import { ipFromPodLabel, labels, trimZone } from './names.ts';
import type { ClusterRecords, ServiceEntry } from './records.ts';

export const DNS_SCHEMA_VERSION = '1.1.0';

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'FORMERR' | 'NOTIMP';

/** What the cluster zone answers to one question. */
export interface ClusterResult {
  rcode: Rcode;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /**
   * Set when an answer is a CNAME to a name outside the zone: the caller resolves `name` (type
   * `type`) upstream and appends what it gets; if that fails, it drops the CNAME (as CoreDNS does).
   */
  chase?: { name: string; type: 'A' | 'AAAA' };
}

export interface ClusterZoneOptions {
  /** The cluster domain, canonical (e.g. 'cluster.local'). */
  zone: string;
  /** TTL of every record, seconds (CoreDNS's default 5). */
  ttl: number;
  /** Addresses answered for `ns.dns.<zone>` and as the NS glue (the kube-dns Service's). */
  nameserverIPs?: string[];
}

/** One thing a name stands for (CoreDNS's msg.Service). */
interface Item {
  /** An address, or a target name (ExternalName). */
  host: string;
  /** -1: no port. */
  port: number;
  /** The owner name the item lives at (canonical, e.g. `web.ns.svc.cluster.local`): the SRV target. */
  owner: string;
}

const NAME_ERROR = Symbol('name error');
type Lookup = Item[] | typeof NAME_ERROR;

/** Parses a name below the zone and finds what it stands for (CoreDNS's parseRequest + Records). */
function lookup(records: ClusterRecords, base: string, zone: string, o: ClusterZoneOptions): Lookup {
  if (base === '' || base === 'svc' || base === 'pod') return [];
  if (base === 'ns.dns' && o.nameserverIPs?.length) {
    return o.nameserverIPs.map((ip) => ({ host: ip, port: -1, owner: `ns.dns.${zone}` }));
  }
  const segs = labels(base);
  let last = segs.length - 1;
  const kind = segs[last];
  if (kind !== 'svc' && kind !== 'pod') return NAME_ERROR;
  if (--last < 0) return [];
  const namespace = segs[last]!;
  if (--last < 0) return records.hasNamespace(namespace) ? [] : NAME_ERROR;
  const name = segs[last]!;
  last--;
  if (kind === 'pod') {
    if (last >= 0 || !records.hasNamespace(namespace)) return NAME_ERROR;
    const ip = ipFromPodLabel(name);
    return ip ? [{ host: ip, port: -1, owner: `${name}.${namespace}.pod.${zone}` }] : NAME_ERROR;
  }
  let endpoint = '';
  let port = '';
  let protocol = '';
  if (last === 0) endpoint = segs[0]!;
  else if (last === 1) {
    port = strip(segs[0]!);
    protocol = strip(segs[1]!);
  } else if (last > 1) return NAME_ERROR;
  const svc = records.service(namespace, name);
  if (!svc) return NAME_ERROR;
  return serviceItems(records, svc, zone, endpoint, port, protocol);
}

const strip = (s: string) => (s.startsWith('_') ? s.slice(1) : s);
const matches = (want: string, have: string) => want === '' || want === '*' || want === have;

/** CoreDNS's findServices for one Service. */
function serviceItems(
  records: ClusterRecords,
  svc: ServiceEntry,
  zone: string,
  endpoint: string,
  port: string,
  protocol: string,
): Lookup {
  const owner = `${svc.name}.${svc.namespace}.svc.${zone}`;
  if (svc.kind === 'ExternalName') {
    // An IP as externalName is no CNAME; CoreDNS then has nothing for the name.
    if (endpoint || !svc.externalName || isIP(svc.externalName)) return NAME_ERROR;
    // Port 0, as CoreDNS's: SRV answers `0 100 0 <externalName>`.
    return [{ host: svc.externalName, port: 0, owner }];
  }
  const items: Item[] = [];
  let found = false;
  if (svc.kind === 'Headless' || endpoint) {
    for (const ep of records.endpoints(svc.namespace, svc.name)) {
      if (endpoint && ep.hostname !== endpoint) continue;
      for (const p of ep.ports) {
        if (!(matches(port, p.name) && matches(protocol, p.protocol))) continue;
        found = true;
        items.push({ host: ep.ip, port: p.port, owner: `${ep.hostname}.${owner}` });
      }
    }
    return found ? items : NAME_ERROR;
  }
  for (const p of svc.ports) {
    if (!(matches(port, p.name) && matches(protocol, p.protocol))) continue;
    found = true;
    for (const ip of svc.clusterIPs) items.push({ host: ip, port: p.port, owner });
  }
  return found ? items : NAME_ERROR;
}

/** The zone's SOA record (CoreDNS's: ns.dns.<zone>, hostmaster.<zone>, serial the last change). */
export function soaRecord(zoneName: string, records: ClusterRecords, ttl: number): Answer {
  return {
    type: 'SOA',
    name: zoneName,
    ttl: Math.min(ttl, 300),
    class: 'IN',
    data: {
      mname: `ns.dns.${zoneName}`,
      rname: `hostmaster.${zoneName}`,
      serial: records.serial,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: ttl,
    },
  };
}

const MAX_CNAME_CHAIN = 8;

/**
 * The answer to `qname` (as asked; any case) of type `qtype` when `qname` is in the zone, else
 * null. `canonicalName` is `qname` lower-cased without a trailing dot.
 */
export function answerCluster(
  records: ClusterRecords,
  qname: string,
  canonicalName: string,
  qtype: string,
  o: ClusterZoneOptions,
): ClusterResult | null {
  const base = trimZone(canonicalName, o.zone);
  if (base === null) return null;
  // The zone as the client spelled it, for the SOA owner (CoreDNS keeps the query's case).
  const q = qname.endsWith('.') ? qname.slice(0, -1) : qname;
  const zoneName = q.slice(q.length - o.zone.length);
  const ok = (answers: Answer[], additionals: Answer[] = []): ClusterResult =>
    answers.length
      ? { rcode: 'NOERROR', answers, authorities: [], additionals }
      : {
          rcode: 'NOERROR',
          answers: [],
          authorities: [soaRecord(zoneName, records, o.ttl)],
          additionals: [],
        };
  const nxdomain = (): ClusterResult => ({
    rcode: 'NXDOMAIN',
    answers: [],
    authorities: [soaRecord(zoneName, records, o.ttl)],
    additionals: [],
  });

  switch (qtype) {
    case 'AXFR':
    case 'IXFR':
      return { rcode: 'REFUSED', answers: [], authorities: [], additionals: [] };
    case 'A':
    case 'AAAA': {
      const r = addresses(records, q, base, qtype, o, []);
      if (r === NAME_ERROR) return nxdomain();
      const res = ok(r.answers);
      if (r.chase) res.chase = r.chase;
      return res;
    }
    case 'CNAME': {
      const items = lookup(records, base, o.zone, o);
      if (items === NAME_ERROR) return nxdomain();
      return ok(items.filter((i) => !isIP(i.host)).map((i) => rr('CNAME', q, o.ttl, i.host)));
    }
    case 'SRV': {
      const items = lookup(records, base, o.zone, o);
      if (items === NAME_ERROR) return nxdomain();
      const r = srv(items, q, o.ttl);
      return ok(r.answers, r.additionals);
    }
    case 'TXT': {
      if (base === 'dns-version') {
        return ok([{ type: 'TXT', name: q, ttl: 28800, class: 'IN', data: DNS_SCHEMA_VERSION }]);
      }
      return lookup(records, base, o.zone, o) === NAME_ERROR ? nxdomain() : ok([]);
    }
    case 'SOA':
      // CoreDNS answers SOA at the apex only, and NODATA for every other name (existing or not).
      return ok(base === '' ? [soaRecord(zoneName, records, o.ttl)] : []);
    case 'NS':
      if (base === '') {
        const ns = `ns.dns.${zoneName}`;
        return ok(
          [rr('NS', q, o.ttl, ns)],
          (o.nameserverIPs ?? []).map((ip) => rr(isIP(ip) === 6 ? 'AAAA' : 'A', ns, o.ttl, ip)),
        );
      }
      return lookup(records, base, o.zone, o) === NAME_ERROR ? nxdomain() : ok([]);
    default:
      // Any other type: NXDOMAIN when the name does not exist, else NODATA.
      return lookup(records, base, o.zone, o) === NAME_ERROR ? nxdomain() : ok([]);
  }
}

/** CoreDNS's plugin.A/AAAA: addresses of the name, following in-zone CNAMEs. */
function addresses(
  records: ClusterRecords,
  qname: string,
  base: string,
  qtype: 'A' | 'AAAA',
  o: ClusterZoneOptions,
  chain: string[],
): { answers: Answer[]; chase?: ClusterResult['chase'] } | typeof NAME_ERROR {
  const items = lookup(records, base, o.zone, o);
  if (items === NAME_ERROR) return NAME_ERROR;
  const family = qtype === 'A' ? 4 : 6;
  const answers: Answer[] = [];
  const seen = new Set<string>();
  let chase: ClusterResult['chase'];
  for (const item of items) {
    const fam = isIP(item.host);
    if (fam) {
      if (fam === family && !seen.has(item.host)) {
        seen.add(item.host);
        answers.push(rr(qtype, qname, o.ttl, item.host));
      }
      continue;
    }
    // A CNAME (ExternalName). x CNAME x is a loop: skip; so are long chains and repeats.
    const target = item.host;
    if (target === base || chain.includes(target) || chain.length >= MAX_CNAME_CHAIN) continue;
    const cname = rr('CNAME', qname, o.ttl, target);
    const inner = trimZone(target, o.zone);
    if (inner !== null) {
      const next = addresses(records, target, inner, qtype, o, [...chain, target]);
      if (next !== NAME_ERROR && next.answers.length) {
        answers.push(cname, ...next.answers);
        if (next.chase) chase = next.chase;
      }
      continue;
    }
    answers.push(cname);
    chase = { name: target, type: qtype };
  }
  return chase ? { answers, chase } : { answers };
}

/** CoreDNS's plugin.SRV: priority 0, weight 100/n (at least 1), the targets' addresses as extras. */
function srv(items: Item[], qname: string, ttl: number): { answers: Answer[]; additionals: Answer[] } {
  const weight = Math.max(1, Math.floor(100 / Math.max(1, items.length)));
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  const seen = new Set<string>();
  const seenExtra = new Set<string>();
  for (const item of items) {
    if (item.port === -1) continue;
    const fam = isIP(item.host);
    const target = fam ? item.owner : item.host;
    const k = `${target}|${item.port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    answers.push({
      type: 'SRV',
      name: qname,
      ttl,
      class: 'IN',
      data: { priority: 0, weight, port: item.port, target },
    });
    const ek = `${target}|${item.host}`;
    if (fam && !seenExtra.has(ek)) {
      seenExtra.add(ek);
      additionals.push(rr(fam === 6 ? 'AAAA' : 'A', target, ttl, item.host));
    }
  }
  return { answers, additionals };
}

function rr(type: 'A' | 'AAAA' | 'CNAME' | 'NS' | 'PTR', name: string, ttl: number, data: string): Answer {
  return { type, name, ttl, class: 'IN', data };
}

/**
 * A PTR answer for a cluster IP or endpoint address (`<name>.<zone>`), or null when the address is
 * not the cluster's (the caller forwards the question, as CoreDNS's `fallthrough in-addr.arpa`).
 */
export function answerReverse(
  records: ClusterRecords,
  qname: string,
  ip: string,
  o: ClusterZoneOptions,
): ClusterResult | null {
  const names = records.reverse(ip);
  if (names.length === 0) return null;
  return {
    rcode: 'NOERROR',
    answers: names.map((n) => rr('PTR', qname, o.ttl, `${n.name}.${o.zone}`)),
    authorities: [],
    additionals: [],
  };
}
