/**
 * Test helpers: a raw DNS client (UDP or TCP, one query, the decoded answer — what `dig` shows) and
 * a fake upstream resolver on 127.0.0.1 answering from a function and counting what it was asked.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import * as packet from 'dns-packet';

export interface QueryOptions {
  proto?: 'udp' | 'tcp';
  /** Add an EDNS0 OPT record with this UDP payload size. */
  edns?: number;
  id?: number;
  /** Default true. */
  recursionDesired?: boolean;
  timeoutMs?: number;
  host?: string;
}

/** Encodes a one-question query. */
export function encodeQuery(name: string, type: string, o: QueryOptions = {}): Buffer {
  const p: Packet = {
    type: 'query',
    id: o.id ?? Math.floor(Math.random() * 65536),
    flags: o.recursionDesired === false ? 0 : packet.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }],
  };
  if (o.edns) {
    p.additionals = [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: o.edns,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [],
      },
    ];
  }
  return packet.encode(p);
}

export type Reply = DecodedPacket & { rcode: string; size: number };

/** Sends raw `msg` to `port` and decodes the answer. */
export function exchange(port: number, msg: Buffer, o: QueryOptions = {}): Promise<Reply> {
  const host = o.host ?? '127.0.0.1';
  const timeoutMs = o.timeoutMs ?? 3000;
  if (o.proto === 'tcp') {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      let data: Buffer = Buffer.alloc(0);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`no TCP answer within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(msg.length);
        sock.write(Buffer.concat([len, msg]));
      });
      sock.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
          clearTimeout(timer);
          sock.destroy();
          const body = data.subarray(2, 2 + data.readUInt16BE(0));
          resolve({ ...(packet.decode(body) as Reply), size: body.length });
        }
      });
      sock.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no UDP answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      resolve({ ...(packet.decode(m) as Reply), size: m.length });
    });
    sock.send(msg, port, host);
  });
}

/** One query (`dig -p port name type`). */
export function query(port: number, name: string, type: string, o: QueryOptions = {}): Promise<Reply> {
  return exchange(port, encodeQuery(name, type, o), o);
}

/** `type data` of each record of a section, e.g. `A 10.43.0.5`, `SRV 0 100 80 web.ns.svc.cluster.local`. */
export function show(records: Answer[] | undefined): string[] {
  return (records ?? [])
    .filter((r) => r.type !== 'OPT')
    .map((r) => {
      const d = (r as { data: unknown }).data;
      if (r.type === 'SRV') {
        const s = d as { priority: number; weight: number; port: number; target: string };
        return `${r.name} SRV ${s.priority} ${s.weight} ${s.port} ${s.target}`;
      }
      if (r.type === 'SOA') return `${r.name} SOA ${(d as { mname: string }).mname}`;
      if (r.type === 'TXT') return `${r.name} TXT ${(d as Buffer[]).map((b) => b.toString()).join(' ')}`;
      return `${r.name} ${r.type} ${String(d)}`;
    });
}

export interface FakeUpstream {
  port: number;
  /** Questions received, `name type proto`. */
  asked: string[];
  close(): Promise<void>;
}

/** What the fake upstream answers a question with; null: no answer at all (a timeout). */
export type UpstreamAnswer = {
  rcode?: number;
  answers?: Answer[];
  authorities?: Answer[];
  /** Set TC over UDP (the full answer comes over TCP). */
  truncateUdp?: boolean;
} | null;

/** A fake resolver (UDP and TCP on the same port; default 127.0.0.1 and a free port). */
export async function startFakeUpstream(
  answer: (name: string, type: string) => UpstreamAnswer,
  where: { host?: string; port?: number } = {},
): Promise<FakeUpstream> {
  const host = where.host ?? '127.0.0.1';
  const asked: string[] = [];
  const respond = (msg: Buffer, proto: 'udp' | 'tcp'): Buffer | null => {
    const req = packet.decode(msg);
    const q = req.questions![0]!;
    asked.push(`${q.name} ${q.type} ${proto}`);
    const a = answer(q.name, q.type);
    if (!a) return null;
    const tc = proto === 'udp' && a.truncateUdp;
    return packet.encode({
      type: 'response',
      id: req.id,
      flags:
        (a.rcode ?? 0) |
        packet.RECURSION_AVAILABLE |
        packet.RECURSION_DESIRED |
        (tc ? packet.TRUNCATED_RESPONSE : 0),
      questions: req.questions,
      answers: tc ? [] : (a.answers ?? []),
      authorities: tc ? [] : (a.authorities ?? []),
    });
  };
  const onUdp = (udp: dgram.Socket) => (m: Buffer, rinfo: dgram.RemoteInfo) => {
    const out = respond(m, 'udp');
    if (out) udp.send(out, rinfo.port, rinfo.address);
  };
  const tcp = net.createServer((conn) => {
    let data: Buffer = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      while (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
        const n = data.readUInt16BE(0);
        const out = respond(data.subarray(2, 2 + n), 'tcp');
        data = data.subarray(2 + n);
        if (!out) continue;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(out.length);
        conn.write(Buffer.concat([len, out]));
      }
    });
    conn.on('error', () => {});
  });
  // UDP on a free port, then TCP on the same number; try again when that TCP port is taken.
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(where.port ?? 0, host, () => r()));
    const port = udp.address().port;
    udp.on('message', onUdp(udp));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      if (attempt > 10 || where.port) throw err;
      continue;
    }
    return {
      port,
      asked,
      close: async () => {
        udp.close();
        await new Promise<void>((r) => tcp.close(() => r()));
      },
    };
  }
}
