/**
 * Cluster DNS (the CoreDNS of a skiff cluster, with the default Corefile's plugins: kubernetes with
 * `pods insecure` and reverse zones falling through, forward to the host's resolvers, cache,
 * prometheus, loop). Serves UDP and TCP on one address and port.
 *
 * Per question:
 * 1. in the cluster domain: answered from the informer-fed {@link ClusterRecords} (cluster.ts),
 *    authoritative (AA); an ExternalName's out-of-zone CNAME target is resolved upstream;
 * 2. PTR in in-addr.arpa / ip6.arpa: a cluster IP or endpoint address is answered from the
 *    records, any other address forwarded;
 * 3. a name with the cluster domain inside it (`x.svc.cluster.local.corp.example`, a pod's search
 *    list running into the host's search domains) is NXDOMAIN at once, never forwarded;
 * 4. anything else is forwarded (forward.ts: UDP, TCP on truncation, cached).
 *
 * Until the informers have synced, a cluster NXDOMAIN is answered SERVFAIL (as CoreDNS does), so
 * clients retry instead of caching a false negative. UDP answers larger than the client's limit
 * (512 bytes, or its EDNS0 payload size up to 4096) are cut to fit and flagged TC; TCP uses RFC 1035
 * two-byte length framing, several queries per connection. A query that is one of our own upstream
 * queries coming back (a resolver loop) is answered SERVFAIL.
 *
 * Encoded answers are cached by the request's bytes (ID excepted): cluster answers until the records
 * change (or their TTL passes), forwarded ones for one second (their TTLs age in whole seconds).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Answer, DecodedPacket, OptAnswer, Packet } from 'dns-packet';
import * as packet from 'dns-packet';
import type { Namespace, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { SharedInformer } from '../client/informer.ts';
import { ENDPOINT_SLICES, NAMESPACES, SERVICES } from '../client/resources.ts';
import type { KubeObject, RestClient } from '../client/types.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { TtlCache } from './cache.ts';
import { answerCluster, answerReverse, type ClusterResult, type Rcode } from './cluster.ts';
import { ForwardError, Forwarder, type ForwardResult } from './forward.ts';
import { DnsMetrics } from './metrics.ts';
import { addressFromReverse, canonical } from './names.ts';
import { ClusterRecords } from './records.ts';
import { hostUpstreams, type Upstream } from './resolvconf.ts';

export interface DnsServerOptions {
  /** Where Services, EndpointSlices and Namespaces come from. Without it, feed `records` yourself. */
  client?: RestClient;
  /** The record index (default: a new one, fed by informers on `client`). */
  records?: ClusterRecords;
  /** Default 'cluster.local'. */
  clusterDomain?: string;
  /** Listening address (default '0.0.0.0'). */
  address?: string;
  /** UDP and TCP port (default 53; 0 picks a free one, the same for both when possible). */
  port?: number;
  /** Upstream resolvers (default: the host's, see resolvconf.ts). */
  upstreams?: Upstream[];
  /** TTL of cluster records, s (default 5, CoreDNS's kubernetes default). */
  ttl?: number;
  /** The kube-dns Service addresses, answered for `ns.dns.<domain>` and the zone's NS glue. */
  nameserverIPs?: string[];
  /** Upstream attempt timeout, ms (default 2000). */
  forwardTimeoutMs?: number;
  /** Forward cache entries (default 10,000). */
  cacheSize?: number;
  /** Encoded-answer cache entries, keyed by request bytes (default 10,000; 0 disables it). */
  replyCacheSize?: number;
  /** Answer names with the cluster domain inside them NXDOMAIN without forwarding (default true). */
  blockSearchExpansion?: boolean;
  /** Idle TCP connections are closed after this many ms (default 10,000). */
  tcpIdleMs?: number;
  logger?: Logger;
  clock?: Clock;
  metrics?: DnsMetrics;
}

/** The DNS server failed to bind its sockets. */
export class DnsListenError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DnsListenError';
  }
}

const RCODE_NUM: Record<Rcode, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};
const RCODE_NAME = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const MAX_UDP = 4096;

export interface Reply {
  rcode: number;
  authoritative: boolean;
  authenticData?: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** May be cached by request bytes, for this many ms (0: never). */
  cacheMs: number;
  /** Cluster answers are valid only while the records stay at this generation. */
  generation?: number;
}

interface CachedReply {
  buf: Buffer;
  /** -1: valid whatever the records do (forwarded). */
  generation: number;
  type: string;
  rcode: string;
}

export class DnsServer {
  readonly records: ClusterRecords;
  readonly metrics: DnsMetrics;
  readonly forwarder: Forwarder;
  readonly zone: string;
  readonly #o: DnsServerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #ttl: number;
  readonly #replyCache: TtlCache<CachedReply> | null;
  readonly #informers: SharedInformer<KubeObject>[] = [];
  readonly #ac = new AbortController();
  readonly #tcpConns = new Set<net.Socket>();
  #udp: dgram.Socket | null = null;
  /** Per-address UDP sockets beside a wildcard one (see #bindLocalAddresses). */
  #udpLocal: dgram.Socket[] = [];
  #tcp: net.Server | null = null;
  #synced: boolean;
  #port = 0;

  constructor(o: DnsServerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#log = (o.logger ?? silentLogger).child({ component: 'dns' });
    this.zone = canonical(o.clusterDomain ?? 'cluster.local');
    this.#ttl = o.ttl ?? 5;
    this.records = o.records ?? new ClusterRecords(() => this.#clock.now());
    this.metrics = o.metrics ?? new DnsMetrics();
    const address = o.address ?? '0.0.0.0';
    this.forwarder = new Forwarder({
      upstreams: o.upstreams ?? hostUpstreams({ self: { host: address, port: o.port ?? 53 } }),
      timeoutMs: o.forwardTimeoutMs,
      cacheSize: o.cacheSize,
      clock: this.#clock,
      logger: this.#log,
      metrics: this.metrics,
    });
    const replyCacheSize = o.replyCacheSize ?? 10_000;
    this.#replyCache = replyCacheSize > 0 ? new TtlCache(replyCacheSize, this.#clock) : null;
    // Without a client the caller feeds the records: they are as synced as they will get.
    this.#synced = !o.client;
  }

  /** The port both sockets listen on (after start). */
  get port(): number {
    return this.#port;
  }

  /** True once the informers have delivered their first lists. */
  get synced(): boolean {
    return this.#synced;
  }

  /**
   * Starts the informers (when there is a client) and binds UDP and TCP. Resolves once both listen;
   * does not wait for the informers (see {@link DnsServer.waitForSync}). Fails with
   * {@link DnsListenError} when a socket cannot bind.
   */
  async start(): Promise<void> {
    if (this.#o.client) this.#startInformers(this.#o.client);
    const address = this.#o.address ?? '0.0.0.0';
    const want = this.#o.port ?? 53;
    // With port 0, bind UDP first and then TCP on the same number (retrying a few times if taken).
    for (let attempt = 0; ; attempt++) {
      const port = await this.#bindUdp(address, want);
      try {
        await this.#bindTcp(address, port);
        this.#port = port;
        break;
      } catch (err) {
        this.#udp?.close();
        this.#udp = null;
        if (want !== 0 || attempt >= 5) {
          throw new DnsListenError(`cannot listen on TCP ${address}:${port}: ${(err as Error).message}`, {
            cause: err,
          });
        }
      }
    }
    if (address === '0.0.0.0') await this.#bindLocalAddresses(this.#port);
    this.#log.info(
      { address, port: this.#port, zone: this.zone, upstreams: this.forwarder.upstreams },
      'cluster DNS listening',
    );
  }

  /** Resolves once the informers have synced (at once without a client). */
  async waitForSync(): Promise<void> {
    await Promise.all(this.#informers.map((i) => i.synced()));
  }

  #startInformers(client: RestClient): void {
    const opts = { clock: this.#clock, logger: this.#log };
    const services = new SharedInformer<Service & KubeObject>(client, SERVICES, opts);
    services.addEventHandler({
      onAdd: (s) => this.records.upsertService(s),
      onUpdate: (_, s) => this.records.upsertService(s),
      onDelete: (s) => this.records.deleteService(s),
    });
    const slices = new SharedInformer<EndpointSlice & KubeObject>(client, ENDPOINT_SLICES, opts);
    slices.addEventHandler({
      onAdd: (s) => this.records.upsertSlice(s),
      onUpdate: (_, s) => this.records.upsertSlice(s),
      onDelete: (s) => this.records.deleteSlice(s),
    });
    const namespaces = new SharedInformer<Namespace & KubeObject>(client, NAMESPACES, opts);
    namespaces.addEventHandler({
      onAdd: (n) => this.records.upsertNamespace(n),
      onDelete: (n) => this.records.deleteNamespace(n),
    });
    const all = [services, slices, namespaces] as unknown as SharedInformer<KubeObject>[];
    this.#informers.push(...all);
    for (const inf of all) inf.run(this.#ac.signal);
    void Promise.all(all.map((i) => i.synced())).then(() => {
      this.#synced = true;
      this.#log.debug({ ...this.records.stats() }, 'cluster DNS records synced');
    });
  }

  /**
   * A UDP socket bound to 0.0.0.0 answers from the address the route to the client picks, not the
   * one it was asked on: a pod whose query kube-proxy DNAT'ed to the node's IP would get its answer
   * from the CNI bridge's address, which conntrack does not match, and drop it. As dnsmasq's
   * bind-interfaces does, each local IPv4 address at start also gets a socket of its own (the
   * kernel delivers to the most specific one), so answers leave from the address asked.
   */
  async #bindLocalAddresses(port: number): Promise<void> {
    for (const addrs of Object.values(networkInterfaces())) {
      for (const a of addrs ?? []) {
        if (a.family !== 'IPv4') continue;
        try {
          await this.#bindUdp(a.address, port, true);
        } catch (err) {
          this.#log.debug({ err, address: a.address }, 'cluster DNS: no socket of its own for this address');
        }
      }
    }
  }

  #bindUdp(address: string, port: number, local = false): Promise<number> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4', reuseAddr: true });
      const onError = (err: Error) =>
        reject(new DnsListenError(`cannot listen on UDP ${address}:${port}: ${err.message}`, { cause: err }));
      sock.once('error', onError);
      sock.bind(port, address, () => {
        sock.off('error', onError);
        sock.on('error', (err) => this.#log.warn({ err }, 'DNS UDP socket error'));
        try {
          sock.setRecvBufferSize(4 << 20);
          sock.setSendBufferSize(4 << 20);
        } catch {
          // Capped by the kernel (net.core.rmem_max): the default will do.
        }
        sock.on('message', (msg, rinfo) => this.#onUdp(sock, msg, rinfo));
        if (local) this.#udpLocal.push(sock);
        else this.#udp = sock;
        resolve(sock.address().port);
      });
    });
  }

  #bindTcp(address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((conn) => this.#onTcpConnection(conn));
      server.once('error', reject);
      server.listen({ port, host: address }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#log.warn({ err }, 'DNS TCP server error'));
        this.#tcp = server;
        resolve();
      });
    });
  }

  #onUdp(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const fast = this.#fromCache(msg, 'udp');
    if (fast) {
      sock.send(fast, rinfo.port, rinfo.address);
      return;
    }
    this.handle(msg, 'udp').then(
      (out) => {
        if (out) sock.send(out, rinfo.port, rinfo.address);
      },
      (err: unknown) => this.#log.warn({ err }, 'DNS query failed'),
    );
  }

  #onTcpConnection(conn: net.Socket): void {
    this.#tcpConns.add(conn);
    conn.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    let cancelIdle = () => {};
    const idle = () => {
      cancelIdle();
      cancelIdle = this.#clock.setTimeout(() => conn.destroy(), this.#o.tcpIdleMs ?? 10_000);
    };
    idle();
    const write = (out: Buffer | null) => {
      if (!out || conn.destroyed) return;
      const len = Buffer.alloc(2);
      len.writeUInt16BE(out.length);
      conn.write(Buffer.concat([len, out]));
    };
    conn.on('data', (chunk: Buffer) => {
      idle();
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2) {
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) break;
        const msg = buf.subarray(2, 2 + n);
        buf = buf.subarray(2 + n);
        const fast = this.#fromCache(msg, 'tcp');
        if (fast) write(fast);
        else
          this.handle(Buffer.from(msg), 'tcp').then(write, (err: unknown) =>
            this.#log.warn({ err }, 'DNS query failed'),
          );
      }
    });
    conn.on('error', () => conn.destroy());
    conn.on('close', () => {
      cancelIdle();
      this.#tcpConns.delete(conn);
    });
  }

  /** A cached encoded answer for exactly this request (ID aside), with the request's ID. */
  #fromCache(msg: Buffer, proto: 'udp' | 'tcp'): Buffer | undefined {
    if (msg.length < 12 || !this.#replyCache) return undefined;
    const hit = this.#replyCache.get(cacheKey(msg, proto));
    if (!hit) return undefined;
    const c = hit.value;
    if (c.generation >= 0 && c.generation !== this.records.generation) return undefined;
    const out = Buffer.from(c.buf);
    out[0] = msg[0]!;
    out[1] = msg[1]!;
    this.metrics.cacheHit('cluster');
    this.metrics.request(proto, c.type);
    this.metrics.response(c.rcode);
    return out;
  }

  /**
   * The encoded answer to one encoded query received over `proto` (without TCP framing), or null
   * when it deserves none (not a query, or too short to answer). Never throws for bad input.
   */
  async handle(msg: Buffer, proto: 'udp' | 'tcp'): Promise<Buffer | null> {
    let req: DecodedPacket;
    try {
      req = packet.decode(msg);
    } catch {
      if (msg.length < 12 || msg[2]! & 0x80) return null;
      this.metrics.response('FORMERR');
      return errorReply(msg.readUInt16BE(0), RCODE_NUM.FORMERR);
    }
    if (req.flag_qr) return null;
    const q = req.questions?.[0];
    this.metrics.request(proto, q?.type ?? 'none');
    const opt = req.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
    const limit = proto === 'tcp' ? 65535 : opt ? Math.min(Math.max(512, opt.udpPayloadSize), MAX_UDP) : 512;
    let reply: Reply;
    if ((req as DecodedPacket & { opcode?: string }).opcode !== 'QUERY') {
      reply = simple(RCODE_NUM.NOTIMP);
    } else if (!q || req.questions!.length !== 1) {
      reply = simple(RCODE_NUM.FORMERR);
    } else if (this.forwarder.isOwnQuery(req.id ?? 0, q.name, q.type)) {
      this.metrics.loops.inc();
      this.#log.error(
        { name: q.name, type: q.type, upstreams: this.forwarder.upstreams },
        'resolver loop: an upstream sent our own query back; answering SERVFAIL (fix the upstreams or the host resolv.conf)',
      );
      reply = simple(RCODE_NUM.SERVFAIL);
    } else {
      reply = await this.#answer(q.name, q.type, q.class ?? 'IN', opt?.flag_do ?? false);
    }
    const out = encodeReply(req, reply, opt !== undefined, limit);
    this.metrics.response(RCODE_NAME[reply.rcode] ?? String(reply.rcode));
    if (reply.cacheMs > 0 && q && this.#replyCache) {
      this.#replyCache.set(
        cacheKey(msg, proto),
        { buf: out, generation: reply.generation ?? -1, type: q.type, rcode: RCODE_NAME[reply.rcode] ?? '' },
        reply.cacheMs,
      );
    }
    return out;
  }

  async #answer(name: string, type: string, cls: string, dnssecOk: boolean): Promise<Reply> {
    const cname = canonical(name);
    const generation = this.records.generation;
    const cluster = answerCluster(this.records, name, cname, type, {
      zone: this.zone,
      ttl: this.#ttl,
      nameserverIPs: this.#o.nameserverIPs,
    });
    if (cluster) return this.#clusterReply(cluster, generation);
    if (type === 'PTR') {
      const ip = addressFromReverse(cname);
      const rev = ip ? answerReverse(this.records, name, ip, { zone: this.zone, ttl: this.#ttl }) : null;
      if (rev) return this.#clusterReply(rev, generation);
    }
    if ((this.#o.blockSearchExpansion ?? true) && cname.includes(`.${this.zone}.`)) {
      return { ...simple(RCODE_NUM.NXDOMAIN), cacheMs: this.#ttl * 1000 };
    }
    try {
      const r = await this.forwarder.resolve(name, type, { dnssecOk, cls });
      // Kept one second at most (TTLs age in whole seconds), never past the shortest TTL.
      const ttls = [...r.answers, ...r.authorities].map((a) => (a.type === 'OPT' ? 1 : (a.ttl ?? 0)));
      return { ...forwarded(r), cacheMs: Math.min(1000, ...ttls.map((t) => t * 1000)) };
    } catch (err) {
      if (!(err instanceof ForwardError)) throw err;
      this.#log.debug({ err, name, type }, 'forwarding failed');
      return simple(RCODE_NUM.SERVFAIL);
    }
  }

  async #clusterReply(c: ClusterResult, generation: number): Promise<Reply> {
    if (c.rcode === 'NXDOMAIN' && !this.#synced) return simple(RCODE_NUM.SERVFAIL);
    const reply: Reply = {
      rcode: RCODE_NUM[c.rcode],
      authoritative: c.rcode !== 'REFUSED',
      answers: c.answers,
      authorities: c.authorities,
      additionals: c.additionals,
      cacheMs: c.chase ? 0 : this.#ttl * 1000,
      generation,
    };
    if (!c.chase) return reply;
    // An ExternalName's target outside the zone: resolve it upstream, or drop the CNAME.
    const { name: target, type } = c.chase;
    try {
      const r = await this.forwarder.resolve(target, type);
      reply.answers = [...c.answers, ...r.answers];
      return reply;
    } catch (err) {
      if (!(err instanceof ForwardError)) throw err;
      reply.answers = c.answers.filter((a) => !(a.type === 'CNAME' && canonical(a.data) === target));
      if (reply.answers.length === 0) {
        // Nothing left: NODATA with the zone's SOA, as CoreDNS answers when the lookup fails.
        const soa = answerCluster(this.records, this.zone, this.zone, 'SOA', {
          zone: this.zone,
          ttl: this.#ttl,
        });
        reply.authorities = soa?.answers ?? [];
      }
      return reply;
    }
  }

  /** Stops the informers, closes the sockets and open TCP connections, fails pending forwards. */
  async stop(): Promise<void> {
    this.#ac.abort();
    this.forwarder.close();
    for (const c of this.#tcpConns) c.destroy();
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = null;
    this.#tcp = null;
    const locals = this.#udpLocal.splice(0);
    await Promise.all([
      ...locals.map((s) => new Promise<void>((r) => s.close(() => r()))),
      udp ? new Promise<void>((r) => udp.close(() => r())) : undefined,
      tcp ? new Promise<void>((r) => tcp.close(() => r())) : undefined,
    ]);
  }
}

function cacheKey(msg: Buffer, proto: 'udp' | 'tcp'): string {
  return proto + msg.toString('latin1', 2);
}

function simple(rcode: number): Reply {
  return { rcode, authoritative: false, answers: [], authorities: [], additionals: [], cacheMs: 0 };
}

function forwarded(r: ForwardResult): Omit<Reply, 'cacheMs'> {
  return {
    rcode: r.rcode,
    authoritative: false,
    authenticData: r.authenticData,
    answers: r.answers,
    authorities: r.authorities,
    additionals: r.additionals,
  };
}

function errorReply(id: number, rcode: number): Buffer {
  return packet.encode({ type: 'response', id, flags: rcode | packet.RECURSION_AVAILABLE, questions: [] });
}

/**
 * Encodes the reply to `req`, cut to `limit` bytes: when too large, additionals go first, then
 * answers and authorities from the end, and TC is set (the client retries over TCP).
 */
export function encodeReply(req: DecodedPacket, reply: Reply, edns: boolean, limit: number): Buffer {
  let flags = reply.rcode & 0xf;
  if (req.flag_rd) flags |= packet.RECURSION_DESIRED;
  flags |= packet.RECURSION_AVAILABLE;
  if (reply.authoritative) flags |= packet.AUTHORITATIVE_ANSWER;
  if (reply.authenticData) flags |= packet.AUTHENTIC_DATA;
  const opt: Answer[] = edns
    ? [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1232,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ]
    : [];
  const p: Packet = {
    type: 'response',
    id: req.id ?? 0,
    flags,
    questions: req.questions,
    answers: reply.answers,
    authorities: reply.authorities,
    additionals: [...reply.additionals, ...opt],
  };
  let out = packet.encode(p);
  if (out.length <= limit) return out;
  const answers = [...reply.answers];
  const authorities = [...reply.authorities];
  p.flags = flags | packet.TRUNCATED_RESPONSE;
  p.additionals = opt;
  p.answers = answers;
  p.authorities = authorities;
  for (;;) {
    out = packet.encode(p);
    if (out.length <= limit) return out;
    if (authorities.length) authorities.pop();
    else if (answers.length) answers.pop();
    else return out;
  }
}
