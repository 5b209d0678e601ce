import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, defaulted } from './testing.ts';

const node = (spec: unknown = {}, status: unknown = {}) => ({ metadata: { name: 'node-1' }, spec, status });

test('node defaults: allocatable from capacity, podCIDR and podCIDRs in step', () => {
  const n = defaulted('nodes', node({ podCIDR: '10.244.0.0/24' }, { capacity: { cpu: 4, memory: '8Gi' } }));
  assert.deepEqual(n.spec, { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] });
  assert.deepEqual(n.status, {
    capacity: { cpu: '4', memory: '8Gi' },
    allocatable: { cpu: '4', memory: '8Gi' },
  });
});

test('taints (reported under metadata.taints, as Kubernetes does)', () => {
  assert.deepEqual(
    check(
      'nodes',
      node({
        taints: [
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
          { key: 'dedicated', effect: 'NoSchedule' },
          { key: 'x' },
        ],
      }),
    ),
    [
      'metadata.taints[1]: Duplicate value: {"key":"dedicated","effect":"NoSchedule"}: taints must be unique by key and effect pair',
      'metadata.taints[2].effect: Required value',
    ],
  );
});

test('capacity values and pod CIDRs', () => {
  assert.deepEqual(check('nodes', node({}, { capacity: { cpu: '-1' }, allocatable: { cpu: '1' } })), [
    'status.capacity.cpu: Invalid value: "-1": must be greater than or equal to 0',
  ]);
  assert.deepEqual(check('nodes', node({ podCIDRs: ['10.0.0.0/33'] })), [
    'spec.podCIDRs[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
  ]);
  assert.deepEqual(check('nodes', node({ podCIDRs: ['10.0.0.0/24', 'fd00::/64'] })), []);
});

test('updates: pod CIDRs and provider ID are set once', () => {
  const old = node({ podCIDRs: ['10.0.0.0/24'], providerID: 'skiff://node-1' });
  assert.deepEqual(
    check('nodes', node({ podCIDRs: ['10.0.1.0/24'], providerID: 'skiff://node-1' }), {
      old: structuredClone(old),
    }),
    ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid'],
  );
  assert.deepEqual(
    check('nodes', node({ podCIDRs: ['10.0.0.0/24'], providerID: 'other' }), { old: structuredClone(old) }),
    ['spec.providerID: Forbidden: node updates may not change providerID except from "" to valid'],
  );
  assert.deepEqual(check('nodes', node({ podCIDRs: ['10.0.0.0/24'] }), { old: node() }), []);
});

test('status updates: addresses are unique', () => {
  const old = node();
  const next = node(
    {},
    {
      addresses: [
        { type: 'InternalIP', address: '10.0.0.5' },
        { type: 'InternalIP', address: '10.0.0.5' },
      ],
    },
  );
  assert.deepEqual(check('nodes', next, { old, sub: 'status' }), [
    'status.addresses[1]: Duplicate value: {"type":"InternalIP","address":"10.0.0.5"}',
  ]);
});
