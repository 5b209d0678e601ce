import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { FakeRestClient } from '../client/fake.ts';
import { NODES } from '../client/resources.ts';
import type { KubeObject } from '../client/types.ts';
import { ExecIptablesRunner } from '../proxy/iptables.ts';
import { FakeIptables } from '../proxy/testing.ts';
import {
  type CommandRunner,
  cleanupPodNetwork,
  execCommand,
  networkRecordPath,
  PodNetwork,
} from './hostgw.ts';
import { netChains } from './rules.ts';

type NodeObject = Node & KubeObject;

const node = (name: string, podCIDR: string, ip: string): NodeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: { podCIDR, podCIDRs: [podCIDR] },
    status: { addresses: [{ type: 'InternalIP', address: ip }] },
  }) as NodeObject;

/** A fake `ip`: the main table (a connected 10.0.0.0/24 on eth0, a default route) plus skiff's routes. */
function fakeIp() {
  const routes = new Map<string, { dst: string; gateway: string; dev: string; protocol: string }>();
  const base = [
    { dst: 'default', gateway: '10.0.0.254', dev: 'eth0' },
    { dst: '10.0.0.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '10.0.0.1' },
  ];
  const calls: string[] = [];
  const exec: CommandRunner = async (cmd, args) => {
    assert.equal(cmd, 'ip');
    calls.push(args.join(' '));
    const a = args.filter((x) => x !== '-j' && x !== '-4' && x !== '-6');
    if (a[0] === 'route' && a[1] === 'show' && a[2] === 'table')
      return JSON.stringify([...base, ...routes.values()]);
    if (a[0] === 'route' && a[1] === 'show' && a[2] === 'proto')
      // Filtered by protocol: iproute2 leaves the protocol out.
      return JSON.stringify(
        [...routes.values()].filter((r) => r.protocol === a[3]).map(({ protocol: _, ...r }) => r),
      );
    if (a[0] === 'route' && a[1] === 'replace') {
      routes.set(a[2]!, { dst: a[2]!, gateway: a[4]!, dev: a[6]!, protocol: a[8]! });
      return '';
    }
    if (a[0] === 'route' && a[1] === 'del') {
      if (!routes.delete(a[2]!)) throw Object.assign(new Error('ip failed'), { stderr: 'No such process' });
      return '';
    }
    throw new Error(`unexpected ip ${args.join(' ')}`);
  };
  return { exec, routes, calls };
}

async function until(what: string, fn: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('PodNetwork (fake ip and iptables)', () => {
  test('routes follow the Node objects; own node and unreachable nodes get none; cleanup removes all', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'skiffmh-net-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const client = new FakeRestClient();
    await client.create(NODES, '', node('a', '10.42.0.0/24', '10.0.0.1'));
    await client.create(NODES, '', node('b', '10.42.1.0/24', '10.0.0.2'));
    await client.create(NODES, '', node('far', '10.42.9.0/24', '192.168.7.7'));
    const ip = fakeIp();
    // A route of another cluster (same protocol) must survive everything.
    ip.routes.set('10.77.1.0/24', { dst: '10.77.1.0/24', gateway: '10.0.0.9', dev: 'eth0', protocol: '250' });
    const ipt = new FakeIptables();
    const warnings: string[] = [];
    const logger = {
      info() {},
      debug() {},
      error() {},
      warn(f: unknown, msg: string) {
        warnings.push(`${msg} ${JSON.stringify(f)}`);
      },
      child() {
        return logger;
      },
    } as never;
    const net = new PodNetwork({
      client,
      nodeName: 'a',
      clusterCIDR: '10.42.0.0/16',
      dataDir: dir,
      exec: ip.exec,
      iptables: { 4: ipt },
      minSyncPeriodMs: 1,
      logger,
    });
    const ctl = new AbortController();
    t.after(() => ctl.abort());
    await net.start(ctl.signal);
    assert.deepEqual([...ip.routes.keys()].sort(), ['10.42.1.0/24', '10.77.1.0/24']);
    assert.deepEqual(ip.routes.get('10.42.1.0/24'), {
      dst: '10.42.1.0/24',
      gateway: '10.0.0.2',
      dev: 'eth0',
      protocol: '250',
    });
    assert.ok(
      warnings.some((w) => /VXLAN is not implemented/.test(w)),
      warnings.join('\n'),
    );
    const chains = netChains(['10.42.0.0/16']);
    assert.ok(ipt.tables.nat.has(chains.nat));
    assert.ok(ipt.tables.filter.get('FORWARD')!.some((r) => r.includes(chains.filter)));
    assert.deepEqual(JSON.parse(readFileSync(networkRecordPath(dir), 'utf8')).clusterCIDRs, ['10.42.0.0/16']);

    // A node joins, one moves, one leaves.
    await client.create(NODES, '', node('c', '10.42.2.0/24', '10.0.0.3'));
    await until('the route to c', () => ip.routes.has('10.42.2.0/24'));
    const b = await client.get<NodeObject>(NODES, '', 'b');
    b.status!.addresses = [{ type: 'InternalIP', address: '10.0.0.20' }];
    await client.update(NODES, '', b);
    await until('b moved', () => ip.routes.get('10.42.1.0/24')?.gateway === '10.0.0.20');
    await client.delete(NODES, '', 'c');
    await until('the route to c removed', () => !ip.routes.has('10.42.2.0/24'));

    // Heartbeat-only updates cause no sync.
    const before = ip.calls.length;
    const a = await client.get<NodeObject>(NODES, '', 'a');
    a.status!.conditions = [{ type: 'Ready', status: 'True' }];
    await client.update(NODES, '', a);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(ip.calls.length, before);

    // Someone flushes the nat chain's jump: the periodic repair (here: a requested sync) restores it.
    await ipt.restore(`*nat\n-D POSTROUTING ${ipt.tables.nat.get('POSTROUTING')![0]}\nCOMMIT\n`);
    net.requestSync();
    await until('the jump restored', () =>
      ipt.tables.nat.get('POSTROUTING')!.some((r) => r.includes(chains.nat)),
    );

    await net.stop();
    const r = await cleanupPodNetwork({ dataDir: dir, exec: ip.exec, iptables: { 4: ipt } });
    assert.deepEqual(r.routes, ['10.42.1.0/24']);
    assert.deepEqual(r.chains.sort(), [chains.filter, chains.nat].sort());
    assert.deepEqual(r.problems, []);
    assert.deepEqual([...ip.routes.keys()], ['10.77.1.0/24']);
    assert.ok(!ipt.tables.nat.has(chains.nat));
    assert.ok(!ipt.tables.nat.get('POSTROUTING')!.some((x) => x.includes(chains.nat)));
    const again = await cleanupPodNetwork({ dataDir: dir, exec: ip.exec, iptables: { 4: ipt } });
    assert.deepEqual(again, { routes: [], chains: [], problems: [] }, 'idempotent');
  });
});

const CAN_RUN =
  process.getuid?.() === 0 && existsSync('/usr/sbin/ip') && existsSync('/usr/sbin/iptables-restore');

describe('PodNetwork in a real network namespace', {
  skip: CAN_RUN ? false : 'needs root, ip and iptables',
}, () => {
  test('real routes and iptables rules are made and removed exactly', async (t) => {
    const ns = `skiffmhu${process.pid % 10000}`;
    const sh = (args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
    sh(['netns', 'add', ns]);
    t.after(() => {
      try {
        sh(['netns', 'del', ns]);
      } catch {}
    });
    const inNs = (args: string[]) => sh(['netns', 'exec', ns, ...args]);
    inNs(['ip', 'link', 'set', 'lo', 'up']);
    // No dummy links in this kernel: a veth pair with both ends in the namespace is a link too.
    inNs(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
    inNs(['ip', 'addr', 'add', '10.123.200.1/24', 'dev', 'eth0']);
    inNs(['ip', 'link', 'set', 'eth0p', 'up']);
    inNs(['ip', 'link', 'set', 'eth0', 'up']);
    const dir = mkdtempSync(join(tmpdir(), 'skiffmh-net-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const exec: CommandRunner = (cmd, args) => execCommand('ip', ['netns', 'exec', ns, cmd, ...args]);
    const ipt = new ExecIptablesRunner({ netns: ns });
    const client = new FakeRestClient();
    await client.create(NODES, '', node('a', '10.124.0.0/24', '10.123.200.1'));
    await client.create(NODES, '', node('b', '10.124.1.0/24', '10.123.200.2'));
    await client.create(NODES, '', node('c', '10.124.2.0/24', '10.123.200.3'));
    const net = new PodNetwork({
      client,
      nodeName: 'a',
      clusterCIDR: '10.124.0.0/16',
      dataDir: dir,
      exec,
      iptables: { 4: ipt },
      minSyncPeriodMs: 1,
    });
    const ctl = new AbortController();
    t.after(() => ctl.abort());
    await net.start(ctl.signal);
    const routes = () =>
      (
        JSON.parse(inNs(['ip', '-j', 'route', 'show', 'proto', '250'])) as { dst: string; gateway: string }[]
      ).map((r) => `${r.dst} via ${r.gateway}`);
    assert.deepEqual(routes(), ['10.124.1.0/24 via 10.123.200.2', '10.124.2.0/24 via 10.123.200.3']);
    assert.match(inNs(['ip', 'route']), /10\.124\.1\.0\/24 via 10\.123\.200\.2 dev eth0 proto 250/);
    const chains = netChains(['10.124.0.0/16']);
    const nat = inNs(['iptables-save', '-t', 'nat']);
    assert.match(nat, new RegExp(`-A POSTROUTING -m comment --comment "skiff pod network" -j ${chains.nat}`));
    assert.match(nat, /-s 10\.124\.0\.0\/16 -d 10\.124\.0\.0\/16 .*-j RETURN/);
    assert.match(nat, /-s 10\.124\.0\.0\/16 .*-j MASQUERADE --random-fully/);
    assert.match(inNs(['iptables-save', '-t', 'filter']), new RegExp(`-A FORWARD .*-j ${chains.filter}`));

    await client.delete(NODES, '', 'c');
    await until('the route to c removed', () => routes().length === 1);
    await net.stop();
    const r = await cleanupPodNetwork({ dataDir: dir, exec, iptables: { 4: ipt } });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(routes(), []);
    assert.doesNotMatch(inNs(['iptables-save']), /SKIFFNET/);
  });
});
