import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { FakeIptables } from '../proxy/testing.ts';
import {
  canonicalCidr,
  chainRules,
  cidrContains,
  desiredRoutes,
  installInput,
  isJumpTo,
  linkTo,
  netChains,
  ownedRoutes,
  removeInput,
  routeChanges,
  splitCidrs,
} from './rules.ts';

const node = (name: string, podCIDRs: string[] | undefined, ips: string[]): Node => ({
  metadata: { name },
  spec: podCIDRs ? { podCIDR: podCIDRs[0], podCIDRs } : {},
  status: {
    addresses: [
      ...ips.map((address) => ({ type: 'InternalIP', address })),
      { type: 'Hostname', address: name },
    ],
  },
});

test('CIDR arithmetic: containment and canonical form, both families', () => {
  assert.ok(cidrContains('10.42.0.0/16', '10.42.3.0/24'));
  assert.ok(cidrContains('10.42.0.0/16', '10.42.255.7'));
  assert.ok(!cidrContains('10.42.0.0/16', '10.43.0.0/24'));
  assert.ok(!cidrContains('10.42.0.0/24', '10.42.0.0/16'), 'a wider CIDR is not inside');
  assert.ok(cidrContains('0.0.0.0/0', '1.2.3.4/32'));
  assert.ok(cidrContains('fd00:42::/56', 'fd00:42:0:1::/64'));
  assert.ok(!cidrContains('fd00:42::/56', 'fd00:43::/64'));
  assert.ok(!cidrContains('10.42.0.0/16', 'fd00:42::/64'), 'families never mix');
  assert.equal(canonicalCidr('10.42.1.7/24'), '10.42.1.0/24');
  assert.equal(canonicalCidr('fd00:42:0:1:0:0:0:0/64'), 'fd00:42:0:1::/64');
  assert.equal(canonicalCidr('fd00::1/128'), 'fd00::1/128');
  assert.deepEqual(splitCidrs(' 10.42.0.0/16, fd00::/56 '), ['10.42.0.0/16', 'fd00::/56']);
});

test('desired routes: every other node podCIDR via its InternalIP of the same family', () => {
  const { routes, skipped } = desiredRoutes(
    [
      node('self', ['10.42.0.0/24'], ['10.0.0.1']),
      node('b', ['10.42.1.0/24', 'fd00:42:0:1::/64'], ['10.0.0.2', 'fd00::2']),
      node('c', ['10.42.2.0/24'], ['10.0.0.3']),
      node('no-cidr-yet', undefined, ['10.0.0.4']),
      node('v4-only', ['fd00:42:0:5::/64'], ['10.0.0.5']),
      node('elsewhere', ['10.99.0.0/24'], ['10.0.0.6']),
    ],
    'self',
    ['10.42.0.0/16', 'fd00:42::/56'],
  );
  assert.deepEqual(routes, [
    { dst: '10.42.1.0/24', via: '10.0.0.2', node: 'b' },
    { dst: 'fd00:42:0:1::/64', via: 'fd00::2', node: 'b' },
    { dst: '10.42.2.0/24', via: '10.0.0.3', node: 'c' },
  ]);
  assert.deepEqual(
    skipped.map((s) => s.node),
    ['v4-only', 'elsewhere'],
  );
});

test('owned routes are proto-250 routes inside the cluster CIDR only', () => {
  const json = JSON.stringify([
    { dst: '10.42.1.0/24', gateway: '10.0.0.2', dev: 'eth0', protocol: '250', flags: [] },
    { dst: '10.77.1.0/24', gateway: '10.0.0.9', dev: 'eth0', protocol: '250', flags: [] },
    { dst: '10.42.9.9', gateway: '10.0.0.2', dev: 'eth0', protocol: '250', flags: [] },
    { dst: 'default', gateway: '10.0.0.254', protocol: '250' },
  ]);
  assert.deepEqual(
    ownedRoutes(json, ['10.42.0.0/16']).map((r) => r.dst),
    ['10.42.1.0/24', '10.42.9.9/32'],
  );
  assert.deepEqual(ownedRoutes('', ['10.42.0.0/16']), []);
  assert.deepEqual(ownedRoutes('not json', ['10.42.0.0/16']), []);
});

test('route changes: missing or moved routes replaced, routes of departed nodes removed', () => {
  const { replace, remove } = routeChanges(
    [
      { dst: '10.42.1.0/24', via: '10.0.0.2', node: 'b' },
      { dst: '10.42.2.0/24', via: '10.0.0.30', node: 'c' },
      { dst: '10.42.4.0/24', via: '10.0.0.4', node: 'd' },
    ],
    [
      { dst: '10.42.1.0/24', gateway: '10.0.0.2' },
      { dst: '10.42.2.0/24', gateway: '10.0.0.3' },
      { dst: '10.42.3.0/24', gateway: '10.0.0.5' },
    ],
  );
  assert.deepEqual(
    replace.map((r) => r.dst),
    ['10.42.2.0/24', '10.42.4.0/24'],
  );
  assert.deepEqual(
    remove.map((r) => r.dst),
    ['10.42.3.0/24'],
  );
});

test('chains are per cluster CIDR, outside kube-proxy SKIFF- namespace, within 28 characters', () => {
  const a = netChains(['10.42.0.0/16']);
  const b = netChains(['10.77.0.0/16']);
  assert.notEqual(a.nat, b.nat);
  assert.deepEqual(netChains(['10.42.0.1/16']), a, 'the same network however written');
  for (const c of [a.nat, a.filter]) {
    assert.ok(c.length <= 28, c);
    assert.ok(!c.startsWith('SKIFF-'), c);
  }
  const rules = chainRules(['10.42.0.0/16'], 4, a);
  assert.deepEqual(rules.nat, [
    `-A ${a.nat} -s 10.42.0.0/16 -d 10.42.0.0/16 -m comment --comment "skiff pod to pod: no NAT" -j RETURN`,
    `-A ${a.nat} -s 10.42.0.0/16 -d 224.0.0.0/4 -m comment --comment "skiff pod multicast: no NAT" -j RETURN`,
    `-A ${a.nat} -s 10.42.0.0/16 -m comment --comment "skiff pod to the outside: masquerade" -j MASQUERADE --random-fully`,
  ]);
  assert.equal(rules.filter.length, 2);
});

test('install then remove through iptables-restore: jumps added once, everything removed exactly', async () => {
  const ipt = new FakeIptables();
  // Someone else's rules, and another cluster's chain, stay.
  await ipt.restore('*nat\n:OTHER - [0:0]\n-A POSTROUTING -j OTHER\nCOMMIT\n');
  const save = async () => ({ nat: await ipt.save('nat'), filter: await ipt.save('filter') });
  const other = ['10.77.0.0/16'];
  await ipt.restore(installInput(other, 4, await save()));
  const cidrs = ['10.42.0.0/16'];
  const chains = netChains(cidrs);
  await ipt.restore(installInput(cidrs, 4, await save()));
  await ipt.restore(installInput(cidrs, 4, await save()));
  const post = ipt.tables.nat.get('POSTROUTING')!;
  assert.equal(post.filter((r) => r.includes(`-j ${chains.nat}`)).length, 1, post.join('\n'));
  assert.ok(post[0]!.includes(`-j ${chains.nat}`), 'the nat jump comes first');
  assert.equal(ipt.tables.nat.get(chains.nat)!.length, 3, 'rewritten, not appended twice');
  const fwd = ipt.tables.filter.get('FORWARD')!;
  assert.equal(fwd.filter((r) => r.includes(`-j ${chains.filter}`)).length, 1);
  assert.ok(isJumpTo(`-A ${post[0]}`, chains.nat));

  await ipt.restore(removeInput(chains, await save()));
  assert.ok(!ipt.tables.nat.has(chains.nat));
  assert.ok(!ipt.tables.filter.has(chains.filter));
  assert.ok(!ipt.tables.nat.get('POSTROUTING')!.some((r) => r.includes(chains.nat)));
  assert.ok(ipt.tables.nat.has('OTHER'));
  assert.ok(ipt.tables.nat.has(netChains(other).nat), "another cluster's chain stays");
  assert.equal(removeInput(chains, await save()), '', 'nothing left to remove');
});

test('a node is on a shared link when the longest matching route has no gateway', () => {
  const table = [
    { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
    { dst: '10.0.0.0/24', dev: 'eth1', protocol: 'kernel' },
    { dst: '10.0.0.128/25', gateway: '10.0.0.1', dev: 'eth1' },
    { dst: '10.42.1.0/24', gateway: '10.0.0.2', dev: 'eth1', protocol: '250' },
    { dst: '10.9.0.0/16', type: 'unreachable' },
  ];
  assert.deepEqual(linkTo('10.0.0.2', table), { ok: true, dev: 'eth1' });
  const routed = linkTo('10.0.0.200', table);
  assert.equal(routed.ok, false);
  assert.match(!routed.ok ? routed.reason : '', /gateway 10\.0\.0\.1.*VXLAN is not implemented/);
  assert.match(JSON.stringify(linkTo('172.16.0.9', table)), /gateway 192\.0\.2\.1/);
  assert.deepEqual(linkTo('10.9.1.1', table), { ok: false, reason: 'the host has no route to it' });
  assert.deepEqual(linkTo('10.42.1.5', table).ok, false, "skiff's own routes never count");
  assert.equal(linkTo('10.0.0.2', []).ok, false);
});
