/**
 * The pod network's pure parts (unit-tested): which routes a node wants from the Node objects, what
 * `ip -j route` says a node has, and the iptables rules (nat masquerade, filter forward) for the
 * cluster CIDR — all named so the clean-up finds exactly what skiff made and nothing else.
 *
 * Routes: one per other node's podCIDR, `via` that node's InternalIP of the same family, marked with
 * routing protocol {@link ROUTE_PROTO} (`ip route ... proto 250`). skiff's routes are those with that
 * protocol whose destination lies inside the cluster CIDR, so two clusters on one host (tests) never
 * touch each other's routes.
 *
 * iptables: two chains per cluster CIDR, named after a hash of it (`SKIFFNET-POST-<h>` in nat,
 * `SKIFFNET-FWD-<h>` in filter), reached by one jump each from POSTROUTING and FORWARD. The prefix is
 * deliberately not kube-proxy's `SKIFF-`: kube-proxy deletes unknown jumps into `SKIFF-` chains on
 * every full sync, and its clean-up removes every `SKIFF-` chain.
 */
import { createHash } from 'node:crypto';
import type { Node } from 'kubernetes-types/core/v1.js';
import { compressIpv6 } from '../util/ipv6.ts';

/** The routing protocol number marking skiff's routes (`proto 250`; 0–4 and 8–192 are taken). */
export const ROUTE_PROTO = 250;
/** Prefix of the pod network's iptables chains. */
export const NET_CHAIN_PREFIX = 'SKIFFNET-';

export type Family = 4 | 6;

export function familyOf(addr: string): Family {
  return addr.includes(':') ? 6 : 4;
}

/** A cluster CIDR flag value (`10.42.0.0/16` or dual-stack `10.42.0.0/16,fd00:42::/56`) as a list. */
export function splitCidrs(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

// ---------------------------------------------------------------------------------------------
// Address arithmetic
// ---------------------------------------------------------------------------------------------

function v4ToBigInt(addr: string): bigint | undefined {
  const parts = addr.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function v6ToBigInt(addr: string): bigint | undefined {
  let text = addr;
  // An embedded IPv4 tail (::ffff:1.2.3.4).
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4tail) {
    const v4 = v4ToBigInt(v4tail[1]!);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, -v4tail[1]!.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(`0x${g}`);
  }
  return n;
}

/** An address as a number and its family; undefined when malformed. */
export function parseAddr(addr: string): { family: Family; value: bigint } | undefined {
  const family = familyOf(addr);
  const value = family === 4 ? v4ToBigInt(addr) : v6ToBigInt(addr);
  return value === undefined ? undefined : { family, value };
}

/** A CIDR as family, network number and prefix length; undefined when malformed. */
export function parseCidr(cidr: string): { family: Family; net: bigint; bits: number } | undefined {
  const [addr, len] = cidr.split('/');
  if (!addr || len === undefined || !/^\d{1,3}$/.test(len)) return undefined;
  const a = parseAddr(addr);
  if (!a) return undefined;
  const width = a.family === 4 ? 32 : 128;
  const bits = Number(len);
  if (bits > width) return undefined;
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return { family: a.family, net: a.value & mask, bits };
}

/** Whether `inner` (a CIDR, or an address as a host route) lies inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner.includes('/') ? inner : `${inner}/${familyOf(inner) === 4 ? 32 : 128}`);
  if (!o || !i || o.family !== i.family || i.bits < o.bits) return false;
  const width = o.family === 4 ? 32 : 128;
  const shift = BigInt(width - o.bits);
  return o.bits === 0 || i.net >> shift === o.net >> shift;
}

/** `cidr` with its host bits cleared, as the kernel prints route destinations (10.42.1.0/24). */
export function canonicalCidr(cidr: string): string {
  const c = parseCidr(cidr);
  if (!c) return cidr;
  if (c.family === 4) {
    const n = c.net;
    return `${[24n, 16n, 8n, 0n].map((s) => (n >> s) & 255n).join('.')}/${c.bits}`;
  }
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((c.net >> s) & 0xffffn).toString(16));
  return `${compressIpv6(groups)}/${c.bits}`;
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

/** A route to another node's pods. */
export interface PodRoute {
  /** The podCIDR, canonical. */
  dst: string;
  /** The node's InternalIP. */
  via: string;
  /** The node it leads to. */
  node: string;
}

/** Why a node gets no route (logged once per node and reason). */
export interface SkippedNode {
  node: string;
  reason: string;
}

/**
 * The routes this node wants: every other node's podCIDR(s) inside the cluster CIDR(s), via that
 * node's InternalIP of the same family. Nodes without a podCIDR yet, or without an address of the
 * family, are skipped (with the reason).
 */
export function desiredRoutes(
  nodes: Iterable<Node>,
  self: string,
  clusterCidrs: readonly string[],
): { routes: PodRoute[]; skipped: SkippedNode[] } {
  const routes: PodRoute[] = [];
  const skipped: SkippedNode[] = [];
  const seen = new Set<string>();
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    if (!name || name === self) continue;
    const cidrs = node.spec?.podCIDRs?.length
      ? node.spec.podCIDRs
      : node.spec?.podCIDR
        ? [node.spec.podCIDR]
        : [];
    if (cidrs.length === 0) continue; // the IPAM controller has not assigned one yet
    const ips = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
    for (const cidr of cidrs) {
      if (!parseCidr(cidr)) {
        skipped.push({ node: name, reason: `invalid podCIDR ${cidr}` });
        continue;
      }
      if (!clusterCidrs.some((c) => cidrContains(c, cidr))) {
        skipped.push({ node: name, reason: `podCIDR ${cidr} is outside the cluster CIDR` });
        continue;
      }
      const via = ips.find((ip) => familyOf(ip) === familyOf(cidr) && parseAddr(ip));
      if (!via) {
        skipped.push({ node: name, reason: `no InternalIP of the podCIDR ${cidr}'s family` });
        continue;
      }
      const dst = canonicalCidr(cidr);
      if (seen.has(dst)) {
        skipped.push({ node: name, reason: `podCIDR ${cidr} is already another node's` });
        continue;
      }
      seen.add(dst);
      routes.push({ dst, via, node: name });
    }
  }
  return { routes, skipped };
}

/** A route as `ip -j route show` prints it (the fields used here). */
export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  /** Absent when the listing was filtered by protocol (iproute2 omits filtered-on fields). */
  protocol?: string | number;
  /** Absent for unicast routes; `unreachable`, `blackhole`, ... otherwise. */
  type?: string;
}

/** `ip -j route show` output as routes (nothing when it is not a JSON list). */
export function parseRoutes(json: string): IpRoute[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json || '[]');
  } catch {
    return [];
  }
  return Array.isArray(parsed) ? (parsed as IpRoute[]).filter((r) => typeof r?.dst === 'string') : [];
}

function withPrefix(dst: string): string {
  return dst.includes('/') ? dst : `${dst}/${familyOf(dst) === 4 ? 32 : 128}`;
}

/**
 * skiff's routes in `ip -j route show [proto 250]` output: protocol 250 (when shown) and a
 * destination inside a cluster CIDR (another cluster's, or another program's proto-250 routes, are
 * not ours).
 */
export function ownedRoutes(json: string, clusterCidrs: readonly string[]): IpRoute[] {
  const out: IpRoute[] = [];
  for (const r of parseRoutes(json)) {
    if (r.dst === 'default') continue;
    if (r.protocol !== undefined && String(r.protocol) !== String(ROUTE_PROTO)) continue;
    const dst = withPrefix(r.dst);
    if (!clusterCidrs.some((c) => cidrContains(c, dst))) continue;
    out.push({ ...r, dst });
  }
  return out;
}

/** Whether a node's address is on a link this host shares, from the main routing table. */
export type LinkDecision = { ok: true; dev?: string } | { ok: false; reason: string };

/**
 * The kernel's choice for `ip` among `routes` (the main table, skiff's own routes left out): the
 * longest matching prefix. On a shared link when that route has no gateway (a connected subnet);
 * otherwise reaching the node's pods would need encapsulation (VXLAN, not implemented).
 */
export function linkTo(ip: string, routes: readonly IpRoute[]): LinkDecision {
  let best: IpRoute | undefined;
  let bestBits = -1;
  for (const r of routes) {
    if (r.protocol !== undefined && String(r.protocol) === String(ROUTE_PROTO)) continue;
    const c = r.dst === 'default' ? { bits: 0 } : parseCidr(withPrefix(r.dst));
    if (!c || c.bits <= bestBits) continue;
    if (r.dst !== 'default' && !cidrContains(withPrefix(r.dst), ip)) continue;
    if (r.dst === 'default' && familyOf(ip) !== familyOf(r.gateway ?? ip)) continue;
    best = r;
    bestBits = c.bits;
  }
  if (!best || (best.type && best.type !== 'unicast'))
    return { ok: false, reason: 'the host has no route to it' };
  if (best.gateway)
    return {
      ok: false,
      reason: `it is not on a shared link (reached through gateway ${best.gateway}); VXLAN is not implemented`,
    };
  return { ok: true, dev: best.dev };
}

/** What to change: routes to replace (missing or with another gateway), and ones to delete. */
export function routeChanges(
  desired: readonly PodRoute[],
  current: readonly IpRoute[],
): { replace: PodRoute[]; remove: IpRoute[] } {
  const have = new Map(current.map((r) => [canonicalCidr(r.dst), r]));
  const want = new Set(desired.map((r) => r.dst));
  return {
    replace: desired.filter((r) => have.get(r.dst)?.gateway !== r.via),
    remove: current.filter((r) => !want.has(canonicalCidr(r.dst))),
  };
}

// ---------------------------------------------------------------------------------------------
// iptables
// ---------------------------------------------------------------------------------------------

/** The chains of one cluster CIDR set (a hash of it keeps clusters sharing a host apart). */
export function netChains(clusterCidrs: readonly string[]): { nat: string; filter: string } {
  const h = createHash('sha256')
    .update(clusterCidrs.map(canonicalCidr).join(','))
    .digest('hex')
    .slice(0, 8)
    .toUpperCase();
  return { nat: `${NET_CHAIN_PREFIX}POST-${h}`, filter: `${NET_CHAIN_PREFIX}FWD-${h}` };
}

const MULTICAST: Record<Family, string> = { 4: '224.0.0.0/4', 6: 'ff00::/8' };

/**
 * The rules of the two chains for the cluster CIDRs of `family`, as flannel writes them: pod → pod
 * (any node) is never NATed; pod → anywhere else (not multicast) is masqueraded to the node's
 * address; forwarding from and to the pod network is accepted (FORWARD's policy may be DROP).
 * Traffic to Service IPs is already DNATed to a pod (or to a host address, then masqueraded) when it
 * reaches POSTROUTING, so the service CIDR needs no rule of its own.
 */
export function chainRules(
  clusterCidrs: readonly string[],
  family: Family,
  chains = netChains(clusterCidrs),
): { nat: string[]; filter: string[] } {
  const cidrs = clusterCidrs.filter((c) => familyOf(c) === family).map(canonicalCidr);
  const nat: string[] = [];
  const filter: string[] = [];
  for (const c of cidrs) {
    nat.push(
      `-A ${chains.nat} -s ${c} -d ${c} -m comment --comment "skiff pod to pod: no NAT" -j RETURN`,
      `-A ${chains.nat} -s ${c} -d ${MULTICAST[family]} -m comment --comment "skiff pod multicast: no NAT" -j RETURN`,
      `-A ${chains.nat} -s ${c} -m comment --comment "skiff pod to the outside: masquerade" -j MASQUERADE --random-fully`,
    );
    filter.push(
      `-A ${chains.filter} -s ${c} -m comment --comment "skiff pod network: from pods" -j ACCEPT`,
      `-A ${chains.filter} -d ${c} -m comment --comment "skiff pod network: to pods" -j ACCEPT`,
    );
  }
  return { nat, filter };
}

/** The jump rules (iptables-save form, without `-A`) into the chains, in POSTROUTING and FORWARD. */
export function jumpSpecs(chains: { nat: string; filter: string }): { nat: string; filter: string } {
  return {
    nat: `POSTROUTING -m comment --comment "skiff pod network" -j ${chains.nat}`,
    filter: `FORWARD -m comment --comment "skiff pod network" -j ${chains.filter}`,
  };
}

/** Whether an iptables-save rule line is a jump (from any chain) into `chain`. */
export function isJumpTo(line: string, chain: string): boolean {
  return line.startsWith('-A ') && new RegExp(`\\s-j ${chain}(\\s|$)`).test(line);
}

/**
 * The iptables-restore input installing the chains (flushed and rewritten: `:chain` flushes with
 * --noflush) and adding each jump once, given the current iptables-save texts. Jumps already there
 * stay where they are; the filter jump is appended (a host's own FORWARD rules keep precedence),
 * the nat one inserted first (before rules that might accept the packet for the nat table).
 */
export function installInput(
  clusterCidrs: readonly string[],
  family: Family,
  saved: { nat: string; filter: string },
): string {
  const chains = netChains(clusterCidrs);
  const rules = chainRules(clusterCidrs, family, chains);
  const jumps = jumpSpecs(chains);
  const has = (text: string, chain: string) => text.split('\n').some((l) => isJumpTo(l, chain));
  const natJump = has(saved.nat, chains.nat)
    ? []
    : [`-I ${jumps.nat.replace(/^POSTROUTING /, 'POSTROUTING 1 ')}`];
  const filterJump = has(saved.filter, chains.filter) ? [] : [`-A ${jumps.filter}`];
  return `${[
    '*nat',
    `:${chains.nat} - [0:0]`,
    ...rules.nat,
    ...natJump,
    'COMMIT',
    '*filter',
    `:${chains.filter} - [0:0]`,
    ...rules.filter,
    ...filterJump,
    'COMMIT',
  ].join('\n')}\n`;
}

/**
 * The iptables-restore input removing the chains and every jump into them, given the current
 * iptables-save texts; '' when none of them is there.
 */
export function removeInput(
  chains: { nat: string; filter: string },
  saved: { nat: string; filter: string },
): string {
  const out: string[] = [];
  for (const [table, chain, text] of [
    ['nat', chains.nat, saved.nat],
    ['filter', chains.filter, saved.filter],
  ] as const) {
    const lines = text.split('\n');
    const exists = lines.some((l) => l.startsWith(`:${chain} `));
    const jumps = lines.filter((l) => isJumpTo(l, chain) && !l.startsWith(`-A ${chain} `));
    if (!exists && jumps.length === 0) continue;
    out.push(`*${table}`);
    for (const j of jumps) out.push(`-D ${j.slice(3)}`);
    if (exists) out.push(`:${chain} - [0:0]`, `-X ${chain}`);
    out.push('COMMIT');
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
