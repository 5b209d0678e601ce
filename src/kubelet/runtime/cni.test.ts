import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CNI_CONFLIST_NAME, CniConfigError, cniConflist, removeCniConfig, writeCniConfig } from './cni.ts';

test('conflist: bridge with host-local on the pod CIDR and a default route, then portmap', () => {
  const c = cniConflist({ podCIDRs: ['10.42.0.0/24'] }) as {
    cniVersion: string;
    name: string;
    plugins: Record<string, unknown>[];
  };
  assert.equal(c.name, 'skiff');
  assert.equal(c.cniVersion, '1.0.0');
  assert.deepEqual(c.plugins[0], {
    type: 'bridge',
    bridge: 'cni0',
    isGateway: true,
    ipMasq: true,
    hairpinMode: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.42.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] },
  });
  assert.deepEqual(c.plugins[1], { type: 'portmap', capabilities: { portMappings: true }, snat: true });
});

test('dual stack gets a range and a default route per family; options are carried', () => {
  const c = cniConflist({
    podCIDRs: ['10.42.1.0/24', 'fd00:42:1::/64'],
    bridge: 'skiffbr',
    networkName: 'n',
    mtu: 1400,
    ipamDataDir: '/x/leases',
  }) as { plugins: { bridge: string; mtu: number; ipam: Record<string, unknown> }[] };
  const bridge = c.plugins[0]!;
  assert.equal(bridge.bridge, 'skiffbr');
  assert.equal(bridge.mtu, 1400);
  assert.deepEqual(bridge.ipam.ranges, [[{ subnet: '10.42.1.0/24' }], [{ subnet: 'fd00:42:1::/64' }]]);
  assert.deepEqual(bridge.ipam.routes, [{ dst: '0.0.0.0/0' }, { dst: '::/0' }]);
  assert.equal(bridge.ipam.dataDir, '/x/leases');
});

test('bad or missing CIDRs are rejected', () => {
  for (const bad of [[], ['10.42.0.0'], ['300.1.1.1/24'], ['10.0.0.0/33'], ['nonsense/8'], ['fd00::/129']]) {
    assert.throws(() => cniConflist({ podCIDRs: bad }), CniConfigError, JSON.stringify(bad));
  }
});

test('written atomically into conf_dir, rewritten idempotently, removed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-cni-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const confDir = join(dir, 'net.d');
  const file = await writeCniConfig(confDir, { podCIDRs: ['10.42.0.0/24'] });
  assert.equal(file, join(confDir, CNI_CONFLIST_NAME));
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).plugins[0].ipam.ranges[0][0].subnet, '10.42.0.0/24');
  await writeCniConfig(confDir, { podCIDRs: ['10.42.9.0/24'] });
  assert.deepEqual(readdirSync(confDir), [CNI_CONFLIST_NAME], 'no temp file left behind');
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).plugins[0].ipam.ranges[0][0].subnet, '10.42.9.0/24');
  await removeCniConfig(confDir);
  assert.ok(!existsSync(file));
  await removeCniConfig(confDir);
});

test('the bridge plugin masquerade can be turned off (the pod network masquerades by cluster CIDR)', () => {
  const c = cniConflist({ podCIDRs: ['10.42.0.0/24'], ipMasq: false }) as { plugins: { ipMasq: boolean }[] };
  assert.equal(c.plugins[0]!.ipMasq, false);
});
