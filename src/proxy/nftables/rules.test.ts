import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { endpointsFor, servicePorts } from '../model.ts';
import { type EndpointSpec, service, slice } from '../testdata.ts';
import { type NftRuleConfig, servicePortObjects, tableSkeleton } from './rules.ts';
import { NftScript } from './script.ts';
import { FakeNft } from './testing.ts';

const cfg: NftRuleConfig = {
  clusterCIDR: '10.42.0.0/16',
  masqueradeAll: false,
  masqueradeMark: '0x4000',
  nodeIPs: ['192.168.1.10'],
};

/** What the first port of `svc` contributes, one line per element, set and rule. */
function objectsOf(svc: Service, sl: EndpointSlice | null, c: NftRuleConfig = cfg): string {
  const sp = servicePorts(svc)[0]!;
  const o = servicePortObjects(sp, endpointsFor(sp, sl ? [sl] : [], 'node-a'), c);
  const out: string[] = [];
  for (const e of o.elements) {
    const comment = e.comment ? ` comment "${e.comment}"` : '';
    out.push(`element ${e.set} { ${e.key}${comment}${e.value !== undefined ? ` : ${e.value}` : ''} }`);
  }
  for (const [n, d] of o.sets) out.push(`${d.kind} ${n} { ${d.spec} }`);
  for (const [ch, rules] of o.chains) out.push(`chain ${ch}`, ...rules.map((r) => `  ${r}`));
  return out.join('\n');
}

function gold(text: string): string {
  return text.trim().replace(/^ {4}/gm, '');
}

const twoNodes: EndpointSpec[] = [
  { ip: '10.42.0.5', nodeName: 'node-a' },
  { ip: '10.42.1.7', nodeName: 'node-b' },
];

test('ClusterIP: ready endpoints only, sorted, in a DNAT map picked by numgen; off-cluster sources masqueraded; hairpin pairs; no endpoint chains', () => {
  const svc = service('web', '10.43.0.10', [{ name: 'http', port: 80, protocol: 'TCP' }]);
  const sl = slice(
    'web',
    [{ name: 'http', port: 8080 }],
    [{ ip: '10.42.1.7' }, { ip: '10.42.0.5' }, { ip: '10.42.1.8', ready: false }],
  );
  assert.equal(
    objectsOf(svc, sl),
    gold(`
    element cluster-ips { 10.43.0.10 }
    element service-ips { 10.43.0.10 . tcp . 80 : goto service-Y6QD5CCT-ns/web/tcp/http }
    element lb-service-Y6QD5CCT-ns/web/tcp/http { 0 : 10.42.0.5 . 8080 }
    element lb-service-Y6QD5CCT-ns/web/tcp/http { 1 : 10.42.1.7 . 8080 }
    element hairpin-pairs { 10.42.0.5 . 10.42.0.5 }
    element hairpin-pairs { 10.42.1.7 . 10.42.1.7 }
    map lb-service-Y6QD5CCT-ns/web/tcp/http { typeof numgen random mod 1 : ip daddr . tcp dport ; }
    chain service-Y6QD5CCT-ns/web/tcp/http
      ip daddr 10.43.0.10 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade
      meta l4proto tcp dnat ip to numgen random mod 2 map @lb-service-Y6QD5CCT-ns/web/tcp/http
    `),
  );
});

test('hairpin: the masquerading chain marks connections DNATed to their own source (an endpoint pair) before it checks the mark', () => {
  const sk = tableSkeleton(cfg);
  assert.deepEqual(
    sk.rules.filter(([c]) => c === 'masquerading').map(([, r]) => r),
    [
      'ct status dnat ip saddr . ip daddr @hairpin-pairs jump mark-for-masquerade',
      'mark and 0x4000 == 0 return',
      'mark set mark xor 0x4000',
      'masquerade fully-random',
    ],
  );
  assert.match(sk.sets.get('hairpin-pairs')!.spec, /^type ipv4_addr \. ipv4_addr ;/);
});

test('no endpoints: the cluster IP and node port go to reject-chain (upstream REJECT); no chains', () => {
  const svc = service('np', '10.43.0.11', [{ port: 80, nodePort: 30080 }], {
    type: 'NodePort',
    externalIPs: ['192.168.9.9'],
  });
  assert.equal(
    objectsOf(svc, slice('np', [{ port: 8080 }], [{ ip: '10.42.0.5', ready: false }])),
    gold(`
    element cluster-ips { 10.43.0.11 }
    element no-endpoint-services { 10.43.0.11 . tcp . 80 comment "ns/np" : goto reject-chain }
    element no-endpoint-services { 192.168.9.9 . tcp . 80 comment "ns/np" : goto reject-chain }
    element no-endpoint-nodeports { tcp . 30080 comment "ns/np" : goto reject-chain }
    `),
  );
});

test('terminating endpoints serve only while no endpoint is ready', () => {
  const svc = service('t', '10.43.0.13', [{ port: 80 }]);
  const eps = (ready: boolean): EndpointSpec[] => [
    { ip: '10.42.0.5', ready: false, serving: true, terminating: true },
    { ip: '10.42.0.6', ready },
  ];
  const lbElements = (text: string) => text.split('\n').filter((l) => l.startsWith('element lb-'));
  assert.deepEqual(
    lbElements(objectsOf(svc, slice('t', [{ port: 8080 }], eps(false)))).map((l) => l.split(' { ')[1]),
    ['0 : 10.42.0.5 . 8080 }'],
  );
  const withReady = objectsOf(svc, slice('t', [{ port: 8080 }], eps(true)));
  assert.doesNotMatch(withReady, /10\.42\.0\.5/);
  assert.deepEqual(
    lbElements(withReady).map((l) => l.split(' { ')[1]),
    ['0 : 10.42.0.6 . 8080 }'],
  );
});

test('NodePort and external IPs with Cluster policy go through external-*, which masquerades', () => {
  const svc = service('np', '10.43.0.11', [{ port: 80, nodePort: 30080 }], {
    type: 'NodePort',
    externalIPs: ['192.168.9.9'],
  });
  const text = objectsOf(svc, slice('np', [{ port: 8080 }], twoNodes));
  assert.match(text, /^element service-ips \{ 192\.168\.9\.9 \. tcp \. 80 : goto external-(\S+) \}$/m);
  assert.match(text, /^element service-nodeports \{ tcp \. 30080 : goto external-\S+ \}$/m);
  const ext = text.slice(text.indexOf('chain external-')).split('\nchain ')[0]!;
  assert.deepEqual(ext.split('\n').slice(1), [
    '  jump mark-for-masquerade',
    '  goto service-2EDQ4YIA-ns/np/tcp/',
  ]);
  assert.doesNotMatch(text, /no-endpoint/);
});

test('externalTrafficPolicy Local: outside traffic to local endpoints only; pods and the node short-circuit to all', () => {
  const svc = service('etp', '10.43.0.12', [{ port: 80, nodePort: 30080 }], {
    type: 'NodePort',
    externalTrafficPolicy: 'Local',
    externalIPs: ['192.168.9.9'],
  });
  assert.equal(
    objectsOf(svc, slice('etp', [{ port: 8080 }], twoNodes)),
    gold(`
    element cluster-ips { 10.43.0.12 }
    element service-ips { 10.43.0.12 . tcp . 80 : goto service-OIGEC3J7-ns/etp/tcp/ }
    element service-ips { 192.168.9.9 . tcp . 80 : goto external-OIGEC3J7-ns/etp/tcp/ }
    element service-nodeports { tcp . 30080 : goto external-OIGEC3J7-ns/etp/tcp/ }
    element lb-service-OIGEC3J7-ns/etp/tcp/ { 0 : 10.42.0.5 . 8080 }
    element lb-service-OIGEC3J7-ns/etp/tcp/ { 1 : 10.42.1.7 . 8080 }
    element lb-local-OIGEC3J7-ns/etp/tcp/ { 0 : 10.42.0.5 . 8080 }
    element hairpin-pairs { 10.42.0.5 . 10.42.0.5 }
    element hairpin-pairs { 10.42.1.7 . 10.42.1.7 }
    map lb-service-OIGEC3J7-ns/etp/tcp/ { typeof numgen random mod 1 : ip daddr . tcp dport ; }
    map lb-local-OIGEC3J7-ns/etp/tcp/ { typeof numgen random mod 1 : ip daddr . tcp dport ; }
    chain external-OIGEC3J7-ns/etp/tcp/
      ip saddr 10.42.0.0/16 goto service-OIGEC3J7-ns/etp/tcp/ comment "short-circuit pod traffic"
      fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"
      fib saddr type local goto service-OIGEC3J7-ns/etp/tcp/ comment "short-circuit local traffic"
      goto local-OIGEC3J7-ns/etp/tcp/
    chain service-OIGEC3J7-ns/etp/tcp/
      ip daddr 10.43.0.12 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade
      meta l4proto tcp dnat ip to numgen random mod 2 map @lb-service-OIGEC3J7-ns/etp/tcp/
    chain local-OIGEC3J7-ns/etp/tcp/
      meta l4proto tcp dnat ip to numgen random mod 1 map @lb-local-OIGEC3J7-ns/etp/tcp/
    `),
  );
});

test('externalTrafficPolicy Local without a local endpoint: outside traffic dropped, inside still served', () => {
  const svc = service('etp', '10.43.0.12', [{ port: 80, nodePort: 30080 }], {
    type: 'NodePort',
    externalTrafficPolicy: 'Local',
    externalIPs: ['192.168.9.9'],
  });
  const text = objectsOf(svc, slice('etp', [{ port: 8080 }], [{ ip: '10.42.1.7', nodeName: 'node-b' }]));
  assert.match(text, /^element service-ips \{ 10\.43\.0\.12 \. tcp \. 80 : goto service-\S+ \}$/m);
  assert.match(
    text,
    /^element no-endpoint-services \{ 192\.168\.9\.9 \. tcp \. 80 comment "ns\/etp" : drop \}$/m,
  );
  assert.match(text, /^element no-endpoint-nodeports \{ tcp \. 30080 comment "ns\/etp" : drop \}$/m);
  // The external chain short-circuits pods and the node, then falls through to the drop.
  const ext = text.slice(text.indexOf('chain external-')).split('\nchain ')[0]!.split('\n');
  assert.equal(ext.length, 4);
  assert.doesNotMatch(ext.at(-1)!, /goto local-/);
  assert.doesNotMatch(text, /chain local-/);
});

test('internalTrafficPolicy Local: the cluster IP goes to local-* (masquerade there), or is dropped without local endpoints', () => {
  const svc = service('itp', '10.43.0.14', [{ port: 80 }], { internalTrafficPolicy: 'Local' });
  const text = objectsOf(svc, slice('itp', [{ port: 8080 }], twoNodes));
  assert.match(text, /^element service-ips \{ 10\.43\.0\.14 \. tcp \. 80 : goto local-(\S+) \}$/m);
  const local = text.slice(text.indexOf('chain local-')).split('\nchain ')[0]!.split('\n');
  assert.deepEqual(local.slice(1), [
    '  ip daddr 10.43.0.14 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade',
    `  meta l4proto tcp dnat ip to numgen random mod 1 map @lb-${local[0]!.slice('chain '.length)}`,
  ]);
  assert.doesNotMatch(text, /10\.42\.1\.7/, 'the other node’s endpoint is not reachable');
  assert.doesNotMatch(text, /chain service-/);

  const none = objectsOf(svc, slice('itp', [{ port: 8080 }], [{ ip: '10.42.1.7', nodeName: 'node-b' }]));
  assert.equal(
    none,
    gold(`
    element cluster-ips { 10.43.0.14 }
    element no-endpoint-services { 10.43.0.14 . tcp . 80 comment "ns/itp" : drop }
    `),
  );
});

test('sessionAffinity ClientIP: endpoint chains (the only ones), an affinity set each, checked before balancing, updated on DNAT', () => {
  const svc = service('sticky', '10.43.0.15', [{ port: 80 }], {
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
  });
  const text = objectsOf(svc, slice('sticky', [{ port: 8080 }], twoNodes));
  const sets = text.split('\n').filter((l) => l.startsWith('set '));
  assert.deepEqual(sets, [
    'set affinity-5C4YLFJ2-ns/sticky/tcp/__10.42.0.5/8080 { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }',
    'set affinity-MUSDX63H-ns/sticky/tcp/__10.42.1.7/8080 { type ipv4_addr ; flags dynamic,timeout ; timeout 600s ; }',
  ]);
  const svcChain = text.slice(text.indexOf('chain service-')).split('\nchain ')[0]!.split('\n');
  assert.deepEqual(svcChain.slice(2), [
    '  ip saddr @affinity-5C4YLFJ2-ns/sticky/tcp/__10.42.0.5/8080 goto endpoint-5C4YLFJ2-ns/sticky/tcp/__10.42.0.5/8080',
    '  ip saddr @affinity-MUSDX63H-ns/sticky/tcp/__10.42.1.7/8080 goto endpoint-MUSDX63H-ns/sticky/tcp/__10.42.1.7/8080',
    '  numgen random mod 2 vmap @lb-service-OALSTAW3-ns/sticky/tcp/',
  ]);
  assert.match(
    text,
    /^map lb-service-OALSTAW3-ns\/sticky\/tcp\/ \{ typeof numgen random mod 1 : verdict ; \}$/m,
  );
  assert.match(
    text,
    /^element lb-service-OALSTAW3-ns\/sticky\/tcp\/ \{ 1 : goto endpoint-MUSDX63H-ns\/sticky\/tcp\/__10\.42\.1\.7\/8080 \}$/m,
  );
  // Hairpin through the pairs set, as for every service; the endpoint chain updates and DNATs.
  assert.match(text, /^element hairpin-pairs \{ 10\.42\.0\.5 \. 10\.42\.0\.5 \}$/m);
  assert.match(
    text,
    /chain endpoint-5C4YLFJ2-ns\/sticky\/tcp\/__10\.42\.0\.5\/8080\n {2}update @affinity-5C4YLFJ2-ns\/sticky\/tcp\/__10\.42\.0\.5\/8080 \{ ip saddr \}\n {2}meta l4proto tcp dnat to 10\.42\.0\.5:8080$/m,
  );
});

test('LoadBalancer with source ranges: LB IPs in firewall-ips; other sources dropped; the node let in when a range holds it', () => {
  const lb = (ranges: string[]) => {
    const svc: Service = {
      ...service('lb', '10.43.0.16', [{ port: 443, nodePort: 30443 }], {
        type: 'LoadBalancer',
        loadBalancerSourceRanges: ranges,
      }),
      status: { loadBalancer: { ingress: [{ ip: '192.168.1.10' }, { ip: '192.168.1.11' }] } },
    };
    return objectsOf(svc, slice('lb', [{ port: 8443 }], twoNodes));
  };
  const text = lb(['203.0.113.0/24', ' 198.51.100.7 ', 'not-a-cidr']);
  assert.match(text, /^element service-ips \{ 192\.168\.1\.10 \. tcp \. 443 : goto external-\S+ \}$/m);
  assert.match(text, /^element firewall-ips \{ 192\.168\.1\.11 \. tcp \. 443 : goto firewall-\S+ \}$/m);
  assert.match(text, /^chain firewall-\S+\n {2}ip saddr != \{ 203\.0\.113\.0\/24, 198\.51\.100\.7 \} drop$/m);
  // A range holding this node's address (192.168.1.10): traffic looping back from the VIPs is allowed.
  assert.match(
    lb(['192.168.1.0/24']),
    /^ {2}ip saddr != \{ 192\.168\.1\.0\/24, 192\.168\.1\.10, 192\.168\.1\.11 \} drop$/m,
  );
  // No ranges (or none valid): no firewall.
  assert.doesNotMatch(lb([]), /firewall/);
  assert.doesNotMatch(lb(['bogus']), /firewall/);
});

test('masqueradeAll masquerades every source; no cluster CIDR and no masqueradeAll: none', () => {
  const svc = service('web', '10.43.0.10', [{ port: 80 }]);
  const sl = slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }]);
  assert.match(
    objectsOf(svc, sl, { ...cfg, masqueradeAll: true }),
    /^ {2}ip daddr 10\.43\.0\.10 tcp dport 80 jump mark-for-masquerade$/m,
  );
  assert.doesNotMatch(objectsOf(svc, sl, { ...cfg, clusterCIDR: '' }), /daddr 10\.43\.0\.10/);
});

test('UDP and SCTP ports match their protocol', () => {
  const udp = service('dns', '10.43.0.10', [{ name: 'dns', port: 53, protocol: 'UDP' }]);
  const text = objectsOf(
    udp,
    slice('dns', [{ name: 'dns', port: 5353, protocol: 'UDP' }], [{ ip: '10.42.0.5' }]),
  );
  assert.match(
    text,
    /element service-ips \{ 10\.43\.0\.10 \. udp \. 53 : goto service-\S+-ns\/dns\/udp\/dns \}/,
  );
  assert.match(text, /udp dport 53 ip saddr/);
  assert.match(text, /^ {2}meta l4proto udp dnat ip to numgen random mod 1 map @lb-service-\S+$/m);
  // nft wants the map's data typed with the rule's protocol.
  assert.match(text, /^map lb-service-\S+ \{ typeof numgen random mod 1 : ip daddr \. udp dport ; \}$/m);
  assert.match(text, /^element lb-service-\S+ \{ 0 : 10\.42\.0\.5 \. 5353 \}$/m);
  const sctp = objectsOf(
    service('s', '10.43.0.20', [{ port: 9, protocol: 'SCTP' }]),
    slice('s', [{ port: 9, protocol: 'SCTP' }], [{ ip: '10.42.0.5' }]),
  );
  assert.match(sctp, /sctp dport 9/);
  assert.match(sctp, /meta l4proto sctp dnat ip to numgen/);
  assert.match(sctp, /: ip daddr \. sctp dport ;/);
});

test('the skeleton and every kind of service port apply to a table (all references resolve)', async () => {
  const fake = new FakeNft();
  const s = new NftScript();
  const sk = tableSkeleton(cfg);
  s.addTable();
  for (const b of sk.baseChains) s.addChain(b.name, b);
  for (const c of sk.chains) s.addChain(c);
  for (const [n, d] of sk.sets) s.addSet(n, d);
  for (const [c, r] of sk.rules) s.addRule(c, r);
  const lb: Service = {
    ...service('lb', '10.43.0.16', [{ port: 443, nodePort: 30443 }], {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      sessionAffinity: 'ClientIP',
      loadBalancerSourceRanges: ['10.0.0.0/8'],
    }),
    status: { loadBalancer: { ingress: [{ ip: '192.168.1.10' }] } },
  };
  const sp = servicePorts(lb)[0]!;
  const o = servicePortObjects(
    sp,
    endpointsFor(sp, [slice('lb', [{ port: 8443 }], twoNodes)], 'node-a'),
    cfg,
  );
  for (const c of o.chains.keys()) s.addChain(c);
  for (const [n, d] of o.sets) s.addSet(n, d);
  for (const [c, rules] of o.chains) for (const r of rules) s.addRule(c, r);
  for (const e of o.elements) s.addElements(e.set, [e]);
  await fake.apply(s.text());
  assert.deepEqual(fake.chain('nat-prerouting'), ['jump services']);
  assert.equal(fake.elements('firewall-ips')!.size, 1);
});
