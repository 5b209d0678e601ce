/** The kubelet's environment rules: expansion, service links, envFrom, valueFrom, errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { FakeRestClient } from '../../client/fake.ts';
import { CONFIG_MAPS, SECRETS, SERVICES } from '../../client/resources.ts';
import type { KubeObject } from '../../client/types.ts';
import { ContainerConfigError } from './errors.ts';
import { expand, mappingFor } from './expand.ts';
import { formatMap, podFieldValue, resourceFieldValue } from './fieldref.ts';
import { KubeletEnvResolver } from './resolver.ts';
import { fromServices, serviceEnv } from './service-links.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('expand', () => {
  const m = mappingFor(
    new Map([
      ['A', 'a'],
      ['EMPTY', ''],
    ]),
    new Map([
      ['S', 's'],
      ['A', 'shadowed'],
    ]),
  );
  const table: [string, string][] = [
    ['$(A)', 'a'],
    ['x$(A)y$(S)z', 'xaysz'],
    ['$(EMPTY)', ''],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$a'],
    ['$(A', '$(A'],
    ['$A', '$A'],
    ['a$', 'a$'],
    ['$()', '$()'],
    ['', ''],
  ];
  for (const [input, want] of table)
    it(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () => {
      assert.equal(expand(input, m), want);
    });
});

const pod: Pod = {
  metadata: {
    name: 'p',
    namespace: 'ns',
    uid: 'u-1',
    labels: { app: 'web', tier: 'x"y' },
    annotations: { 'a.io/b': 'c' },
  },
  spec: {
    nodeName: 'node1',
    serviceAccountName: 'sa',
    containers: [
      { name: 'c', resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m', memory: '32Mi' } } },
      { name: 'd', resources: { limits: { cpu: '2' } } },
    ],
  },
  status: { podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }], hostIP: '192.168.1.2' },
};

describe('downward API values', () => {
  const c = pod.spec!.containers[0]!;
  it('pod fields', () => {
    const f = (fieldPath: string) => podFieldValue(pod, { fieldPath });
    assert.equal(f('metadata.name'), 'p');
    assert.equal(f('metadata.namespace'), 'ns');
    assert.equal(f('metadata.uid'), 'u-1');
    assert.equal(f("metadata.labels['app']"), 'web');
    assert.equal(f("metadata.annotations['a.io/b']"), 'c');
    assert.equal(f("metadata.labels['none']"), '');
    assert.equal(f('metadata.labels'), 'app="web"\ntier="x\\"y"');
    assert.equal(f('spec.nodeName'), 'node1');
    assert.equal(f('spec.serviceAccountName'), 'sa');
    assert.equal(f('status.podIP'), '10.0.0.5');
    assert.equal(f('status.podIPs'), '10.0.0.5,fd00::5');
    assert.equal(f('status.hostIP'), '192.168.1.2');
    assert.equal(
      podFieldValue({ metadata: {} }, { fieldPath: 'status.hostIPs' }, ['1.1.1.1', '::1']),
      '1.1.1.1,::1',
    );
    assert.throws(() => f('spec.bogus'), ContainerConfigError);
    assert.throws(() => f("spec.nodeName['x']"), /does not support subscript/);
    assert.equal(formatMap({}), '');
  });
  it('resources, divisors and allocatable defaults', () => {
    const alloc = { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi' };
    const r = (resource: string, divisor?: string, containerName?: string) =>
      resourceFieldValue(pod, c, { resource, divisor, containerName }, alloc);
    assert.equal(r('limits.memory'), String(64 * 1024 * 1024));
    assert.equal(r('limits.memory', '1Mi'), '64');
    assert.equal(r('requests.cpu'), '1', 'ceil(250m / 1)');
    assert.equal(r('requests.cpu', '1m'), '250');
    assert.equal(r('limits.cpu'), '4', 'defaults to allocatable');
    assert.equal(r('limits.ephemeral-storage', '1Gi'), '100');
    assert.equal(r('requests.ephemeral-storage'), '0');
    assert.equal(r('limits.cpu', '1m', 'd'), '2000');
    assert.equal(r('limits.memory', '1Gi', 'd'), '8');
    assert.throws(() => r('limits.gpu'), /unsupported container resource : limits.gpu/);
  });
});

describe('service links', () => {
  const svc = (ns: string, name: string, ip: string, ports: object[]): KubeObject =>
    ({ metadata: { namespace: ns, name }, spec: { clusterIP: ip, ports } }) as KubeObject;
  it('makes the docker link variables', () => {
    const env = fromServices([
      svc('ns', 'my-svc', '10.43.0.10', [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ]) as never,
    ]);
    assert.deepEqual(Object.fromEntries(env), {
      MY_SVC_SERVICE_HOST: '10.43.0.10',
      MY_SVC_SERVICE_PORT: '80',
      MY_SVC_SERVICE_PORT_HTTP: '80',
      MY_SVC_SERVICE_PORT_DNS: '53',
      MY_SVC_PORT: 'tcp://10.43.0.10:80',
      MY_SVC_PORT_80_TCP: 'tcp://10.43.0.10:80',
      MY_SVC_PORT_80_TCP_PROTO: 'tcp',
      MY_SVC_PORT_80_TCP_PORT: '80',
      MY_SVC_PORT_80_TCP_ADDR: '10.43.0.10',
      MY_SVC_PORT_53_UDP: 'udp://10.43.0.10:53',
      MY_SVC_PORT_53_UDP_PROTO: 'udp',
      MY_SVC_PORT_53_UDP_PORT: '53',
      MY_SVC_PORT_53_UDP_ADDR: '10.43.0.10',
    });
    assert.equal(
      fromServices([svc('ns', 'v6', 'fd00::1', [{ port: 443 }]) as never]).get('V6_PORT'),
      'tcp://[fd00::1]:443',
    );
  });
  it('links the namespace only with enableServiceLinks, the kubernetes service always, headless never', () => {
    const all = [
      svc('default', 'kubernetes', '10.43.0.1', [{ name: 'https', port: 443 }]),
      svc('ns', 'a', '10.43.0.2', [{ port: 1 }]),
      svc('ns', 'headless', 'None', [{ port: 2 }]),
      svc('other', 'b', '10.43.0.3', [{ port: 3 }]),
    ] as never[];
    const on = serviceEnv(all, 'ns', true);
    assert.equal(on.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
    assert.equal(on.get('KUBERNETES_SERVICE_PORT'), '443');
    assert.equal(on.get('A_SERVICE_HOST'), '10.43.0.2');
    assert.equal(on.has('HEADLESS_SERVICE_HOST'), false);
    assert.equal(on.has('B_SERVICE_HOST'), false);
    const off = serviceEnv(all, 'ns', false);
    assert.equal(off.has('A_SERVICE_HOST'), false);
    assert.equal(off.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
  });
});

describe('KubeletEnvResolver', () => {
  async function setup() {
    const client = new FakeRestClient();
    await client.create(CONFIG_MAPS, 'ns', {
      metadata: { name: 'cm', namespace: 'ns' },
      data: { A: '1', B: '2', 'bad key': 'x', '1st': 'y' },
    });
    await client.create(SECRETS, 'ns', {
      metadata: { name: 's', namespace: 'ns' },
      data: { PASS: b64('hunter2') },
    });
    await client.create(SERVICES, 'default', {
      metadata: { name: 'kubernetes', namespace: 'default' },
      spec: { clusterIP: '10.43.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
    });
    await client.create(SERVICES, 'ns', {
      metadata: { name: 'db', namespace: 'ns' },
      spec: { clusterIP: '10.43.0.9', ports: [{ port: 5432, protocol: 'TCP' }] },
    });
    const warnings: string[] = [];
    const r = new KubeletEnvResolver({
      client,
      nodeAllocatable: () => ({ cpu: '2', memory: '4Gi' }),
      onInvalidKeys: (_p, m) => warnings.push(m),
    });
    return { client, r, warnings };
  }
  const run = async (container: Partial<Container>, p: Pod = pod) => {
    const { r, warnings } = await setup();
    const kv = await r.resolve(p, { name: 'c', ...container });
    return { env: kv, map: Object.fromEntries(kv.map((e) => [e.key, e.value])), warnings };
  };

  it('envFrom with prefix, env overriding it, expansion, refs, then service variables', async () => {
    const { env, map, warnings } = await run({
      envFrom: [{ configMapRef: { name: 'cm' } }, { prefix: 'S_', secretRef: { name: 's' } }],
      env: [
        { name: 'B', value: 'two' },
        { name: 'X', value: '$(A)-$(B)-$(DB_SERVICE_HOST)-$(NOPE)-$$(A)' },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'K', valueFrom: { configMapKeyRef: { name: 'cm', key: 'A' } } },
        { name: 'P', valueFrom: { secretKeyRef: { name: 's', key: 'PASS' } } },
        { name: 'DB_SERVICE_HOST', value: 'mine' },
      ],
    });
    assert.equal(map.A, '1');
    assert.equal(map.B, 'two');
    assert.equal(map.S_PASS, 'hunter2');
    assert.equal(map['bad key'], undefined);
    assert.equal(map['1st'], undefined);
    assert.equal(map.X, '1-two-10.43.0.9-$(NOPE)-$(A)');
    assert.equal(map.POD, 'p');
    assert.equal(map.IP, '10.0.0.5');
    assert.equal(map.MEM, '4096', 'container c sets no memory limit in this call: allocatable');
    assert.equal(map.K, '1');
    assert.equal(map.P, 'hunter2');
    assert.equal(map.DB_SERVICE_HOST, 'mine');
    assert.equal(env.filter((e) => e.key === 'DB_SERVICE_HOST').length, 1);
    assert.equal(map.KUBERNETES_SERVICE_HOST, '10.43.0.1');
    assert.equal(map.KUBERNETES_PORT_443_TCP, 'tcp://10.43.0.1:443');
    assert.deepEqual(warnings, [
      'Keys [1st, bad key] from the EnvFrom configMap ns/cm were skipped since they are considered invalid environment variable names.',
    ]);
    const keys = env.map((e) => e.key);
    assert.ok(keys.indexOf('X') < keys.indexOf('KUBERNETES_SERVICE_HOST'), 'declared variables come first');
  });

  it('optional refs are skipped; missing ones fail as CreateContainerConfigError', async () => {
    const { map } = await run({
      envFrom: [
        { configMapRef: { name: 'none', optional: true } },
        { secretRef: { name: 'none', optional: true } },
      ],
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'none', key: 'k', optional: true } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'cm', key: 'none', optional: true } } },
        { name: 'C', valueFrom: { secretKeyRef: { name: 's', key: 'none', optional: true } } },
      ],
    });
    assert.equal('A' in map || 'B' in map || 'C' in map, false);
    const fails: [Partial<Container>, string][] = [
      [{ envFrom: [{ configMapRef: { name: 'none' } }] }, 'configmap "none" not found'],
      [{ envFrom: [{ secretRef: { name: 'none' } }] }, 'secret "none" not found'],
      [
        { env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'none', key: 'k' } } }] },
        'configmap "none" not found',
      ],
      [
        { env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } }] },
        "couldn't find key k in ConfigMap ns/cm",
      ],
      [
        { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
        "couldn't find key k in Secret ns/s",
      ],
    ];
    for (const [c, message] of fails) {
      await assert.rejects(run(c), (err: unknown) => {
        assert.ok(err instanceof ContainerConfigError);
        assert.equal(err.reason, 'CreateContainerConfigError');
        assert.equal(err.message, message);
        return true;
      });
    }
  });

  it('enableServiceLinks: false keeps only the kubernetes service', async () => {
    const { map } = await run({}, { ...pod, spec: { ...pod.spec!, enableServiceLinks: false } });
    assert.equal(map.DB_SERVICE_HOST, undefined);
    assert.equal(map.KUBERNETES_SERVICE_PORT, '443');
  });
});
