import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldPath } from '../../../api/errors.ts';
import { isDualStack, isIPv6String, parseCIDR, parseIP, validateNonSpecialIP } from './ip.ts';

test('IP parsing: sloppy IPv4 (leading zeros), IPv6 with :: and embedded IPv4, no zones', () => {
  for (const ok of [
    '10.0.0.1',
    '010.001.0.1',
    '::',
    '::1',
    'fd00::1',
    '2001:db8::ffff',
    '::ffff:10.0.0.1',
    '1:2:3:4:5:6:7:8',
  ]) {
    assert.ok(parseIP(ok), ok);
  }
  for (const bad of [
    '',
    '10.0.0',
    '10.0.0.256',
    '1.2.3.4.5',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    'x',
  ]) {
    assert.equal(parseIP(bad), undefined, bad);
  }
  assert.ok(isIPv6String('fd00::1'));
  assert.ok(!isIPv6String('::ffff:10.0.0.1'));
  assert.ok(isDualStack(['10.0.0.1', 'fd00::1']));
  assert.ok(!isDualStack(['10.0.0.1', '10.0.0.2']));
});

test('CIDRs', () => {
  assert.ok(parseCIDR('10.0.0.0/8'));
  assert.ok(parseCIDR('fd00::/64'));
  assert.equal(parseCIDR('10.0.0.0/33'), undefined);
  assert.equal(parseCIDR('10.0.0.0'), undefined);
});

test('non-special IPs', () => {
  const p = new FieldPath('ip');
  assert.deepEqual(validateNonSpecialIP('10.1.2.3', p), []);
  assert.deepEqual(validateNonSpecialIP('::1', p).map(String), [
    'ip: Invalid value: "::1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
  ]);
  assert.deepEqual(validateNonSpecialIP('224.0.0.5', p).map(String), [
    'ip: Invalid value: "224.0.0.5": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
  ]);
  assert.deepEqual(validateNonSpecialIP('fe80::1', p).map(String), [
    'ip: Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
  ]);
});
