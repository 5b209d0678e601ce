import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isServiceChain } from './chains.ts';
import { cleanupRules } from './cleanup.ts';
import { Proxier } from './proxier.ts';
import { JUMP_RULES } from './rules.ts';
import { service, slice } from './testdata.ts';
import { FakeIptables } from './testing.ts';

function setup() {
  const fake = new FakeIptables();
  const p = new Proxier({ runner: fake, nodeName: 'node-a', clusterCIDR: '10.42.0.0/16' });
  return { fake, p };
}

/** Chain names declared (`:NAME`) in a restore input's nat section. */
function natDeclared(input: string): string[] {
  const nat = input.slice(input.indexOf('*nat'));
  return [...nat.matchAll(/^:(\S+)/gm)].map((m) => m[1]!);
}

const web = () => service('web', '10.43.0.10', [{ port: 80 }]);
const api = () => service('api', '10.43.0.11', [{ port: 443 }]);

test('the first sync is full: top-level chains, every jump from the built-in chains once, valid input', async () => {
  const { fake, p } = setup();
  p.setService(web());
  p.setEndpointSlice(slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }]));
  const r = await p.sync();
  assert.equal(r.full, true);
  for (const j of JUMP_RULES) {
    assert.equal(
      fake.chain(j.table, j.chain)!.filter((s) => s === j.spec).length,
      1,
      `${j.table} ${j.chain} ${j.spec}`,
    );
  }
  assert.deepEqual(
    fake.chain('filter', 'FORWARD')!.map((s) => s.split(' -j ')[1]),
    ['SKIFF-EXTERNAL-SERVICES', 'SKIFF-SERVICES', 'SKIFF-FORWARD', 'SKIFF-PROXY-FIREWALL'],
  );
  assert.equal(fake.chainsWithPrefix('nat', 'SKIFF-SEP-').length, 1);
  assert.ok(fake.chain('nat', 'SKIFF-SERVICES')!.at(-1)!.includes('-j SKIFF-NODEPORTS'), 'node ports last');

  // Another full sync adds no second copy of the jumps; a stray duplicate is removed.
  fake.tables.nat.get('PREROUTING')!.push(JUMP_RULES.find((j) => j.chain === 'PREROUTING')!.spec);
  fake.tables.nat.get('OUTPUT')!.push('-m comment --comment "old skiff" -j SKIFF-SERVICES');
  await p.sync(true);
  assert.equal(fake.chain('nat', 'PREROUTING')!.length, 1);
  assert.deepEqual(fake.chain('nat', 'OUTPUT'), [
    JUMP_RULES.find((j) => j.table === 'nat' && j.chain === 'OUTPUT')!.spec,
  ]);
  // A partial sync does not touch the built-in chains.
  p.setService(api());
  await p.sync();
  assert.doesNotMatch(fake.restores.at(-1)!, /^-[ID] (PREROUTING|OUTPUT|POSTROUTING|INPUT|FORWARD) /m);
});

test("an endpoint change rewrites only that service's changed chains; top-level chains only when they change", async () => {
  const { fake, p } = setup();
  p.setService(web());
  p.setService(api());
  p.setEndpointSlice(slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }]));
  p.setEndpointSlice(slice('api', [{ port: 8443 }], [{ ip: '10.42.0.7' }]));
  await p.sync();
  const apiChains = [...fake.tables.nat.keys()].filter(
    (c) => isServiceChain(c) && (fake.chain('nat', c) ?? []).some((r) => r.includes('ns/api')),
  );
  assert.ok(apiChains.length >= 2);

  p.setEndpointSlice(
    slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }, { ip: '10.42.0.8' }]),
  );
  const r = await p.sync();
  assert.equal(r.full, false);
  assert.equal(r.servicesChanged, 1);
  const declared = natDeclared(fake.restores.at(-1)!);
  // SVC (new balancing) and the new endpoint's SEP; the two existing SEPs are unchanged.
  assert.equal(r.chainsWritten, 2);
  assert.deepEqual(declared.filter((c) => c.startsWith('SKIFF-SEP-')).length, 1);
  assert.deepEqual(declared.filter((c) => c.startsWith('SKIFF-SVC-')).length, 1);
  for (const c of apiChains) assert.ok(!declared.includes(c), `${c} of the unchanged service was rewritten`);
  assert.ok(!declared.includes('SKIFF-SERVICES'), 'SKIFF-SERVICES is unchanged');
  assert.doesNotMatch(fake.restores.at(-1)!, /^\*filter/m, 'nothing in the filter table changed');
  assert.equal(fake.chainsWithPrefix('nat', 'SKIFF-SEP-').length, 4);
  assert.match(fake.restores.at(-1)!, /probability 0.3333333333/);

  // Nothing changed: no restore at all.
  const restores = fake.restores.length;
  p.setService(web());
  const r2 = await p.sync();
  assert.equal(r2.chainsWritten, 0);
  assert.equal(fake.restores.length, restores);

  // The service loses its endpoints: SKIFF-SERVICES changes (its jump goes), REJECT in filter.
  p.setEndpointSlice(slice('web', [{ port: 8080 }], []));
  await p.sync();
  const last = fake.restores.at(-1)!;
  assert.ok(natDeclared(last).includes('SKIFF-SERVICES'));
  assert.match(last, /^-A SKIFF-SERVICES -m comment --comment "ns\/web has no endpoints" .* -j REJECT$/m);
  assert.ok(!fake.chain('nat', 'SKIFF-SERVICES')!.some((r) => r.includes('ns/web')));
});

test('stale chains are flushed and deleted: a removed endpoint, a deleted service, a service losing its endpoints', async () => {
  const { fake, p } = setup();
  p.setService(web());
  p.setEndpointSlice(slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }]));
  p.setService(api());
  const apiSlice = slice('api', [{ port: 8443 }], [{ ip: '10.42.0.7' }]);
  p.setEndpointSlice(apiSlice);
  await p.sync();
  assert.equal(fake.chainsWithPrefix('nat', 'SKIFF-SEP-').length, 3);

  p.setEndpointSlice(slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }]));
  const r = await p.sync();
  assert.equal(r.chainsDeleted, 1);
  assert.match(fake.restores.at(-1)!, /^-X SKIFF-SEP-\w+$/m);
  assert.equal(fake.chainsWithPrefix('nat', 'SKIFF-SEP-').length, 2);

  p.deleteService(api());
  p.deleteEndpointSlice(apiSlice);
  await p.sync();
  assert.equal(fake.chainsWithPrefix('nat', 'SKIFF-SEP-').length, 1);
  assert.equal(fake.chainsWithPrefix('nat', 'SKIFF-SVC-').length, 1);
  assert.ok(!fake.chain('nat', 'SKIFF-SERVICES')!.some((r) => r.includes('ns/api')));

  p.setEndpointSlice(slice('web', [{ port: 8080 }], []));
  await p.sync();
  assert.deepEqual(fake.chainsWithPrefix('nat', 'SKIFF-SVC-'), []);
  assert.deepEqual(fake.chainsWithPrefix('nat', 'SKIFF-SEP-'), []);
  assert.deepEqual(fake.chain('filter', 'SKIFF-SERVICES'), [
    '-m comment --comment "ns/web has no endpoints" -m tcp -p tcp -d 10.43.0.10 --dport 80 -j REJECT',
  ]);
});

test('a full sync deletes skiff service chains left by an earlier run, and leaves other chains alone', async () => {
  const { fake, p } = setup();
  await fake.restore(
    '*nat\n:SKIFF-SVC-LEFTOVER - [0:0]\n:SKIFF-SEP-LEFTOVER - [0:0]\n:KUBE-SERVICES - [0:0]\n-A SKIFF-SVC-LEFTOVER -j SKIFF-SEP-LEFTOVER\nCOMMIT\n',
  );
  p.setService(web());
  p.setEndpointSlice(slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }]));
  await p.sync();
  assert.equal(fake.chain('nat', 'SKIFF-SVC-LEFTOVER'), undefined);
  assert.equal(fake.chain('nat', 'SKIFF-SEP-LEFTOVER'), undefined);
  assert.deepEqual(fake.chain('nat', 'KUBE-SERVICES'), []);
  assert.equal(fake.chainsWithPrefix('nat', 'SKIFF-SVC-').length, 1);
});

test('a failed restore keeps the changes pending and makes the next sync full', async () => {
  const { fake, p } = setup();
  p.setService(web());
  p.setEndpointSlice(slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }]));
  await p.sync();
  p.setEndpointSlice(slice('web', [{ port: 8080 }], [{ ip: '10.42.0.6' }]));
  fake.failNext = 'boom';
  await assert.rejects(p.sync(), /boom/);
  assert.ok(p.pending);
  const r = await p.sync();
  assert.equal(r.full, true);
  assert.deepEqual(
    fake.chainsWithPrefix('nat', 'SKIFF-SEP-').map((c) => fake.chain('nat', c)!.at(-1)),
    ['-m comment --comment ns/web -m tcp -p tcp -j DNAT --to-destination 10.42.0.6:8080'],
  );
});

test('UDP: removing an endpoint deletes its conntrack flows; a service getting its first endpoint clears its flows', async () => {
  const { fake, p } = setup();
  p.setService(
    service('dns', '10.43.0.10', [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }], {
      type: 'NodePort',
    }),
  );
  p.setEndpointSlice(slice('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], []));
  await p.sync();
  assert.deepEqual(fake.conntrackCalls, []);
  p.setEndpointSlice(
    slice('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }]),
  );
  await p.sync();
  assert.deepEqual(fake.conntrackCalls, [
    ['--orig-dst', '10.43.0.10', '-p', 'udp'],
    ['-p', 'udp', '--dport', '30053'],
  ]);
  fake.conntrackCalls.length = 0;
  p.setEndpointSlice(slice('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], [{ ip: '10.42.0.6' }]));
  await p.sync();
  assert.deepEqual(fake.conntrackCalls, [
    ['--orig-dst', '10.43.0.10', '--dst-nat', '10.42.0.5', '-p', 'udp'],
    ['-p', 'udp', '--dport', '30053', '--dst-nat', '10.42.0.5'],
  ]);
  // TCP services never touch conntrack.
  fake.conntrackCalls.length = 0;
  p.setService(web());
  p.setEndpointSlice(slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }]));
  await p.sync();
  p.setEndpointSlice(slice('web', [{ port: 8080 }], []));
  await p.sync();
  assert.deepEqual(fake.conntrackCalls, []);
});

test("endpoints merge across a service's slices; a slice deletion removes its endpoints", async () => {
  const { fake, p } = setup();
  p.setService(web());
  const a = slice('web', [{ port: 8080 }], [{ ip: '10.42.0.5' }], 'web-a');
  const b = slice('web', [{ port: 8080 }], [{ ip: '10.42.0.6' }], 'web-b');
  p.setEndpointSlice(a);
  p.setEndpointSlice(b);
  await p.sync();
  assert.equal(fake.chainsWithPrefix('nat', 'SKIFF-SEP-').length, 2);
  p.deleteEndpointSlice(b);
  await p.sync();
  assert.equal(fake.chainsWithPrefix('nat', 'SKIFF-SEP-').length, 1);
});

test('cleanupRules removes every skiff chain and jump, and nothing else; twice is fine', async () => {
  const { fake, p } = setup();
  await fake.restore('*nat\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\nCOMMIT\n');
  p.setService(service('np', '10.43.0.10', [{ port: 80, nodePort: 30080 }], { type: 'NodePort' }));
  p.setEndpointSlice(slice('np', [{ port: 8080 }], [{ ip: '10.42.0.5' }]));
  await p.sync();
  const r = await cleanupRules(fake);
  assert.equal(r.jumps, JUMP_RULES.length);
  assert.deepEqual(fake.chainsWithPrefix('nat', 'SKIFF-'), []);
  assert.deepEqual(fake.chainsWithPrefix('filter', 'SKIFF-'), []);
  assert.deepEqual(fake.chain('nat', 'PREROUTING'), ['-j KUBE-SERVICES']);
  assert.deepEqual(fake.chain('filter', 'FORWARD'), []);
  assert.deepEqual(await cleanupRules(fake), { jumps: 0, chains: 0 });
});
