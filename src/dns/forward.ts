/**
 * Forwarding to upstream resolvers (CoreDNS's `forward` plus `cache`): each question goes out as a
 * fresh query (random ID, RD, EDNS0 with a 1232-byte payload, the client's DO bit) over UDP to the
 * first upstream; a truncated answer is asked again over TCP; a timeout or failure moves on to the
 * next upstream. Answers are cached by (name, type, class, DO) for their smallest TTL (negative
 * answers: the SOA's, RFC 2308), capped at `maxTtlSeconds`; hits come back with their TTLs aged.
 * Identical questions in flight at once share one upstream query.
 *
 * Loop detection: {@link Forwarder.isOwnQuery} tells whether an incoming packet is one of our own
 * outstanding upstream queries — it came back to us, so the upstreams loop (e.g. the host's resolver
 * forwards to cluster DNS). The server answers those SERVFAIL, which ends the loop at once.
 */

import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { Answer, DecodedPacket } from 'dns-packet';
import * as packet from 'dns-packet';
import { type Clock, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { TtlCache } from './cache.ts';
import type { DnsMetrics } from './metrics.ts';
import { canonical } from './names.ts';
import type { Upstream } from './resolvconf.ts';

/** Every upstream failed (timeouts, refused connections) or none is configured. */
export class ForwardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardError';
  }
}

/** An upstream answer, as the server copies it into its response. */
export interface ForwardResult {
  /** Numeric rcode (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...). */
  rcode: number;
  /** The upstream's AD flag. */
  authenticData: boolean;
  answers: Answer[];
  authorities: Answer[];
  /** Without the OPT record. */
  additionals: Answer[];
  /** True when served from the cache. */
  cached: boolean;
}

export interface ForwarderOptions {
  upstreams: Upstream[];
  /** Per-upstream attempt timeout, ms (default 2000). */
  timeoutMs?: number;
  /** Cache entries (default 10,000); 0 disables the cache. */
  cacheSize?: number;
  /** Longest time an answer is cached, s (default 30, as the `cache 30` of the default Corefile). */
  maxTtlSeconds?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: DnsMetrics;
}

interface Pending {
  name: string;
  type: string;
  upstream: Upstream;
  resolve: (p: DecodedPacket) => void;
  reject: (e: Error) => void;
  cancelTimer: () => void;
}

const RCODES: Record<string, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};

/** The numeric rcode of a decoded packet. */
export function rcodeOf(p: DecodedPacket): number {
  return RCODES[(p as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR'] ?? 2;
}

interface CachedAnswer {
  rcode: number;
  authenticData: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

function ttlOf(a: Answer): number {
  return a.type === 'OPT' ? Number.POSITIVE_INFINITY : (a.ttl ?? 0);
}

function aged(records: Answer[], ageS: number): Answer[] {
  if (ageS <= 0) return records;
  return records.map((r) => (r.type === 'OPT' ? r : { ...r, ttl: Math.max(0, (r.ttl ?? 0) - ageS) }));
}

export class Forwarder {
  readonly #o: Required<Omit<ForwarderOptions, 'metrics'>> & { metrics?: DnsMetrics };
  readonly #cache: TtlCache<CachedAnswer> | null;
  readonly #pending = new Map<number, Pending>();
  readonly #inflight = new Map<string, Promise<ForwardResult>>();
  #udp4: dgram.Socket | null = null;
  #udp6: dgram.Socket | null = null;
  #closed = false;

  constructor(o: ForwarderOptions) {
    this.#o = {
      upstreams: o.upstreams,
      timeoutMs: o.timeoutMs ?? 2000,
      cacheSize: o.cacheSize ?? 10_000,
      maxTtlSeconds: o.maxTtlSeconds ?? 30,
      clock: o.clock ?? systemClock,
      logger: o.logger ?? silentLogger,
      metrics: o.metrics,
    };
    this.#cache = this.#o.cacheSize > 0 ? new TtlCache(this.#o.cacheSize, this.#o.clock) : null;
  }

  get upstreams(): readonly Upstream[] {
    return this.#o.upstreams;
  }

  /** True when (id, name, type) is one of our outstanding upstream queries: a loop. */
  isOwnQuery(id: number, name: string, type: string): boolean {
    const p = this.#pending.get(id);
    return p !== undefined && p.name === canonical(name) && p.type === type;
  }

  /**
   * The upstream answer to one question. Fails with {@link ForwardError} when no upstream answers.
   */
  async resolve(
    name: string,
    type: string,
    opts: { dnssecOk?: boolean; cls?: string } = {},
  ): Promise<ForwardResult> {
    const cls = opts.cls ?? 'IN';
    const key = `${canonical(name)}|${type}|${cls}|${opts.dnssecOk ? 1 : 0}`;
    const hit = this.#cache?.get(key);
    if (hit) {
      this.#o.metrics?.cacheHit('forward');
      const ageS = Math.floor(hit.ageMs / 1000);
      const v = hit.value;
      return {
        rcode: v.rcode,
        authenticData: v.authenticData,
        answers: aged(v.answers, ageS),
        authorities: aged(v.authorities, ageS),
        additionals: aged(v.additionals, ageS),
        cached: true,
      };
    }
    this.#o.metrics?.cacheMisses.inc({ cache: 'forward' });
    let flight = this.#inflight.get(key);
    if (!flight) {
      flight = this.#resolveUpstream(name, type, cls, opts.dnssecOk ?? false, key).finally(() =>
        this.#inflight.delete(key),
      );
      this.#inflight.set(key, flight);
    }
    return flight;
  }

  async #resolveUpstream(
    name: string,
    type: string,
    cls: string,
    dnssecOk: boolean,
    key: string,
  ): Promise<ForwardResult> {
    if (this.#o.upstreams.length === 0) throw new ForwardError('no upstream resolvers configured');
    const errors: string[] = [];
    for (const up of this.#o.upstreams) {
      const to = `${up.host}:${up.port}`;
      const t0 = performance.now();
      try {
        let res = await this.#udpQuery(up, name, type, cls, dnssecOk);
        if (res.flag_tc) res = await this.#tcpQuery(up, name, type, cls, dnssecOk);
        const rcode = rcodeOf(res);
        this.#o.metrics?.forwardDuration.observe(
          { to, rcode: (res as DecodedPacket & { rcode?: string }).rcode ?? String(rcode) },
          (performance.now() - t0) / 1000,
        );
        const answer: CachedAnswer = {
          rcode,
          authenticData: res.flag_ad,
          answers: res.answers ?? [],
          authorities: res.authorities ?? [],
          additionals: (res.additionals ?? []).filter((a) => a.type !== 'OPT'),
        };
        this.#store(key, answer);
        return { ...answer, cached: false };
      } catch (err) {
        this.#o.metrics?.forwardDuration.observe({ to, rcode: 'error' }, (performance.now() - t0) / 1000);
        errors.push(`${to}: ${(err as Error).message}`);
        this.#o.logger.debug({ err, upstream: to, name, type }, 'upstream query failed');
      }
    }
    throw new ForwardError(`no upstream answered ${name} ${type}: ${errors.join('; ')}`);
  }

  #store(key: string, a: CachedAnswer): void {
    if (!this.#cache) return;
    let ttl: number;
    if (a.rcode === 0 && a.answers.length > 0) {
      ttl = Math.min(...a.answers.map(ttlOf));
    } else if (a.rcode === 0 || a.rcode === 3) {
      const soa = a.authorities.find((r) => r.type === 'SOA');
      if (soa?.type !== 'SOA') return;
      ttl = Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0);
    } else return; // SERVFAIL, REFUSED, ...: never cached.
    ttl = Math.min(ttl, this.#o.maxTtlSeconds);
    // Hits never claim more than the cache keeps them: records' TTLs are capped at the entry's.
    const cap = (rs: Answer[]) =>
      rs.map((r) => (r.type === 'OPT' || (r.ttl ?? 0) <= ttl ? r : { ...r, ttl }));
    this.#cache.set(
      key,
      { ...a, answers: cap(a.answers), authorities: cap(a.authorities), additionals: cap(a.additionals) },
      ttl * 1000,
    );
  }

  #query(name: string, type: string, cls: string, dnssecOk: boolean): { id: number; buf: Buffer } {
    let id = randomInt(0, 65536);
    while (this.#pending.has(id)) id = randomInt(0, 65536);
    const buf = packet.encode({
      type: 'query',
      id,
      flags: packet.RECURSION_DESIRED,
      questions: [{ name, type: type as 'A', class: cls as 'IN' }],
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1232,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: dnssecOk ? packet.DNSSEC_OK : 0,
          flag_do: dnssecOk,
          options: [],
        },
      ],
    });
    return { id, buf };
  }

  #socket(family: 4 | 6): dgram.Socket {
    const existing = family === 4 ? this.#udp4 : this.#udp6;
    if (existing) return existing;
    const sock = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
    sock.on('message', (msg, rinfo) => this.#onUpstreamMessage(msg, rinfo));
    sock.on('error', (err) => this.#o.logger.warn({ err }, 'upstream UDP socket error'));
    sock.unref();
    if (family === 4) this.#udp4 = sock;
    else this.#udp6 = sock;
    return sock;
  }

  #onUpstreamMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const p = this.#pending.get(id);
    if (!p || p.upstream.port !== rinfo.port || p.upstream.host.split('%')[0] !== rinfo.address) return;
    let res: DecodedPacket;
    try {
      res = packet.decode(msg);
    } catch {
      return;
    }
    const q = res.questions?.[0];
    // An answer must echo our question: anything else is stale or spoofed.
    if (!res.flag_qr || !q || canonical(q.name) !== p.name || q.type !== p.type) return;
    this.#pending.delete(id);
    p.cancelTimer();
    p.resolve(res);
  }

  #udpQuery(
    up: Upstream,
    name: string,
    type: string,
    cls: string,
    dnssecOk: boolean,
  ): Promise<DecodedPacket> {
    if (this.#closed) return Promise.reject(new ForwardError('forwarder closed'));
    const { id, buf } = this.#query(name, type, cls, dnssecOk);
    const sock = this.#socket(net.isIPv6(up.host.split('%')[0] ?? '') ? 6 : 4);
    this.#o.metrics?.forwardRequests.inc({ to: `${up.host}:${up.port}`, proto: 'udp' });
    return new Promise((resolve, reject) => {
      const cancelTimer = this.#o.clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(new ForwardError(`timed out after ${this.#o.timeoutMs} ms`));
      }, this.#o.timeoutMs);
      this.#pending.set(id, { name: canonical(name), type, upstream: up, resolve, reject, cancelTimer });
      sock.send(buf, up.port, up.host, (err) => {
        if (!err) return;
        this.#pending.delete(id);
        cancelTimer();
        reject(err);
      });
    });
  }

  #tcpQuery(
    up: Upstream,
    name: string,
    type: string,
    cls: string,
    dnssecOk: boolean,
  ): Promise<DecodedPacket> {
    const { id, buf } = this.#query(name, type, cls, dnssecOk);
    this.#o.metrics?.forwardRequests.inc({ to: `${up.host}:${up.port}`, proto: 'tcp' });
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: up.host, port: up.port });
      let data = Buffer.alloc(0);
      const done = (err: Error | null, res?: DecodedPacket) => {
        cancelTimer();
        sock.destroy();
        if (err) reject(err);
        else resolve(res!);
      };
      const cancelTimer = this.#o.clock.setTimeout(
        () => done(new ForwardError(`TCP query timed out after ${this.#o.timeoutMs} ms`)),
        this.#o.timeoutMs,
      );
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(buf.length);
        sock.write(Buffer.concat([len, buf]));
      });
      sock.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        if (data.length < 2) return;
        const n = data.readUInt16BE(0);
        if (data.length < 2 + n) return;
        try {
          const res = packet.decode(data.subarray(2, 2 + n));
          if (res.id !== id) return done(new ForwardError('TCP answer with a different ID'));
          done(null, res);
        } catch (err) {
          done(err as Error);
        }
      });
      sock.on('error', (err) => done(err));
      sock.on('close', () => done(new ForwardError('TCP connection closed before an answer')));
    });
  }

  /** Fails every outstanding query and closes the sockets. */
  close(): void {
    this.#closed = true;
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.cancelTimer();
      p.reject(new ForwardError('forwarder closed'));
    }
    this.#udp4?.close();
    this.#udp6?.close();
    this.#udp4 = this.#udp6 = null;
    this.#cache?.clear();
  }
}
