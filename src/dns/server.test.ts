import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as packet from 'dns-packet';
import type { RestClient } from '../client/types.ts';
import { FakeClock } from '../util/clock.ts';
import { sampleRecords, slice, svc } from './fixtures.ts';
import type { Upstream } from './resolvconf.ts';
import { DnsServer } from './server.ts';
import { encodeQuery, exchange, type FakeUpstream, query, show, startFakeUpstream } from './testing.ts';

const ttl = (a: unknown) => (a as { ttl?: number } | undefined)?.ttl;

const SOA = (name: string) => ({
  type: 'SOA' as const,
  name,
  ttl: 120,
  class: 'IN' as const,
  data: { mname: `ns.${name}`, rname: `h.${name}`, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 10 },
});

/** The fake internet: example.com A (TTL 60), big.example TC over UDP, nx.example NXDOMAIN. */
function internet(name: string, type: string) {
  const n = name.toLowerCase();
  if (n === 'example.com' && type === 'A') {
    return { answers: [{ type: 'A' as const, name, ttl: 60, class: 'IN' as const, data: '93.184.216.34' }] };
  }
  if (n === 'big.example' && type === 'A') {
    return {
      truncateUdp: true,
      answers: [{ type: 'A' as const, name, ttl: 60, class: 'IN' as const, data: '192.0.2.1' }],
    };
  }
  if (n === '8.8.8.8.in-addr.arpa' && type === 'PTR') {
    return { answers: [{ type: 'PTR' as const, name, ttl: 60, class: 'IN' as const, data: 'dns.google' }] };
  }
  if (n === 'silent.example') return null;
  return { rcode: 3, authorities: [SOA('example')] };
}

describe('DnsServer over UDP and TCP', () => {
  let upstream: FakeUpstream;
  let server: DnsServer;
  let port: number;
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const upstreams: Upstream[] = [];

  before(async () => {
    upstream = await startFakeUpstream(internet);
    upstreams.push({ host: '127.0.0.1', port: upstream.port });
    server = new DnsServer({
      records: sampleRecords(() => clock.now()),
      address: '127.0.0.1',
      port: 0,
      upstreams,
      clock,
      nameserverIPs: ['10.43.0.10'],
    });
    await server.start();
    port = server.port;
  });
  after(async () => {
    await server.stop();
    await upstream.close();
  });

  test('a cluster name over UDP: authoritative, recursion available, ID echoed', async () => {
    const r = await query(port, 'web.default.svc.cluster.local', 'A', { id: 4242 });
    assert.equal(r.id, 4242);
    assert.equal(r.rcode, 'NOERROR');
    assert.ok(r.flag_qr && r.flag_aa && r.flag_rd && r.flag_ra && !r.flag_tc);
    assert.deepEqual(show(r.answers), ['web.default.svc.cluster.local A 10.43.0.20']);
    assert.equal(ttl(r.answers?.[0]), 5);
  });

  test('NXDOMAIN and NODATA on the wire carry the SOA in the authority section', async () => {
    const nx = await query(port, 'nope.default.svc.cluster.local', 'A');
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.ok(nx.flag_aa);
    assert.deepEqual(show(nx.authorities), ['cluster.local SOA ns.dns.cluster.local']);
    const nodata = await query(port, 'web.default.svc.cluster.local', 'AAAA');
    assert.equal(nodata.rcode, 'NOERROR');
    assert.deepEqual(nodata.answers, []);
    assert.deepEqual(show(nodata.authorities), ['cluster.local SOA ns.dns.cluster.local']);
  });

  test('SRV, TXT, PTR and pod records on the wire', async () => {
    const srv = await query(port, '_mysql._tcp.db.db.svc.cluster.local', 'SRV');
    assert.deepEqual(show(srv.answers), [
      '_mysql._tcp.db.db.svc.cluster.local SRV 0 50 3306 db-0.db.db.svc.cluster.local',
      '_mysql._tcp.db.db.svc.cluster.local SRV 0 50 3306 db-1.db.db.svc.cluster.local',
    ]);
    assert.deepEqual(show(srv.additionals), [
      'db-0.db.db.svc.cluster.local A 10.42.0.5',
      'db-1.db.db.svc.cluster.local A 10.42.1.6',
    ]);
    const txt = await query(port, 'dns-version.cluster.local', 'TXT');
    assert.deepEqual(show(txt.answers), ['dns-version.cluster.local TXT 1.1.0']);
    const ptr = await query(port, '20.0.43.10.in-addr.arpa', 'PTR');
    assert.deepEqual(show(ptr.answers), ['20.0.43.10.in-addr.arpa PTR web.default.svc.cluster.local']);
    assert.ok(ptr.flag_aa);
    const pod = await query(port, '10-42-3-4.default.pod.cluster.local', 'A');
    assert.deepEqual(show(pod.answers), ['10-42-3-4.default.pod.cluster.local A 10.42.3.4']);
  });

  test('TCP framing: two queries in one write on one connection, both answered', async () => {
    const q1 = encodeQuery('web.default.svc.cluster.local', 'A', { id: 1 });
    const q2 = encodeQuery('db.db.svc.cluster.local', 'A', { id: 2 });
    const frame = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);
    const replies = await new Promise<packet.DecodedPacket[]>((resolve, reject) => {
      const out: packet.DecodedPacket[] = [];
      let data: Buffer = Buffer.alloc(0);
      const sock = net.connect({ host: '127.0.0.1', port }, () =>
        sock.write(Buffer.concat([frame(q1), frame(q2)])),
      );
      sock.on('data', (c: Buffer) => {
        data = Buffer.concat([data, c]);
        while (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
          const n = data.readUInt16BE(0);
          out.push(packet.decode(data.subarray(2, 2 + n)));
          data = data.subarray(2 + n);
        }
        if (out.length === 2) {
          sock.destroy();
          resolve(out);
        }
      });
      sock.on('error', reject);
    });
    const byId = new Map(replies.map((r) => [r.id, r]));
    assert.deepEqual(show(byId.get(1)?.answers), ['web.default.svc.cluster.local A 10.43.0.20']);
    assert.equal(byId.get(2)?.answers?.length, 2);
  });

  test('an answer too big for UDP is cut and flagged TC; EDNS0 and TCP get it whole', async () => {
    const eps = Array.from({ length: 40 }, (_, i) => ({ ip: `10.42.9.${i + 1}` }));
    server.records.upsertService(
      svc('default', 'many', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }),
    );
    server.records.upsertSlice(slice('default', 'many', 'many-1', eps, [{ name: 'http', port: 80 }]));
    const name = 'many.default.svc.cluster.local';
    const udp = await query(port, name, 'A');
    assert.ok(udp.flag_tc, 'TC set');
    assert.ok(udp.size <= 512, `${udp.size} bytes fit 512`);
    assert.ok((udp.answers?.length ?? 0) < 40);
    const edns = await query(port, name, 'A', { edns: 4096 });
    assert.ok(!edns.flag_tc);
    assert.equal(edns.answers?.length, 40);
    assert.ok(
      edns.additionals?.some((a) => a.type === 'OPT'),
      'EDNS0 answered with OPT',
    );
    const tcp = await query(port, name, 'A', { proto: 'tcp' });
    assert.ok(!tcp.flag_tc);
    assert.equal(tcp.answers?.length, 40);
  });

  test('changes to the records show at once (the answer cache follows them)', async () => {
    const name = 'web.default.svc.cluster.local';
    assert.deepEqual(show((await query(port, name, 'A')).answers), [`${name} A 10.43.0.20`]);
    server.records.upsertService(svc('default', 'web', { clusterIP: '10.43.0.99', ports: [{ port: 80 }] }));
    assert.deepEqual(show((await query(port, name, 'A')).answers), [`${name} A 10.43.0.99`]);
    server.records.upsertService(
      svc('default', 'web', { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80 }] }),
    );
  });

  test('other names are forwarded, cached for their TTL (capped at 30 s) on the clock, TTLs aging', async () => {
    upstream.asked.length = 0;
    const r1 = await query(port, 'example.com', 'A');
    assert.equal(r1.rcode, 'NOERROR');
    assert.ok(!r1.flag_aa && r1.flag_ra);
    assert.deepEqual(show(r1.answers), ['example.com A 93.184.216.34']);
    assert.equal(ttl(r1.answers?.[0]), 60);
    assert.deepEqual(upstream.asked, ['example.com A udp']);
    clock.advance(10_000);
    const r2 = await query(port, 'example.com', 'A');
    assert.equal(ttl(r2.answers?.[0]), 20, 'capped at 30 s, then aged 10 s');
    assert.equal(upstream.asked.length, 1, 'served from the cache');
    clock.advance(21_000);
    await query(port, 'example.com', 'A');
    assert.equal(upstream.asked.length, 2, 'asked again once expired');
  });

  test('a negative upstream answer is cached for the SOA minimum', async () => {
    upstream.asked.length = 0;
    const r = await query(port, 'nx.example', 'A');
    assert.equal(r.rcode, 'NXDOMAIN');
    assert.deepEqual(show(r.authorities), ['example SOA ns.example']);
    await query(port, 'nx.example', 'A');
    assert.equal(upstream.asked.length, 1);
    clock.advance(11_000);
    await query(port, 'nx.example', 'A');
    assert.equal(upstream.asked.length, 2);
  });

  test('a truncated upstream answer is asked again over TCP', async () => {
    upstream.asked.length = 0;
    const r = await query(port, 'big.example', 'A');
    assert.deepEqual(show(r.answers), ['big.example A 192.0.2.1']);
    assert.deepEqual(upstream.asked, ['big.example A udp', 'big.example A tcp']);
  });

  test('ExternalName: the CNAME, then the target resolved upstream', async () => {
    const r = await query(port, 'ext.default.svc.cluster.local', 'A');
    assert.deepEqual(show(r.answers), [
      'ext.default.svc.cluster.local CNAME example.com',
      'example.com A 93.184.216.34',
    ]);
    assert.ok(r.flag_aa);
  });

  test('PTR of an address outside the cluster is forwarded', async () => {
    const r = await query(port, '8.8.8.8.in-addr.arpa', 'PTR');
    assert.deepEqual(show(r.answers), ['8.8.8.8.in-addr.arpa PTR dns.google']);
  });

  test('a search-list name running into the host domain is NXDOMAIN at once, never forwarded', async () => {
    upstream.asked.length = 0;
    for (const name of [
      'kubernetes.default.svc.cluster.local.corp.example',
      'google.com.cluster.local.corp.example',
    ]) {
      const r = await query(port, name, 'A');
      assert.equal(r.rcode, 'NXDOMAIN', name);
    }
    assert.deepEqual(upstream.asked, []);
  });

  test('bad packets: FORMERR for garbage with a header, nothing for responses', async () => {
    const garbage = Buffer.from([
      0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f,
    ]);
    const r = await exchange(port, garbage);
    assert.equal(r.id, 0x1234);
    assert.equal(r.rcode, 'FORMERR');
    assert.equal(await server.handle(packet.encode({ type: 'response', id: 1, questions: [] }), 'udp'), null);
  });

  test("Node's resolver (c-ares) resolves cluster names against the server", async () => {
    const res = new Resolver({ timeout: 2000, tries: 1 });
    res.setServers([`127.0.0.1:${port}`]);
    assert.deepEqual(await res.resolve4('web.default.svc.cluster.local'), ['10.43.0.20']);
    const srv = await res.resolveSrv('_http._tcp.web.default.svc.cluster.local');
    assert.deepEqual(
      srv.map(({ name, port, priority, weight }) => ({ name, port, priority, weight })),
      [{ name: 'web.default.svc.cluster.local', port: 80, priority: 0, weight: 100 }],
    );
    await assert.rejects(res.resolve4('nope.default.svc.cluster.local'), { code: 'ENOTFOUND' });
    assert.deepEqual(await res.reverse('10.43.0.20'), ['web.default.svc.cluster.local']);
  });

  test('metrics: requests, responses by rcode, cache hits, forward latency', async () => {
    const text = await server.metrics.text();
    assert.match(text, /skiff_dns_requests_total\{proto="udp",type="A"\} \d+/);
    assert.match(text, /skiff_dns_requests_total\{proto="tcp",type="A"\} \d+/);
    assert.match(text, /skiff_dns_responses_total\{rcode="NXDOMAIN"\} \d+/);
    assert.match(text, /skiff_dns_cache_hits_total\{cache="forward"\} \d+/);
    assert.match(
      text,
      /skiff_dns_forward_request_duration_seconds_count\{to="127\.0\.0\.1:\d+",rcode="NOERROR"\} \d+/,
    );
  });
});

describe('forwarding failures and loops', () => {
  test('a silent upstream times out and the next one answers; none left: SERVFAIL', async () => {
    const quiet = await startFakeUpstream(() => null);
    const good = await startFakeUpstream(internet);
    const server = new DnsServer({
      address: '127.0.0.1',
      port: 0,
      upstreams: [
        { host: '127.0.0.1', port: quiet.port },
        { host: '127.0.0.1', port: good.port },
      ],
      forwardTimeoutMs: 150,
    });
    await server.start();
    try {
      const r = await query(server.port, 'example.com', 'A');
      assert.deepEqual(show(r.answers), ['example.com A 93.184.216.34']);
      assert.deepEqual(quiet.asked, ['example.com A udp']);
      const s = await query(server.port, 'silent.example', 'A');
      assert.equal(s.rcode, 'SERVFAIL');
    } finally {
      await server.stop();
      await quiet.close();
      await good.close();
    }
  });

  test('an upstream that sends our query back to us (a loop) ends in SERVFAIL at once', async () => {
    const upstreams: Upstream[] = [];
    const server = new DnsServer({ address: '127.0.0.1', port: 0, upstreams, forwardTimeoutMs: 2000 });
    await server.start();
    upstreams.push({ host: '127.0.0.1', port: server.port });
    try {
      const t0 = Date.now();
      const r = await query(server.port, 'loop.example', 'A');
      assert.equal(r.rcode, 'SERVFAIL');
      assert.ok(Date.now() - t0 < 1000, 'answered without waiting for a timeout');
      assert.match(await server.metrics.text(), /skiff_dns_forward_loops_total 1/);
    } finally {
      await server.stop();
    }
  });

  test('no upstream at all: SERVFAIL for outside names, cluster names still answered', async () => {
    const server = new DnsServer({ records: sampleRecords(), address: '127.0.0.1', port: 0, upstreams: [] });
    await server.start();
    try {
      assert.equal((await query(server.port, 'example.com', 'A')).rcode, 'SERVFAIL');
      assert.equal((await query(server.port, 'web.default.svc.cluster.local', 'A')).rcode, 'NOERROR');
    } finally {
      await server.stop();
    }
  });

  test('until the informers have synced, a cluster NXDOMAIN is SERVFAIL (clients retry)', async () => {
    // A client whose lists never answer: the informers never sync.
    const client = { list: () => new Promise(() => {}) } as unknown as RestClient;
    const records = sampleRecords();
    const server = new DnsServer({ client, records, address: '127.0.0.1', port: 0, upstreams: [] });
    await server.start();
    try {
      assert.equal(server.synced, false);
      assert.equal((await query(server.port, 'nope.default.svc.cluster.local', 'A')).rcode, 'SERVFAIL');
      assert.equal((await query(server.port, 'web.default.svc.cluster.local', 'A')).rcode, 'NOERROR');
    } finally {
      await server.stop();
    }
  });

  test('start fails with DnsListenError when the port is taken', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const server = new DnsServer({ address: '127.0.0.1', port: sock.address().port, upstreams: [] });
    try {
      await assert.rejects(server.start(), { name: 'DnsListenError' });
    } finally {
      sock.close();
      await server.stop();
    }
  });
});
