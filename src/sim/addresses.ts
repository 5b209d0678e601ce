/**
 * Addresses of simulated nodes and pods: node InternalIPs from 172.16.0.0/12, pod IPs from the
 * node's spec.podCIDRs (as node IPAM set them) or, without one, a /24 of 100.64.0.0/10 per node.
 * The name prefix picks where in those ranges a simulator starts, so two simulators with different
 * prefixes rarely overlap.
 */
import { isIPv4, isIPv6 } from 'node:net';

export function ipv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

const HOST_BASE = (172 << 24) | (16 << 16);
const HOST_SIZE = 1 << 20;
const POD_BASE = (100 << 24) | (64 << 16);
const POD_SUBNETS = 1 << 14;

/** The InternalIP of the `index`th node of the simulator with `prefix`. */
export function hostIP(prefix: string, index: number): string {
  const offset = ((hash(prefix) % 16) * 65536 + index + 1) % (HOST_SIZE - 2);
  return ipv4((HOST_BASE + offset + 1) >>> 0);
}

/** A stand-in pod CIDR for a node that node IPAM gave none. */
export function fallbackPodCIDR(prefix: string, index: number): string {
  const subnet = ((hash(prefix) % 64) * 256 + index) % POD_SUBNETS;
  return `${ipv4((POD_BASE + subnet * 256) >>> 0)}/24`;
}

interface Range {
  family: 4 | 6;
  base: bigint;
  size: bigint;
  next: bigint;
}

function toBigInt(ip: string): { family: 4 | 6; value: bigint } | undefined {
  if (isIPv4(ip))
    return { family: 4, value: ip.split('.').reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n) };
  if (!isIPv6(ip)) return undefined;
  const [head = '', tail] = ip.split('::');
  const g = (h: string) => (h ? h.split(':').map((x) => BigInt(Number.parseInt(x, 16))) : []);
  const hs = g(head);
  const ts = tail === undefined ? [] : g(tail);
  const all = [...hs, ...new Array<bigint>(8 - hs.length - ts.length).fill(0n), ...ts];
  return { family: 6, value: all.reduce((a, x) => (a << 16n) | x, 0n) };
}

function fromBigInt(family: 4 | 6, v: bigint): string {
  if (family === 4) return ipv4(Number(v));
  const groups = Array.from({ length: 8 }, (_, i) => ((v >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/**
 * Hands out pod IPs of one node from its pod CIDRs (one per family): host addresses from .2 up
 * (the network address and the gateway .1 are skipped, and IPv4's broadcast), round-robin, skipping
 * addresses in use.
 */
export class PodIPAllocator {
  #ranges: Range[] = [];
  #key = '';
  readonly #used = new Set<string>();

  /** Sets the CIDRs (when they change, addresses in use stay reserved). */
  setCIDRs(cidrs: readonly string[]): void {
    const key = cidrs.join(',');
    if (key === this.#key) return;
    this.#key = key;
    const ranges: Range[] = [];
    for (const cidr of cidrs) {
      const [ip = '', bitsText = ''] = cidr.split('/');
      const parsed = toBigInt(ip);
      const bits = Number(bitsText);
      if (!parsed || !Number.isInteger(bits)) continue;
      if (ranges.some((r) => r.family === parsed.family)) continue;
      const width = parsed.family === 4 ? 32 : 128;
      const hostBits = BigInt(width - bits);
      const base = (parsed.value >> hostBits) << hostBits;
      ranges.push({ family: parsed.family, base, size: 1n << hostBits, next: 2n });
    }
    this.#ranges = ranges;
  }

  get cidrCount(): number {
    return this.#ranges.length;
  }

  /** One address per CIDR; empty when a range is full. */
  allocate(): string[] {
    const out: string[] = [];
    for (const r of this.#ranges) {
      const last = r.family === 4 ? r.size - 2n : r.size - 1n;
      if (last < 2n) return [];
      let found: string | undefined;
      for (let tries = 0n; tries <= last - 2n; tries++) {
        if (r.next > last) r.next = 2n;
        const ip = fromBigInt(r.family, r.base + r.next);
        r.next++;
        if (!this.#used.has(ip)) {
          found = ip;
          break;
        }
      }
      if (!found) {
        for (const ip of out) this.#used.delete(ip);
        return [];
      }
      this.#used.add(found);
      out.push(found);
    }
    return out;
  }

  /** Marks addresses used (pods found running at start). */
  reserve(ips: readonly string[]): void {
    for (const ip of ips) this.#used.add(ip);
  }

  release(ips: readonly string[]): void {
    for (const ip of ips) this.#used.delete(ip);
  }
}
