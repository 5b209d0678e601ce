import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import { type AddressInfo, isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkServerIdentity, type TLSSocket } from 'node:tls';
import { FakeClock } from '../../util/clock.ts';
import {
  canonicalIp,
  ensurePki,
  hostSans,
  issueCertificate,
  type Pki,
  pkiPaths,
  verifyClientCert,
} from './pki.ts';

const DAY = 24 * 60 * 60 * 1000;
const HOST = { dnsNames: ['localhost', 'node-a'], ips: ['127.0.0.1', '::1', '192.0.2.10'] };

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'skiff-pki-'));
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('ensurePki', () => {
  const dirs: string[] = [];
  const newDir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('creates the CA, serving, admin and service-account files, keys mode 0600', async () => {
    const dir = newDir();
    const pki = await ensurePki(dir, { hostnames: [], ips: [], host: HOST });
    assert.deepEqual(pki.issued, ['ca', 'serving', 'admin', 'kubelet-client', 'service-account']);
    const p = pkiPaths(dir);
    for (const key of [p.caKey, p.servingKey, p.adminKey, p.saKey]) assert.equal(mode(key), 0o600, key);
    for (const cert of [p.caCert, p.servingCert, p.adminCert, p.saPub]) assert.equal(mode(cert), 0o644, cert);
    assert.equal(mode(p.dir), 0o700);
    assert.equal(readFileSync(p.caCert, 'utf8'), pki.ca.cert);
    assert.equal(pki.serving.certPath, p.servingCert);

    const ca = new X509Certificate(pki.ca.cert);
    assert.equal(ca.ca, true);
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const years = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / (365 * DAY);
    assert.ok(years > 9.9 && years < 10.1, `CA valid for ${years} years`);

    for (const leaf of [pki.serving.cert, pki.admin.cert]) {
      const c = new X509Certificate(leaf);
      assert.equal(c.ca, false);
      assert.ok(c.checkIssued(ca) && c.verify(ca.publicKey));
    }
    const admin = new X509Certificate(pki.admin.cert);
    assert.equal(admin.subject, 'O=system:masters\nCN=system:admin');
    assert.deepEqual(admin.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.deepEqual(new X509Certificate(pki.serving.cert).keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.match(pki.serviceAccount.privateKey, /BEGIN PRIVATE KEY/);
    assert.match(pki.serviceAccount.publicKey, /BEGIN PUBLIC KEY/);
  });

  test('the serving certificate carries the host, kubernetes and extra SANs', async () => {
    const dir = newDir();
    const pki = await ensurePki(dir, {
      hostnames: ['API.Example.com', '10.0.0.5', ' '],
      ips: ['2001:db8::0:7'],
      host: HOST,
    });
    const san = new X509Certificate(pki.serving.cert).subjectAltName!.split(', ');
    for (const want of [
      'DNS:localhost',
      'DNS:node-a',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      'DNS:kubernetes.default.svc.cluster.local',
      'DNS:api.example.com',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
      'IP Address:192.0.2.10',
      'IP Address:10.0.0.5',
      'IP Address:2001:DB8:0:0:0:0:0:7',
    ]) {
      assert.ok(san.includes(want), `${want} in ${san.join(', ')}`);
    }
    assert.equal(san.length, 12);
    // What a TLS client checks: the host it dialled against the certificate.
    const peer = new X509Certificate(pki.serving.cert).toLegacyObject();
    for (const host of [
      '::1',
      '127.0.0.1',
      '2001:db8::7',
      'node-a',
      'kubernetes.default.svc.cluster.local',
    ]) {
      assert.equal(checkServerIdentity(host, peer), undefined, host);
    }
    assert.ok(checkServerIdentity('other.example', peer) instanceof Error);
    assert.deepEqual(pki.serving.ips, ['10.0.0.5', '127.0.0.1', '192.0.2.10', '2001:db8::7', '::1']);
  });

  test('by default the SANs include this host', async () => {
    const pki = await ensurePki(newDir(), { hostnames: [], ips: [] });
    const host = hostSans();
    for (const ip of host.ips) assert.ok(pki.serving.ips.includes(ip));
    for (const name of host.dnsNames) assert.ok(pki.serving.dnsNames.includes(name));
  });

  test('reuses everything on a later start', async () => {
    const dir = newDir();
    const first = await ensurePki(dir, { hostnames: ['a.example'], ips: [], host: HOST });
    const second = await ensurePki(dir, { hostnames: ['a.example'], ips: [], host: HOST });
    assert.deepEqual(second.issued, []);
    assert.equal(second.ca.cert, first.ca.cert);
    assert.equal(second.serving.cert, first.serving.cert);
    assert.equal(second.admin.key, first.admin.key);
    assert.equal(second.serviceAccount.privateKey, first.serviceAccount.privateKey);
  });

  test('a new SAN re-issues only the serving certificate, with the same CA', async () => {
    const dir = newDir();
    const first = await ensurePki(dir, { hostnames: [], ips: [], host: HOST });
    const second = await ensurePki(dir, { hostnames: ['new.example'], ips: ['10.9.9.9'], host: HOST });
    assert.deepEqual(second.issued, ['serving']);
    assert.equal(second.ca.cert, first.ca.cert);
    assert.equal(second.admin.cert, first.admin.cert);
    assert.notEqual(second.serving.cert, first.serving.cert);
    const serving = new X509Certificate(second.serving.cert);
    assert.ok(serving.verify(new X509Certificate(first.ca.cert).publicKey));
    assert.match(serving.subjectAltName!, /DNS:new\.example/);
    assert.match(serving.subjectAltName!, /IP Address:10\.9\.9\.9/);
    // Dropping the SAN again changes the set too.
    assert.deepEqual((await ensurePki(dir, { hostnames: [], ips: [], host: HOST })).issued, ['serving']);
  });

  test('leaf certificates are renewed within 90 days of expiry; the CA is kept', async () => {
    const dir = newDir();
    const clock = new FakeClock(Date.now());
    const first = await ensurePki(dir, { hostnames: [], ips: [], host: HOST, clock });
    clock.advance(200 * DAY);
    assert.deepEqual((await ensurePki(dir, { hostnames: [], ips: [], host: HOST, clock })).issued, []);
    clock.advance(100 * DAY);
    const renewed = await ensurePki(dir, { hostnames: [], ips: [], host: HOST, clock });
    assert.deepEqual(renewed.issued, ['serving', 'admin', 'kubelet-client']);
    assert.equal(renewed.ca.cert, first.ca.cert);
    const notAfter = Date.parse(new X509Certificate(renewed.admin.cert).validTo);
    assert.ok(notAfter > clock.now() + 364 * DAY);
  });

  test('a damaged or foreign leaf is re-issued; a missing service.pub is restored', async () => {
    const dir = newDir();
    const other = await ensurePki(newDir(), { hostnames: [], ips: [], host: HOST });
    const first = await ensurePki(dir, { hostnames: [], ips: [], host: HOST });
    const p = pkiPaths(dir);
    writeFileSync(p.adminCert, other.admin.cert); // signed by another CA
    writeFileSync(p.servingKey, 'garbage');
    unlinkSync(p.saPub);
    const again = await ensurePki(dir, { hostnames: [], ips: [], host: HOST });
    assert.deepEqual(again.issued, ['serving', 'admin']);
    assert.equal(readFileSync(p.saPub, 'utf8'), first.serviceAccount.publicKey);
    assert.ok(new X509Certificate(again.admin.cert).verify(new X509Certificate(first.ca.cert).publicKey));
  });

  test('a CA certificate without its key is an error', async () => {
    const dir = newDir();
    await ensurePki(dir, { hostnames: [], ips: [], host: HOST });
    unlinkSync(pkiPaths(dir).caKey);
    await assert.rejects(ensurePki(dir, { hostnames: [], ips: [], host: HOST }), /server-ca\.key/);
    assert.ok(existsSync(pkiPaths(dir).caCert));
  });

  test('bad SANs are rejected', async () => {
    await assert.rejects(ensurePki(newDir(), { hostnames: [], ips: ['not-an-ip'], host: HOST }), /not an IP/);
    await assert.rejects(ensurePki(newDir(), { hostnames: ['bad name'], ips: [], host: HOST }), /DNS name/);
  });
});

describe('hostSans', () => {
  test('keeps non-internal addresses, drops internal and IPv6 link-local ones', () => {
    const iface = (address: string, family: 'IPv4' | 'IPv6', internal: boolean) => ({
      address,
      family,
      internal,
      netmask: '',
      mac: '',
      cidr: null,
      ...(family === 'IPv6' ? { scopeid: 0 } : {}),
    });
    const sans = hostSans('Node-1', {
      lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
      eth0: [
        iface('10.1.2.3', 'IPv4', false),
        iface('fe80::1', 'IPv6', false),
        iface('2001:db8::5', 'IPv6', false),
      ],
      docker0: [iface('172.17.0.1', 'IPv4', false)],
    } as unknown as Parameters<typeof hostSans>[1]);
    assert.deepEqual(sans, {
      dnsNames: ['localhost', 'node-1'],
      ips: ['10.1.2.3', '127.0.0.1', '172.17.0.1', '2001:db8::5', '::1'],
    });
  });

  test('canonicalIp compresses IPv6', () => {
    assert.equal(canonicalIp('2001:0DB8:0:0:0:0:0:0001'), '2001:db8::1');
    assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
    assert.throws(() => canonicalIp('nope'));
  });
});

describe('verifyClientCert over real TLS', () => {
  let dir: string;
  let pki: Pki;
  let foreign: Pki;
  let server: ReturnType<typeof createServer>;
  let port: number;

  before(async () => {
    dir = tempDir();
    pki = await ensurePki(join(dir, 'a'), { hostnames: [], ips: [] });
    foreign = await ensurePki(join(dir, 'b'), { hostnames: [], ips: [] });
    server = createServer(
      {
        cert: pki.serving.cert,
        key: pki.serving.key,
        ca: pki.ca.cert,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(verifyClientCert(req.socket as TLSSocket)));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** GETs / from 127.0.0.1 over TLS, checking the server's certificate against the CA for `servername`. */
  function whoami(servername: string, client?: { cert: string; key: string }): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          ...(isIP(servername) ? {} : { servername }),
          port,
          path: '/',
          ca: pki.ca.cert,
          agent: false,
          ...(client ?? {}),
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve(JSON.parse(body)));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  test('the admin client certificate yields system:admin in system:masters', async () => {
    assert.deepEqual(await whoami('localhost', pki.admin), {
      user: 'system:admin',
      groups: ['system:masters'],
    });
  });

  test('the serving certificate verifies for its DNS names too', async () => {
    for (const name of ['localhost', 'kubernetes.default.svc']) {
      assert.deepEqual(await whoami(name, pki.admin), { user: 'system:admin', groups: ['system:masters'] });
    }
    assert.deepEqual(await whoami('127.0.0.1', pki.admin), {
      user: 'system:admin',
      groups: ['system:masters'],
    });
    await assert.rejects(whoami('elsewhere.example', pki.admin), /altnames/);
  });

  test('no client certificate → null', async () => {
    assert.equal(await whoami('127.0.0.1'), null);
  });

  test('a certificate from another CA → null', async () => {
    assert.equal(await whoami('127.0.0.1', foreign.admin), null);
  });

  test('a certificate of the right CA that is not for client auth → null', async () => {
    assert.equal(await whoami('127.0.0.1', pki.serving), null);
  });
});

describe('issueCertificate', () => {
  test('signs node client and serving certificates with the cluster CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-pki-issue-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const pki = await ensurePki(dir, { hostnames: [], ips: [], host: HOST });
    const client = await issueCertificate(pki.ca, {
      commonName: 'system:node:n1',
      organizations: ['system:nodes'],
      usage: 'client',
    });
    const c = new X509Certificate(client.cert);
    assert.equal(c.subject, 'O=system:nodes\nCN=system:node:n1');
    assert.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.ok(c.verify(new X509Certificate(pki.ca.cert).publicKey));
    const serving = await issueCertificate(pki.ca, {
      commonName: 'n1',
      usage: 'server',
      dnsNames: ['n1'],
      ips: ['10.0.0.5'],
    });
    const s = new X509Certificate(serving.cert);
    assert.equal(s.subjectAltName, 'DNS:n1, IP Address:10.0.0.5');
    assert.deepEqual(s.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  });
});
