/** The endpoints controller's rules: subsets from pods, and the Endpoints object it keeps. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ENDPOINTS, PODS, SERVICES } from '../../client/resources.ts';
import type { KubeObject, ResourceRef } from '../../client/types.ts';
import { type Harness, startHarness } from '../garbagecollector/testing.ts';
import { desiredSubsets, type Endpoints, EndpointsController, MAX_ENDPOINTS_CAPACITY } from './controller.ts';
import type { Pod, Service } from './pods.ts';

const TS = '2026-01-01T00:00:00Z';

function pod(
  name: string,
  ip: string,
  opts: { ready?: boolean; labels?: Record<string, string>; extra?: Partial<Pod> } = {},
): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: opts.labels ?? { app: 'web' } },
    spec: {
      nodeName: 'node-1',
      containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
    },
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
    ...opts.extra,
  };
}

function svc(spec: Service['spec'] = {}, meta: Partial<KubeObject['metadata']> = {}): Service {
  return {
    metadata: { name: 'web', namespace: 'ns', uid: 'uid-web', ...meta },
    spec: {
      selector: { app: 'web' },
      clusterIP: '10.43.0.10',
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
      ...spec,
    },
  };
}

const ips = (subsets: ReturnType<typeof desiredSubsets>, field: 'addresses' | 'notReadyAddresses') =>
  subsets.flatMap((s) => (s[field] ?? []).map((a) => a.ip));

describe('desiredSubsets', () => {
  it('lists ready pods as addresses and the others as not ready, with the named port resolved', () => {
    const subsets = desiredSubsets(svc(), [pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { ready: false })]);
    assert.deepEqual(subsets, [
      {
        addresses: [
          {
            ip: '10.0.0.1',
            nodeName: 'node-1',
            targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' },
          },
        ],
        notReadyAddresses: [
          {
            ip: '10.0.0.2',
            nodeName: 'node-1',
            targetRef: { kind: 'Pod', namespace: 'ns', name: 'b', uid: 'uid-b' },
          },
        ],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('publishes not-ready pods as ready with publishNotReadyAddresses, terminating ones too', () => {
    const terminating = pod('c', '10.0.0.3', { extra: {} });
    terminating.metadata.deletionTimestamp = TS;
    const pods = [pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { ready: false }), terminating];
    assert.deepEqual(ips(desiredSubsets(svc(), pods), 'addresses'), ['10.0.0.1']);
    assert.deepEqual(ips(desiredSubsets(svc(), pods), 'notReadyAddresses'), ['10.0.0.2']);
    const all = desiredSubsets(svc({ publishNotReadyAddresses: true }), pods);
    assert.deepEqual(ips(all, 'addresses'), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  it('leaves out pods without an IP, finished pods, and pods without the target port', () => {
    const noIp = pod('a', '');
    noIp.status = { phase: 'Pending' };
    const done = pod('b', '10.0.0.2');
    done.status!.phase = 'Succeeded';
    const noPort = pod('c', '10.0.0.3');
    noPort.spec!.containers = [{ name: 'c' }];
    assert.deepEqual(desiredSubsets(svc(), [noIp, done, noPort]), []);
  });

  it('groups pods by the ports they serve', () => {
    const other = pod('b', '10.0.0.2');
    other.spec!.containers = [{ name: 'c', ports: [{ name: 'http', containerPort: 9090 }] }];
    const subsets = desiredSubsets(svc(), [pod('a', '10.0.0.1'), other, pod('c', '10.0.0.3')]);
    assert.deepEqual(
      subsets.map((s) => [ips([s], 'addresses'), s.ports?.map((p) => p.port)]),
      [
        [['10.0.0.1', '10.0.0.3'], [8080]],
        [['10.0.0.2'], [9090]],
      ],
    );
  });

  it('gives a headless Service without ports its addresses, with hostnames of its subdomain', () => {
    const p = pod('a', '10.0.0.1');
    p.spec = { ...p.spec, hostname: 'host-a', subdomain: 'web' };
    const subsets = desiredSubsets(svc({ clusterIP: 'None', ports: [] }), [p]);
    assert.equal(subsets.length, 1);
    assert.equal(subsets[0]?.ports, undefined);
    assert.equal(subsets[0]?.addresses?.[0]?.hostname, 'host-a');
  });
});

describe('EndpointsController', () => {
  let h: Harness | undefined;
  let c: EndpointsController;
  afterEach(() => {
    h?.stop();
    h = undefined;
  });

  async function start(objects: [ResourceRef, KubeObject][]): Promise<Harness> {
    c = new EndpointsController();
    h = await startHarness(c, { objects });
    return h;
  }
  const endpoints = (h: Harness) => h.client.objects<Endpoints>(ENDPOINTS);

  it('creates the Endpoints of a Service with its labels, and updates it as pods change', async () => {
    const h = await start([
      [SERVICES, svc({}, { labels: { team: 'a' } })],
      [PODS, pod('a', '10.0.0.1')],
      [PODS, pod('other', '10.0.0.9', { labels: { app: 'db' } })],
    ]);
    await h.run();
    const [ep] = endpoints(h);
    assert.equal(ep?.metadata.name, 'web');
    assert.deepEqual(ep?.metadata.labels, { team: 'a' });
    assert.deepEqual(ips(ep?.subsets ?? [], 'addresses'), ['10.0.0.1']);

    await h.client.patch(PODS, 'ns', 'a', 'merge', {
      status: { conditions: [{ type: 'Ready', status: 'False' }] },
    });
    await h.run();
    assert.deepEqual(ips(endpoints(h)[0]?.subsets ?? [], 'notReadyAddresses'), ['10.0.0.1']);
  });

  it('writes nothing when the Endpoints is already right', async () => {
    const h = await start([
      [SERVICES, svc()],
      [PODS, pod('a', '10.0.0.1')],
    ]);
    await h.run();
    const writes = () =>
      h.client.calls.filter((x) => x.resource === 'endpoints' && x.verb !== 'list' && x.verb !== 'watch')
        .length;
    const n = writes();
    await c.reconcile('ns/web');
    assert.equal(writes(), n);
  });

  it('labels the Endpoints of a headless Service', async () => {
    const h = await start([
      [SERVICES, svc({ clusterIP: 'None' })],
      [PODS, pod('a', '10.0.0.1')],
    ]);
    await h.run();
    assert.deepEqual(endpoints(h)[0]?.metadata.labels, { 'service.kubernetes.io/headless': '' });
  });

  it('deletes the Endpoints of a Service that is gone (also ones left over from before it started)', async () => {
    const h = await start([[ENDPOINTS, { metadata: { name: 'old', namespace: 'ns' } }]]);
    await h.run();
    assert.deepEqual(endpoints(h), []);
  });

  it('ignores Services without a selector, ExternalName Services, and the kubernetes Service', async () => {
    const h = await start([
      [SERVICES, svc({ selector: null }, { name: 'manual' })],
      [
        ENDPOINTS,
        { metadata: { name: 'manual', namespace: 'ns' }, subsets: [{ addresses: [{ ip: '1.2.3.4' }] }] },
      ],
      [SERVICES, svc({ type: 'ExternalName' }, { name: 'ext' })],
      [SERVICES, svc({}, { name: 'kubernetes', namespace: 'default' })],
      [
        ENDPOINTS,
        {
          metadata: { name: 'kubernetes', namespace: 'default' },
          subsets: [{ addresses: [{ ip: '10.0.0.1' }] }],
        },
      ],
      [PODS, pod('a', '10.0.0.1')],
    ]);
    await h.run();
    const byName = new Map(endpoints(h).map((e) => [e.metadata.name, e]));
    assert.deepEqual(byName.get('manual')?.subsets, [{ addresses: [{ ip: '1.2.3.4' }] }]);
    assert.equal(byName.has('ext'), false);
    assert.deepEqual(byName.get('kubernetes')?.subsets, [{ addresses: [{ ip: '10.0.0.1' }] }]);
  });

  it(`keeps at most ${MAX_ENDPOINTS_CAPACITY} addresses and says so`, async () => {
    const pods: [ResourceRef, KubeObject][] = [];
    for (let i = 0; i < 1005; i++) pods.push([PODS, pod(`p${i}`, `10.1.${Math.floor(i / 250)}.${i % 250}`)]);
    const h = await start([[SERVICES, svc()], ...pods]);
    await h.run();
    const [ep] = endpoints(h);
    assert.equal(ips(ep?.subsets ?? [], 'addresses').length, MAX_ENDPOINTS_CAPACITY);
    assert.equal(ep?.metadata.annotations?.['endpoints.kubernetes.io/over-capacity'], 'truncated');
  });
});
