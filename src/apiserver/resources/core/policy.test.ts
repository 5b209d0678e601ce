import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, defaulted } from './testing.ts';

const lr = (limits: unknown[]) => ({ metadata: { name: 'limits', namespace: 'default' }, spec: { limits } });

test('container limit ranges: default ← max, defaultRequest ← default ← min', () => {
  const l = defaulted('limitranges', lr([{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }]));
  assert.deepEqual((l.spec as { limits: unknown[] }).limits[0], {
    type: 'Container',
    max: { cpu: '2' },
    min: { memory: '64Mi' },
    default: { cpu: '2' },
    defaultRequest: { cpu: '2', memory: '64Mi' },
  });
});

test('limit ranges: types, min ≤ default ≤ max, ratios', () => {
  assert.deepEqual(check('limitranges', lr([{ type: 'Container', max: { cpu: '1' }, min: { cpu: '2' } }])), [
    'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
    'spec.limits[0].defaultRequest[cpu]: Invalid value: "1": min value 2 is greater than default request value 1',
    'spec.limits[0].default[cpu]: Invalid value: "2": min value 2 is greater than default value 1',
  ]);
  assert.deepEqual(check('limitranges', lr([{ type: 'Pod', default: { cpu: '1' } }])), [
    "spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'",
  ]);
  assert.deepEqual(check('limitranges', lr([{ type: 'Node' }])), [
    'spec.limits[0].type: Invalid value: "Node": must be a standard limit type or fully qualified',
  ]);
  assert.deepEqual(check('limitranges', lr([{ type: 'Container', maxLimitRequestRatio: { cpu: '0.5' } }])), [
    'spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1',
  ]);
  assert.deepEqual(
    check(
      'limitranges',
      lr([{ type: 'Pod', min: { cpu: '1' }, max: { cpu: '2' }, maxLimitRequestRatio: { cpu: '3' } }]),
    ),
    [
      'spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "3": ratio 3 is greater than max/min = 2.000000',
    ],
  );
  assert.deepEqual(check('limitranges', lr([{ type: 'PersistentVolumeClaim' }])), [
    'spec.limits[0].limits: Required value: either minimum or maximum storage value is required, but neither was provided',
  ]);
  assert.deepEqual(check('limitranges', lr([{ type: 'Container' }, { type: 'Container' }])), [
    'spec.limits[1].type: Duplicate value: "Container"',
  ]);
});

const rq = (spec: unknown, status?: unknown) => ({
  metadata: { name: 'quota', namespace: 'default' },
  spec,
  status,
});

test('resource quotas: names, integer counts, scopes', () => {
  assert.deepEqual(
    check('resourcequotas', rq({ hard: { pods: '10', 'requests.cpu': '4', 'count/deployments.apps': '5' } })),
    [],
  );
  assert.deepEqual(check('resourcequotas', rq({ hard: { pods: '2.5', widgets: '1' } })), [
    'spec.hard[pods]: Invalid value: "2500m": must be an integer',
    'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource type or fully qualified',
    'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota',
  ]);
  assert.deepEqual(check('resourcequotas', rq({ hard: { cpu: '1' }, scopes: ['BestEffort'] })), [
    'spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource',
  ]);
  assert.deepEqual(
    check('resourcequotas', rq({ hard: { pods: '1' }, scopes: ['Terminating', 'NotTerminating'] })),
    ['spec.scopes: Invalid value: ["Terminating","NotTerminating"]: conflicting scopes'],
  );
  assert.deepEqual(
    check(
      'resourcequotas',
      rq({
        hard: { pods: '1' },
        scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In' }] },
      }),
    ),
    [
      "spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
    ],
  );
});

test('resource quota scopes are immutable', () => {
  const old = rq({ hard: { pods: '1' }, scopes: ['NotBestEffort'] });
  assert.deepEqual(
    check('resourcequotas', rq({ hard: { pods: '2' }, scopes: ['NotBestEffort'] }), {
      old: structuredClone(old),
    }),
    [],
  );
  assert.deepEqual(check('resourcequotas', rq({ hard: { pods: '2' } }), { old: structuredClone(old) }), [
    'spec.scopes: Invalid value: []: field is immutable',
  ]);
});

test('resource quota status values', () => {
  assert.deepEqual(check('resourcequotas', rq({ hard: { pods: '1' } }, { used: { pods: '-1' } })), [
    'status.used[pods]: Invalid value: "-1": must be greater than or equal to 0',
  ]);
});
