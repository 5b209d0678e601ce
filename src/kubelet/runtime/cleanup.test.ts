import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { IptablesRunner } from '../../proxy/iptables.ts';
import {
  type CommandRunner,
  cachedResultsOf,
  cniRuleCleanup,
  mountPointsUnder,
  processStart,
  readNodeFacts,
  runcContainersUnder,
  safeCgroupRoot,
  sharedHostportCleanup,
  shimSocketFromArgv,
  shimSocketPath,
  splitRule,
  tasksIn,
  uninstallNode,
} from './cleanup.ts';
import { CNI_CONFLIST_NAME, cniConflist } from './cni.ts';
import { containerdPaths } from './config.ts';

const ID1 = 'a'.repeat(64);
const ID2 = 'b'.repeat(64);
const ID3 = 'c'.repeat(64);

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '100 22 0:50 / /tmp/d rw - tmpfs tmpfs rw',
  '101 100 0:51 / /tmp/d/agent/containerd/state/io.containerd.runtime.v2.task/k8s.io/x/rootfs rw - overlay overlay rw',
  '102 100 0:4 net:[4026532300] /tmp/d/agent/containerd/state/netns/cni-1 rw - nsfs nsfs rw',
  '103 22 0:52 / /tmp/dd/other rw - tmpfs tmpfs rw',
  '104 100 0:53 / /tmp/d/agent/kubelet/pods/u/volumes/with\\040space rw - tmpfs tmpfs rw',
  '105 100 0:54 / /tmp/d/agent/kubelet/pods/u/volumes/with\\040space rw - tmpfs tmpfs rw',
  '',
].join('\n');

test('mountPointsUnder: at or under the dir, deepest first, unescaped, without duplicates', () => {
  assert.deepEqual(mountPointsUnder(MOUNTINFO, '/tmp/d'), [
    '/tmp/d/agent/containerd/state/io.containerd.runtime.v2.task/k8s.io/x/rootfs',
    '/tmp/d/agent/kubelet/pods/u/volumes/with space',
    '/tmp/d/agent/containerd/state/netns/cni-1',
    '/tmp/d',
  ]);
  assert.deepEqual(mountPointsUnder(MOUNTINFO, '/tmp/d/'), mountPointsUnder(MOUNTINFO, '/tmp/d'));
  assert.deepEqual(mountPointsUnder(MOUNTINFO, '/tmp/dd'), ['/tmp/dd/other']);
  assert.deepEqual(mountPointsUnder(MOUNTINFO, '/nowhere'), []);
});

// As `iptables -t nat -S` prints them (bridge ipMasq for two networks, portmap for one).
const NAT = String.raw`-P PREROUTING ACCEPT
-P POSTROUTING ACCEPT
-N CNI-1645fe9768ee203728bb439f
-N CNI-2222fe9768ee203728bb4333
-N CNI-DN-0c6d2bfe7b3b0dd8e8c6b
-N CNI-HOSTPORT-DNAT
-N CNI-HOSTPORT-MASQ
-N CNI-HOSTPORT-SETMARK
-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ
-A POSTROUTING -s 10.88.9.2/32 -m comment --comment "name: \"skiffh9\" id: \"${ID1}\"" -j CNI-1645fe9768ee203728bb439f
-A POSTROUTING -s 10.88.2.2/32 -m comment --comment "name: \"skiffh9x\" id: \"${ID2}\"" -j CNI-2222fe9768ee203728bb4333
-A CNI-1645fe9768ee203728bb439f -d 10.88.9.0/24 -m comment --comment "name: \"skiffh9\" id: \"${ID1}\"" -j ACCEPT
-A CNI-1645fe9768ee203728bb439f ! -d 224.0.0.0/4 -m comment --comment "name: \"skiffh9\" id: \"${ID1}\"" -j MASQUERADE
-A CNI-2222fe9768ee203728bb4333 ! -d 224.0.0.0/4 -m comment --comment "name: \"skiffh9x\" id: \"${ID2}\"" -j MASQUERADE
-A CNI-DN-0c6d2bfe7b3b0dd8e8c6b -s 10.88.9.0/24 -p tcp -m tcp --dport 39109 -j CNI-HOSTPORT-SETMARK
-A CNI-DN-0c6d2bfe7b3b0dd8e8c6b -p tcp -m tcp --dport 39109 -j DNAT --to-destination 10.88.9.2:8080
-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"skiffh9\" id: \"${ID1}\"" -m multiport --dports 39109 -j CNI-DN-0c6d2bfe7b3b0dd8e8c6b
-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE
-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000
`;

test('splitRule keeps a quoted comment as one argument, unescaped', () => {
  assert.deepEqual(
    splitRule('-A POSTROUTING -s 1.2.3.4/32 -m comment --comment "name: \\"n\\" id: \\"x\\"" -j CNI-1'),
    [
      '-A',
      'POSTROUTING',
      '-s',
      '1.2.3.4/32',
      '-m',
      'comment',
      '--comment',
      'name: "n" id: "x"',
      '-j',
      'CNI-1',
    ],
  );
});

test("cniRuleCleanup: only the network's own rules and per-sandbox chains", () => {
  const c = cniRuleCleanup(NAT, 'skiffh9');
  assert.deepEqual(c.chains.sort(), ['CNI-1645fe9768ee203728bb439f', 'CNI-DN-0c6d2bfe7b3b0dd8e8c6b']);
  assert.equal(c.deletes.length, 4);
  for (const d of c.deletes) {
    assert.equal(d[0], '-D');
    assert.ok(d.some((a) => a.includes('name: "skiffh9" ')));
  }
  assert.deepEqual(c.deletes[0]?.slice(0, 2), ['-D', 'POSTROUTING']);
  assert.deepEqual(cniRuleCleanup(NAT, 'skiffh9x').chains, ['CNI-2222fe9768ee203728bb4333']);
  assert.deepEqual(cniRuleCleanup(NAT, 'skiff'), { deletes: [], chains: [] });
});

test("sharedHostportCleanup: portmap's chains go only once no network has a hostPort", () => {
  assert.deepEqual(sharedHostportCleanup(NAT), { deletes: [], chains: [] });
  const empty = NAT.split('\n')
    .filter((l) => !l.startsWith('-A CNI-HOSTPORT-DNAT '))
    .join('\n');
  const c = sharedHostportCleanup(empty);
  assert.deepEqual(c.chains, ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ']);
  assert.deepEqual(
    c.deletes.map((d) => `${d[1]} -> ${d[d.length - 1]}`),
    [
      'PREROUTING -> CNI-HOSTPORT-DNAT',
      'OUTPUT -> CNI-HOSTPORT-DNAT',
      'POSTROUTING -> CNI-HOSTPORT-MASQ',
      // The per-sandbox DN chain's jump into SETMARK: the chain must be gone (it is, after cniRuleCleanup).
      'CNI-DN-0c6d2bfe7b3b0dd8e8c6b -> CNI-HOSTPORT-SETMARK',
    ],
  );
  assert.deepEqual(sharedHostportCleanup('-P PREROUTING ACCEPT\n'), { deletes: [], chains: [] });
});

test('shim sockets: sha256 of address/namespace/id under /run/containerd/s', () => {
  const want = createHash('sha256').update('/tmp/d/agent/run/containerd.sock/k8s.io/abc').digest('hex');
  assert.equal(
    shimSocketPath('/tmp/d/agent/run/containerd.sock', 'k8s.io', 'abc'),
    `/run/containerd/s/${want}`,
  );
  const argv = [
    '/usr/bin/containerd-shim-runc-v2',
    '-namespace',
    'k8s.io',
    '-id',
    'abc',
    '-address',
    '/tmp/d/agent/run/containerd.sock',
  ];
  assert.equal(shimSocketFromArgv(argv), `/run/containerd/s/${want}`);
  assert.equal(shimSocketFromArgv(['/usr/bin/containerd', '--config', 'x']), undefined);
});

test("cachedResultsOf: the network's results and the loopback results of the same sandboxes", () => {
  const names = [
    `skiffh9-${ID1}-eth0`,
    `skiffh9x-${ID2}-eth0`,
    `cni-loopback-${ID1}-lo`,
    `cni-loopback-${ID2}-lo`,
    `cni-loopback-${ID3}-lo`,
    'skiffh9-short-eth0',
  ];
  assert.deepEqual(cachedResultsOf(names, 'skiffh9'), [`skiffh9-${ID1}-eth0`, `cni-loopback-${ID1}-lo`]);
  assert.deepEqual(cachedResultsOf(names, 'skiffh9', [ID3]), [
    `skiffh9-${ID1}-eth0`,
    `cni-loopback-${ID1}-lo`,
    `cni-loopback-${ID3}-lo`,
  ]);
  assert.deepEqual(cachedResultsOf(names, 'skiff.h9'), []);
});

test('safeCgroupRoot refuses the root and parent references', () => {
  assert.equal(safeCgroupRoot('skiff'), 'skiff');
  assert.equal(safeCgroupRoot('/skiff/'), 'skiff');
  assert.equal(safeCgroupRoot('a/b'), 'a/b');
  for (const bad of ['', '/', '..', 'a/../b', 'a//b', './a'])
    assert.equal(safeCgroupRoot(bad), undefined, bad);
});

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-cleanup-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('readNodeFacts: overrides, then node.json, then the conflist, then the defaults', async (t) => {
  const dir = await tempDir(t);
  const paths = containerdPaths(dir);
  let facts = await readNodeFacts(dir, {}, '/var/lib/cni');
  assert.deepEqual(facts.node, {
    nodeName: '',
    cniBridge: 'cni0',
    cniNetwork: 'skiff',
    cgroupRoot: 'skiff',
    socket: paths.socket,
  });
  assert.equal(facts.ownContainerd, true);
  assert.equal(facts.ipamDataDir, '/var/lib/cni/networks');

  await mkdir(paths.cniConfDir, { recursive: true });
  const conflist = cniConflist({
    podCIDRs: ['10.9.0.0/24'],
    networkName: 'netc',
    bridge: 'brc',
    ipamDataDir: '/x/leases',
  });
  await writeFile(join(paths.cniConfDir, CNI_CONFLIST_NAME), JSON.stringify(conflist));
  facts = await readNodeFacts(dir, {}, '/var/lib/cni');
  assert.equal(facts.node.cniNetwork, 'netc');
  assert.equal(facts.node.cniBridge, 'brc');
  assert.equal(facts.ipamDataDir, '/x/leases');

  await writeFile(
    join(dir, 'agent', 'node.json'),
    JSON.stringify({
      nodeName: 'n1',
      cniBridge: 'brj',
      cniNetwork: 'netj',
      cgroupRoot: 'cgj',
      socket: '/run/other.sock',
    }),
  );
  facts = await readNodeFacts(dir, {}, '/var/lib/cni');
  assert.deepEqual(facts.node, {
    nodeName: 'n1',
    cniBridge: 'brj',
    cniNetwork: 'netj',
    cgroupRoot: 'cgj',
    socket: '/run/other.sock',
  });
  assert.equal(facts.ownContainerd, false, 'an external runtime');
  facts = await readNodeFacts(dir, { cniBridge: 'bro', socket: `unix://${paths.socket}` }, '/var/lib/cni');
  assert.equal(facts.node.cniBridge, 'bro');
  assert.equal(facts.node.cniNetwork, 'netj');
  assert.equal(facts.ownContainerd, true);
});

test('tasksIn lists the bundles in the state dir with their init pids', async (t) => {
  const dir = await tempDir(t);
  const base = join(dir, 'io.containerd.runtime.v2.task');
  await mkdir(join(base, 'k8s.io', 'x1'), { recursive: true });
  await mkdir(join(base, 'k8s.io', 'x2'), { recursive: true });
  await writeFile(join(base, 'k8s.io', 'x1', 'init.pid'), '4242');
  const tasks = (await tasksIn(dir)).sort((a, b) => a.id.localeCompare(b.id));
  assert.deepEqual(tasks, [
    { ns: 'k8s.io', id: 'x1', pid: 4242 },
    { ns: 'k8s.io', id: 'x2', pid: 0 },
  ]);
  assert.deepEqual(await tasksIn(join(dir, 'missing')), []);
});

test('runcContainersUnder: runc containers whose bundle is in the state dir', async (t) => {
  const root = await tempDir(t);
  const add = async (ns: string, id: string, bundle: string, pid: number) => {
    await mkdir(join(root, ns, id), { recursive: true });
    const config = {
      rootfs: `${bundle}/rootfs`,
      labels: ['io.kubernetes.cri.container-type=sandbox', `bundle=${bundle}`],
    };
    await writeFile(
      join(root, ns, id, 'state.json'),
      JSON.stringify({ id, init_process_pid: pid, init_process_start: 77, config }),
    );
  };
  await add('k8s.io', 'mine', '/d/agent/containerd/state/io.containerd.runtime.v2.task/k8s.io/mine', 100);
  await add(
    'k8s.io',
    'theirs',
    '/other/agent/containerd/state/io.containerd.runtime.v2.task/k8s.io/theirs',
    101,
  );
  await add('k8s.io', 'prefix', '/d/agent/containerd/state2/x', 102);
  await mkdir(join(root, 'k8s.io', 'broken'));
  assert.deepEqual(await runcContainersUnder('/d/agent/containerd/state', root), [
    { ns: 'k8s.io', id: 'mine', pid: 100, start: 77 },
  ]);
  assert.deepEqual(await runcContainersUnder('/d/agent/containerd/state', join(root, 'missing')), []);
});

test('processStart reads the start time of a live process', async () => {
  const mine = await processStart(process.pid);
  assert.ok(typeof mine === 'number' && mine > 0);
  assert.equal(await processStart(process.pid), mine);
  assert.equal(await processStart(2 ** 22 + 1), undefined);
});

/** A fake host: records commands; `ip link show` finds the bridge once; iptables lists NAT. */
function fakeHost(bridge: string) {
  const calls: string[] = [];
  let bridgeThere = true;
  let nat = NAT;
  const exec: CommandRunner = async (cmd, args) => {
    calls.push([cmd, ...args].join(' '));
    if (cmd === 'ip' && args[1] === 'show') {
      if (bridgeThere && args.at(-1) === bridge) return '';
      throw new Error(`Device "${args.at(-1)}" does not exist.`);
    }
    if (cmd === 'ip' && args[1] === 'delete') {
      bridgeThere = false;
      return '';
    }
    if (cmd === 'iptables' && args.includes('-S')) return nat;
    if (cmd === 'iptables' && args.includes('-D')) {
      const rule = args.slice(args.indexOf('-D') + 1);
      const line = nat.split('\n').find((l) => splitRule(l).slice(1).join('\0') === rule.join('\0'));
      if (!line) throw new Error('iptables: Bad rule (does a matching rule exist in that chain?).');
      nat = nat.replace(`${line}\n`, '');
      return '';
    }
    if (cmd === 'iptables' && args.includes('-X')) {
      const chain = args.at(-1);
      nat = nat
        .split('\n')
        .filter((l) => l !== `-N ${chain}` && !l.startsWith(`-A ${chain} `))
        .join('\n');
      return '';
    }
    if (cmd === 'iptables') return '';
    throw new Error(`${cmd}: not found`);
  };
  return { exec, calls };
}

test('uninstallNode removes what node.json names, keeps others, and is idempotent', async (t) => {
  const root = await tempDir(t);
  const dataDir = join(root, 'data');
  const cniState = join(root, 'cni');
  await mkdir(join(dataDir, 'agent'), { recursive: true });
  await writeFile(
    join(dataDir, 'agent', 'node.json'),
    JSON.stringify({
      nodeName: 'n',
      cniBridge: 'skiffut0',
      cniNetwork: 'skiffh9',
      cgroupRoot: 'skiffut',
      socket: '/run/elsewhere.sock',
    }),
  );
  await mkdir(join(cniState, 'networks', 'skiffh9'), { recursive: true });
  await writeFile(join(cniState, 'networks', 'skiffh9', '10.88.9.2'), ID1);
  await mkdir(join(cniState, 'networks', 'other'), { recursive: true });
  await mkdir(join(cniState, 'results'), { recursive: true });
  for (const name of [
    `skiffh9-${ID1}-eth0`,
    `cni-loopback-${ID1}-lo`,
    `skiffh9x-${ID2}-eth0`,
    `cni-loopback-${ID2}-lo`,
  ])
    await writeFile(join(cniState, 'results', name), '{}');
  const host = fakeHost('skiffut0');
  const restored: string[] = [];
  const proxy: IptablesRunner = {
    save: async (table) =>
      table === 'nat'
        ? '*nat\n:OUTPUT ACCEPT [0:0]\n:SKIFF-SERVICES - [0:0]\n-A OUTPUT -j SKIFF-SERVICES\nCOMMIT\n'
        : '',
    restore: async (input) => void restored.push(input),
    deleteConntrack: async () => {},
  };

  const s = await uninstallNode({
    dataDir,
    exec: host.exec,
    cniStateDir: cniState,
    cgroups: false,
    proxyRules: proxy,
    sharedCniChains: true,
  });
  assert.deepEqual(s.problems, []);
  assert.equal(s.node.cniNetwork, 'skiffh9');
  assert.deepEqual(s.sandboxes, [], 'an external runtime is left alone');
  assert.equal(s.bridge, true);
  assert.ok(host.calls.includes('ip link delete dev skiffut0'));
  assert.equal(s.iptables.rules, 4 + 3, "the network's 4 rules, then portmap's 3 jumps (no hostPort left)");
  assert.deepEqual(s.iptables.chains.sort(), [
    'CNI-1645fe9768ee203728bb439f',
    'CNI-DN-0c6d2bfe7b3b0dd8e8c6b',
    'CNI-HOSTPORT-DNAT',
    'CNI-HOSTPORT-MASQ',
    'CNI-HOSTPORT-SETMARK',
  ]);
  assert.deepEqual(s.proxy, { jumps: 1, chains: 1 });
  assert.match(
    restored[0] ?? '',
    /-D OUTPUT -j SKIFF-SERVICES\n:SKIFF-SERVICES - \[0:0\]\n-X SKIFF-SERVICES\nCOMMIT/,
  );
  assert.equal(s.dataRemoved, true);
  assert.equal(existsSync(dataDir), false);
  assert.equal(existsSync(join(cniState, 'networks', 'skiffh9')), false);
  assert.equal(existsSync(join(cniState, 'networks', 'other')), true);
  assert.deepEqual((await readdir(join(cniState, 'results'))).sort(), [
    `cni-loopback-${ID2}-lo`,
    `skiffh9x-${ID2}-eth0`,
  ]);

  // Again: nothing left to do, nothing fails (node.json is gone: the defaults apply but nothing matches).
  const again = await uninstallNode({
    dataDir,
    exec: host.exec,
    cniStateDir: cniState,
    cgroups: false,
    proxyRules: false,
    node: { cniBridge: 'skiffut0', cniNetwork: 'skiffh9' },
  });
  assert.deepEqual(again.problems, []);
  assert.equal(again.bridge, false);
  assert.equal(again.iptables.rules, 0);
  assert.deepEqual(again.paths, []);
  assert.equal(again.dataRemoved, false);
});

test('uninstallNode with removeData: false keeps the data dir', async (t) => {
  const root = await tempDir(t);
  const dataDir = join(root, 'data');
  await mkdir(join(dataDir, 'db'), { recursive: true });
  await writeFile(join(dataDir, 'db', 'state.db'), 'x');
  const host = fakeHost('none');
  const s = await uninstallNode({
    dataDir,
    removeData: false,
    exec: host.exec,
    cniStateDir: join(root, 'cni'),
    cgroups: false,
    proxyRules: false,
    node: { cniNetwork: 'skiffut-nothing', cniBridge: 'skiffut-none' },
  });
  assert.deepEqual(s.problems, []);
  assert.equal(s.dataRemoved, false);
  assert.equal(existsSync(join(dataDir, 'db', 'state.db')), true);
});
