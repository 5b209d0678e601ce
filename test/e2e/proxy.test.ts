/**
 * kube-proxy against the real kernel and real packets, in each proxy mode (iptables through
 * iptables-restore, nft backend; nftables through nft; the default mode first), inside network
 * namespaces so the host is never touched: a "node" namespace holding the proxy's rules and a
 * bridge, "pod" namespaces on that bridge running TCP servers, and an "outside" host on the node's
 * link. The proxy runs against a real API server; Services and EndpointSlices are edited through it.
 *
 * Shows: the ClusterIP reaches ready endpoints only, from the node and from a pod (also the pod
 * reaching itself: hairpin); NodePort from outside; a Service without endpoints is rejected;
 * externalTrafficPolicy Local keeps outside traffic on this node's endpoints; sessionAffinity
 * ClientIP pins a client to one endpoint (and a pod reaches itself through such a Service too); a
 * LoadBalancer IP answers from outside, and loadBalancerSourceRanges drops other sources; an
 * endpoint change reaches the rules within 1 s; cleanup leaves no SKIFF chain or jump and no
 * skiff-proxy table. The nftables mode touches no iptables chain, and has endpoint chains only for
 * the Services with ClientIP affinity.
 *
 * Needs root (skips otherwise). Creates namespaces `skiffpx-e2e<pid><i|n>-*`, removed at the end.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ENDPOINT_SLICES, SERVICES } from '../../src/client/resources.ts';
import { HttpRestClient } from '../../src/client/rest.ts';
import { eventually, startTestApiServer } from '../../src/client/testing.ts';
import type { KubeObject } from '../../src/client/types.ts';
import { ExecIptablesRunner } from '../../src/proxy/iptables.ts';
import { destroyLabs, NetLab, netlabSkipReason } from '../../src/proxy/netlab.ts';
import { ExecNftRunner } from '../../src/proxy/nftables/runner.ts';
import type { SyncResult } from '../../src/proxy/proxier.ts';
import { KubeProxy } from '../../src/proxy/proxy.ts';
import { slice } from '../../src/proxy/testdata.ts';
import { DEFAULT_PROXY_MODE, PROXY_MODES, type ProxyMode } from '../../src/proxy/types.ts';

function iptablesSave(netns: string): string {
  return execFileSync('ip', ['netns', 'exec', netns, 'iptables-save'], { encoding: 'utf8' });
}

/** skiff's nftables table in full (elements too), or '' when there is none. */
function nftList(netns: string): string {
  try {
    return execFileSync('ip', ['netns', 'exec', netns, 'nft', 'list', 'table', 'ip', 'skiff-proxy'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return '';
  }
}

/** The rules of the mode, as text: iptables-save, or the nftables table. */
function rulesOf(mode: ProxyMode, netns: string): string {
  return mode === 'iptables' ? iptablesSave(netns) : nftList(netns);
}

/** Where the rules DNAT connections to Service `default/<name>`, sorted (`ip:port`). */
function dnatTargets(mode: ProxyMode, netns: string, name: string): string[] {
  const out: string[] = [];
  if (mode === 'iptables') {
    for (const l of iptablesSave(netns).split('\n')) {
      const to = /--to-destination (\S+)/.exec(l)?.[1];
      if (to && l.includes(`"default/${name}"`)) out.push(to);
    }
  } else {
    // The service chain's DNAT map, lb-service-<hash>-default/<name>/<proto>/<port>: index → ip . port
    // (with ClientIP affinity: → goto an endpoint chain, endpoint-<hash>-default/<name>/…, which DNATs).
    for (const block of nftList(netns).split(/\n\s*(?=chain |map |set )/)) {
      if (!block.includes(`-default/${name}/`)) continue;
      if (block.startsWith('map lb-service-'))
        for (const m of block.matchAll(/\b\d+ : (\d+\.\d+\.\d+\.\d+) \. (\d+)/g)) out.push(`${m[1]}:${m[2]}`);
      const to = /dnat to (\S+)/.exec(block)?.[1];
      if (to && block.startsWith('chain endpoint-')) out.push(to);
    }
  }
  return out.sort();
}

// The default mode first.
const modes = [DEFAULT_PROXY_MODE, ...PROXY_MODES.filter((m) => m !== DEFAULT_PROXY_MODE)];

for (const mode of modes) {
  test(`${mode} mode: ClusterIP, NodePort, LoadBalancer, hairpin, reject, Local policy, affinity and endpoint changes, with real packets in network namespaces`, (t) =>
    scenario(t, mode));
}

async function scenario(t: TestContext, mode: ProxyMode): Promise<void> {
  const skip = netlabSkipReason();
  if (skip) return t.skip(skip);
  const TAG = `e2e${process.pid}${mode[0]}`;
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
    mode,
    runner: new ExecIptablesRunner({ netns: lab.nodeNs }),
    nftRunner: new ExecNftRunner({ netns: lab.nodeNs }),
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
  const mk = async (
    name: string,
    spec: Record<string, unknown>,
    endpoints = [
      { ip: pa.ip, nodeName: 'node-1' },
      { ip: pb.ip, nodeName: 'node-2' },
    ],
  ) => {
    const created = await client.create<Service & KubeObject>(SERVICES, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default' },
      spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: name }, ...spec },
    } as Service & KubeObject);
    await client.create(
      ENDPOINT_SLICES,
      'default',
      slice(name, [{ port: 8080 }], endpoints, `${name}-1`, 'default') as EndpointSlice & KubeObject,
    );
    return created;
  };
  const etp = await mk('etp', { type: 'NodePort', externalTrafficPolicy: 'Local' });
  const sticky = await mk('sticky', { sessionAffinity: 'ClientIP' });
  // Its only endpoint reaching it: hairpin through ClientIP affinity's endpoint chains.
  const stickySelf = await mk('sticky-self', { sessionAffinity: 'ClientIP' }, [
    { ip: pa.ip, nodeName: 'node-1' },
  ]);
  await eventually(
    () => rulesOf(mode, lab.nodeNs).includes('default/sticky-self'),
    'rules of the new services',
    2000,
  );
  assert.deepEqual(seen(await lab.probe(lab.extNs, lab.nodeIP, etp.spec!.ports![0]!.nodePort!, 20)), [
    'pod-a',
  ]);
  assert.deepEqual(seen(await lab.probe(pc.netns, etp.spec!.clusterIP!, 80, 30)), ['pod-a', 'pod-b']);
  assert.equal(seen(await lab.probe(pc.netns, sticky.spec!.clusterIP!, 80, 20)).length, 1);
  assert.deepEqual(seen(await lab.probe(pa.netns, stickySelf.spec!.clusterIP!, 80, 5)), ['pod-a']);

  // LoadBalancer ingress on the node's address (as ServiceLB publishes it), reached from outside;
  // loadBalancerSourceRanges lets the outside host into one and drops it at the other.
  for (const [name, port, ranges] of [
    ['lb-open', 81, [`${lab.extIP}/32`]],
    ['lb-closed', 82, ['203.0.113.0/24']],
  ] as const) {
    await mk(name, {
      type: 'LoadBalancer',
      ports: [{ port, targetPort: 8080 }],
      loadBalancerSourceRanges: ranges,
    });
    await client.patch(
      SERVICES,
      'default',
      name,
      'merge',
      { status: { loadBalancer: { ingress: [{ ip: lab.nodeIP }] } } },
      { subresource: 'status' },
    );
  }
  await eventually(
    async () => (await lab.probe(lab.extNs, lab.nodeIP, 82, 1, 500))[0] === 'ERR:TIMEOUT',
    'the closed load balancer dropping the outside host',
    5000,
  );
  assert.deepEqual(seen(await lab.probe(lab.extNs, lab.nodeIP, 81, 20)), ['pod-a', 'pod-b']);

  // An endpoint change: a stops being ready, c becomes ready.
  const before = syncs.length;
  const t0 = Date.now();
  const current = await client.get(ENDPOINT_SLICES, 'default', 'web-1');
  await client.update(ENDPOINT_SLICES, 'default', {
    ...webSlice({ a: false, b: true, c: true }),
    metadata: current.metadata,
  } as KubeObject);
  await eventually(
    () => syncs.length > before && dnatTargets(mode, lab.nodeNs, 'web').includes(`${pc.ip}:8080`),
    'the new endpoint in the rules',
    2000,
  );
  const latency = syncs.at(-1)!.at - t0;
  t.diagnostic(`endpoint change → rules applied: ${latency} ms (sync ${syncs.at(-1)!.r.totalMs} ms)`);
  assert.ok(latency < 1000, `took ${latency} ms`);
  assert.equal(syncs.at(-1)!.r.full, false);
  assert.deepEqual(dnatTargets(mode, lab.nodeNs, 'web'), [`${pb.ip}:8080`, `${pc.ip}:8080`]);
  assert.deepEqual(seen(await lab.probe(lab.nodeNs, clusterIP, 80, 30)), ['pod-b', 'pod-c']);
  assert.deepEqual(seen(await lab.probe(lab.extNs, lab.nodeIP, nodePort, 30)), ['pod-b', 'pod-c']);

  // The nftables mode writes no iptables rule, and endpoint chains only for ClientIP affinity.
  if (mode === 'nftables') {
    assert.doesNotMatch(iptablesSave(lab.nodeNs), /SKIFF-/);
    const endpointChains = [...nftList(lab.nodeNs).matchAll(/chain (endpoint-\S+)/g)].map((m) => m[1]!);
    assert.ok(endpointChains.length > 0);
    assert.deepEqual(
      endpointChains.filter((c) => !/-default\/sticky(-self)?\//.test(c)),
      [],
    );
  }

  // Cleanup: no SKIFF chain or jump left, no table.
  const r = await kp.cleanup();
  assert.ok(r.chains > 0);
  if (mode === 'iptables') assert.ok(r.jumps > 0);
  assert.doesNotMatch(iptablesSave(lab.nodeNs), /SKIFF-/);
  assert.equal(nftList(lab.nodeNs), '');
  // The cluster IP is no longer translated: nothing answers (the outside host has no route for it).
  const [after] = await lab.probe(lab.nodeNs, clusterIP, 80, 1, 500);
  assert.match(after!, /^ERR:/);
}
