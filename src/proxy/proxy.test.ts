import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ENDPOINT_SLICES, NODES, SERVICES } from '../client/resources.ts';
import { HttpRestClient } from '../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../client/testing.ts';
import type { KubeObject } from '../client/types.ts';
import { FakeNft } from './nftables/testing.ts';
import { KubeProxy } from './proxy.ts';
import { nodeIngressIPs, ServiceLBController } from './servicelb.ts';
import { slice } from './testdata.ts';
import { FakeIptables } from './testing.ts';
import { parseProxyMode } from './types.ts';

let srv: TestApiServer;
let client: HttpRestClient;

before(async () => {
  srv = await startTestApiServer();
  client = new HttpRestClient(srv.config, { component: 'proxy-test' });
});
after(() => srv.close());

function dnatTargets(fake: FakeIptables, svc: string): string[] {
  return fake
    .chainsWithPrefix('nat', 'SKIFF-SEP-')
    .flatMap((c) => fake.chain('nat', c)!)
    .filter((r) => r.includes(`--comment ${svc} `))
    .map((r) => /--to-destination (\S+)/.exec(r)?.[1])
    .filter((x): x is string => !!x)
    .sort();
}

test('KubeProxy follows Services and EndpointSlices from the API server; headless services get nothing; cleanup removes all', async () => {
  const fake = new FakeIptables();
  const syncs: boolean[] = [];
  const kp = new KubeProxy({
    client,
    nodeName: 'node-a',
    nodeIPs: ['192.168.1.10'],
    clusterCIDR: '10.42.0.0/16',
    runner: fake,
    minSyncPeriodMs: 10,
    onSync: (r) => syncs.push(r.full),
  });
  const svc = await client.create<Service & KubeObject>(SERVICES, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'web' } },
  } as Service & KubeObject);
  const clusterIP = svc.spec!.clusterIP!;
  await client.create<EndpointSlice & KubeObject>(
    ENDPOINT_SLICES,
    'default',
    slice(
      'web',
      [{ port: 8080 }],
      [{ ip: '10.42.0.5' }, { ip: '10.42.0.6', ready: false }],
      'web-1',
      'default',
    ) as EndpointSlice & KubeObject,
  );
  await client.create<Service & KubeObject>(SERVICES, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'headless', namespace: 'default' },
    spec: { clusterIP: 'None', ports: [{ port: 80 }], selector: { app: 'web' } },
  } as Service & KubeObject);
  const headlessSlice = slice('headless', [{ port: 80 }], [{ ip: '10.42.0.5' }], 'headless-1', 'default');
  headlessSlice.metadata!.labels!['service.kubernetes.io/headless'] = '';
  await client.create(ENDPOINT_SLICES, 'default', headlessSlice as EndpointSlice & KubeObject);

  const ctl = new AbortController();
  await kp.start(ctl.signal);
  assert.deepEqual(syncs, [true], 'one full sync after the informers synced');
  assert.deepEqual(dnatTargets(fake, 'default/web'), ['10.42.0.5:8080']);
  assert.ok(fake.chain('nat', 'SKIFF-SERVICES')!.some((r) => r.includes(`-d ${clusterIP} --dport 80`)));
  assert.ok(!fake.chain('nat', 'SKIFF-SERVICES')!.some((r) => r.includes('default/headless')));

  // An endpoint becomes ready: the rules follow.
  const started = Date.now();
  await client.update(ENDPOINT_SLICES, 'default', {
    ...(await client.get(ENDPOINT_SLICES, 'default', 'web-1')),
    endpoints: [
      { addresses: ['10.42.0.5'], conditions: { ready: true } },
      { addresses: ['10.42.0.6'], conditions: { ready: true } },
    ],
  } as KubeObject);
  await eventually(() => dnatTargets(fake, 'default/web').length === 2, 'the second endpoint', 1000);
  assert.ok(Date.now() - started < 1000);
  assert.equal(kp.lastSync!.full, false);

  // The Service goes: its chains go.
  await client.delete(SERVICES, 'default', 'web');
  await eventually(() => fake.chainsWithPrefix('nat', 'SKIFF-SVC-').length === 0, 'chains deleted', 2000);

  const r = await kp.cleanup();
  assert.ok(r.chains > 0);
  assert.deepEqual(fake.chainsWithPrefix('nat', 'SKIFF-'), []);
  assert.deepEqual(fake.chainsWithPrefix('filter', 'SKIFF-'), []);
  ctl.abort();
});

test("KubeProxy in nftables mode: removes the iptables mode's chains, programs its table, follows changes; cleanup removes both", async () => {
  const ipt = new FakeIptables();
  const nft = new FakeNft();
  // An earlier run in iptables mode left its chains.
  await ipt.restore('*nat\n:SKIFF-SERVICES - [0:0]\n-I PREROUTING 1 -j SKIFF-SERVICES\nCOMMIT\n');
  const kp = new KubeProxy({
    client,
    mode: 'nftables',
    nodeName: 'node-a',
    nodeIPs: ['192.168.1.10'],
    clusterCIDR: '10.42.0.0/16',
    runner: ipt,
    nftRunner: nft,
    minSyncPeriodMs: 10,
  });
  assert.equal(kp.mode, 'nftables');
  const svc = await client.create<Service & KubeObject>(SERVICES, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'nftweb', namespace: 'default' },
    spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'nftweb' } },
  } as Service & KubeObject);
  await client.create(
    ENDPOINT_SLICES,
    'default',
    slice('nftweb', [{ port: 8080 }], [{ ip: '10.42.0.5' }], 'nftweb-1', 'default') as EndpointSlice &
      KubeObject,
  );
  const ctl = new AbortController();
  await kp.start(ctl.signal);
  assert.deepEqual(ipt.chainsWithPrefix('nat', 'SKIFF-'), [], "the iptables mode's chains are gone");
  assert.deepEqual(ipt.chain('nat', 'PREROUTING'), []);
  const key = `${svc.spec!.clusterIP} . tcp . 80`;
  assert.match(nft.elements('service-ips')!.get(key) ?? '', /^goto service-\S+-default\/nftweb\/tcp\/$/);

  await client.update(ENDPOINT_SLICES, 'default', {
    ...(await client.get(ENDPOINT_SLICES, 'default', 'nftweb-1')),
    endpoints: [{ addresses: ['10.42.0.6'], conditions: { ready: true } }],
  } as KubeObject);
  await eventually(
    () =>
      nft
        .setsWithPrefix('lb-service-')
        .some((m) => [...nft.elements(m)!.values()].includes('10.42.0.6 . 8080')),
    'the new endpoint',
    2000,
  );
  assert.equal(kp.lastSync!.full, false);

  const r = await kp.cleanup();
  assert.ok(r.chains > 0);
  assert.equal(nft.table(), undefined);
  ctl.abort();
});

test('KubeProxy in iptables mode removes the nftables table an earlier run left; runners must fit the mode', async () => {
  const ipt = new FakeIptables();
  const nft = new FakeNft();
  await nft.apply('add table ip skiff-proxy\nadd chain ip skiff-proxy services\n');
  await nft.apply('add table ip filter\n');
  const kp = new KubeProxy({
    client,
    nodeName: 'node-a',
    nodeIPs: [],
    clusterCIDR: '10.42.0.0/16',
    runner: ipt,
    nftRunner: nft,
  });
  const ctl = new AbortController();
  await kp.start(ctl.signal);
  assert.equal(nft.table(), undefined);
  assert.ok(nft.tables.has('ip filter'), "only skiff's table");
  assert.ok(ipt.chain('nat', 'SKIFF-SERVICES'));
  ctl.abort();
  await kp.stop();

  const base = { client, nodeName: 'n', nodeIPs: [], clusterCIDR: '' };
  assert.throws(() => new KubeProxy({ ...base, mode: 'nftables', runner: ipt }), /needs nftRunner/);
  assert.throws(() => new KubeProxy({ ...base, nftRunner: nft }), /needs runner/);
  assert.equal(parseProxyMode('nftables'), 'nftables');
  assert.throws(() => parseProxyMode('ipvs'), /--proxy-mode must be one of iptables, nftables; got "ipvs"/);
});

test("ServiceLB publishes the Ready nodes' addresses as a LoadBalancer Service's ingress", async () => {
  for (const [name, ip, ready] of [
    ['n1', '192.168.1.11', 'True'],
    ['n2', '192.168.1.12', 'True'],
    ['n3', '192.168.1.13', 'False'],
  ] as const) {
    await client.create(NODES, '', { apiVersion: 'v1', kind: 'Node', metadata: { name } } as KubeObject);
    await client.patch(
      NODES,
      '',
      name,
      'merge',
      {
        status: {
          addresses: [{ type: 'InternalIP', address: ip }],
          conditions: [{ type: 'Ready', status: ready }],
        },
      },
      { subresource: 'status' },
    );
  }
  const ctl = new AbortController();
  const lb = new ServiceLBController({ client });
  const done = lb.run(ctl.signal);
  await client.create(SERVICES, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'lb', namespace: 'default' },
    spec: { type: 'LoadBalancer', ports: [{ port: 443 }], selector: { app: 'x' } },
  } as KubeObject);
  await client.create(SERVICES, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'other-lb', namespace: 'default' },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: 'example.com/lb',
      ports: [{ port: 443 }],
      selector: { app: 'x' },
    },
  } as KubeObject);
  const ingressOf = async (name: string) =>
    (
      (await client.get<Service & KubeObject>(SERVICES, 'default', name)).status?.loadBalancer?.ingress ?? []
    ).map((i) => i.ip);
  await eventually(async () => (await ingressOf('lb')).length === 2, 'ingress published', 3000);
  assert.deepEqual(await ingressOf('lb'), ['192.168.1.11', '192.168.1.12']);

  // A node becoming Ready is added.
  await client.patch(
    NODES,
    '',
    'n3',
    'merge',
    { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    { subresource: 'status' },
  );
  await eventually(async () => (await ingressOf('lb')).length === 3, 'third node', 3000);
  assert.deepEqual(await ingressOf('other-lb'), [], 'another class is not ours');
  ctl.abort();
  await done;
});

test('nodeIngressIPs prefers ExternalIP and skips unschedulable nodes', () => {
  const node = (name: string, addrs: [string, string][], extra: Partial<Node['spec']> = {}): Node => ({
    metadata: { name },
    spec: extra,
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: addrs.map(([type, address]) => ({ type, address })),
    },
  });
  assert.deepEqual(
    nodeIngressIPs([
      node('a', [
        ['InternalIP', '10.0.0.2'],
        ['ExternalIP', '203.0.113.2'],
      ]),
      node('b', [['InternalIP', '10.0.0.1']]),
      node('c', [['InternalIP', '10.0.0.3']], { unschedulable: true }),
    ]),
    ['10.0.0.1', '203.0.113.2'],
  );
});
