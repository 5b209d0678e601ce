import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { hash16 } from './chains.ts';
import { endpointsFor, servicePorts } from './model.ts';
import {
  cidrContains,
  generateServicePortRules,
  probability,
  type RuleConfig,
  type ServicePortRules,
} from './rules.ts';
import { type EndpointSpec, service, slice } from './testdata.ts';

const cfg: RuleConfig = { clusterCIDR: '10.42.0.0/16', masqueradeAll: false, masqueradeMark: '0x4000' };

/** The rules of `svc`'s first port as one text block: shared-chain lines, then each own chain. */
function render(r: ServicePortRules): string {
  const out: string[] = [];
  for (const k of [
    'natServices',
    'natNodePorts',
    'filterServices',
    'filterExternal',
    'filterFirewall',
  ] as const) {
    out.push(...r[k]);
  }
  for (const [c, rules] of r.natChains) out.push(`:${c}`, ...rules);
  return out.join('\n');
}

function rulesOf(svc: Service, sl: EndpointSlice | null, c: RuleConfig = cfg): string {
  const sp = servicePorts(svc)[0]!;
  return render(generateServicePortRules(sp, endpointsFor(sp, sl ? [sl] : [], 'node-a'), c));
}

const twoNodes: EndpointSpec[] = [
  { ip: '10.42.0.5', nodeName: 'node-a' },
  { ip: '10.42.1.7', nodeName: 'node-b' },
];

function gold(text: string): string {
  return text.trim().replace(/^ +/gm, '');
}

test('chain names are kube-proxy hashes (same as upstream for the same service port)', () => {
  assert.equal(hash16('ns1/svc1:p80tcp'), 'XPGD46QRK7WJZT7O');
  assert.equal(hash16('ns1/svc1:p80tcp10.180.0.1:80'), 'SXIVWICOYRO3J4NJ');
});

test('probabilities are 1/n with 10 decimals', () => {
  assert.deepEqual([4, 3, 2].map(probability), ['0.2500000000', '0.3333333333', '0.5000000000']);
});

test('ClusterIP with several endpoints: ready ones only, random 1/n balancing, hairpin masquerade', () => {
  const svc = service('web', '10.43.0.10', [{ name: 'http', port: 80, protocol: 'TCP' }]);
  const sl = slice(
    'web',
    [{ name: 'http', port: 8080 }],
    [{ ip: '10.42.1.7' }, { ip: '10.42.0.6' }, { ip: '10.42.0.5' }, { ip: '10.42.1.8', ready: false }],
  );
  assert.equal(
    rulesOf(svc, sl),
    gold(`
    -A SKIFF-SERVICES -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.43.0.10 --dport 80 -j SKIFF-SVC-HMALVVKA6APKJPPY
    :SKIFF-SVC-HMALVVKA6APKJPPY
    -A SKIFF-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http cluster IP" -m tcp -p tcp -d 10.43.0.10 --dport 80 ! -s 10.42.0.0/16 -j SKIFF-MARK-MASQ
    -A SKIFF-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http -> 10.42.0.5:8080" -m statistic --mode random --probability 0.3333333333 -j SKIFF-SEP-VJGEWWYTMGJ6F4VU
    -A SKIFF-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http -> 10.42.0.6:8080" -m statistic --mode random --probability 0.5000000000 -j SKIFF-SEP-7SDW7WGOQZRIIIIE
    -A SKIFF-SVC-HMALVVKA6APKJPPY -m comment --comment "ns/web:http -> 10.42.1.7:8080" -j SKIFF-SEP-QML6VRQLCAYNDSUP
    :SKIFF-SEP-VJGEWWYTMGJ6F4VU
    -A SKIFF-SEP-VJGEWWYTMGJ6F4VU -m comment --comment ns/web:http -s 10.42.0.5 -j SKIFF-MARK-MASQ
    -A SKIFF-SEP-VJGEWWYTMGJ6F4VU -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.42.0.5:8080
    :SKIFF-SEP-7SDW7WGOQZRIIIIE
    -A SKIFF-SEP-7SDW7WGOQZRIIIIE -m comment --comment ns/web:http -s 10.42.0.6 -j SKIFF-MARK-MASQ
    -A SKIFF-SEP-7SDW7WGOQZRIIIIE -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.42.0.6:8080
    :SKIFF-SEP-QML6VRQLCAYNDSUP
    -A SKIFF-SEP-QML6VRQLCAYNDSUP -m comment --comment ns/web:http -s 10.42.1.7 -j SKIFF-MARK-MASQ
    -A SKIFF-SEP-QML6VRQLCAYNDSUP -m comment --comment ns/web:http -m tcp -p tcp -j DNAT --to-destination 10.42.1.7:8080
  `),
  );
});

test('masqueradeAll masquerades every cluster IP connection; no clusterCIDR: none', () => {
  const svc = service('web', '10.43.0.10', [{ port: 80 }]);
  const sl = slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }]);
  assert.match(
    rulesOf(svc, sl, { ...cfg, masqueradeAll: true }),
    /-A SKIFF-SVC-\w+ -m comment --comment "ns\/web cluster IP" -m tcp -p tcp -d 10.43.0.10 --dport 80 -j SKIFF-MARK-MASQ/,
  );
  assert.doesNotMatch(rulesOf(svc, sl, { ...cfg, clusterCIDR: '' }), /--dport 80 .*SKIFF-MARK-MASQ/);
});

test('NodePort: node port → EXT (masquerade) → SVC', () => {
  const svc = service('np', '10.43.0.11', [{ port: 80, nodePort: 30080, protocol: 'TCP' }], {
    type: 'NodePort',
  });
  assert.equal(
    rulesOf(svc, slice('np', [{ port: 8080 }], twoNodes)),
    gold(`
    -A SKIFF-SERVICES -m comment --comment "ns/np cluster IP" -m tcp -p tcp -d 10.43.0.11 --dport 80 -j SKIFF-SVC-O6FEJQ56MSDBAJB7
    -A SKIFF-NODEPORTS -m comment --comment ns/np -m tcp -p tcp --dport 30080 -j SKIFF-EXT-O6FEJQ56MSDBAJB7
    :SKIFF-EXT-O6FEJQ56MSDBAJB7
    -A SKIFF-EXT-O6FEJQ56MSDBAJB7 -m comment --comment "masquerade traffic for ns/np external destinations" -j SKIFF-MARK-MASQ
    -A SKIFF-EXT-O6FEJQ56MSDBAJB7 -j SKIFF-SVC-O6FEJQ56MSDBAJB7
    :SKIFF-SVC-O6FEJQ56MSDBAJB7
    -A SKIFF-SVC-O6FEJQ56MSDBAJB7 -m comment --comment "ns/np cluster IP" -m tcp -p tcp -d 10.43.0.11 --dport 80 ! -s 10.42.0.0/16 -j SKIFF-MARK-MASQ
    -A SKIFF-SVC-O6FEJQ56MSDBAJB7 -m comment --comment "ns/np -> 10.42.0.5:8080" -m statistic --mode random --probability 0.5000000000 -j SKIFF-SEP-KW2YWOUMKOPISMPN
    -A SKIFF-SVC-O6FEJQ56MSDBAJB7 -m comment --comment "ns/np -> 10.42.1.7:8080" -j SKIFF-SEP-SD3FZCTZHLCMVQLV
    :SKIFF-SEP-KW2YWOUMKOPISMPN
    -A SKIFF-SEP-KW2YWOUMKOPISMPN -m comment --comment ns/np -s 10.42.0.5 -j SKIFF-MARK-MASQ
    -A SKIFF-SEP-KW2YWOUMKOPISMPN -m comment --comment ns/np -m tcp -p tcp -j DNAT --to-destination 10.42.0.5:8080
    :SKIFF-SEP-SD3FZCTZHLCMVQLV
    -A SKIFF-SEP-SD3FZCTZHLCMVQLV -m comment --comment ns/np -s 10.42.1.7 -j SKIFF-MARK-MASQ
    -A SKIFF-SEP-SD3FZCTZHLCMVQLV -m comment --comment ns/np -m tcp -p tcp -j DNAT --to-destination 10.42.1.7:8080
  `),
  );
});

test('externalTrafficPolicy Local: external traffic to local endpoints only (SVL), pods and the node short-circuit to SVC', () => {
  const svc = service('np', '10.43.0.11', [{ port: 80, nodePort: 30080, protocol: 'TCP' }], {
    type: 'NodePort',
    externalTrafficPolicy: 'Local',
  });
  assert.equal(
    rulesOf(svc, slice('np', [{ port: 8080 }], twoNodes)),
    gold(`
    -A SKIFF-SERVICES -m comment --comment "ns/np cluster IP" -m tcp -p tcp -d 10.43.0.11 --dport 80 -j SKIFF-SVC-O6FEJQ56MSDBAJB7
    -A SKIFF-NODEPORTS -m comment --comment ns/np -m tcp -p tcp --dport 30080 -j SKIFF-EXT-O6FEJQ56MSDBAJB7
    :SKIFF-EXT-O6FEJQ56MSDBAJB7
    -A SKIFF-EXT-O6FEJQ56MSDBAJB7 -m comment --comment "pod traffic for ns/np external destinations" -s 10.42.0.0/16 -j SKIFF-SVC-O6FEJQ56MSDBAJB7
    -A SKIFF-EXT-O6FEJQ56MSDBAJB7 -m comment --comment "masquerade LOCAL traffic for ns/np external destinations" -m addrtype --src-type LOCAL -j SKIFF-MARK-MASQ
    -A SKIFF-EXT-O6FEJQ56MSDBAJB7 -m comment --comment "route LOCAL traffic for ns/np external destinations" -m addrtype --src-type LOCAL -j SKIFF-SVC-O6FEJQ56MSDBAJB7
    -A SKIFF-EXT-O6FEJQ56MSDBAJB7 -j SKIFF-SVL-O6FEJQ56MSDBAJB7
    :SKIFF-SVC-O6FEJQ56MSDBAJB7
    -A SKIFF-SVC-O6FEJQ56MSDBAJB7 -m comment --comment "ns/np cluster IP" -m tcp -p tcp -d 10.43.0.11 --dport 80 ! -s 10.42.0.0/16 -j SKIFF-MARK-MASQ
    -A SKIFF-SVC-O6FEJQ56MSDBAJB7 -m comment --comment "ns/np -> 10.42.0.5:8080" -m statistic --mode random --probability 0.5000000000 -j SKIFF-SEP-KW2YWOUMKOPISMPN
    -A SKIFF-SVC-O6FEJQ56MSDBAJB7 -m comment --comment "ns/np -> 10.42.1.7:8080" -j SKIFF-SEP-SD3FZCTZHLCMVQLV
    :SKIFF-SVL-O6FEJQ56MSDBAJB7
    -A SKIFF-SVL-O6FEJQ56MSDBAJB7 -m comment --comment "ns/np -> 10.42.0.5:8080" -j SKIFF-SEP-KW2YWOUMKOPISMPN
    :SKIFF-SEP-KW2YWOUMKOPISMPN
    -A SKIFF-SEP-KW2YWOUMKOPISMPN -m comment --comment ns/np -s 10.42.0.5 -j SKIFF-MARK-MASQ
    -A SKIFF-SEP-KW2YWOUMKOPISMPN -m comment --comment ns/np -m tcp -p tcp -j DNAT --to-destination 10.42.0.5:8080
    :SKIFF-SEP-SD3FZCTZHLCMVQLV
    -A SKIFF-SEP-SD3FZCTZHLCMVQLV -m comment --comment ns/np -s 10.42.1.7 -j SKIFF-MARK-MASQ
    -A SKIFF-SEP-SD3FZCTZHLCMVQLV -m comment --comment ns/np -m tcp -p tcp -j DNAT --to-destination 10.42.1.7:8080
  `),
  );
});

test('externalTrafficPolicy Local without a local endpoint: external traffic dropped, the rest still served', () => {
  const svc = service('np', '10.43.0.11', [{ port: 80, nodePort: 30080, protocol: 'TCP' }], {
    type: 'NodePort',
    externalTrafficPolicy: 'Local',
  });
  const text = rulesOf(svc, slice('np', [{ port: 8080 }], [twoNodes[1]!]));
  assert.match(
    text,
    /^-A SKIFF-EXTERNAL-SERVICES -m comment --comment "ns\/np has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30080 -j DROP$/m,
  );
  assert.doesNotMatch(text, /SKIFF-SVL-/);
  assert.doesNotMatch(text, /-A SKIFF-EXT-\w+ -j /, 'no fall-through to a policy chain');
  assert.match(text, /-A SKIFF-SERVICES .* -j SKIFF-SVC-/);
});

test('internalTrafficPolicy Local: cluster IP → SVL over local endpoints; none local: DROP', () => {
  const svc = service('np', '10.43.0.11', [{ port: 80, protocol: 'TCP' }], {
    internalTrafficPolicy: 'Local',
  });
  assert.equal(
    rulesOf(svc, slice('np', [{ port: 8080 }], twoNodes)),
    gold(`
    -A SKIFF-SERVICES -m comment --comment "ns/np cluster IP" -m tcp -p tcp -d 10.43.0.11 --dport 80 -j SKIFF-SVL-O6FEJQ56MSDBAJB7
    :SKIFF-SVL-O6FEJQ56MSDBAJB7
    -A SKIFF-SVL-O6FEJQ56MSDBAJB7 -m comment --comment "ns/np cluster IP" -m tcp -p tcp -d 10.43.0.11 --dport 80 ! -s 10.42.0.0/16 -j SKIFF-MARK-MASQ
    -A SKIFF-SVL-O6FEJQ56MSDBAJB7 -m comment --comment "ns/np -> 10.42.0.5:8080" -j SKIFF-SEP-KW2YWOUMKOPISMPN
    :SKIFF-SEP-KW2YWOUMKOPISMPN
    -A SKIFF-SEP-KW2YWOUMKOPISMPN -m comment --comment ns/np -s 10.42.0.5 -j SKIFF-MARK-MASQ
    -A SKIFF-SEP-KW2YWOUMKOPISMPN -m comment --comment ns/np -m tcp -p tcp -j DNAT --to-destination 10.42.0.5:8080
  `),
  );
  assert.equal(
    rulesOf(svc, slice('np', [{ port: 8080 }], [twoNodes[1]!])),
    '-A SKIFF-SERVICES -m comment --comment "ns/np has no local endpoints" -m tcp -p tcp -d 10.43.0.11 --dport 80 -j DROP',
  );
});

test('sessionAffinity ClientIP: recent checks before balancing, recent set on DNAT', () => {
  const svc = service('aff', '10.43.0.12', [{ name: 'dns', port: 53, protocol: 'UDP' }], {
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
  });
  assert.equal(
    rulesOf(svc, slice('aff', [{ name: 'dns', port: 5353, protocol: 'UDP' }], twoNodes)),
    gold(`
    -A SKIFF-SERVICES -m comment --comment "ns/aff:dns cluster IP" -m udp -p udp -d 10.43.0.12 --dport 53 -j SKIFF-SVC-PDOBAY4P6JHH4CVH
    :SKIFF-SVC-PDOBAY4P6JHH4CVH
    -A SKIFF-SVC-PDOBAY4P6JHH4CVH -m comment --comment "ns/aff:dns cluster IP" -m udp -p udp -d 10.43.0.12 --dport 53 ! -s 10.42.0.0/16 -j SKIFF-MARK-MASQ
    -A SKIFF-SVC-PDOBAY4P6JHH4CVH -m comment --comment "ns/aff:dns -> 10.42.0.5:5353" -m recent --name SKIFF-SEP-UMOEVHECI3TNIKBX --rcheck --seconds 60 --reap -j SKIFF-SEP-UMOEVHECI3TNIKBX
    -A SKIFF-SVC-PDOBAY4P6JHH4CVH -m comment --comment "ns/aff:dns -> 10.42.1.7:5353" -m recent --name SKIFF-SEP-7EBP37JRFPWQCURX --rcheck --seconds 60 --reap -j SKIFF-SEP-7EBP37JRFPWQCURX
    -A SKIFF-SVC-PDOBAY4P6JHH4CVH -m comment --comment "ns/aff:dns -> 10.42.0.5:5353" -m statistic --mode random --probability 0.5000000000 -j SKIFF-SEP-UMOEVHECI3TNIKBX
    -A SKIFF-SVC-PDOBAY4P6JHH4CVH -m comment --comment "ns/aff:dns -> 10.42.1.7:5353" -j SKIFF-SEP-7EBP37JRFPWQCURX
    :SKIFF-SEP-UMOEVHECI3TNIKBX
    -A SKIFF-SEP-UMOEVHECI3TNIKBX -m comment --comment ns/aff:dns -s 10.42.0.5 -j SKIFF-MARK-MASQ
    -A SKIFF-SEP-UMOEVHECI3TNIKBX -m comment --comment ns/aff:dns -m recent --name SKIFF-SEP-UMOEVHECI3TNIKBX --set -m udp -p udp -j DNAT --to-destination 10.42.0.5:5353
    :SKIFF-SEP-7EBP37JRFPWQCURX
    -A SKIFF-SEP-7EBP37JRFPWQCURX -m comment --comment ns/aff:dns -s 10.42.1.7 -j SKIFF-MARK-MASQ
    -A SKIFF-SEP-7EBP37JRFPWQCURX -m comment --comment ns/aff:dns -m recent --name SKIFF-SEP-7EBP37JRFPWQCURX --set -m udp -p udp -j DNAT --to-destination 10.42.1.7:5353
  `),
  );
  const defaultTimeout = service('aff', '10.43.0.12', [{ port: 53 }], { sessionAffinity: 'ClientIP' });
  assert.match(rulesOf(defaultTimeout, slice('aff', [{ port: 53 }], twoNodes)), /--seconds 10800 --reap/);
});

test('no ready endpoints: REJECT the cluster IP and the node port, no nat chains', () => {
  const svc = service('none', '10.43.0.13', [{ port: 80, nodePort: 30081 }], { type: 'NodePort' });
  assert.equal(
    rulesOf(svc, slice('none', [{ port: 8080 }], [{ ip: '10.42.0.9', ready: false, serving: false }])),
    gold(`
    -A SKIFF-SERVICES -m comment --comment "ns/none has no endpoints" -m tcp -p tcp -d 10.43.0.13 --dport 80 -j REJECT
    -A SKIFF-EXTERNAL-SERVICES -m comment --comment "ns/none has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 30081 -j REJECT
  `),
  );
  assert.equal(
    rulesOf(service('none', '10.43.0.13', [{ port: 80 }]), null),
    '-A SKIFF-SERVICES -m comment --comment "ns/none has no endpoints" -m tcp -p tcp -d 10.43.0.13 --dport 80 -j REJECT',
  );
});

test('no ready endpoint: serving terminating ones are used (upstream fallback), not serving ones never', () => {
  const svc = service('t', '10.43.0.14', [{ port: 80 }]);
  const text = rulesOf(
    svc,
    slice(
      't',
      [{ port: 8080 }],
      [
        { ip: '10.42.0.9', ready: false, serving: true, terminating: true },
        { ip: '10.42.0.10', ready: false, serving: false, terminating: true },
      ],
    ),
  );
  assert.match(text, /DNAT --to-destination 10.42.0.9:8080/);
  assert.doesNotMatch(text, /10.42.0.10/);
  // With a ready endpoint, terminating ones are not used.
  const text2 = rulesOf(
    svc,
    slice(
      't',
      [{ port: 8080 }],
      [{ ip: '10.42.0.9', ready: false, serving: true, terminating: true }, { ip: '10.42.0.11' }],
    ),
  );
  assert.doesNotMatch(text2, /10.42.0.9/);
});

test('LoadBalancer: ingress IPs and external IPs → EXT; loadBalancerSourceRanges → FW chain and firewall DROP', () => {
  const lb: Service = {
    ...service('lb', '10.43.0.15', [{ port: 443, nodePort: 30443 }], {
      type: 'LoadBalancer',
      loadBalancerSourceRanges: ['192.168.0.0/16'],
      externalIPs: ['203.0.113.9'],
    }),
    status: { loadBalancer: { ingress: [{ ip: '172.31.0.2' }] } },
  };
  const text = rulesOf(lb, slice('lb', [{ port: 8443 }], [twoNodes[0]!]));
  assert.equal(
    text.split('\n').slice(0, 5).join('\n'),
    gold(`
    -A SKIFF-SERVICES -m comment --comment "ns/lb cluster IP" -m tcp -p tcp -d 10.43.0.15 --dport 443 -j SKIFF-SVC-H2JOQ2HJPVIW54R7
    -A SKIFF-SERVICES -m comment --comment "ns/lb external IP" -m tcp -p tcp -d 203.0.113.9 --dport 443 -j SKIFF-EXT-H2JOQ2HJPVIW54R7
    -A SKIFF-SERVICES -m comment --comment "ns/lb loadbalancer IP" -m tcp -p tcp -d 172.31.0.2 --dport 443 -j SKIFF-FW-H2JOQ2HJPVIW54R7
    -A SKIFF-NODEPORTS -m comment --comment ns/lb -m tcp -p tcp --dport 30443 -j SKIFF-EXT-H2JOQ2HJPVIW54R7
    -A SKIFF-PROXY-FIREWALL -m comment --comment "ns/lb traffic not accepted by SKIFF-FW-H2JOQ2HJPVIW54R7" -m tcp -p tcp -d 172.31.0.2 --dport 443 -j DROP
  `),
  );
  assert.match(
    text,
    /:SKIFF-FW-H2JOQ2HJPVIW54R7\n-A SKIFF-FW-H2JOQ2HJPVIW54R7 -m comment --comment "ns\/lb loadbalancer IP" -s 192.168.0.0\/16 -j SKIFF-EXT-H2JOQ2HJPVIW54R7\n/,
  );
  // Without source ranges the LB IP goes straight to EXT.
  const open: Service = {
    ...service('lb', '10.43.0.15', [{ port: 443, nodePort: 30443 }], { type: 'LoadBalancer' }),
    status: { loadBalancer: { ingress: [{ ip: '172.31.0.2' }, { hostname: 'x.example' }] } },
  };
  assert.match(
    rulesOf(open, slice('lb', [{ port: 8443 }], [twoNodes[0]!])),
    /-d 172.31.0.2 --dport 443 -j SKIFF-EXT-H2JOQ2HJPVIW54R7/,
  );
});

test("ExternalName, headless and other proxies' services get no rules; unnamed and UDP ports are matched by name and protocol", () => {
  assert.deepEqual(servicePorts(service('h', 'None', [{ port: 80 }])), []);
  assert.deepEqual(
    servicePorts({
      metadata: { name: 'e', namespace: 'ns' },
      spec: { type: 'ExternalName', externalName: 'x.example' },
    }),
    [],
  );
  const other = service('o', '10.43.0.20', [{ port: 80 }]);
  other.metadata!.labels = { 'service.kubernetes.io/service-proxy-name': 'other' };
  assert.deepEqual(servicePorts(other), []);

  const svc = service('m', '10.43.0.21', [
    { name: 'a', port: 80 },
    { name: 'b', port: 53, protocol: 'UDP' },
  ]);
  const [a, b] = servicePorts(svc);
  const sl = slice(
    'm',
    [
      { name: 'a', port: 8080 },
      { name: 'b', port: 5353, protocol: 'UDP' },
    ],
    [{ ip: '10.42.0.5' }],
  );
  assert.deepEqual(
    endpointsFor(a!, [sl], 'n').map((e) => e.key),
    ['10.42.0.5:8080'],
  );
  assert.deepEqual(
    endpointsFor(b!, [sl], 'n').map((e) => e.key),
    ['10.42.0.5:5353'],
  );
  const wrongProto = slice('m', [{ name: 'b', port: 5353, protocol: 'TCP' }], [{ ip: '10.42.0.5' }]);
  assert.deepEqual(endpointsFor(b!, [wrongProto], 'n'), []);
});

test("large cluster mode leaves out the endpoint rules' comments", () => {
  const svc = service('web', '10.43.0.10', [{ port: 80 }]);
  const text = rulesOf(svc, slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }]), {
    ...cfg,
    largeCluster: true,
  });
  assert.match(
    text,
    /^-A SKIFF-SVC-\w+ -m statistic --mode random --probability 0.5000000000 -j SKIFF-SEP-\w+$/m,
  );
  assert.match(text, /^-A SKIFF-SEP-\w+ -s 10.42.0.5 -j SKIFF-MARK-MASQ$/m);
  assert.match(text, /^-A SKIFF-SEP-\w+ -m tcp -p tcp -j DNAT --to-destination 10.42.0.5:8080$/m);
  assert.match(
    text,
    /^-A SKIFF-SERVICES -m comment --comment "ns\/web cluster IP" /m,
    'service rules keep theirs',
  );
});

test('loadBalancerSourceRanges holding a node IP let the LB IP itself in (VIP looped back by the node)', () => {
  const lb: Service = {
    ...service('lb', '10.43.0.15', [{ port: 443, nodePort: 30443 }], {
      type: 'LoadBalancer',
      loadBalancerSourceRanges: ['192.168.1.0/24'],
    }),
    status: { loadBalancer: { ingress: [{ ip: '192.168.1.10' }] } },
  };
  const sl = slice('lb', [{ port: 8443 }], [{ ip: '10.42.0.5' }]);
  assert.match(rulesOf(lb, sl, { ...cfg, nodeIPs: ['192.168.1.10'] }), /-s 192.168.1.10 -j SKIFF-EXT-/);
  assert.doesNotMatch(rulesOf(lb, sl, { ...cfg, nodeIPs: ['10.0.0.1'] }), /-s 192.168.1.10 -j SKIFF-EXT-/);
  assert.ok(cidrContains('10.0.0.0/8', '10.255.1.2'));
  assert.ok(!cidrContains('10.0.0.0/8', '11.0.0.1'));
  assert.ok(cidrContains('0.0.0.0/0', '1.2.3.4'));
  assert.ok(cidrContains('1.2.3.4', '1.2.3.4'));
});
