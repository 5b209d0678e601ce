/**
 * kube-proxy against real iptables (nft backend) and real packets, inside network namespaces so the
 * host is never touched: a "node" namespace holding the proxy's rules and a bridge, "pod"
 * namespaces on that bridge running TCP servers, and an "outside" host on the node's link.
 * The proxy runs against a real API server; Services and EndpointSlices are edited through it.
 *
 * Shows: the ClusterIP reaches ready endpoints only, from the node and from a pod (also the pod
 * reaching itself: hairpin); NodePort from outside; a Service without endpoints is rejected;
 * externalTrafficPolicy Local keeps outside traffic on this node's endpoints; sessionAffinity
 * ClientIP pins a client to one endpoint; an endpoint change reaches the rules within 1 s; cleanup
 * leaves no SKIFF chain or jump.
 *
 * Needs root (skips otherwise). Creates namespaces `skiffpx-e2e<pid>-*`, removed at the end.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ENDPOINT_SLICES, SERVICES } from '../../src/client/resources.ts';
import { HttpRestClient } from '../../src/client/rest.ts';
import { eventually, startTestApiServer } from '../../src/client/testing.ts';
import type { KubeObject } from '../../src/client/types.ts';
import { ExecIptablesRunner } from '../../src/proxy/iptables.ts';
import { destroyLabs, NetLab, netlabSkipReason } from '../../src/proxy/netlab.ts';
import type { SyncResult } from '../../src/proxy/proxier.ts';
import { KubeProxy } from '../../src/proxy/proxy.ts';
import { slice } from '../../src/proxy/testdata.ts';

const TAG = `e2e${process.pid}`;

function iptablesSave(netns: string): string {
  return execFileSync('ip', ['netns', 'exec', netns, 'iptables-save'], { encoding: 'utf8' });
}

test('ClusterIP, NodePort, hairpin, reject, Local policy, affinity and endpoint changes through real iptables in network namespaces', async (t) => {
  const skip = netlabSkipReason();
  if (skip) return t.skip(skip);
  await destroyLabs(TAG);
  const lab = await NetLab.create({ tag: TAG, pods: 3 });
  const srv = await startTestApiServer();
  const ctl = new AbortController();
  t.after(async () => {
    ctl.abort();
    await srv.close();
    await lab.destroy();
  });
  // The node reaches the outside (and any non-local address, cluster IPs included) via its uplink.
  execFileSync('ip', ['-n', lab.nodeNs, 'route', 'add', 'default', 'via', lab.extIP]);

  const [pa, pb, pc] = lab.pods as [(typeof lab.pods)[0], (typeof lab.pods)[0], (typeof lab.pods)[0]];
  await lab.serve(pa.netns, 8080, 'pod-a');
  await lab.serve(pb.netns, 8080, 'pod-b');
  await lab.serve(pc.netns, 8080, 'pod-c');

  const client = new HttpRestClient(srv.config, { component: 'proxy-e2e' });
  const syncs: { at: number; r: SyncResult }[] = [];
  const kp = new KubeProxy({
    client,
    nodeName: 'node-1',
    nodeIPs: [lab.nodeIP],
    clusterCIDR: '10.99.0.0/16',
    runner: new ExecIptablesRunner({ netns: lab.nodeNs }),
    onSync: (r) => syncs.push({ at: Date.now(), r }),
  });

  const svc = await client.create<Service & KubeObject>(SERVICES, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'web' } },
  } as Service & KubeObject);
  const clusterIP = svc.spec!.clusterIP!;
  const nodePort = svc.spec!.ports![0]!.nodePort!;
  const webSlice = (ready: Record<string, boolean>) =>
    slice(
      'web',
      [{ port: 8080 }],
      [
        { ip: pa.ip, ready: ready.a, nodeName: 'node-1' },
        { ip: pb.ip, ready: ready.b, nodeName: 'node-1' },
        { ip: pc.ip, ready: ready.c, nodeName: 'node-1' },
      ],
      'web-1',
      'default',
    ) as EndpointSlice & KubeObject;
  await client.create(ENDPOINT_SLICES, 'default', webSlice({ a: true, b: true, c: false }));
  const empty = await client.create<Service & KubeObject>(SERVICES, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'empty', namespace: 'default' },
    spec: { ports: [{ port: 80 }], selector: { app: 'none' } },
  } as Service & KubeObject);

  await kp.start(ctl.signal);
  assert.equal(syncs.length, 1);

  const seen = (replies: string[]) => [...new Set(replies)].sort();

  // From the node, from a pod, and a pod reaching itself through its Service (hairpin).
  assert.deepEqual(seen(await lab.probe(lab.nodeNs, clusterIP, 80, 30)), ['pod-a', 'pod-b']);
  assert.deepEqual(seen(await lab.probe(pc.netns, clusterIP, 80, 30)), ['pod-a', 'pod-b']);
  assert.deepEqual(seen(await lab.probe(pa.netns, clusterIP, 80, 30)), ['pod-a', 'pod-b']);
  // NodePort from outside the node.
  assert.deepEqual(seen(await lab.probe(lab.extNs, lab.nodeIP, nodePort, 30)), ['pod-a', 'pod-b']);
  // No endpoints: rejected at once, not a timeout.
  assert.deepEqual(await lab.probe(pa.netns, empty.spec!.clusterIP!, 80, 1), ['ERR:ECONNREFUSED']);

  // externalTrafficPolicy Local: from outside only this node's endpoints (a); inside, all of them.
  // sessionAffinity ClientIP: one client always reaches the same endpoint.
  const mk = async (name: string, spec: Record<string, unknown>) => {
    const created = await client.create<Service & KubeObject>(SERVICES, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: name }, ...spec },
    } as Service & KubeObject);
    await client.create(
      ENDPOINT_SLICES,
      'default',
      slice(
        name,
        [{ port: 8080 }],
        [
          { ip: pa.ip, nodeName: 'node-1' },
          { ip: pb.ip, nodeName: 'node-2' },
        ],
        `${name}-1`,
        'default',
      ) as EndpointSlice & KubeObject,
    );
    return created;
  };
  const etp = await mk('etp', { type: 'NodePort', externalTrafficPolicy: 'Local' });
  const sticky = await mk('sticky', { sessionAffinity: 'ClientIP' });
  await eventually(
    () => iptablesSave(lab.nodeNs).includes('default/sticky'),
    'rules of the new services',
    2000,
  );
  assert.deepEqual(seen(await lab.probe(lab.extNs, lab.nodeIP, etp.spec!.ports![0]!.nodePort!, 20)), [
    'pod-a',
  ]);
  assert.deepEqual(seen(await lab.probe(pc.netns, etp.spec!.clusterIP!, 80, 30)), ['pod-a', 'pod-b']);
  assert.equal(seen(await lab.probe(pc.netns, sticky.spec!.clusterIP!, 80, 20)).length, 1);

  // An endpoint change: a stops being ready, c becomes ready.
  const before = syncs.length;
  const t0 = Date.now();
  const current = await client.get(ENDPOINT_SLICES, 'default', 'web-1');
  await client.update(ENDPOINT_SLICES, 'default', {
    ...webSlice({ a: false, b: true, c: true }),
    metadata: current.metadata,
  } as KubeObject);
  await eventually(
    () => syncs.length > before && iptablesSave(lab.nodeNs).includes(`--to-destination ${pc.ip}:8080`),
    'the new endpoint in the rules',
    2000,
  );
  const latency = syncs.at(-1)!.at - t0;
  t.diagnostic(`endpoint change → rules applied: ${latency} ms (sync ${syncs.at(-1)!.r.totalMs} ms)`);
  assert.ok(latency < 1000, `took ${latency} ms`);
  assert.equal(syncs.at(-1)!.r.full, false);
  const webDnat = iptablesSave(lab.nodeNs)
    .split('\n')
    .filter((l) => l.includes('"default/web"') && l.includes('DNAT'));
  assert.ok(!webDnat.some((l) => l.includes(`--to-destination ${pa.ip}:8080`)), webDnat.join('\n'));
  assert.deepEqual(seen(await lab.probe(lab.nodeNs, clusterIP, 80, 30)), ['pod-b', 'pod-c']);
  assert.deepEqual(seen(await lab.probe(lab.extNs, lab.nodeIP, nodePort, 30)), ['pod-b', 'pod-c']);

  // Cleanup: no SKIFF chain or jump left.
  const r = await kp.cleanup();
  assert.ok(r.chains > 0 && r.jumps > 0);
  assert.doesNotMatch(iptablesSave(lab.nodeNs), /SKIFF-/);
  // The cluster IP is no longer translated: nothing answers (the outside host has no route for it).
  const [after] = await lab.probe(lab.nodeNs, clusterIP, 80, 1, 500);
  assert.match(after!, /^ERR:/);
});
