import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, defaulted } from './testing.ts';

const ep = (subsets: unknown) => ({ metadata: { name: 'web', namespace: 'default' }, subsets });

test('endpoint ports default to TCP', () => {
  const e = defaulted('endpoints', ep([{ addresses: [{ ip: '10.1.0.5' }], ports: [{ port: 80 }] }]));
  assert.deepEqual(e.subsets, [{ addresses: [{ ip: '10.1.0.5' }], ports: [{ port: 80, protocol: 'TCP' }] }]);
});

test('subsets need addresses; addresses are real, non-special IPs', () => {
  assert.deepEqual(check('endpoints', ep([{ ports: [{ port: 80 }] }])), [
    'subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`',
  ]);
  assert.deepEqual(check('endpoints', ep([{ addresses: [{ ip: '169.254.1.1' }, { ip: '0.0.0.0' }] }])), [
    'subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    'subsets[0].addresses[1].ip: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)',
  ]);
});

test('endpoint ports: names with several, port range, protocol', () => {
  assert.deepEqual(
    check(
      'endpoints',
      ep([{ addresses: [{ ip: '10.1.0.5' }], ports: [{ port: 80 }, { port: 0, name: 'b' }] }]),
    ),
    [
      'subsets[0].ports[0].name: Required value',
      'subsets[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    ],
  );
});
