import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Answer } from 'dns-packet';
import { answerCluster, answerReverse, type ClusterResult } from './cluster.ts';
import { sampleRecords, svc } from './fixtures.ts';
import { canonical } from './names.ts';

const ZONE = { zone: 'cluster.local', ttl: 5, nameserverIPs: ['10.43.0.10'] };

function fmt(rs: Answer[]): string[] {
  return rs.map((r) => {
    const d = (r as { data: unknown }).data;
    if (r.type === 'SRV') {
      const s = d as { priority: number; weight: number; port: number; target: string };
      return `${r.name} ${(r as { ttl?: number }).ttl} SRV ${s.priority} ${s.weight} ${s.port} ${s.target}`;
    }
    if (r.type === 'SOA') {
      const s = d as { mname: string; rname: string; minimum: number };
      return `${r.name} ${(r as { ttl?: number }).ttl} SOA ${s.mname} ${s.rname} ${s.minimum}`;
    }
    return `${r.name} ${(r as { ttl?: number }).ttl} ${r.type} ${String(d)}`;
  });
}

const records = sampleRecords();
function ask(name: string, type: string): ClusterResult {
  const r = answerCluster(records, name, canonical(name), type, ZONE);
  assert.ok(r, `${name} is in the zone`);
  return r;
}
function answers(name: string, type: string): string[] {
  const r = ask(name, type);
  assert.equal(r.rcode, 'NOERROR', `${name} ${type}`);
  return fmt(r.answers);
}
const SOA = 'cluster.local 5 SOA ns.dns.cluster.local hostmaster.cluster.local 5';
function assertNxdomain(name: string, type = 'A'): void {
  const r = ask(name, type);
  assert.equal(r.rcode, 'NXDOMAIN', `${name} ${type}`);
  assert.deepEqual(r.answers, []);
  assert.deepEqual(fmt(r.authorities), [SOA]);
}
function assertNodata(name: string, type = 'A'): void {
  const r = ask(name, type);
  assert.equal(r.rcode, 'NOERROR', `${name} ${type}`);
  assert.deepEqual(r.answers, [], `${name} ${type} has no answers`);
  assert.deepEqual(fmt(r.authorities), [SOA]);
}

describe('Service A/AAAA', () => {
  test('a ClusterIP Service answers its cluster IP', () => {
    assert.deepEqual(answers('web.default.svc.cluster.local', 'A'), [
      'web.default.svc.cluster.local 5 A 10.43.0.20',
    ]);
    assert.deepEqual(ask('web.default.svc.cluster.local', 'A').authorities, []);
  });
  test('AAAA of an IPv4 Service is NODATA; an IPv6 Service answers AAAA; dual-stack answers both', () => {
    assertNodata('web.default.svc.cluster.local', 'AAAA');
    assert.deepEqual(answers('v6.default.svc.cluster.local', 'AAAA'), [
      'v6.default.svc.cluster.local 5 AAAA fd00::10',
    ]);
    assertNodata('v6.default.svc.cluster.local', 'A');
    assert.deepEqual(answers('dual.default.svc.cluster.local', 'A'), [
      'dual.default.svc.cluster.local 5 A 10.43.0.40',
    ]);
    assert.deepEqual(answers('dual.default.svc.cluster.local', 'AAAA'), [
      'dual.default.svc.cluster.local 5 AAAA fd00::40',
    ]);
  });
  test('a Service without ports still has its address', () => {
    assert.deepEqual(answers('bare.default.svc.cluster.local', 'A'), [
      'bare.default.svc.cluster.local 5 A 10.43.0.30',
    ]);
  });
  test('the answer keeps the case of the question', () => {
    assert.deepEqual(answers('WEB.Default.svc.Cluster.Local', 'A'), [
      'WEB.Default.svc.Cluster.Local 5 A 10.43.0.20',
    ]);
    const r = ask('NOPE.default.svc.Cluster.Local', 'A');
    assert.equal(r.authorities[0]?.name, 'Cluster.Local');
  });
  test('a trailing dot is accepted', () => {
    assert.equal(ask('web.default.svc.cluster.local.', 'A').answers.length, 1);
  });
  test('headless: the ready endpoints, not-ready ones left out; across slices', () => {
    assert.deepEqual(answers('db.db.svc.cluster.local', 'A'), [
      'db.db.svc.cluster.local 5 A 10.42.0.5',
      'db.db.svc.cluster.local 5 A 10.42.1.6',
    ]);
    assert.deepEqual(answers('anon.default.svc.cluster.local', 'A').length, 2);
  });
  test('endpoint names: hostname, or dashed address', () => {
    assert.deepEqual(answers('db-1.db.db.svc.cluster.local', 'A'), [
      'db-1.db.db.svc.cluster.local 5 A 10.42.1.6',
    ]);
    assert.deepEqual(answers('10-42-0-9.anon.default.svc.cluster.local', 'A'), [
      '10-42-0-9.anon.default.svc.cluster.local 5 A 10.42.0.9',
    ]);
    // An endpoint of a ClusterIP Service is named too (CoreDNS answers those).
    assert.deepEqual(answers('10-42-0-8.web.default.svc.cluster.local', 'A'), [
      '10-42-0-8.web.default.svc.cluster.local 5 A 10.42.0.8',
    ]);
    assertNxdomain('db-2.db.db.svc.cluster.local'); // not ready
    assertNxdomain('nobody.db.db.svc.cluster.local');
  });
  test('a headless Service without ready endpoints is NXDOMAIN, as CoreDNS answers', () => {
    assertNxdomain('empty.default.svc.cluster.local');
  });
});

describe('NXDOMAIN and NODATA as CoreDNS answers them', () => {
  test('unknown Service, unknown namespace, wrong kind label, too many labels', () => {
    assertNxdomain('nope.default.svc.cluster.local');
    assertNxdomain('web.nope.svc.cluster.local');
    assertNxdomain('nope.svc.cluster.local');
    assertNxdomain('foo.cluster.local');
    assertNxdomain('web.default.foo.cluster.local');
    assertNxdomain('a.b.c.web.default.svc.cluster.local');
    assertNxdomain('kubernetes.default.svc.cluster.local.default.svc.cluster.local');
  });
  test('apex, svc, pod and an existing namespace are NODATA', () => {
    assertNodata('cluster.local');
    assertNodata('svc.cluster.local');
    assertNodata('pod.cluster.local');
    assertNodata('default.svc.cluster.local');
    assertNodata('db.pod.cluster.local');
  });
  test('other types: NODATA where the name exists, NXDOMAIN where it does not', () => {
    assertNodata('web.default.svc.cluster.local', 'MX');
    assertNxdomain('nope.default.svc.cluster.local', 'MX');
    assertNodata('web.default.svc.cluster.local', 'TXT');
    assertNxdomain('nope.default.svc.cluster.local', 'TXT');
    assertNodata('web.default.svc.cluster.local', 'PTR');
    assertNodata('web.default.svc.cluster.local', 'CNAME');
  });
  test('SOA at the apex; NODATA for SOA anywhere else (as CoreDNS)', () => {
    assert.deepEqual(fmt(ask('cluster.local', 'SOA').answers), [SOA]);
    assertNodata('web.default.svc.cluster.local', 'SOA');
    assertNodata('nope.default.svc.cluster.local', 'SOA');
  });
  test('the SOA serial is the time of the last change', () => {
    const soa = ask('cluster.local', 'SOA').answers[0] as Answer & { data: { serial: number } };
    assert.equal(soa.data.serial, Date.UTC(2026, 0, 1) / 1000);
  });
  test('zone transfers are refused', () => {
    assert.equal(ask('cluster.local', 'AXFR').rcode, 'REFUSED');
  });
  test('names outside the zone are not answered', () => {
    assert.equal(answerCluster(records, 'example.com', 'example.com', 'A', ZONE), null);
    assert.equal(answerCluster(records, 'xcluster.local', 'xcluster.local', 'A', ZONE), null);
  });
});

describe('SRV', () => {
  test('a named port of a ClusterIP Service, its address as an additional', () => {
    const r = ask('_http._tcp.web.default.svc.cluster.local', 'SRV');
    assert.deepEqual(fmt(r.answers), [
      '_http._tcp.web.default.svc.cluster.local 5 SRV 0 100 80 web.default.svc.cluster.local',
    ]);
    assert.deepEqual(fmt(r.additionals), ['web.default.svc.cluster.local 5 A 10.43.0.20']);
    assert.deepEqual(answers('_dns._udp.web.default.svc.cluster.local', 'SRV'), [
      '_dns._udp.web.default.svc.cluster.local 5 SRV 0 100 53 web.default.svc.cluster.local',
    ]);
  });
  test('a port or protocol the Service lacks is NXDOMAIN', () => {
    assertNxdomain('_http._udp.web.default.svc.cluster.local', 'SRV');
    assertNxdomain('_ftp._tcp.web.default.svc.cluster.local', 'SRV');
  });
  test('without port and protocol: every port, weight 100/n', () => {
    assert.deepEqual(answers('web.default.svc.cluster.local', 'SRV'), [
      'web.default.svc.cluster.local 5 SRV 0 33 80 web.default.svc.cluster.local',
      'web.default.svc.cluster.local 5 SRV 0 33 443 web.default.svc.cluster.local',
      'web.default.svc.cluster.local 5 SRV 0 33 53 web.default.svc.cluster.local',
    ]);
  });
  test('headless: one record per ready endpoint, targets the endpoint names', () => {
    const r = ask('_mysql._tcp.db.db.svc.cluster.local', 'SRV');
    assert.deepEqual(fmt(r.answers), [
      '_mysql._tcp.db.db.svc.cluster.local 5 SRV 0 50 3306 db-0.db.db.svc.cluster.local',
      '_mysql._tcp.db.db.svc.cluster.local 5 SRV 0 50 3306 db-1.db.db.svc.cluster.local',
    ]);
    assert.deepEqual(fmt(r.additionals), [
      'db-0.db.db.svc.cluster.local 5 A 10.42.0.5',
      'db-1.db.db.svc.cluster.local 5 A 10.42.1.6',
    ]);
  });
  test('a Service without ports has no SRV (NODATA)', () => {
    assertNodata('bare.default.svc.cluster.local', 'SRV');
  });
  test('A for an SRV-style name answers the Service address', () => {
    assert.deepEqual(answers('_http._tcp.web.default.svc.cluster.local', 'A'), [
      '_http._tcp.web.default.svc.cluster.local 5 A 10.43.0.20',
    ]);
  });
});

describe('ExternalName', () => {
  test('CNAME, and A with the target to chase upstream', () => {
    assert.deepEqual(answers('ext.default.svc.cluster.local', 'CNAME'), [
      'ext.default.svc.cluster.local 5 CNAME example.com',
    ]);
    const r = ask('ext.default.svc.cluster.local', 'A');
    assert.deepEqual(fmt(r.answers), ['ext.default.svc.cluster.local 5 CNAME example.com']);
    assert.deepEqual(r.chase, { name: 'example.com', type: 'A' });
  });
  test('a target inside the zone is followed here', () => {
    const r = ask('alias.default.svc.cluster.local', 'A');
    assert.deepEqual(fmt(r.answers), [
      'alias.default.svc.cluster.local 5 CNAME web.default.svc.cluster.local',
      'web.default.svc.cluster.local 5 A 10.43.0.20',
    ]);
    assert.equal(r.chase, undefined);
  });
  test('SRV points at the external name with port 0', () => {
    assert.deepEqual(answers('ext.default.svc.cluster.local', 'SRV'), [
      'ext.default.svc.cluster.local 5 SRV 0 100 0 example.com',
    ]);
  });
  test('an endpoint name under an ExternalName Service is NXDOMAIN; a self-loop gives nothing', () => {
    assertNxdomain('x.ext.default.svc.cluster.local');
    const r = sampleRecords();
    r.upsertService(
      svc('default', 'self', { type: 'ExternalName', externalName: 'self.default.svc.cluster.local' }),
    );
    const res = answerCluster(
      r,
      'self.default.svc.cluster.local',
      'self.default.svc.cluster.local',
      'A',
      ZONE,
    );
    assert.equal(res?.rcode, 'NOERROR');
    assert.deepEqual(res?.answers, []);
  });
});

describe('pods insecure', () => {
  test('a-b-c-d.ns.pod answers a.b.c.d', () => {
    assert.deepEqual(answers('10-42-0-5.default.pod.cluster.local', 'A'), [
      '10-42-0-5.default.pod.cluster.local 5 A 10.42.0.5',
    ]);
    assertNodata('10-42-0-5.default.pod.cluster.local', 'AAAA');
    assert.deepEqual(answers('fd00--5.default.pod.cluster.local', 'AAAA'), [
      'fd00--5.default.pod.cluster.local 5 AAAA fd00::5',
    ]);
  });
  test('no address, unknown namespace, extra labels: NXDOMAIN', () => {
    assertNxdomain('not-an-ip.default.pod.cluster.local');
    assertNxdomain('10-42-0-5.nope.pod.cluster.local');
    assertNxdomain('x.10-42-0-5.default.pod.cluster.local');
  });
});

describe('other records', () => {
  test('dns-version TXT', () => {
    assert.deepEqual(answers('dns-version.cluster.local', 'TXT'), [
      'dns-version.cluster.local 28800 TXT 1.1.0',
    ]);
  });
  test('NS at the apex with glue; ns.dns answers the DNS Service address', () => {
    const r = ask('cluster.local', 'NS');
    assert.deepEqual(fmt(r.answers), ['cluster.local 5 NS ns.dns.cluster.local']);
    assert.deepEqual(fmt(r.additionals), ['ns.dns.cluster.local 5 A 10.43.0.10']);
    assert.deepEqual(answers('ns.dns.cluster.local', 'A'), ['ns.dns.cluster.local 5 A 10.43.0.10']);
  });
  test('PTR for cluster IPs and endpoint addresses; others are not ours', () => {
    const ptr = (ip: string) => answerReverse(records, `rev-of-${ip}`, ip, ZONE);
    assert.deepEqual(fmt(ptr('10.43.0.20')!.answers), [
      'rev-of-10.43.0.20 5 PTR web.default.svc.cluster.local',
    ]);
    assert.deepEqual(fmt(ptr('10.42.0.5')!.answers), ['rev-of-10.42.0.5 5 PTR db-0.db.db.svc.cluster.local']);
    assert.deepEqual(fmt(ptr('10.42.0.9')!.answers), [
      'rev-of-10.42.0.9 5 PTR 10-42-0-9.anon.default.svc.cluster.local',
    ]);
    assert.deepEqual(fmt(ptr('fd00::10')!.answers), ['rev-of-fd00::10 5 PTR v6.default.svc.cluster.local']);
    assert.equal(ptr('10.42.2.7'), null); // not ready
    assert.equal(ptr('8.8.8.8'), null);
  });
});

describe('record changes', () => {
  test('deleting and changing Services and slices shows at once', () => {
    const r = sampleRecords();
    const g = r.generation;
    r.deleteService(svc('default', 'web', {}));
    assert.ok(r.generation > g);
    assert.equal(
      answerCluster(r, 'web.default.svc.cluster.local', 'web.default.svc.cluster.local', 'A', ZONE)?.rcode,
      'NXDOMAIN',
    );
    assert.deepEqual(r.reverse('10.43.0.20'), []);
    r.upsertService(svc('default', 'web', { clusterIP: '10.43.0.21', ports: [{ port: 80 }] }));
    const res = answerCluster(r, 'web.default.svc.cluster.local', 'web.default.svc.cluster.local', 'A', ZONE);
    assert.deepEqual(fmt(res?.answers ?? []), ['web.default.svc.cluster.local 5 A 10.43.0.21']);
    assert.deepEqual(r.reverse('10.43.0.21'), [{ name: 'web.default.svc' }]);
    assert.deepEqual(r.reverse('10.43.0.20'), []);
  });
});
