/**
 * IP prefixes as numbers, and the CIDR set of node IPAM (pkg/controller/nodeipam/ipam/cidrset): a
 * cluster CIDR cut into equal node subnets, handed out in order from a moving candidate (so a
 * released subnet is not reused at once), any of which can be marked used or free.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface Prefix {
  family: 4 | 6;
  /** The network address. */
  base: bigint;
  bits: number;
}

const WIDTH = { 4: 32, 6: 128 } as const;

export function parseIP(s: string): { family: 4 | 6; value: bigint } | undefined {
  if (isIPv4(s)) {
    return { family: 4, value: s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  }
  if (!isIPv6(s) || s.includes('%')) return undefined;
  let text = s;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = parseIP(v4[1]!)!.value;
    text = `${text.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (h: string) => (h ? h.split(':').map((g) => BigInt(Number.parseInt(g, 16))) : []);
  const hs = groups(head);
  const ts = tail === undefined ? [] : groups(tail);
  const all = [...hs, ...new Array<bigint>(8 - hs.length - ts.length).fill(0n), ...ts];
  return { family: 6, value: all.reduce((acc, g) => (acc << 16n) | g, 0n) };
}

export function formatIP(family: 4 | 6, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: compress the longest run (≥ 2) of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Parses `a.b.c.d/n` or `x::/n`; the base is masked to the network address. */
export function parsePrefix(s: string): Prefix | undefined {
  const i = s.indexOf('/');
  if (i < 0) return undefined;
  const ip = parseIP(s.slice(0, i));
  const bitsText = s.slice(i + 1);
  if (!ip || !/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  const width = WIDTH[ip.family];
  if (bits > width) return undefined;
  const hostBits = BigInt(width - bits);
  return { family: ip.family, base: (ip.value >> hostBits) << hostBits, bits };
}

export function formatPrefix(p: Prefix): string {
  return `${formatIP(p.family, p.base)}/${p.bits}`;
}

/** Whether `inner` lies within `outer`. */
export function contains(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || inner.bits < outer.bits) return false;
  const shift = BigInt(WIDTH[outer.family] - outer.bits);
  return inner.base >> shift === outer.base >> shift;
}

/** The most node subnets one cluster CIDR may be cut into (2^16, as Kubernetes). */
const MAX_SUBNET_DIFF = 16;

export class CidrSet {
  readonly cluster: Prefix;
  readonly nodeMaskSize: number;
  readonly #max: number;
  readonly #used: Uint8Array;
  #next = 0;
  #allocated = 0;

  constructor(clusterCidr: string, nodeMaskSize: number) {
    const cluster = parsePrefix(clusterCidr);
    if (!cluster) throw new Error(`invalid cluster CIDR ${JSON.stringify(clusterCidr)}`);
    if (nodeMaskSize < cluster.bits || nodeMaskSize > WIDTH[cluster.family]) {
      throw new Error(
        `node CIDR mask size /${nodeMaskSize} does not fit in cluster CIDR ${clusterCidr} (mask /${cluster.bits})`,
      );
    }
    if (nodeMaskSize - cluster.bits > MAX_SUBNET_DIFF) {
      throw new Error(
        `cluster CIDR ${clusterCidr} with node mask /${nodeMaskSize} makes more than 2^${MAX_SUBNET_DIFF} node subnets`,
      );
    }
    this.cluster = cluster;
    this.nodeMaskSize = nodeMaskSize;
    this.#max = 2 ** (nodeMaskSize - cluster.bits);
    this.#used = new Uint8Array(this.#max);
  }

  /** Node subnets in all. */
  get size(): number {
    return this.#max;
  }

  get allocated(): number {
    return this.#allocated;
  }

  #subnet(i: number): string {
    const shift = BigInt(WIDTH[this.cluster.family] - this.nodeMaskSize);
    return formatPrefix({
      family: this.cluster.family,
      base: this.cluster.base + (BigInt(i) << shift),
      bits: this.nodeMaskSize,
    });
  }

  /** The next free subnet, marked used; undefined when all are taken. */
  allocateNext(): string | undefined {
    for (let k = 0; k < this.#max; k++) {
      const i = (this.#next + k) % this.#max;
      if (this.#used[i]) continue;
      this.#used[i] = 1;
      this.#allocated++;
      this.#next = (i + 1) % this.#max;
      return this.#subnet(i);
    }
    return undefined;
  }

  /** The range of subnet indices `cidr` covers, or undefined when it is not within the cluster CIDR. */
  #range(cidr: string): [number, number] | undefined {
    const p = parsePrefix(cidr);
    if (!p || !contains(this.cluster, p)) return undefined;
    const width = WIDTH[this.cluster.family];
    const shift = BigInt(width - this.nodeMaskSize);
    const offset = p.base - this.cluster.base;
    const first = Number(offset >> shift);
    if (p.bits >= this.nodeMaskSize) return [first, first];
    return [first, first + 2 ** (this.nodeMaskSize - p.bits) - 1];
  }

  /** Marks the subnets `cidr` covers used; false when it is outside the cluster CIDR. */
  occupy(cidr: string): boolean {
    const r = this.#range(cidr);
    if (!r) return false;
    for (let i = r[0]; i <= r[1]; i++) {
      if (!this.#used[i]) this.#allocated++;
      this.#used[i] = 1;
    }
    return true;
  }

  /** Marks the subnets `cidr` covers free; false when it is outside the cluster CIDR. */
  release(cidr: string): boolean {
    const r = this.#range(cidr);
    if (!r) return false;
    for (let i = r[0]; i <= r[1]; i++) {
      if (this.#used[i]) this.#allocated--;
      this.#used[i] = 0;
    }
    return true;
  }

  /** Whether any subnet `cidr` covers is used. */
  isUsed(cidr: string): boolean {
    const r = this.#range(cidr);
    if (!r) return false;
    for (let i = r[0]; i <= r[1]; i++) if (this.#used[i]) return true;
    return false;
  }
}
