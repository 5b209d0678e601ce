import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../object.ts';
import { coreStrategies } from './index.ts';
import { ctx } from './testing.ts';

const RESOURCES = [
  'pods',
  'services',
  'configmaps',
  'secrets',
  'namespaces',
  'nodes',
  'events',
  'persistentvolumes',
  'persistentvolumeclaims',
  'serviceaccounts',
  'endpoints',
  'limitranges',
  'resourcequotas',
  'podtemplates',
];

test('a strategy per core resource, with only the hooks builtin.ts merges', () => {
  const s = coreStrategies();
  assert.deepEqual(Object.keys(s).sort(), [...RESOURCES].sort());
  const allowed = new Set(['defaults', 'validate', 'validateUpdate', 'prepareForUpdate']);
  for (const [name, strategy] of Object.entries(s)) {
    for (const key of Object.keys(strategy)) assert.ok(allowed.has(key), `${name}.${key}`);
    assert.equal(typeof strategy.validate, 'function', name);
  }
});

/** A valid object of each kind, to mutate. */
const samples: Record<string, Record<string, unknown>> = {
  pods: {
    spec: {
      containers: [
        {
          name: 'c',
          image: 'nginx',
          ports: [{ containerPort: 80, hostPort: 80 }],
          resources: { limits: { cpu: '1' } },
          livenessProbe: { httpGet: { port: 80 } },
          env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          volumeMounts: [{ name: 'v', mountPath: '/v' }],
          securityContext: { runAsUser: 1 },
        },
      ],
      volumes: [{ name: 'v', configMap: { name: 'cm', items: [{ key: 'a', path: 'b' }] } }],
      tolerations: [{ key: 'k', operator: 'Exists' }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }],
          },
        },
      },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }],
    },
    status: { phase: 'Pending', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 1 } } }] },
  },
  services: {
    spec: {
      type: 'NodePort',
      ports: [{ port: 80, nodePort: 30001 }],
      selector: { a: 'b' },
      clusterIP: '10.0.0.1',
    },
    status: { loadBalancer: {} },
  },
  configmaps: { data: { a: 'b' }, binaryData: { b: 'YQ==' }, immutable: true },
  secrets: {
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': 'YQ==', 'tls.key': 'YQ==' },
    stringData: { x: 'y' },
  },
  namespaces: { spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } },
  nodes: {
    spec: { podCIDRs: ['10.0.0.0/24'], taints: [{ key: 'a', effect: 'NoSchedule' }] },
    status: { capacity: { cpu: '4' }, addresses: [{ type: 'InternalIP', address: '1.2.3.4' }] },
  },
  events: {
    involvedObject: { namespace: 'default', kind: 'Pod', name: 'p' },
    reason: 'r',
    eventTime: '2024-01-01T00:00:00Z',
  },
  persistentvolumes: {
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      local: { path: '/x' },
      nodeAffinity: { required: {} },
    },
    status: {},
  },
  persistentvolumeclaims: {
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
      dataSource: { kind: 'x' },
    },
    status: { phase: 'Bound', capacity: { storage: '1Gi' } },
  },
  serviceaccounts: { secrets: [{ name: 'x' }], imagePullSecrets: [{ name: 'y' }] },
  endpoints: { subsets: [{ addresses: [{ ip: '10.0.0.2' }], ports: [{ port: 80 }] }] },
  limitranges: {
    spec: {
      limits: [
        { type: 'Container', max: { cpu: '2' }, min: { cpu: '1' }, maxLimitRequestRatio: { cpu: '3' } },
      ],
    },
  },
  resourcequotas: {
    spec: {
      hard: { pods: '10' },
      scopes: ['BestEffort'],
      scopeSelector: { matchExpressions: [{ scopeName: 'x', operator: 'In' }] },
    },
    status: { used: { pods: '1' } },
  },
  podtemplates: {
    template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
  },
};

function makeRandom(seed: number) {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const leaves = [
    null,
    0,
    -1,
    1.5,
    70000,
    2 ** 40,
    '',
    'x',
    'None',
    '1Gi',
    '-1',
    true,
    false,
    'Bound',
    '10.0.0.1',
    '::1',
    '..',
  ];
  const keys = [
    'name',
    'image',
    'port',
    'type',
    'spec',
    'data',
    'items',
    'ports',
    'key',
    'value',
    'path',
    'limits',
    'requests',
  ];
  const value = (depth = 0): unknown => {
    const r = next();
    if (depth > 2 || r < 0.5) return pick(leaves);
    if (r < 0.75) return Array.from({ length: Math.floor(next() * 3) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = 0; i < 3; i++) o[pick(keys)] = value(depth + 1);
    return o;
  };
  return { next, pick, value };
}

function paths(v: unknown, p: string[] = [], out: string[][] = []): string[][] {
  if (p.length) out.push(p);
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...p, k], out);
  return out;
}

function setAt(root: Record<string, unknown>, p: string[], val: unknown): void {
  let cur: unknown = root;
  for (const k of p.slice(0, -1)) {
    if (!cur || typeof cur !== 'object') return;
    cur = (cur as Record<string, unknown>)[k];
  }
  if (cur && typeof cur === 'object') (cur as Record<string, unknown>)[p[p.length - 1] as string] = val;
}

test('every hook is total on arbitrary JSON (seeded fuzz)', () => {
  const strategies = coreStrategies();
  const rnd = makeRandom(20240601);
  for (const [resource, sample] of Object.entries(samples)) {
    const s = strategies[resource]!;
    const all = paths(sample);
    for (let i = 0; i < 300; i++) {
      const next = structuredClone(sample);
      const n = 1 + Math.floor(rnd.next() * 3);
      for (let j = 0; j < n; j++) setAt(next, rnd.pick(all), rnd.value());
      for (const sub of ['', 'status', 'binding', 'ephemeralcontainers', 'finalize']) {
        const c = ctx(sub);
        const o = { metadata: { name: 'x', namespace: 'default' }, ...structuredClone(next) } as KubeObject;
        const old = {
          metadata: { name: 'x', namespace: 'default' },
          ...structuredClone(sample),
        } as KubeObject;
        try {
          s.defaults?.(old);
          s.prepareForUpdate?.(o, old, c);
          s.defaults?.(o);
          for (const e of [...(s.validate?.(o, c) ?? []), ...(s.validateUpdate?.(o, old, c) ?? [])])
            String(e);
        } catch (err) {
          assert.fail(`${resource} (${sub || 'main'}) threw on ${JSON.stringify(next)}: ${String(err)}`);
        }
      }
    }
  }
});

test('defaults are idempotent', () => {
  const strategies = coreStrategies();
  for (const [resource, sample] of Object.entries(samples)) {
    const o = { metadata: { name: 'x', namespace: 'default' }, ...structuredClone(sample) } as KubeObject;
    strategies[resource]!.defaults?.(o);
    const once = structuredClone(o);
    strategies[resource]!.defaults?.(o);
    assert.deepEqual(o, once, resource);
  }
});
