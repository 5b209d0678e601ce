import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { service, slice } from '../testdata.ts';
import { kernelDeletesChainsAtOnce, NftProxier } from './proxier.ts';
import { FakeNft } from './testing.ts';

function setup(deleteChainsAtOnce = true) {
  const fake = new FakeNft();
  const clock = new FakeClock();
  const p = new NftProxier({
    runner: fake,
    nodeName: 'node-a',
    clusterCIDR: '10.42.0.0/16',
    clock,
    deleteChainsAtOnce,
  });
  return { fake, clock, p };
}

const web = () => service('web', '10.43.0.10', [{ port: 80 }]);
const api = () => service('api', '10.43.0.11', [{ port: 443 }]);
const webSlice = (...ips: string[]) =>
  slice(
    'web',
    [{ port: 8080 }],
    ips.map((ip) => ({ ip })),
  );
/** web with ClientIP affinity: the only kind of service with endpoint chains. */
const stickyWeb = (timeoutSeconds = 600) =>
  service('web', '10.43.0.10', [{ port: 80 }], {
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds } },
  });

/** The elements of the load-balancing map of web's service chain (index → value). */
function webLb(fake: FakeNft): Map<string, string> | undefined {
  const chain = fake.chainsWithPrefix('service-').find((c) => c.includes('/web/'));
  return chain === undefined ? undefined : fake.elements(`lb-${chain}`);
}

/** Lines of the last script that are not element commands. */
function commands(fake: FakeNft, verb: RegExp): string[] {
  return fake.scripts
    .at(-1)!
    .split('\n')
    .filter((l) => verb.test(l));
}

test('the first sync is full: the table is deleted and recreated in one transaction, and nothing else is touched', async () => {
  const { fake, p } = setup();
  // Someone else's table, and leftovers of an earlier run in ours.
  await fake.apply('add table ip filter\nadd chain ip filter INPUT\n');
  await fake.apply(
    'add table ip skiff-proxy\nadd chain ip skiff-proxy endpoint-OLD-ns/gone/tcp/__1.2.3.4/80\n',
  );
  p.setService(web());
  p.setEndpointSlice(webSlice('10.42.0.5'));
  const r = await p.sync();
  assert.equal(r.full, true);
  assert.match(
    fake.scripts.at(-1)!,
    /^add table ip skiff-proxy\ndelete table ip skiff-proxy\nadd table ip skiff-proxy/,
  );
  assert.equal(
    fake.scripts
      .at(-1)!
      .match(/^(add|delete|flush) \S+ ip (\S+)/gm)
      ?.some((l) => !l.endsWith('skiff-proxy')),
    false,
  );
  assert.deepEqual(fake.chainsWithPrefix('endpoint-OLD'), []);
  assert.ok(fake.tables.has('ip filter'), 'another table is left alone');
  assert.deepEqual(fake.chain('nat-prerouting'), ['jump services']);
  assert.deepEqual([...fake.elements('service-ips')!.keys()], ['10.43.0.10 . tcp . 80']);
  assert.deepEqual(fake.chainsWithPrefix('endpoint-'), [], 'no endpoint chains');
  assert.deepEqual([...webLb(fake)!], [['0', '10.42.0.5 . 8080']]);
  assert.deepEqual([...fake.elements('hairpin-pairs')!.keys()], ['10.42.0.5 . 10.42.0.5']);
  assert.equal(r.chainsWritten, 1);

  // Another full sync gives the same table.
  const before = structuredClone([...fake.table()!.chains]);
  assert.equal((await p.sync(true)).full, true);
  assert.deepEqual([...fake.table()!.chains], before);
});

test('an endpoint replaced changes map and set elements only: no chain, no rule', async () => {
  const { fake, p } = setup();
  p.setService(web());
  p.setService(api());
  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.6'));
  p.setEndpointSlice(slice('api', [{ port: 8443 }], [{ ip: '10.42.0.7' }]));
  await p.sync();

  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.9'));
  const r = await p.sync();
  assert.equal(r.full, false);
  assert.equal(r.servicesChanged, 1);
  assert.equal(r.chainsWritten, 0);
  assert.equal(r.chainsDeleted, 0);
  const script = fake.scripts.at(-1)!;
  assert.doesNotMatch(script, /ns\/api/, 'the unchanged service is not touched');
  assert.deepEqual(
    script
      .trim()
      .split('\n')
      .map((l) => l.split(' ').slice(0, 2).join(' ')),
    ['delete element', 'delete element', 'add element', 'add element'],
  );
  assert.deepEqual(
    [...webLb(fake)!],
    [
      ['0', '10.42.0.5 . 8080'],
      ['1', '10.42.0.9 . 8080'],
    ],
  );
  assert.deepEqual([...fake.elements('hairpin-pairs')!.keys()].sort(), [
    '10.42.0.5 . 10.42.0.5',
    '10.42.0.7 . 10.42.0.7',
    '10.42.0.9 . 10.42.0.9',
  ]);

  // Nothing changed: no transaction at all.
  const n = fake.scripts.length;
  p.setService(web());
  const r2 = await p.sync();
  assert.equal(r2.chainsWritten, 0);
  assert.equal(fake.scripts.length, n);
});

test('an endpoint added rewrites the service chain (mod N) in place and adds elements: no chain added', async () => {
  const { fake, p } = setup();
  p.setService(web());
  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.6'));
  await p.sync();

  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.6', '10.42.0.8'));
  const r = await p.sync();
  assert.equal(r.chainsWritten, 1);
  const script = fake.scripts.at(-1)!;
  assert.deepEqual(
    commands(fake, /^(add|flush|delete) chain/).map((l) => l.split(' ').slice(0, 2).join(' ')),
    ['add chain', 'flush chain'],
    'the existing service chain, flushed and rewritten',
  );
  assert.match(
    script,
    /^add rule ip skiff-proxy service-\S+ meta l4proto tcp dnat ip to numgen random mod 3 map @lb-service-\S+$/m,
  );
  assert.match(script, /^add element ip skiff-proxy lb-service-\S+ \{ 2 : 10\.42\.0\.8 \. 8080 \}$/m);
  assert.equal(webLb(fake)!.size, 3);
  assert.deepEqual(fake.chainsWithPrefix('endpoint-'), []);
});

test('a hairpin pair two services share stays while either wants it', async () => {
  const { fake, p } = setup();
  p.setService(web());
  p.setService(api());
  p.setEndpointSlice(webSlice('10.42.0.5'));
  const apiSlice = slice('api', [{ port: 8443 }], [{ ip: '10.42.0.5' }]);
  p.setEndpointSlice(apiSlice);
  await p.sync();
  p.setEndpointSlice(webSlice('10.42.0.6'));
  await p.sync();
  assert.deepEqual([...fake.elements('hairpin-pairs')!.keys()].sort(), [
    '10.42.0.5 . 10.42.0.5',
    '10.42.0.6 . 10.42.0.6',
  ]);
  p.deleteService(api());
  p.deleteEndpointSlice(apiSlice);
  await p.sync();
  assert.deepEqual([...fake.elements('hairpin-pairs')!.keys()], ['10.42.0.6 . 10.42.0.6']);
});

test('ClientIP affinity: a replaced endpoint’s chain goes in the same transaction as the map element pointing to it', async () => {
  const { fake, p } = setup(true);
  p.setService(stickyWeb());
  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.6'));
  await p.sync();
  const old = fake.chainsWithPrefix('endpoint-').find((c) => c.includes('10.42.0.6'))!;
  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.9'));
  const r = await p.sync();
  assert.equal(r.chainsDeleted, 1);
  const script = fake.scripts.at(-1)!.trim().split('\n');
  assert.equal(script.at(-1), `delete chain ip skiff-proxy ${old}`, 'last, after the elements');
  assert.ok(script.indexOf(`flush chain ip skiff-proxy ${old}`) >= 0);
  assert.equal(fake.chain(old), undefined);
  assert.deepEqual(p.staleChains, []);
});

test('ClientIP affinity before kernel 6.2: a replaced endpoint chain is flushed at once and deleted by the first sync a second later', async () => {
  const { fake, clock, p } = setup(false);
  p.setService(stickyWeb());
  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.6'));
  await p.sync();
  const old = fake.chainsWithPrefix('endpoint-').find((c) => c.includes('10.42.0.6'))!;

  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.9'));
  const r = await p.sync();
  assert.equal(r.chainsDeleted, 0);
  assert.match(fake.scripts.at(-1)!, new RegExp(`^flush chain ip skiff-proxy ${old}$`, 'm'));
  assert.doesNotMatch(fake.scripts.at(-1)!, /delete chain/);
  assert.deepEqual(fake.chain(old), [], 'flushed, not deleted yet');
  assert.deepEqual(p.staleChains, [old]);
  // The map element that pointed to it now points to the new endpoint (deleted, then added).
  const lb = [...webLb(fake)!.values()];
  assert.ok(lb.some((v) => v.includes('10.42.0.9')) && !lb.some((v) => v.includes('10.42.0.6')));

  assert.equal(p.pending, false);
  clock.advance(1000);
  assert.equal(p.pending, true, 'stale chains due');
  // With the next change, in the same transaction.
  const n = fake.scripts.length;
  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.9', '10.42.0.10'));
  const r2 = await p.sync();
  assert.equal(fake.scripts.length, n + 1, 'one transaction');
  assert.equal(fake.scripts.at(-1)!.trim().split('\n').at(-1), `delete chain ip skiff-proxy ${old}`);
  assert.equal(r2.chainsDeleted, 1);
  assert.equal(fake.chain(old), undefined);
  assert.deepEqual(p.staleChains, []);
});

test('a service switching ClientIP affinity on and off swaps its DNAT map for a verdict map and back', async () => {
  const { fake, p } = setup();
  p.setService(web());
  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.6'));
  await p.sync();
  p.setService(stickyWeb());
  await p.sync();
  assert.equal(fake.chainsWithPrefix('endpoint-').length, 2);
  assert.match(webLb(fake)!.get('0')!, /^goto endpoint-/);
  p.setService(web());
  await p.sync();
  assert.deepEqual(fake.chainsWithPrefix('endpoint-'), []);
  assert.equal(webLb(fake)!.get('0'), '10.42.0.5 . 8080');
});

test('kernels from 6.2 free a chain at once when the element pointing to it goes', () => {
  assert.equal(kernelDeletesChainsAtOnce('6.18.44-fc-v782'), true);
  assert.equal(kernelDeletesChainsAtOnce('6.2.0'), true);
  assert.equal(kernelDeletesChainsAtOnce('7.0.1'), true);
  assert.equal(kernelDeletesChainsAtOnce('6.1.0-27-amd64'), false);
  assert.equal(kernelDeletesChainsAtOnce('5.15.0-91-generic'), false);
});

test('a service losing its endpoints is rejected; one deleted leaves nothing behind', async () => {
  const { fake, clock, p } = setup();
  p.setService(web());
  p.setService(api());
  p.setEndpointSlice(webSlice('10.42.0.5'));
  const apiSlice = slice('api', [{ port: 8443 }], [{ ip: '10.42.0.7' }]);
  p.setEndpointSlice(apiSlice);
  await p.sync();

  p.setEndpointSlice(webSlice());
  await p.sync();
  assert.deepEqual(
    [...fake.elements('no-endpoint-services')!],
    [['10.43.0.10 . tcp . 80', 'goto reject-chain']],
  );
  assert.ok(!fake.elements('service-ips')!.has('10.43.0.10 . tcp . 80'));
  assert.deepEqual(fake.setsWithPrefix('lb-').length, 1, "web's load-balancing map is gone");

  p.deleteService(api());
  p.deleteEndpointSlice(apiSlice);
  await p.sync();
  assert.deepEqual([...fake.elements('service-ips')!.keys()], []);
  assert.deepEqual([...fake.elements('cluster-ips')!.keys()], ['10.43.0.10']);
  assert.deepEqual(fake.setsWithPrefix('lb-'), []);
  clock.advance(1000);
  await p.sync();
  assert.deepEqual(
    [...fake.table()!.chains.keys()].filter((c) => c.includes('/')),
    [],
    'no service chain left',
  );

  // It comes back: endpoints again, no reject.
  p.setEndpointSlice(webSlice('10.42.0.6'));
  await p.sync();
  assert.deepEqual([...fake.elements('no-endpoint-services')!.keys()], []);
  assert.deepEqual([...webLb(fake)!.values()], ['10.42.0.6 . 8080']);
});

test('a chain flushed and wanted again before its deletion is simply rewritten', async () => {
  const { fake, p } = setup(false);
  p.setService(stickyWeb());
  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.6'));
  await p.sync();
  p.setEndpointSlice(webSlice('10.42.0.5'));
  await p.sync();
  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.6'));
  await p.sync();
  assert.deepEqual(p.staleChains, []);
  const back = fake.chainsWithPrefix('endpoint-').find((c) => c.includes('10.42.0.6'))!;
  assert.equal(fake.chain(back)!.length, 2);
});

test('a failed transaction changes nothing, keeps the change pending and makes the next sync full', async () => {
  const { fake, p } = setup();
  p.setService(web());
  p.setEndpointSlice(webSlice('10.42.0.5'));
  await p.sync();
  p.setEndpointSlice(webSlice('10.42.0.6'));
  fake.failNext = 'boom';
  await assert.rejects(p.sync(), /boom/);
  assert.ok(p.pending);
  const r = await p.sync();
  assert.equal(r.full, true);
  assert.deepEqual([...webLb(fake)!], [['0', '10.42.0.6 . 8080']]);
});

test('two services sharing an external IP and port: the element stays while either wants it', async () => {
  const { fake, p } = setup();
  const a = service('a', '10.43.0.20', [{ port: 80 }], { externalIPs: ['192.168.9.9'] });
  const b = service('b', '10.43.0.21', [{ port: 80 }], { externalIPs: ['192.168.9.9'] });
  p.setService(a);
  p.setService(b);
  p.setEndpointSlice(slice('a', [{ port: 8080 }], [{ ip: '10.42.0.5' }]));
  p.setEndpointSlice(slice('b', [{ port: 8080 }], [{ ip: '10.42.0.6' }]));
  await p.sync();
  const key = '192.168.9.9 . tcp . 80';
  assert.ok(fake.elements('service-ips')!.has(key));
  p.deleteService(b);
  await p.sync();
  assert.match(fake.elements('service-ips')!.get(key)!, /external-\S+-ns\/a\//, "a's now");
  p.deleteService(a);
  await p.sync();
  assert.ok(!fake.elements('service-ips')!.has(key));
});

test('ClientIP affinity: a changed timeout re-declares the sets and rewrites the chains using them', async () => {
  const { fake, p } = setup();
  p.setService(stickyWeb(600));
  p.setEndpointSlice(webSlice('10.42.0.5', '10.42.0.6'));
  await p.sync();
  assert.equal(fake.setsWithPrefix('affinity-').length, 2);
  p.setService(stickyWeb(60));
  await p.sync();
  const affinity = fake.setsWithPrefix('affinity-').map((s) => fake.table()!.sets.get(s)!.spec);
  assert.deepEqual(affinity, Array(2).fill('type ipv4_addr ; flags dynamic,timeout ; timeout 60s ;'));
  // Affinity off: the sets go.
  p.setService(web());
  await p.sync();
  assert.deepEqual(fake.setsWithPrefix('affinity-'), []);
});

test('invalidateTopLevel makes the next sync rewrite the fixed chains; a table deleted by someone makes it fail, then full', async () => {
  const { fake, p } = setup();
  p.setService(web());
  p.setEndpointSlice(webSlice('10.42.0.5'));
  await p.sync();
  // Someone edits a fixed chain.
  await fake.apply('flush chain ip skiff-proxy nat-prerouting\n');
  p.invalidateTopLevel();
  await p.sync();
  assert.deepEqual(fake.chain('nat-prerouting'), ['jump services']);

  await fake.apply('delete table ip skiff-proxy\n');
  p.invalidateTopLevel();
  await assert.rejects(p.sync());
  assert.equal(fake.table(), undefined, 'not recreated half-empty');
  const r = await p.sync();
  assert.equal(r.full, true);
  assert.deepEqual([...webLb(fake)!], [['0', '10.42.0.5 . 8080']]);
});

test('UDP: an endpoint removed deletes its conntrack flows; a first endpoint clears the flows to the service', async () => {
  const { fake, p } = setup();
  p.setService(service('dns', '10.43.0.10', [{ name: 'dns', port: 53, protocol: 'UDP' }]));
  p.setEndpointSlice(slice('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], []));
  await p.sync();
  p.setEndpointSlice(slice('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], [{ ip: '10.42.0.5' }]));
  await p.sync();
  assert.deepEqual(fake.conntrackCalls, [['--orig-dst', '10.43.0.10', '-p', 'udp']]);
  fake.conntrackCalls.length = 0;
  p.setEndpointSlice(slice('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], [{ ip: '10.42.0.6' }]));
  await p.sync();
  assert.deepEqual(fake.conntrackCalls, [
    ['--orig-dst', '10.43.0.10', '--dst-nat', '10.42.0.5', '-p', 'udp'],
  ]);
});
