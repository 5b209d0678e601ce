import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addressFromReverse,
  canonical,
  dashedIp,
  ipFromPodLabel,
  normalizeIp,
  reverseName,
  trimZone,
} from './names.ts';

test('canonical names: lower case, no trailing dot', () => {
  assert.equal(canonical('Web.Default.SVC.cluster.local.'), 'web.default.svc.cluster.local');
});

test('trimZone: the labels before the zone, only at a label boundary', () => {
  assert.equal(trimZone('a.b.cluster.local', 'cluster.local'), 'a.b');
  assert.equal(trimZone('cluster.local', 'cluster.local'), '');
  assert.equal(trimZone('xcluster.local', 'cluster.local'), null);
  assert.equal(trimZone('example.com', 'cluster.local'), null);
});

test('reverse names both ways, IPv4 and IPv6', () => {
  assert.equal(addressFromReverse('4.3.2.1.in-addr.arpa'), '1.2.3.4');
  assert.equal(addressFromReverse('3.2.1.in-addr.arpa'), null);
  assert.equal(addressFromReverse('300.3.2.1.in-addr.arpa'), null);
  assert.equal(reverseName('10.43.0.10'), '10.0.43.10.in-addr.arpa');
  const v6 = reverseName('fd00::10');
  assert.equal(v6, '0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa');
  assert.equal(addressFromReverse(v6), 'fd00::10');
});

test('IPv6 normal form', () => {
  assert.equal(normalizeIp('FD00:0:0:0:0:0:0:10'), 'fd00::10');
  assert.equal(normalizeIp('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
  assert.equal(normalizeIp('10.0.0.1'), '10.0.0.1');
});

test('endpoint and pod labels', () => {
  assert.equal(dashedIp('10.42.0.5'), '10-42-0-5');
  assert.equal(dashedIp('fd00::5'), 'fd00--5');
  assert.equal(ipFromPodLabel('10-42-0-5'), '10.42.0.5');
  assert.equal(ipFromPodLabel('fd00--5'), 'fd00::5');
  assert.equal(ipFromPodLabel('web-0'), null);
  assert.equal(ipFromPodLabel('1-2-3'), null);
});
