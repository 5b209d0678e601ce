import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../object.ts';
import { extraStrategies } from './index.ts';
import { ctx, fakePod } from './testing.ts';

describe('extraStrategies', () => {
  it('covers every kind, keyed group/resource', () => {
    assert.deepEqual(Object.keys(extraStrategies(fakePod)).sort(), [
      'apps/controllerrevisions',
      'apps/daemonsets',
      'apps/deployments',
      'apps/replicasets',
      'apps/statefulsets',
      'batch/cronjobs',
      'batch/jobs',
      'coordination.k8s.io/leases',
      'discovery.k8s.io/endpointslices',
      'events.k8s.io/events',
      'policy/poddisruptionbudgets',
      'rbac.authorization.k8s.io/clusterrolebindings',
      'rbac.authorization.k8s.io/clusterroles',
      'rbac.authorization.k8s.io/rolebindings',
      'rbac.authorization.k8s.io/roles',
      'scheduling.k8s.io/priorityclasses',
      'storage.k8s.io/storageclasses',
    ]);
  });

  it('only sets the hooks it owns', () => {
    const allowed = new Set([
      'defaults',
      'prepareForCreate',
      'prepareForUpdate',
      'validate',
      'validateUpdate',
    ]);
    for (const [key, s] of Object.entries(extraStrategies(fakePod))) {
      for (const hook of Object.keys(s)) assert.ok(allowed.has(hook), `${key}: ${hook}`);
    }
    const withCreate = Object.entries(extraStrategies(fakePod))
      .filter(([, s]) => s.prepareForCreate)
      .map(([k]) => k);
    assert.deepEqual(withCreate, ['apps/daemonsets', 'batch/jobs']);
  });
});

/** A deterministic generator of odd JSON. */
function* oddValues(seed: number): Generator<unknown> {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x;
  };
  const atoms: unknown[] = [
    null,
    true,
    false,
    0,
    -1,
    1.5,
    2 ** 40,
    '',
    'x',
    '25%',
    '-5',
    [],
    {},
    [1, 'a', null],
    { a: 1 },
  ];
  const build = (depth: number): unknown => {
    const r = next() % 10;
    if (depth > 3 || r < 5) return atoms[next() % atoms.length];
    if (r < 7) return Array.from({ length: next() % 3 }, () => build(depth + 1));
    const keys = [
      'spec',
      'status',
      'selector',
      'template',
      'metadata',
      'labels',
      'matchLabels',
      'matchExpressions',
      'values',
      'rules',
      'roleRef',
      'subjects',
      'endpoints',
      'ports',
      'addresses',
      'jobTemplate',
      'rollingUpdate',
      'updateStrategy',
      'strategy',
      'replicas',
      'maxSurge',
      'maxUnavailable',
      'podFailurePolicy',
      'successPolicy',
      'series',
      'regarding',
      'parameters',
      'allowedTopologies',
      'data',
      'value',
      'schedule',
      'timeZone',
      'containers',
    ];
    const o: Record<string, unknown> = {};
    for (let i = next() % 5; i > 0; i--) o[keys[next() % keys.length] as string] = build(depth + 1);
    return o;
  };
  for (;;) yield build(0);
}

describe('totality', () => {
  it('never throws on arbitrary JSON, in any hook', () => {
    const strategies = extraStrategies(fakePod);
    const gen = oddValues(42);
    for (const [key, s] of Object.entries(strategies)) {
      for (let i = 0; i < 300; i++) {
        const body = gen.next().value as Record<string, unknown>;
        const oldBody = gen.next().value as Record<string, unknown>;
        const make = (b: unknown): KubeObject => {
          const o = (
            typeof b === 'object' && b !== null && !Array.isArray(b) ? structuredClone(b) : { spec: b }
          ) as KubeObject;
          o.metadata = { name: 'n', uid: 'u', namespace: 'default' };
          return o;
        };
        const obj = make(body);
        const old = make(oldBody);
        try {
          s.prepareForCreate?.(obj, ctx());
          s.defaults?.(obj);
          s.validate?.(obj, ctx());
          const next = make(body);
          s.defaults?.(old);
          for (const sub of ['', 'status', 'scale'] as const) {
            s.prepareForUpdate?.(next, old, ctx(sub));
            s.defaults?.(next);
            s.validate?.(next, ctx(sub));
            s.validateUpdate?.(next, old, ctx(sub));
          }
        } catch (err) {
          assert.fail(
            `${key} threw on ${JSON.stringify(body)} / ${JSON.stringify(oldBody)}: ${(err as Error).stack}`,
          );
        }
      }
    }
  });
});

/** A valid-looking object per kind, to mutate one place at a time. */
const samples: Record<string, Record<string, unknown>> = {
  'apps/deployments': {
    spec: {
      replicas: 2,
      selector: {
        matchLabels: { app: 'a' },
        matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }],
      },
      template: { metadata: { labels: { app: 'a', k: 'v' } }, spec: { containers: [{ name: 'c' }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '10%' } },
    },
    status: {
      replicas: 1,
      readyReplicas: 1,
      collisionCount: 1,
      conditions: [{ type: 'Available', status: 'True' }],
    },
  },
  'apps/statefulsets': {
    spec: {
      selector: { matchLabels: { app: 'a' } },
      template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c' }] } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 1 } },
      volumeClaimTemplates: [{ metadata: { name: 'd' }, spec: { resources: {} } }],
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain' },
      ordinals: { start: 0 },
    },
  },
  'apps/daemonsets': {
    spec: {
      selector: { matchLabels: { app: 'a' } },
      template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c' }] } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
    },
  },
  'batch/jobs': {
    spec: {
      completionMode: 'Indexed',
      completions: 3,
      backoffLimitPerIndex: 1,
      template: { spec: { containers: [{ name: 'c' }], restartPolicy: 'Never', nodeSelector: { a: 'b' } } },
      podFailurePolicy: {
        rules: [
          { action: 'Ignore', onExitCodes: { containerName: 'c', operator: 'In', values: [1, 2] } },
          { action: 'FailIndex', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      successPolicy: { rules: [{ succeededIndexes: '0-1', succeededCount: 1 }] },
      suspend: true,
    },
    status: { uncountedTerminatedPods: { succeeded: ['a'] }, startTime: '2025-01-01T00:00:00Z' },
  },
  'batch/cronjobs': {
    spec: {
      schedule: '*/5 * * * *',
      timeZone: 'Etc/UTC',
      jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c' }], restartPolicy: 'Never' } } } },
    },
  },
  'policy/poddisruptionbudgets': {
    spec: { minAvailable: '50%', selector: { matchLabels: { a: 'b' } } },
    status: { conditions: [{ type: 'X', status: 'True', reason: 'R', lastTransitionTime: 't' }] },
  },
  'discovery.k8s.io/endpointslices': {
    addressType: 'IPv6',
    endpoints: [
      {
        addresses: ['fd00::1'],
        hints: { forZones: [{ name: 'z' }], forNodes: [{ name: 'n' }] },
        deprecatedTopology: { a: 'b' },
      },
    ],
    ports: [{ name: 'p', protocol: 'TCP', appProtocol: 'http' }],
  },
  'storage.k8s.io/storageclasses': {
    provisioner: 'p.io/x',
    parameters: { a: 'b' },
    allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['a'] }] }],
  },
  'rbac.authorization.k8s.io/clusterroles': {
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'], nonResourceURLs: ['/x'] }],
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] },
  },
  'rbac.authorization.k8s.io/rolebindings': {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
    subjects: [{ kind: 'ServiceAccount', name: 's', namespace: 'n' }],
  },
  'events.k8s.io/events': {
    eventTime: '2025-01-01T00:00:00Z',
    series: { count: 2, lastObservedTime: '2025-01-01T00:00:00Z' },
    regarding: { namespace: 'default' },
    deprecatedSource: { component: 'c' },
  },
  'scheduling.k8s.io/priorityclasses': { value: 5, preemptionPolicy: 'Never' },
  'coordination.k8s.io/leases': { spec: { leaseDurationSeconds: 5 } },
  'apps/controllerrevisions': { data: { a: 1 }, revision: 1 },
};

/** Every path of a JSON value (objects and arrays). */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  const entries: [string | number, unknown][] = Array.isArray(v)
    ? v.map((x, i) => [i, x])
    : typeof v === 'object' && v !== null
      ? Object.entries(v)
      : [];
  for (const [k, x] of entries) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown): void {
  let cur = root as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) cur = cur[p] as Record<string | number, unknown>;
  cur[path.at(-1) as string | number] = value;
}

describe('totality on mutated valid objects', () => {
  it('never throws when any one field of a sample holds any odd value', () => {
    const strategies = extraStrategies(fakePod);
    const atoms: unknown[] = [null, true, 0, -1, 1.5, 'x', '', [], {}, [null], { x: [] }];
    for (const [key, sample] of Object.entries(samples)) {
      const s = strategies[key];
      assert.ok(s, key);
      for (const path of paths(sample)) {
        for (const atom of atoms) {
          const body = structuredClone(sample);
          setAt(body, path, atom);
          const make = (): KubeObject =>
            ({
              ...structuredClone(body),
              metadata: { name: 'n', uid: 'u', namespace: 'default' },
            }) as KubeObject;
          const good = (): KubeObject =>
            ({
              ...structuredClone(sample),
              metadata: { name: 'n', uid: 'u', namespace: 'default' },
            }) as KubeObject;
          try {
            const obj = make();
            s.prepareForCreate?.(obj, ctx());
            s.defaults?.(obj);
            s.validate?.(obj, ctx());
            for (const [next, old] of [
              [make(), good()],
              [good(), make()],
            ] as const) {
              for (const sub of ['', 'status'] as const) {
                s.prepareForUpdate?.(next, old, ctx(sub));
                s.defaults?.(next);
                s.validate?.(next, ctx(sub));
                s.validateUpdate?.(next, old, ctx(sub));
              }
            }
          } catch (err) {
            assert.fail(
              `${key} threw with ${path.join('.')} = ${JSON.stringify(atom)}: ${(err as Error).stack}`,
            );
          }
        }
      }
    }
  });
});
