import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreStrategies } from './index.ts';
import { check, ctx, defaulted } from './testing.ts';

const svc = (spec: Record<string, unknown>) => ({
  metadata: { name: 'web', namespace: 'default' },
  spec,
  status: { loadBalancer: {} },
});

test('service defaults: ClusterIP, TCP, targetPort = port, None affinity, Cluster traffic policy, single stack', () => {
  const s = defaulted(
    'services',
    svc({ ports: [{ port: 80 }], selector: { app: 'web' }, clusterIP: '10.96.0.10' }),
  );
  assert.deepEqual(s.spec, {
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    selector: { app: 'web' },
    clusterIP: '10.96.0.10',
    sessionAffinity: 'None',
    type: 'ClusterIP',
    internalTrafficPolicy: 'Cluster',
    clusterIPs: ['10.96.0.10'],
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
});

test('service defaults by type: NodePort/LoadBalancer external traffic policy, LB node ports, ClientIP timeout', () => {
  const np = defaulted('services', svc({ type: 'NodePort', ports: [{ port: 80 }] })).spec as Record<
    string,
    unknown
  >;
  assert.equal(np.externalTrafficPolicy, 'Cluster');
  const lb = defaulted(
    'services',
    svc({ type: 'LoadBalancer', ports: [{ port: 80 }], sessionAffinity: 'ClientIP' }),
  ).spec as Record<string, unknown>;
  assert.equal(lb.allocateLoadBalancerNodePorts, true);
  assert.deepEqual(lb.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  const en = defaulted('services', svc({ type: 'ExternalName', externalName: 'example.com' })).spec as Record<
    string,
    unknown
  >;
  assert.equal(en.internalTrafficPolicy, undefined);
  assert.equal(en.ipFamilies, undefined);
});

test('ports are required unless headless or ExternalName', () => {
  assert.deepEqual(check('services', svc({})), ['spec.ports: Required value']);
  assert.deepEqual(check('services', svc({ clusterIP: 'None' })), []);
  assert.deepEqual(check('services', svc({ type: 'ExternalName', externalName: 'db.example.com.' })), []);
});

test('service ports: range, names required with several, unique names and ports', () => {
  assert.deepEqual(check('services', svc({ ports: [{ port: 70000, targetPort: 8080 }] })), [
    'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
  ]);
  assert.deepEqual(check('services', svc({ ports: [{ port: 80 }, { port: 443, name: 'https' }] })), [
    'spec.ports[0].name: Required value',
  ]);
  assert.deepEqual(
    check(
      'services',
      svc({
        ports: [
          { port: 80, name: 'web' },
          { port: 81, name: 'web' },
        ],
      }),
    ),
    ['spec.ports[1].name: Duplicate value: "web"'],
  );
  assert.deepEqual(
    check(
      'services',
      svc({
        ports: [
          { port: 80, name: 'a' },
          { port: 80, name: 'b' },
        ],
      }),
    ),
    ['spec.ports[1]: Duplicate value: {"protocol":"TCP","port":80}'],
  );
  assert.deepEqual(check('services', svc({ ports: [{ port: 80, protocol: 'ICMP' }] })), [
    'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
  ]);
  assert.deepEqual(check('services', svc({ ports: [{ port: 80, targetPort: 'http_port' }] })), [
    'spec.ports[0].targetPort: Invalid value: "http_port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
  ]);
});

test('types and node ports', () => {
  assert.deepEqual(check('services', svc({ type: 'Internal', ports: [{ port: 80 }] })), [
    'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
  ]);
  assert.deepEqual(check('services', svc({ ports: [{ port: 80, nodePort: 30080 }] })), [
    "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
  ]);
  assert.deepEqual(check('services', svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 8080 }] })), [
    'spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
  ]);
  assert.deepEqual(
    check(
      'services',
      svc({
        type: 'NodePort',
        ports: [
          { port: 80, nodePort: 30080, name: 'a' },
          { port: 81, nodePort: 30080, name: 'b' },
        ],
      }),
    ),
    ['spec.ports[1].nodePort: Duplicate value: 30080'],
  );
  assert.deepEqual(check('services', svc({ type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] })), [
    'spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services',
  ]);
});

test('the node port range is configurable', () => {
  const s = coreStrategies({ nodePortRange: [20000, 20010] }).services!;
  const o = svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }) as never;
  s.defaults?.(o);
  assert.deepEqual(s.validate?.(o, ctx()).map(String), [
    'spec.ports[0].nodePort: Invalid value: 30080: provided port is not in the valid range. The range of valid ports is 20000-20010',
  ]);
});

test('ExternalName services: a DNS name, no cluster IPs', () => {
  assert.deepEqual(check('services', svc({ type: 'ExternalName' })), ['spec.externalName: Required value']);
  assert.deepEqual(
    check('services', svc({ type: 'ExternalName', externalName: 'x.com', clusterIP: '10.0.0.1' })),
    ['spec.clusterIPs: Forbidden: may not be set for ExternalName services'],
  );
});

test('cluster IPs: valid addresses, matching clusterIP, families', () => {
  assert.deepEqual(check('services', svc({ ports: [{ port: 80 }], clusterIP: '10.0.0.300' })), [
    'spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
  ]);
  assert.deepEqual(
    check('services', svc({ ports: [{ port: 80 }], clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.2'] })),
    ['spec.clusterIPs: Invalid value: ["10.0.0.2"]: first value must match `clusterIP`'],
  );
  assert.deepEqual(
    check(
      'services',
      svc({
        ports: [{ port: 80 }],
        clusterIP: '10.0.0.1',
        clusterIPs: ['10.0.0.1', '10.0.0.2'],
        ipFamilyPolicy: 'PreferDualStack',
      }),
    ),
    [
      'spec.clusterIPs: Invalid value: ["10.0.0.1","10.0.0.2"]: may specify no more than one IP for each IP family',
    ],
  );
  assert.deepEqual(
    check('services', svc({ ports: [{ port: 80 }], clusterIP: 'fd00::1', ipFamilies: ['IPv4'] })),
    ['spec.clusterIPs[0]: Invalid value: "fd00::1": expected an IPv4 value as indicated by `ipFamilies[0]`'],
  );
});

test('clusterIP may not change once set; a replace without it keeps it', () => {
  const old = defaulted('services', svc({ ports: [{ port: 80 }], clusterIP: '10.96.0.10' }));
  assert.deepEqual(
    check('services', svc({ ports: [{ port: 80 }], clusterIP: '10.96.0.11' }), { old: structuredClone(old) }),
    ['spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set'],
  );
  const replaced = svc({ ports: [{ port: 80 }] });
  assert.deepEqual(check('services', replaced, { old: structuredClone(old) }), []);
  assert.equal((replaced.spec as Record<string, unknown>).clusterIP, '10.96.0.10');
});

test('switching NodePort → ClusterIP drops the node ports and external traffic policy', () => {
  const old = defaulted(
    'services',
    svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }], clusterIP: '10.96.0.12' }),
  );
  const next = structuredClone(old);
  (next.spec as Record<string, unknown>).type = 'ClusterIP';
  assert.deepEqual(check('services', next, { old }), []);
  const spec = next.spec as { ports: Record<string, unknown>[]; externalTrafficPolicy?: string };
  assert.equal(spec.ports[0]?.nodePort, undefined);
  assert.equal(spec.externalTrafficPolicy, undefined);
});

test('a NodePort replace without nodePort keeps the allocated one', () => {
  const old = defaulted(
    'services',
    svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }], clusterIP: '10.96.0.12' }),
  );
  const next = svc({ type: 'NodePort', ports: [{ port: 80 }] });
  assert.deepEqual(check('services', next, { old }), []);
  assert.equal((next.spec as { ports: Record<string, unknown>[] }).ports[0]?.nodePort, 30080);
});

test('session affinity', () => {
  assert.deepEqual(check('services', svc({ ports: [{ port: 80 }], sessionAffinity: 'Sticky' })), [
    'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"',
  ]);
  assert.deepEqual(
    check(
      'services',
      svc({
        ports: [{ port: 80 }],
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } },
      }),
    ),
    [
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400',
    ],
  );
});

test('external IPs, source ranges and traffic policies', () => {
  assert.deepEqual(check('services', svc({ ports: [{ port: 80 }], externalIPs: ['127.0.0.1'] })), [
    'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
  ]);
  assert.deepEqual(
    check('services', svc({ ports: [{ port: 80 }], loadBalancerSourceRanges: ['10.0.0.0/8'] })),
    ["spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"],
  );
  assert.deepEqual(check('services', svc({ ports: [{ port: 80 }], externalTrafficPolicy: 'Local' })), [
    'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
  ]);
  assert.deepEqual(check('services', svc({ ports: [{ port: 80 }], internalTrafficPolicy: 'Node' })), [
    'spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"',
  ]);
});

test('status: load balancer ingress only for LoadBalancer services; ipMode defaults to VIP', () => {
  const lb = defaulted(
    'services',
    svc({ type: 'LoadBalancer', ports: [{ port: 80 }], clusterIP: '10.96.0.1' }),
  );
  const next = structuredClone(lb);
  next.status = { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } };
  assert.deepEqual(check('services', next, { old: lb, sub: 'status' }), []);
  assert.deepEqual((next.status as { loadBalancer: unknown }).loadBalancer, {
    ingress: [{ ip: '192.0.2.1', ipMode: 'VIP' }],
  });
  const cip = defaulted('services', svc({ ports: [{ port: 80 }] }));
  const bad = structuredClone(cip);
  bad.status = { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } };
  assert.deepEqual(check('services', bad, { old: cip, sub: 'status' }), [
    "status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'",
  ]);
});
