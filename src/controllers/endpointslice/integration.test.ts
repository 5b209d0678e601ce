/**
 * The endpoints and EndpointSlice controllers (with the garbage collector) against a real API server:
 * a Service's Endpoints and EndpointSlice follow its pods' IPs, readiness and deletion.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENDPOINT_SLICES, ENDPOINTS, NAMESPACES, NODES, PODS, SERVICES } from '../../client/resources.ts';
import { HttpRestClient, isApiError } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import type { KubeObject } from '../../client/types.ts';
import type { Endpoints } from '../endpoints/controller.ts';
import { EndpointsController } from '../endpoints/controller.ts';
import { GarbageCollector } from '../garbagecollector/controller.ts';
import { HttpDiscovery } from '../garbagecollector/discovery.ts';
import { ControllerManager } from '../manager.ts';
import { EndpointSliceController } from './controller.ts';
import type { EndpointSlice } from './reconciler.ts';

const NS = 'web';

describe('endpoints and EndpointSlices against the API server', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  let discovery: HttpDiscovery;
  const stop = new AbortController();
  let running: Promise<void>;

  const endpoints = async (): Promise<Endpoints | null> => {
    try {
      return await client.get<Endpoints>(ENDPOINTS, NS, 'frontend');
    } catch (err) {
      if (isApiError(err, 404)) return null;
      throw err;
    }
  };
  const slices = async (): Promise<EndpointSlice[]> =>
    (
      await client.list<EndpointSlice>(ENDPOINT_SLICES, NS, {
        labelSelector: 'kubernetes.io/service-name=frontend',
      })
    ).items;
  /** ip → conditions, from the one slice. */
  const sliceView = async () => {
    const s = await slices();
    if (s.length !== 1) return null;
    return Object.fromEntries(
      (s[0]!.endpoints ?? []).map((e) => [
        e.addresses[0],
        { ...e.conditions, node: e.nodeName, zone: e.zone },
      ]),
    );
  };
  const addressView = (ep: Endpoints | null) => ({
    ready: (ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort(),
    notReady: (ep?.subsets ?? []).flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip)).sort(),
  });

  async function runPod(name: string, ip: string, node: string, ready: boolean): Promise<void> {
    await client.create(PODS, NS, {
      metadata: { name, labels: { app: 'frontend' } },
      spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
    });
    await client.createSubresource(PODS, NS, name, 'binding', {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name },
      target: { kind: 'Node', name: node },
    });
    await setStatus(name, ip, ready);
  }

  async function setStatus(name: string, ip: string, ready: boolean): Promise<void> {
    await client.patch(
      PODS,
      NS,
      name,
      'merge',
      {
        status: {
          phase: 'Running',
          podIP: ip,
          podIPs: [{ ip }],
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
        },
      },
      { subresource: 'status' },
    );
  }

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config);
    discovery = new HttpDiscovery(srv.config);
    await client.create(NAMESPACES, '', { metadata: { name: NS } });
    for (const [name, zone] of [
      ['node-a', 'zone-1'],
      ['node-b', 'zone-2'],
    ] as const) {
      await client.create(NODES, '', {
        metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } },
      });
    }
    const manager = new ControllerManager({
      client,
      leaderElection: false,
      controllers: [
        new EndpointsController(),
        new EndpointSliceController(),
        new GarbageCollector({ discovery }),
      ],
    });
    running = manager.run(stop.signal);
  });

  after(async () => {
    stop.abort();
    await running;
    discovery.close();
    client.close();
    await srv.close();
  });

  it('follows pod readiness and deletion', async () => {
    const svc = await client.create<KubeObject>(SERVICES, NS, {
      metadata: { name: 'frontend', labels: { tier: 'web' } },
      spec: { selector: { app: 'frontend' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] },
    });
    // No pods yet: an empty Endpoints and one placeholder slice owned by the Service.
    await eventually(
      async () => (await endpoints()) !== null && (await slices()).length === 1,
      'empty endpoints',
    );
    const [placeholder] = await slices();
    assert.equal(placeholder!.addressType, 'IPv4');
    assert.deepEqual(placeholder!.endpoints ?? [], []);
    assert.equal(
      placeholder!.metadata.labels?.['endpointslice.kubernetes.io/managed-by'],
      'endpointslice-controller.k8s.io',
    );
    assert.equal(placeholder!.metadata.labels?.tier, 'web');
    assert.equal(placeholder!.metadata.ownerReferences?.[0]?.uid, svc.metadata.uid);

    await runPod('p1', '10.42.0.11', 'node-a', true);
    await runPod('p2', '10.42.0.12', 'node-b', false);
    await eventually(async () => {
      const v = addressView(await endpoints());
      return v.ready.join() === '10.42.0.11' && v.notReady.join() === '10.42.0.12';
    }, 'one ready and one not-ready address');
    const ep = await endpoints();
    assert.deepEqual(
      ep?.subsets?.[0]?.ports,
      [{ name: 'web', port: 8080, protocol: 'TCP' }],
      'named targetPort resolved',
    );
    assert.equal(ep?.subsets?.[0]?.addresses?.[0]?.targetRef?.name, 'p1');
    assert.equal(ep?.subsets?.[0]?.addresses?.[0]?.nodeName, 'node-a');
    await eventually(async () => {
      const v = await sliceView();
      return v?.['10.42.0.11']?.ready === true && v['10.42.0.12']?.ready === false;
    }, 'the slice to list both pods');
    assert.deepEqual(await sliceView(), {
      '10.42.0.11': { ready: true, serving: true, terminating: false, node: 'node-a', zone: 'zone-1' },
      '10.42.0.12': { ready: false, serving: false, terminating: false, node: 'node-b', zone: 'zone-2' },
    });
    const [slice] = await slices();
    assert.deepEqual(slice!.ports, [{ name: 'web', port: 8080, protocol: 'TCP' }]);
    assert.equal(slice!.endpoints?.find((e) => e.addresses[0] === '10.42.0.11')?.targetRef?.name, 'p1');

    await setStatus('p2', '10.42.0.12', true);
    await eventually(
      async () => addressView(await endpoints()).ready.join() === '10.42.0.11,10.42.0.12',
      'both addresses ready',
    );
    await eventually(
      async () => (await sliceView())?.['10.42.0.12']?.ready === true,
      'p2 ready in the slice',
    );

    // A graceful delete: p1 is terminating (its node still has to stop it).
    await client.delete(PODS, NS, 'p1');
    await eventually(async () => {
      const v = addressView(await endpoints());
      return v.ready.join() === '10.42.0.12' && v.notReady.length === 0;
    }, 'p1 out of the Endpoints');
    await eventually(async () => (await sliceView())?.['10.42.0.11']?.terminating === true, 'p1 terminating');
    assert.deepEqual((await sliceView())?.['10.42.0.11'], {
      ready: false,
      serving: true,
      terminating: true,
      node: 'node-a',
      zone: 'zone-1',
    });

    // The pod is gone for good.
    await client.delete(PODS, NS, 'p1', { gracePeriodSeconds: 0 });
    await eventually(async () => {
      const v = await sliceView();
      return v !== null && Object.keys(v).join() === '10.42.0.12';
    }, 'p1 out of the slice');

    // The Service goes: its Endpoints with it, its slices through the garbage collector.
    await client.delete(SERVICES, NS, 'frontend');
    await eventually(
      async () => (await endpoints()) === null && (await slices()).length === 0,
      'all gone',
      10_000,
    );
  });

  it('publishes not-ready addresses as ready when the Service asks for it', async () => {
    await client.create(SERVICES, NS, {
      metadata: { name: 'frontend' },
      spec: {
        selector: { app: 'frontend' },
        ports: [{ port: 80, targetPort: 8080 }],
        publishNotReadyAddresses: true,
      },
    });
    await runPod('p3', '10.42.0.13', 'node-a', false);
    await eventually(
      async () => addressView(await endpoints()).ready.join() === '10.42.0.12,10.42.0.13',
      'not-ready p3 published',
    );
    await eventually(
      async () => (await sliceView())?.['10.42.0.13']?.ready === true,
      'p3 ready in the slice',
    );
    assert.equal((await sliceView())?.['10.42.0.13']?.serving, false);
  });
});
