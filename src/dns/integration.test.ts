/**
 * Cluster DNS against a real (in-process) API server: records follow Services, EndpointSlices and
 * Namespaces as they are created, changed and deleted through the API; the kube-dns Service lands at
 * the tenth address with its EndpointSlice pointing at the server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ENDPOINT_SLICES, NAMESPACES, SERVICES } from '../client/resources.ts';
import { HttpRestClient } from '../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../client/testing.ts';
import type { KubeObject } from '../client/types.ts';
import { ns, slice, svc } from './fixtures.ts';
import { DnsServer } from './server.ts';
import { DNS_SLICE_NAME, DnsServiceError, dnsServiceIpFromApi, ensureDnsService } from './service.ts';
import { query, show, startFakeUpstream } from './testing.ts';

type S = Service & KubeObject;
type E = EndpointSlice & KubeObject;

describe('cluster DNS with a real API server', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  let dns: DnsServer;
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  const a = async (name: string, type = 'A') => {
    const r = await query(dns.port, name, type);
    return { rcode: r.rcode, answers: show(r.answers) };
  };

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config, { component: 'dns-test' });
    upstream = await startFakeUpstream(() => ({ rcode: 3 }));
    await client.create(NAMESPACES, '', ns('shop'));
    await client.create(
      SERVICES,
      'shop',
      svc('shop', 'web', { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
    );
    dns = new DnsServer({
      client,
      address: '127.0.0.1',
      port: 0,
      upstreams: [{ host: '127.0.0.1', port: upstream.port }],
    });
    await dns.start();
    await dns.waitForSync();
  });
  after(async () => {
    await dns.stop();
    await upstream.close();
    await srv.close();
  });

  test('a Service that existed before the start resolves to its allocated cluster IP', async () => {
    const web = await client.get<S>(SERVICES, 'shop', 'web');
    assert.match(web.spec!.clusterIP!, /^10\.43\./);
    assert.deepEqual(await a('web.shop.svc.cluster.local'), {
      rcode: 'NOERROR',
      answers: [`web.shop.svc.cluster.local A ${web.spec!.clusterIP}`],
    });
  });

  test('a headless Service follows its EndpointSlices: hostnames, readiness, deletion', async () => {
    await client.create(
      SERVICES,
      'shop',
      svc('shop', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
    );
    const s = slice(
      'shop',
      'db',
      'db-x1',
      [
        { ip: '10.42.0.11', hostname: 'db-0' },
        { ip: '10.42.1.12', hostname: 'db-1' },
      ],
      [{ name: 'pg', port: 5432 }],
    );
    await client.create(ENDPOINT_SLICES, 'shop', s);
    await eventually(
      async () => (await a('db.shop.svc.cluster.local')).answers.length === 2,
      'both endpoints',
    );
    assert.deepEqual((await a('db-1.db.shop.svc.cluster.local')).answers, [
      'db-1.db.shop.svc.cluster.local A 10.42.1.12',
    ]);
    const srvRec = await query(dns.port, '_pg._tcp.db.shop.svc.cluster.local', 'SRV');
    assert.deepEqual(show(srvRec.answers), [
      '_pg._tcp.db.shop.svc.cluster.local SRV 0 50 5432 db-0.db.shop.svc.cluster.local',
      '_pg._tcp.db.shop.svc.cluster.local SRV 0 50 5432 db-1.db.shop.svc.cluster.local',
    ]);

    const cur = await client.get<E>(ENDPOINT_SLICES, 'shop', 'db-x1');
    cur.endpoints[1]!.conditions = { ready: false };
    await client.update(ENDPOINT_SLICES, 'shop', cur);
    await eventually(
      async () => (await a('db.shop.svc.cluster.local')).answers.length === 1,
      'not-ready endpoint dropped',
    );
    assert.equal((await a('db-1.db.shop.svc.cluster.local')).rcode, 'NXDOMAIN');

    await client.delete(ENDPOINT_SLICES, 'shop', 'db-x1');
    await eventually(
      async () => (await a('db.shop.svc.cluster.local')).rcode === 'NXDOMAIN',
      'no endpoints: NXDOMAIN',
    );
    await client.delete(SERVICES, 'shop', 'db');
  });

  test('a deleted Service is NXDOMAIN; a new namespace exists for DNS once created', async () => {
    await client.create(SERVICES, 'shop', svc('shop', 'tmp', { ports: [{ port: 1 }] }));
    await eventually(async () => (await a('tmp.shop.svc.cluster.local')).rcode === 'NOERROR', 'tmp resolves');
    await client.delete(SERVICES, 'shop', 'tmp');
    await eventually(async () => (await a('tmp.shop.svc.cluster.local')).rcode === 'NXDOMAIN', 'tmp gone');

    assert.equal((await a('later.svc.cluster.local')).rcode, 'NXDOMAIN');
    await client.create(NAMESPACES, '', ns('later'));
    await eventually(
      async () => (await a('later.svc.cluster.local')).rcode === 'NOERROR',
      'namespace exists',
    );
    assert.equal(
      (await a('10-1-2-3.later.pod.cluster.local')).answers[0],
      '10-1-2-3.later.pod.cluster.local A 10.1.2.3',
    );
  });

  test('ExternalName Services answer a CNAME', async () => {
    await client.create(
      SERVICES,
      'shop',
      svc('shop', 'ext', { type: 'ExternalName', externalName: 'db.example.net' }),
    );
    await eventually(
      async () =>
        (await a('ext.shop.svc.cluster.local', 'CNAME')).answers[0] ===
        'ext.shop.svc.cluster.local CNAME db.example.net',
      'the CNAME',
    );
  });

  test('kube-dns: tenth address, CoreDNS labels, no selector, its slice at the DNS server', async () => {
    const r = await ensureDnsService(client, '10.43.0.0/16', {
      // Data only (no traffic goes there): the API refuses loopback endpoint addresses.
      endpointIP: '192.0.2.10',
      dnsPort: dns.port,
      nodeName: 'server-1',
    });
    assert.equal(r.clusterIP, '10.43.0.10');
    const s = await client.get<S>(SERVICES, 'kube-system', 'kube-dns');
    assert.equal(s.spec?.clusterIP, '10.43.0.10');
    assert.equal(s.spec?.selector, undefined);
    assert.equal(s.metadata.labels?.['k8s-app'], 'kube-dns');
    assert.equal(s.metadata.labels?.['kubernetes.io/name'], 'CoreDNS');
    assert.deepEqual(
      s.spec?.ports?.map((p) => `${p.name} ${p.port}/${p.protocol}`),
      ['dns 53/UDP', 'dns-tcp 53/TCP', 'metrics 9153/TCP'],
    );
    const sl = await client.get<E>(ENDPOINT_SLICES, 'kube-system', DNS_SLICE_NAME);
    assert.equal(sl.metadata.labels?.['kubernetes.io/service-name'], 'kube-dns');
    assert.deepEqual(
      sl.metadata.ownerReferences?.map((o) => o.uid),
      [s.metadata.uid],
    );
    assert.equal(await dnsServiceIpFromApi(client), '10.43.0.10');
    assert.deepEqual(
      sl.endpoints.map((e) => [e.addresses, e.conditions?.ready, e.nodeName]),
      [[['192.0.2.10'], true, 'server-1']],
    );
    assert.deepEqual(
      sl.ports?.map((p) => `${p.name} ${p.port}/${p.protocol}`),
      [`dns ${dns.port}/UDP`, `dns-tcp ${dns.port}/TCP`, 'metrics 9153/TCP'],
    );

    await eventually(
      async () =>
        (await a('kube-dns.kube-system.svc.cluster.local')).answers[0] ===
        'kube-dns.kube-system.svc.cluster.local A 10.43.0.10',
      'kube-dns resolves',
    );
    const srvRec = await query(dns.port, '_dns._udp.kube-dns.kube-system.svc.cluster.local', 'SRV');
    assert.deepEqual(show(srvRec.answers), [
      '_dns._udp.kube-dns.kube-system.svc.cluster.local SRV 0 100 53 kube-dns.kube-system.svc.cluster.local',
    ]);
    const ptr = await query(dns.port, '10.0.43.10.in-addr.arpa', 'PTR');
    assert.deepEqual(show(ptr.answers), [
      '10.0.43.10.in-addr.arpa PTR kube-dns.kube-system.svc.cluster.local',
    ]);

    // Idempotent; a new node address moves the slice.
    const again = await ensureDnsService(client, '10.43.0.0/16', {
      endpointIP: '192.0.2.11',
      dnsPort: dns.port,
    });
    assert.equal(again.service.metadata?.uid, s.metadata.uid);
    const moved = await client.get<E>(ENDPOINT_SLICES, 'kube-system', DNS_SLICE_NAME);
    assert.deepEqual(moved.endpoints[0]?.addresses, ['192.0.2.11']);
  });
});

test('ensureDnsService fails with DnsServiceError when the tenth address is taken', async () => {
  const srv = await startTestApiServer();
  try {
    const client = new HttpRestClient(srv.config, { component: 'dns-test' });
    await client.create(
      SERVICES,
      'default',
      svc('default', 'squatter', { clusterIP: '10.43.0.10', ports: [{ port: 1 }] }),
    );
    await assert.rejects(
      ensureDnsService(client, '10.43.0.0/16', { endpointIP: '192.0.2.10' }),
      (err: unknown) => err instanceof DnsServiceError && /10\.43\.0\.10/.test(err.message),
    );
  } finally {
    await srv.close();
  }
});
