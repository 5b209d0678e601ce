/**
 * The fake ({@link FakeNft}) against real nft: the same failing and succeeding scripts, and the same
 * proxier scenario, on both; the tables they end up with must match (chains, rule counts, sets and
 * maps, element counts). Real nft runs in a network namespace of its own (`skiffnft-<pid>`, removed
 * at the end); without root or nft only the fake runs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../util/clock.ts';
import { service, slice } from '../testdata.ts';
import { cleanupNftables } from './cleanup.ts';
import { NftProxier } from './proxier.ts';
import { ExecNftRunner, type NftRunner } from './runner.ts';
import { FakeNft } from './testing.ts';

const NETNS = `skiffnft-${process.pid}`;
const REAL = process.getuid?.() === 0 && ['/usr/sbin/nft', '/sbin/nft'].some(existsSync);
const T = 'ip skiff-proxy';

const SETUP = [
  `add table ${T}`,
  `add chain ${T} a`,
  `add chain ${T} b`,
  `add map ${T} m { type inet_proto . inet_service : verdict ; }`,
  `add map ${T} d { typeof numgen random mod 1 : ip daddr . tcp dport ; }`,
  `add rule ${T} a jump b`,
  `add element ${T} m { tcp . 80 : goto b }`,
  '',
].join('\n');

/** Scripts the kernel refuses (after SETUP), and what the fake says about each. */
const FAILING: [string, RegExp][] = [
  [`add rule ${T} nope accept`, /chain nope/],
  [`add rule ${T} a goto nope`, /chain nope/],
  [`add rule ${T} a ip daddr @nope accept`, /set nope/],
  [`delete chain ${T} b`, /referenced/],
  [`flush chain ${T} a\ndelete chain ${T} b`, /referenced from map m/],
  [`add element ${T} m { tcp . 80 : goto a }`, /another value/],
  [`delete element ${T} m { tcp . 81 }`, /element tcp \. 81/],
  [`add map ${T} m { type ipv4_addr : verdict ; }`, /declared otherwise/],
  [`add rule ${T} a numgen random mod 1 vmap @d`, /d is no verdict map/],
  [`add rule ${T} a meta l4proto tcp dnat ip to numgen random mod 1 map @m`, /m is no map of data/],
  [`add element ${T} m { tcp . 81 : 10.0.0.1 . 80 }`, /wrong type for m/],
  [`add element ${T} d { 0 : goto b }`, /wrong type for d/],
  [`add rule ${T} a meta l4proto tcp dnat ip to numgen random mod 1 map @d\ndelete map ${T} d`, /d is used/],
  ['delete table ip skiff-other', /table/],
  ['add chain ip skiff-other x', /table/],
];

/** What the kernel accepts (after SETUP). */
const SUCCEEDING = [
  `add element ${T} m { tcp . 80 : goto b }`, // the same value again: no-op
  `delete element ${T} m { tcp . 80 }`,
  `delete chain ${T} a`, // its rule goes with it
  `delete chain ${T} b`,
  `add set ${T} s { type ipv4_addr ; }`,
  `add element ${T} s { 10.0.0.1, 10.0.0.2 comment "x, y" }`,
  `add element ${T} d { 0 : 10.0.0.1 . 8080, 1 : 10.0.0.2 . 8080 }`,
  `delete element ${T} d { 0 }`,
  `add set ${T} p { type ipv4_addr . ipv4_addr ; }`,
  `add element ${T} p { 10.0.0.1 . 10.0.0.1 }`,
  '',
].join('\n');

interface Shape {
  chains: Record<string, number>;
  sets: Record<string, number>;
}

/** Chains (with their rule counts) and sets/maps (with their element counts) of skiff's table. */
async function shapeOf(runner: NftRunner): Promise<Shape | null> {
  if (runner instanceof FakeNft) {
    const t = runner.table();
    if (!t) return null;
    return {
      chains: Object.fromEntries([...t.chains].map(([c, ch]) => [c, ch.rules.length])),
      sets: Object.fromEntries([...t.sets].map(([s, set]) => [s, set.elements.size])),
    };
  }
  let out: string;
  try {
    out = execFileSync('ip', ['netns', 'exec', NETNS, 'nft', '-j', 'list', 'table', 'ip', 'skiff-proxy'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 << 20,
    });
  } catch {
    return null;
  }
  const items = (
    JSON.parse(out) as { nftables: Record<string, { name?: string; chain?: string; elem?: unknown[] }>[] }
  ).nftables;
  const shape: Shape = { chains: {}, sets: {} };
  for (const item of items) {
    if (item.chain) shape.chains[item.chain.name!] = 0;
    for (const k of ['set', 'map'] as const)
      if (item[k]) shape.sets[item[k].name!] = item[k].elem?.length ?? 0;
  }
  for (const item of items) if (item.rule) shape.chains[item.rule.chain!]!++;
  return shape;
}

function sorted(s: Shape | null): Shape | null {
  if (!s) return s;
  const sort = (o: Record<string, number>) =>
    Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { chains: sort(s.chains), sets: sort(s.sets) };
}

/** A scenario touching every kind of rule, one step per sync. */
function scenario(p: NftProxier, clock: FakeClock): (() => void)[] {
  const sv = (name: string, ip: string, spec: Partial<Service['spec']> = {}, port = 80) =>
    service(
      name,
      ip,
      [{ name: 'p', port, protocol: 'TCP', ...(spec?.type ? { nodePort: 30000 + port } : {}) }],
      spec,
    );
  const sl = (name: string, ips: [string, string][], port = 8080) =>
    slice(
      name,
      [{ name: 'p', port }],
      ips.map(([ip, nodeName]) => ({ ip, nodeName })),
    );
  const lb: Service = {
    ...sv('lb', '10.43.0.16', { type: 'LoadBalancer', loadBalancerSourceRanges: ['192.168.0.0/16'] }, 443),
    status: { loadBalancer: { ingress: [{ ip: '192.168.1.10' }] } },
  };
  const sticky = (timeoutSeconds: number) =>
    sv('sticky', '10.43.0.15', {
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds } },
    });
  return [
    () => {
      p.setService(sv('web', '10.43.0.10'));
      p.setEndpointSlice(
        sl('web', [
          ['10.42.0.5', 'node-a'],
          ['10.42.1.7', 'node-b'],
        ]),
      );
      p.setService(sv('np', '10.43.0.11', { type: 'NodePort', externalIPs: ['192.168.9.9'] }, 81));
      p.setEndpointSlice(sl('np', [['10.42.0.5', 'node-a']]));
      p.setService(sv('etp', '10.43.0.12', { type: 'NodePort', externalTrafficPolicy: 'Local' }, 82));
      p.setEndpointSlice(
        sl('etp', [
          ['10.42.0.5', 'node-a'],
          ['10.42.1.7', 'node-b'],
        ]),
      );
      p.setService(sv('itp', '10.43.0.14', { internalTrafficPolicy: 'Local' }));
      p.setEndpointSlice(sl('itp', [['10.42.1.7', 'node-b']]));
      p.setService(sticky(600));
      p.setEndpointSlice(
        sl('sticky', [
          ['10.42.0.5', 'node-a'],
          ['10.42.0.6', 'node-a'],
        ]),
      );
      p.setService(lb);
      p.setEndpointSlice(sl('lb', [['10.42.0.5', 'node-a']], 8443));
      p.setService(sv('empty', '10.43.0.17'));
      p.setService(service('dns', '10.43.0.53', [{ name: 'dns', port: 53, protocol: 'UDP' }]));
      p.setEndpointSlice(slice('dns', [{ name: 'dns', port: 5353, protocol: 'UDP' }], [{ ip: '10.42.0.8' }]));
    },
    () =>
      p.setEndpointSlice(
        sl('web', [
          ['10.42.0.5', 'node-a'],
          ['10.42.0.9', 'node-a'],
          ['10.42.1.8', 'node-b'],
        ]),
      ),
    () => p.setService(sticky(60)),
    () => {
      p.deleteService(sv('np', '10.43.0.11', { type: 'NodePort' }, 81));
      p.setEndpointSlice(sl('empty', [['10.42.0.5', 'node-a']]));
      p.setEndpointSlice(sl('itp', [['10.42.0.6', 'node-a']]));
      p.setService(sv('sticky', '10.43.0.15'));
    },
    // The same number of endpoints: map and set elements only.
    () =>
      p.setEndpointSlice(
        sl('web', [
          ['10.42.0.5', 'node-a'],
          ['10.42.0.10', 'node-a'],
          ['10.42.1.8', 'node-b'],
        ]),
      ),
    () => p.setService(sticky(30)),
    () => clock.advance(1000),
    () => p.requestFullSync(),
    () => {
      p.setEndpointSlice(sl('web', []));
      p.setService(sv('sticky', '10.43.0.15'));
    },
    () => clock.advance(1000),
  ];
}

describe('FakeNft behaves like nft', { concurrency: false }, () => {
  const runners: [string, () => NftRunner][] = [['fake', () => new FakeNft()]];
  if (REAL) runners.push(['real nft', () => new ExecNftRunner({ netns: NETNS })]);
  before(() => {
    if (!REAL) return;
    execFileSync('ip', ['netns', 'add', NETNS]);
  });
  after(() => {
    if (REAL) execFileSync('ip', ['netns', 'del', NETNS]);
  });
  const reset = async (r: NftRunner) => {
    await r.apply(`add table ${T}\ndelete table ${T}\n`);
  };

  for (const [name, make] of runners) {
    test(`${name}: refused scripts change nothing`, async () => {
      const r = make();
      for (const [script, why] of FAILING) {
        await reset(r);
        await r.apply(SETUP);
        const before = await r.listTable('ip', 'skiff-proxy');
        await assert.rejects(
          r.apply(`add chain ${T} c\n${script}\n`),
          r instanceof FakeNft ? why : /./,
          script,
        );
        assert.equal(await r.listTable('ip', 'skiff-proxy'), before, `${script}: nothing applied`);
      }
    });

    test(`${name}: accepted scripts apply`, async () => {
      const r = make();
      await reset(r);
      await r.apply(SETUP);
      await r.apply(SUCCEEDING);
      assert.deepEqual(sorted(await shapeOf(r)), { chains: {}, sets: { d: 1, m: 0, p: 1, s: 2 } });
      await reset(r);
    });
  }

  for (const deleteChainsAtOnce of [true, false])
    test(`the proxier builds the same table through the fake and through real nft, step by step (chains deleted ${deleteChainsAtOnce ? 'at once' : 'later'})`, async (t) => {
      if (!REAL) return t.skip('needs root and nft');
      const fake = new FakeNft();
      const real = new ExecNftRunner({ netns: NETNS });
      await reset(real);
      const clocks = [new FakeClock(), new FakeClock()] as const;
      const proxiers = [fake, real].map(
        (runner, i) =>
          new NftProxier({
            runner,
            nodeName: 'node-a',
            clusterCIDR: '10.42.0.0/16',
            nodeIPs: ['192.168.1.10'],
            clock: clocks[i],
            deleteChainsAtOnce,
          }),
      );
      const steps = proxiers.map((p, i) => scenario(p, clocks[i]!));
      for (const [n] of steps[0]!.entries()) {
        const results = [];
        for (const [i, p] of proxiers.entries()) {
          steps[i]![n]!();
          results.push(await p.sync());
        }
        assert.deepEqual(results[1]!.chainsWritten, results[0]!.chainsWritten, `step ${n}`);
        assert.deepEqual(sorted(await shapeOf(real)), sorted(await shapeOf(fake)), `step ${n}`);
      }
      const shape = (await shapeOf(real))!;
      assert.ok(Object.keys(shape.chains).some((c) => c.startsWith('firewall-')));
      assert.ok(
        Object.keys(shape.sets).some((s) => s.startsWith('affinity-')) === false,
        'affinity went in the last step',
      );
      assert.deepEqual(
        Object.keys(shape.chains).filter((c) => c.startsWith('endpoint-')),
        [],
        'endpoint chains only with affinity',
      );
      assert.ok(shape.sets['hairpin-pairs']! > 0);

      // Removing the table: once, then nothing to do.
      const r = await cleanupNftables(real);
      assert.equal(r.table, true);
      assert.equal(r.chains, Object.keys(shape.chains).length);
      assert.equal(await real.listTable('ip', 'skiff-proxy'), null);
      assert.deepEqual(await cleanupNftables(real), { table: false, chains: 0 });
    });
});

test('without nft installed there is no table to list (nothing to clean up)', async () => {
  const runner = new ExecNftRunner({ nft: '/nonexistent/nft' });
  assert.equal(await runner.listTable('ip', 'skiff-proxy'), null);
  assert.deepEqual(await cleanupNftables(runner), { table: false, chains: 0 });
  await assert.rejects(runner.apply('add table ip skiff-proxy\n'), /not found/);
});
