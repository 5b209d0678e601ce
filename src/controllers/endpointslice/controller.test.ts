/** The EndpointSlice reconciler's packing rules, and the controller on a fake client. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { IndexedCache } from '../../client/informer.ts';
import { ENDPOINT_SLICES, NODES, PODS, SERVICES } from '../../client/resources.ts';
import type { KubeObject, ResourceRef } from '../../client/types.ts';
import type { Pod, Service } from '../endpoints/pods.ts';
import { type Harness, startHarness } from '../garbagecollector/testing.ts';
import { EndpointSliceController } from './controller.ts';
import { CONTROLLER_NAME, type EndpointSlice, SliceReconciler } from './reconciler.ts';

const TS = '2026-01-01T00:00:00Z';

function pod(name: string, ip: string, opts: { ready?: boolean; node?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: { app: 'web' } },
    spec: {
      nodeName: opts.node ?? 'node-1',
      containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
    status: {
      phase: 'Running',
      podIPs: ip.split(',').map((i) => ({ ip: i })),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

function svc(spec: Service['spec'] = {}, labels?: Record<string, string>): Service {
  return {
    metadata: { name: 'web', namespace: 'ns', uid: 'uid-web', labels },
    spec: {
      selector: { app: 'web' },
      clusterIP: '10.43.0.10',
      ipFamilies: ['IPv4'],
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
      ...spec,
    },
  };
}

function nodes(): IndexedCache {
  const cache = new IndexedCache();
  cache.set('node-1', { metadata: { name: 'node-1', labels: { 'topology.kubernetes.io/zone': 'z1' } } });
  cache.set('node-2', { metadata: { name: 'node-2' } });
  return cache;
}

const reconciler = (max = 100) =>
  new SliceReconciler({ maxEndpointsPerSlice: max, controllerName: CONTROLLER_NAME, nodes: nodes() });

/** Applies changes as the API would (names for new slices). */
function apply(
  existing: EndpointSlice[],
  changes: ReturnType<SliceReconciler['reconcile']>,
): EndpointSlice[] {
  let n = existing.length;
  const out = new Map(existing.map((s) => [s.metadata.name, s]));
  for (const s of changes.delete) out.delete(s.metadata.name);
  for (const s of changes.update) out.set(s.metadata.name, s);
  for (const s of changes.create) {
    const name = `web-${++n}`;
    out.set(name, { ...s, metadata: { ...s.metadata, name, generateName: undefined } });
  }
  return [...out.values()];
}

describe('SliceReconciler', () => {
  it('keeps one empty placeholder slice, owned by and labelled for the Service, while there are no endpoints', () => {
    const r = reconciler();
    const changes = r.reconcile(svc({}, { team: 'a', 'kubernetes.io/service-name': 'spoof' }), [], []);
    assert.equal(changes.create.length, 1);
    const [slice] = changes.create;
    assert.equal(slice?.addressType, 'IPv4');
    assert.deepEqual(slice?.endpoints, []);
    assert.deepEqual(slice?.ports, []);
    assert.equal(slice?.metadata.generateName, 'web-');
    assert.deepEqual(slice?.metadata.labels, {
      team: 'a',
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    assert.deepEqual(slice?.metadata.ownerReferences, [
      {
        apiVersion: 'v1',
        kind: 'Service',
        name: 'web',
        uid: 'uid-web',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    // Seen again: nothing to do.
    const again = r.reconcile(svc({}, { team: 'a' }), [], apply([], changes));
    assert.deepEqual(
      [again.create, again.update, again.delete].map((x) => x.length),
      [0, 0, 0],
    );
  });

  it('describes each pod: conditions, node, zone, hostname and target', () => {
    const terminating = pod('b', '10.0.0.2');
    terminating.metadata.deletionTimestamp = TS;
    const named = pod('c', '10.0.0.3', { ready: false, node: 'node-2' });
    named.spec = { ...named.spec, hostname: 'c', subdomain: 'web' };
    const [slice] = reconciler().reconcile(svc(), [pod('a', '10.0.0.1'), terminating, named], []).create;
    assert.deepEqual(slice?.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const byIp = Object.fromEntries((slice?.endpoints ?? []).map((e) => [e.addresses[0], e]));
    assert.deepEqual(byIp['10.0.0.1'], {
      addresses: ['10.0.0.1'],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' },
      nodeName: 'node-1',
      zone: 'z1',
    });
    assert.deepEqual(byIp['10.0.0.2']?.conditions, { ready: false, serving: true, terminating: true });
    assert.deepEqual(byIp['10.0.0.3']?.conditions, { ready: false, serving: false, terminating: false });
    assert.equal(byIp['10.0.0.3']?.hostname, 'c');
    assert.equal(byIp['10.0.0.3']?.zone, undefined);
  });

  it('puts at most maxEndpointsPerSlice endpoints in a slice', () => {
    const pods = Array.from({ length: 250 }, (_, i) =>
      pod(`p${i}`, `10.0.${Math.floor(i / 200)}.${i % 200}`),
    );
    const { create } = reconciler().reconcile(svc(), pods, []);
    assert.deepEqual(create.map((s) => s.endpoints?.length).sort(), [100, 100, 50]);
  });

  it('updates the slice holding a changed endpoint, and shrinks or deletes slices as pods go', () => {
    const r = reconciler(2);
    let slices = apply(
      [],
      r.reconcile(svc(), [pod('a', '10.0.0.1'), pod('b', '10.0.0.2'), pod('c', '10.0.0.3')], []),
    );
    assert.equal(slices.length, 2);
    const notReady = r.reconcile(
      svc(),
      [pod('a', '10.0.0.1', { ready: false }), pod('b', '10.0.0.2'), pod('c', '10.0.0.3')],
      slices,
    );
    assert.deepEqual([notReady.create.length, notReady.update.length, notReady.delete.length], [0, 1, 0]);
    slices = apply(slices, notReady);
    const holderOfC = slices.find((s) => s.endpoints?.some((e) => e.addresses[0] === '10.0.0.3'));
    const onlyAandB = r.reconcile(
      svc(),
      [pod('a', '10.0.0.1', { ready: false }), pod('b', '10.0.0.2')],
      slices,
    );
    assert.equal(holderOfC?.endpoints?.length, 1, 'c is alone in the second slice');
    assert.deepEqual(
      onlyAandB.delete.map((s) => s.metadata.name),
      [holderOfC?.metadata.name],
    );
    assert.deepEqual([onlyAandB.create.length, onlyAandB.update.length], [0, 0]);
  });

  it('leaves out pods on nodes it does not know, reporting them', () => {
    const changes = reconciler().reconcile(svc(), [pod('a', '10.0.0.1', { node: 'ghost' })], []);
    assert.deepEqual(changes.podsWithoutNode, ['a']);
    assert.deepEqual(changes.create[0]?.endpoints, [], 'only the placeholder');
  });

  it('uses the addresses of each of the Service IP families, deleting slices of families it lost', () => {
    const dual = pod('a', '10.0.0.1,fd00::1');
    const v6 = reconciler().reconcile(
      svc({ ipFamilies: ['IPv6'] }),
      [dual],
      [{ metadata: { name: 'old', namespace: 'ns' }, addressType: 'IPv4', endpoints: [] }],
    );
    assert.deepEqual(
      v6.create.map((s) => [s.addressType, s.endpoints?.[0]?.addresses]),
      [['IPv6', ['fd00::1']]],
    );
    assert.deepEqual(
      v6.delete.map((s) => s.metadata.name),
      ['old'],
    );
    const both = reconciler().reconcile(svc({ ipFamilies: ['IPv4', 'IPv6'] }), [dual], []);
    assert.deepEqual(both.create.map((s) => s.addressType).sort(), ['IPv4', 'IPv6']);
  });

  it('reuses a slice of another owner (an older Service of the same name) only by deleting it', () => {
    const foreign: EndpointSlice = {
      metadata: {
        name: 'web-old',
        namespace: 'ns',
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'older' }],
      },
      addressType: 'IPv4',
      endpoints: [],
    };
    const changes = reconciler().reconcile(svc(), [pod('a', '10.0.0.1')], [foreign]);
    assert.deepEqual(
      changes.delete.map((s) => s.metadata.name),
      ['web-old'],
    );
    assert.equal(changes.create.length, 1);
  });
});

describe('EndpointSliceController', () => {
  let h: Harness | undefined;
  afterEach(() => {
    h?.stop();
    h = undefined;
  });

  const objects = (): [ResourceRef, KubeObject][] => [
    [NODES, { metadata: { name: 'node-1' } }],
    [SERVICES, svc()],
    [PODS, pod('a', '10.0.0.1')],
  ];

  it('creates the slices of a Service and keeps them current', async () => {
    h = await startHarness(new EndpointSliceController(), { objects: objects() });
    await h.run();
    let slices = h.client.objects<EndpointSlice>(ENDPOINT_SLICES);
    assert.equal(slices.length, 1);
    assert.deepEqual(
      slices[0]?.endpoints?.map((e) => e.addresses[0]),
      ['10.0.0.1'],
    );
    await h.client.create(PODS, 'ns', pod('b', '10.0.0.2'));
    await h.run();
    slices = h.client.objects<EndpointSlice>(ENDPOINT_SLICES);
    assert.equal(slices.length, 1);
    assert.deepEqual(slices[0]?.endpoints?.map((e) => e.addresses[0]).sort(), ['10.0.0.1', '10.0.0.2']);
  });

  it('does not act on a cache that has not seen its own last write yet', async () => {
    const c = new EndpointSliceController();
    h = await startHarness(c, { objects: objects() });
    await h.settle();
    await c.reconcile('ns/web');
    // Without waiting for the informer, a second pass would create a duplicate.
    await assert.rejects(c.reconcile('ns/web'), /out of date/);
    await h.settle();
    await c.reconcile('ns/web');
    assert.equal(h.client.objects(ENDPOINT_SLICES).length, 1);
  });

  it('recreates a slice someone deleted', async () => {
    h = await startHarness(new EndpointSliceController(), { objects: objects() });
    await h.run();
    const [slice] = h.client.objects(ENDPOINT_SLICES);
    await h.client.delete(ENDPOINT_SLICES, 'ns', slice!.metadata.name!);
    await h.run();
    assert.equal(h.client.objects(ENDPOINT_SLICES).length, 1);
  });
});
