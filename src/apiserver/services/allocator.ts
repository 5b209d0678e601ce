/**
 * Allocation of Service cluster IPs (from --service-cidr) and node ports (30000–32767), never twice.
 * Each allocation is one store key created only if absent (`/registry/core/_ipallocations/<ip>`,
 * `/registry/core/_nodeports/<port>`), the way Kubernetes' IPAddress objects work: the store's
 * create-if-absent makes two concurrent allocations of the same value impossible, and a key outlives
 * restarts. Release deletes the key.
 */
import { KeyExistsError, KeyNotFoundError, type Store } from '../../storage/store.ts';

const IP_PREFIX = '/registry/core/_ipallocations/';
const PORT_PREFIX = '/registry/core/_nodeports/';
const encoder = new TextEncoder();

export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/** An IPv4 CIDR. */
export class Ipv4Cidr {
  readonly base: number;
  readonly bits: number;
  readonly text: string;

  constructor(text: string) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
    const octets = m ? m.slice(1, 5).map(Number) : [];
    const bits = m ? Number(m[5]) : -1;
    if (!m || octets.some((o) => o > 255) || bits < 8 || bits > 30) {
      throw new Error(
        `invalid service CIDR ${JSON.stringify(text)}: want an IPv4 CIDR with a prefix of /8 to /30, e.g. 10.43.0.0/16`,
      );
    }
    const ip = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    this.base = (ip & mask) >>> 0;
    this.bits = bits;
    this.text = text;
  }

  /** Number of usable addresses (the network and broadcast addresses excluded). */
  get size(): number {
    return 2 ** (32 - this.bits) - 2;
  }

  /** The n-th usable address, n from 1 (x.x.x.1 for a /16 at .0). */
  at(n: number): string {
    const v = (this.base + n) >>> 0;
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  }

  /** The offset of `ip` in this range, or -1 when it is outside or not usable. */
  offsetOf(ip: string): number {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
    if (!m) return -1;
    const octets = m.slice(1, 5).map(Number);
    if (octets.some((o) => o > 255)) return -1;
    const v = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
    const off = v - this.base;
    return off >= 1 && off <= this.size ? off : -1;
  }
}

/** Why an allocation failed; the registry turns it into a 422 on the right field. */
export class AllocationError extends Error {
  readonly kind: 'taken' | 'outOfRange' | 'full';
  constructor(kind: 'taken' | 'outOfRange' | 'full', message: string) {
    super(message);
    this.name = 'AllocationError';
    this.kind = kind;
  }
}

export interface Owner {
  namespace: string;
  name: string;
}

export class ServiceAllocator {
  readonly #store: Store;
  readonly cidr: Ipv4Cidr;

  constructor(store: Store, serviceCidr: string) {
    this.#store = store;
    this.cidr = new Ipv4Cidr(serviceCidr);
  }

  /** The address of the `kubernetes` Service: the first of the range. */
  get apiServerIp(): string {
    return this.cidr.at(1);
  }

  /** The address cluster DNS serves on: the tenth of the range. */
  get dnsIp(): string {
    return this.cidr.at(10);
  }

  async #reserve(key: string, owner: Owner): Promise<boolean> {
    try {
      await this.#store.create(key, encoder.encode(JSON.stringify(owner)));
      return true;
    } catch (err) {
      if (err instanceof KeyExistsError) return false;
      throw err;
    }
  }

  /**
   * Reserves `requested` or, without one, a free address. Dynamic addresses come from above the
   * lower band Kubernetes keeps for static choices (min(max(16, size/16), 256) addresses).
   */
  async allocateIp(owner: Owner, requested?: string): Promise<string> {
    if (requested) {
      if (this.cidr.offsetOf(requested) < 0) {
        throw new AllocationError(
          'outOfRange',
          `the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.cidr.text}`,
        );
      }
      if (!(await this.#reserve(IP_PREFIX + requested, owner))) {
        throw new AllocationError(
          'taken',
          `failed to allocate IP ${requested}: provided IP is already allocated`,
        );
      }
      return requested;
    }
    const size = this.cidr.size;
    const band = Math.min(Math.max(16, Math.floor(size / 16)), 256);
    const used = new Set(
      (await this.#store.range(IP_PREFIX)).items.map((kv) => kv.key.slice(IP_PREFIX.length)),
    );
    for (const [lo, hi] of [
      [band + 1, size],
      [1, band],
    ] as const) {
      if (lo > hi) continue;
      const span = hi - lo + 1;
      const start = Math.floor(Math.random() * span);
      for (let i = 0; i < span; i++) {
        const ip = this.cidr.at(lo + ((start + i) % span));
        if (used.has(ip)) continue;
        if (await this.#reserve(IP_PREFIX + ip, owner)) return ip;
      }
    }
    throw new AllocationError('full', `range is full: no free IP address in ${this.cidr.text}`);
  }

  async releaseIp(ip: string): Promise<void> {
    await this.#delete(IP_PREFIX + ip);
  }

  /** Reserves `requested` or a free node port. */
  async allocateNodePort(owner: Owner, requested?: number): Promise<number> {
    const { min, max } = NODE_PORT_RANGE;
    if (requested !== undefined) {
      if (requested < min || requested > max) {
        throw new AllocationError(
          'outOfRange',
          `provided port is not in the valid range. The range of valid ports is ${min}-${max}`,
        );
      }
      if (!(await this.#reserve(PORT_PREFIX + requested, owner))) {
        throw new AllocationError('taken', 'provided port is already allocated');
      }
      return requested;
    }
    const used = new Set(
      (await this.#store.range(PORT_PREFIX)).items.map((kv) => Number(kv.key.slice(PORT_PREFIX.length))),
    );
    const span = max - min + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const port = min + ((start + i) % span);
      if (used.has(port)) continue;
      if (await this.#reserve(PORT_PREFIX + port, owner)) return port;
    }
    throw new AllocationError('full', `range is full: no free node port in ${min}-${max}`);
  }

  async releaseNodePort(port: number): Promise<void> {
    await this.#delete(PORT_PREFIX + port);
  }

  async #delete(key: string): Promise<void> {
    try {
      await this.#store.delete(key);
    } catch (err) {
      if (!(err instanceof KeyNotFoundError)) throw err;
    }
  }
}
