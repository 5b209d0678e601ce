import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressIpv6 } from './ipv6.ts';

test('compressIpv6 folds the longest run of two or more zero groups, the first on a tie', () => {
  assert.equal(compressIpv6(['fd00', '0', '0', '0', '0', '0', '0', '1']), 'fd00::1');
  assert.equal(compressIpv6(['0', '0', '0', '0', '0', '0', '0', '0']), '::');
  assert.equal(compressIpv6(['2001', 'db8', '0', '1', '0', '0', '0', '1']), '2001:db8:0:1::1');
  assert.equal(compressIpv6(['1', '0', '0', '2', '0', '0', '3', '4']), '1::2:0:0:3:4');
  assert.equal(compressIpv6(['1', '2', '3', '4', '5', '6', '7', '0']), '1:2:3:4:5:6:7:0');
  assert.equal(compressIpv6(['fd00', '10', '0', '0', '0', '0', '0', '0']), 'fd00:10::');
});
