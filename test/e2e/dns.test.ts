/**
 * Cluster DNS end to end, as a pod sees it: network namespaces make a node, pods on its bridge and
 * an outside host (src/proxy/netlab.ts). In the node runs skiff's DNS server (a child process on the
 * node's address, port 10053, reading the API through a Unix-socket tunnel to the test API server)
 * and kube-proxy programs the node's iptables; `ensureDnsService` makes kube-dns at 10.43.0.10 with
 * its EndpointSlice at the node. The outside host runs a fake internet resolver on port 53, the DNS
 * server's upstream.
 *
 * Each pod gets the resolv.conf the kubelet writes for dnsPolicy ClusterFirst
 * (`nameserver 10.43.0.10`, `search <ns>.svc.cluster.local svc.cluster.local cluster.local`,
 * `options ndots:5`; `ip netns exec` mounts /etc/netns/<ns>/resolv.conf), and glibc's resolver
 * (`getent`) shows: short, partly and fully qualified Service names; headless Services; names
 * forwarded upstream; NXDOMAIN for unknown names; a large answer (TC over UDP) completed over TCP —
 * all through the ClusterIP's DNAT, UDP and TCP.
 *
 * Needs root (skips otherwise). Creates namespaces `skiffpx-dns<pid>-*` and /etc/netns/<ns>,
 * removed at the end.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ENDPOINT_SLICES, SERVICES } from '../../src/client/resources.ts';
import { HttpRestClient } from '../../src/client/rest.ts';
import { startTestApiServer } from '../../src/client/testing.ts';
import { slice, svc } from '../../src/dns/fixtures.ts';
import { ensureDnsService } from '../../src/dns/service.ts';
import { ExecIptablesRunner } from '../../src/proxy/iptables.ts';
import { destroyLabs, NetLab, netlabSkipReason } from '../../src/proxy/netlab.ts';
import { KubeProxy } from '../../src/proxy/proxy.ts';

const exec = promisify(execFile);
const TAG = `dns${process.pid}`;
const ROOT = new URL('../../', import.meta.url).pathname;
const DNS_PORT = 10053;

/** The DNS server in the node: the API through a local TCP listener piped to a Unix socket. */
const DNS_CHILD = `
const net = await import('node:net');
const cfg = JSON.parse(process.env.SKIFF_DNS_E2E);
const { DnsServer } = await import(cfg.root + 'src/dns/server.ts');
const { HttpRestClient } = await import(cfg.root + 'src/client/rest.ts');
const fwd = net.createServer((c) => {
  const u = net.connect(cfg.sock);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  c.pipe(u).pipe(c);
});
await new Promise((r) => fwd.listen(0, '127.0.0.1', r));
const client = new HttpRestClient({ ...cfg.config, server: 'https://127.0.0.1:' + fwd.address().port }, { component: 'dns' });
const dns = new DnsServer({ client, address: cfg.address, port: cfg.port, upstreams: [{ host: cfg.upstream, port: 53 }] });
await dns.start();
await dns.waitForSync();
console.log('ready');
`;

/** The outside world's resolver: example.com and www.example.com. */
const UPSTREAM_CHILD = `
const cfg = JSON.parse(process.env.SKIFF_DNS_E2E);
const { startFakeUpstream } = await import(cfg.root + 'src/dns/testing.ts');
await startFakeUpstream((name, type) => {
  const n = name.toLowerCase();
  if ((n === 'example.com' || n === 'www.example.com') && type === 'A')
    return { answers: [{ type: 'A', name, ttl: 60, class: 'IN', data: '192.0.2.80' }] };
  return { rcode: 3, authorities: [{ type: 'SOA', name: 'com', ttl: 60, class: 'IN',
    data: { mname: 'a.com', rname: 'h.com', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 30 } }] };
}, { host: '0.0.0.0', port: 53 });
console.log('ready');
`;

function ready(proc: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    proc.stdout!.once('data', () => resolve());
    proc.once('exit', (code) => reject(new Error(`${what} exited (${code})`)));
  });
}

/** `getent ahostsv4 NAME` in a pod: the addresses glibc's resolver found, or the exit code. */
async function lookup(netns: string, name: string): Promise<string[] | number> {
  try {
    const { stdout } = await exec('ip', ['netns', 'exec', netns, 'getent', 'ahostsv4', name], {
      timeout: 15_000,
    });
    return [
      ...new Set(
        stdout
          .split('\n')
          .map((l) => l.split(/\s+/)[0]!)
          .filter(Boolean),
      ),
    ].sort();
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

test('pods resolve Services, headless Services and outside names through kube-dns at 10.43.0.10', async (t) => {
  const skip = netlabSkipReason();
  if (skip) return t.skip(skip);
  await destroyLabs(TAG);
  const lab = await NetLab.create({ tag: TAG, pods: 2 });
  const srv = await startTestApiServer();
  const sock = join(tmpdir(), `skiff-dns-e2e-${process.pid}.sock`);
  const tunnel = net.createServer((c) => {
    const u = net.connect(srv.port, '127.0.0.1');
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.pipe(u).pipe(c);
  });
  const ctl = new AbortController();
  const etcDirs: string[] = [];
  const hadEtcNetns = existsSync('/etc/netns');
  t.after(async () => {
    ctl.abort();
    tunnel.close();
    rmSync(sock, { force: true });
    for (const d of etcDirs) rmSync(d, { recursive: true, force: true });
    if (!hadEtcNetns && existsSync('/etc/netns') && readdirSync('/etc/netns').length === 0)
      rmSync('/etc/netns', { recursive: true });
    await lab.destroy();
    await srv.close();
  });
  rmSync(sock, { force: true });
  await new Promise<void>((r) => tunnel.listen(sock, () => r()));
  // The node reaches the outside (and the cluster IPs it translates) via its uplink.
  await exec('ip', ['-n', lab.nodeNs, 'route', 'add', 'default', 'via', lab.extIP]);

  const client = new HttpRestClient(srv.config, { component: 'dns-e2e' });
  const kube = await ensureDnsService(client, '10.43.0.0/16', {
    endpointIP: lab.nodeIP,
    dnsPort: DNS_PORT,
    nodeName: 'node-1',
  });
  assert.equal(kube.clusterIP, '10.43.0.10');
  const web = await client.create(
    SERVICES,
    'default',
    svc('default', 'web', { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
  );
  const webIP = (web as { spec?: { clusterIP?: string } }).spec!.clusterIP!;
  await client.create(
    SERVICES,
    'default',
    svc('default', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
  );
  await client.create(
    ENDPOINT_SLICES,
    'default',
    slice(
      'default',
      'db',
      'db-1',
      [
        { ip: '10.99.0.10', hostname: 'db-0' },
        { ip: '10.99.0.11', hostname: 'db-1' },
      ],
      [{ name: 'pg', port: 5432 }],
    ),
  );
  const manyIps = Array.from({ length: 60 }, (_, i) => `10.99.5.${i + 1}`);
  await client.create(
    SERVICES,
    'default',
    svc('default', 'many', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }),
  );
  await client.create(
    ENDPOINT_SLICES,
    'default',
    slice(
      'default',
      'many',
      'many-1',
      manyIps.map((ip) => ({ ip })),
      [{ name: 'http', port: 80 }],
    ),
  );

  // The children read their settings from the environment they inherit at spawn.
  const spawnChild = (netns: string, script: string, cfg: Record<string, unknown>) => {
    process.env.SKIFF_DNS_E2E = JSON.stringify({ root: ROOT, ...cfg });
    try {
      return lab.spawn(netns, [process.execPath, '--input-type=module', '-e', script]);
    } finally {
      delete process.env.SKIFF_DNS_E2E;
    }
  };
  await ready(spawnChild(lab.extNs, UPSTREAM_CHILD, {}), 'fake upstream');
  const dnsProc = spawnChild(lab.nodeNs, DNS_CHILD, {
    sock,
    config: srv.config,
    address: lab.nodeIP,
    port: DNS_PORT,
    upstream: lab.extIP,
  });
  await ready(dnsProc, 'DNS server');

  const kp = new KubeProxy({
    client,
    nodeName: 'node-1',
    nodeIPs: [lab.nodeIP],
    clusterCIDR: '10.99.0.0/16',
    runner: new ExecIptablesRunner({ netns: lab.nodeNs }),
  });
  await kp.start(ctl.signal);

  const pod = lab.pods[0]!;
  const dir = `/etc/netns/${pod.netns}`;
  mkdirSync(dir, { recursive: true });
  etcDirs.push(dir);
  writeFileSync(
    join(dir, 'resolv.conf'),
    'nameserver 10.43.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
  );

  assert.deepEqual(await lookup(pod.netns, 'web'), [webIP], 'short name through the search list');
  assert.deepEqual(await lookup(pod.netns, 'web.default'), [webIP]);
  assert.deepEqual(await lookup(pod.netns, 'web.default.svc.cluster.local'), [webIP]);
  assert.deepEqual(await lookup(pod.netns, 'kube-dns.kube-system'), ['10.43.0.10']);
  assert.deepEqual(await lookup(pod.netns, 'db'), ['10.99.0.10', '10.99.0.11'], 'headless: the endpoints');
  assert.deepEqual(await lookup(pod.netns, 'db-1.db'), ['10.99.0.11'], 'a StatefulSet-style hostname');
  assert.deepEqual(await lookup(pod.netns, '10-99-0-11.default.pod.cluster.local'), ['10.99.0.11']);
  assert.deepEqual(await lookup(pod.netns, 'example.com'), ['192.0.2.80'], 'forwarded to the host resolver');
  assert.deepEqual(await lookup(pod.netns, 'www.example.com.'), ['192.0.2.80']);
  assert.equal(await lookup(pod.netns, 'nope'), 2, 'an unknown name: not found');
  // 60 addresses do not fit 512 bytes: TC over UDP, then glibc asks again over TCP.
  assert.deepEqual(await lookup(pod.netns, 'many'), [...manyIps].sort());

  await kp.cleanup();
});
