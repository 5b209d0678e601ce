import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { MemoryStore } from '../../storage/memory/store.ts';
import { FakeClock } from '../../util/clock.ts';
import { bootstrapCluster } from '../bootstrap.ts';
import { Catalog } from '../catalog.ts';
import type { KubeObject } from '../object.ts';
import { Registry } from '../registry/registry.ts';
import { validateMeta } from '../registry/validate-meta.ts';
import { builtinResources } from '../resources/builtin.ts';
import { Ipv4Cidr, ServiceAllocator } from './allocator.ts';
import { serviceHooks } from './hooks.ts';

async function setup(cidr = '10.43.0.0/16') {
  const clock = new FakeClock();
  const store = new MemoryStore({ clock });
  const catalog = new Catalog();
  for (const d of builtinResources()) catalog.add(d);
  const alloc = new ServiceAllocator(store, cidr);
  const registry = new Registry({
    store,
    clock,
    validateMeta,
    hooks: new Map([['/services', serviceHooks(alloc)]]),
  });
  await bootstrapCluster(registry, catalog, { clusterIp: alloc.apiServerIp, targetPort: 6443 });
  const svc = catalog.get('', 'v1', 'services')!;
  return { store, registry, svc, alloc };
}

type Spec = {
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: { port: number; nodePort?: number }[];
  type?: string;
};
const spec = (o: KubeObject) => o.spec as Spec;

describe('Service cluster IPs and node ports', () => {
  it('the CIDR arithmetic', () => {
    const c = new Ipv4Cidr('10.43.0.0/16');
    assert.equal(c.size, 65534);
    assert.equal(c.at(1), '10.43.0.1');
    assert.equal(c.at(10), '10.43.0.10');
    assert.equal(c.offsetOf('10.43.1.0'), 256);
    assert.equal(c.offsetOf('10.44.0.1'), -1);
    assert.equal(c.offsetOf('10.43.255.255'), -1, 'broadcast');
    assert.throws(() => new Ipv4Cidr('10.43.0.0'), /invalid service CIDR/);
  });

  it('the kubernetes Service takes the first address; others get distinct ones, never twice', async () => {
    const { registry, svc } = await setup('10.96.0.0/26');
    const k = await registry.get(svc, 'default', 'kubernetes');
    assert.equal(spec(k).clusterIP, '10.96.0.1');
    assert.deepEqual(spec(k).clusterIPs, ['10.96.0.1']);
    const seen = new Set(['10.96.0.1']);
    for (let i = 0; i < 40; i++) {
      const s = await registry.create(svc, 'default', {
        metadata: { name: `s${i}` },
        spec: { ports: [{ port: 80 }] },
      });
      assert.ok(!seen.has(spec(s).clusterIP!), `address ${spec(s).clusterIP} given twice`);
      seen.add(spec(s).clusterIP!);
    }
  });

  it('a requested address is honoured once; a taken or foreign one is 422 on spec.clusterIPs', async () => {
    const { registry, svc } = await setup();
    const s = await registry.create(svc, 'default', {
      metadata: { name: 'a' },
      spec: { clusterIP: '10.43.0.50', ports: [{ port: 80 }] },
    });
    assert.equal(spec(s).clusterIP, '10.43.0.50');
    const taken = await registry
      .create(svc, 'default', {
        metadata: { name: 'b' },
        spec: { clusterIP: '10.43.0.50', ports: [{ port: 80 }] },
      })
      .catch((e: unknown) => e);
    assert.ok(taken instanceof ApiError && taken.code === 422);
    assert.equal(taken.details?.causes?.[0]?.field, 'spec.clusterIPs');
    assert.match(taken.message, /provided IP is already allocated/);
    const foreign = await registry
      .create(svc, 'default', {
        metadata: { name: 'c' },
        spec: { clusterIP: '192.168.1.1', ports: [{ port: 80 }] },
      })
      .catch((e: unknown) => e);
    assert.ok(foreign instanceof ApiError && foreign.code === 422);
    assert.match(foreign.message, /not in the valid range/);
  });

  it('deleting a Service releases its address and node ports', async () => {
    const { registry, svc } = await setup();
    const s = await registry.create(svc, 'default', {
      metadata: { name: 'np' },
      spec: {
        type: 'NodePort',
        clusterIP: '10.43.0.77',
        ports: [
          { port: 80, nodePort: 30080, name: 'a' },
          { port: 81, name: 'b' },
        ],
      },
    });
    assert.equal(spec(s).ports![0]!.nodePort, 30080);
    const dyn = spec(s).ports![1]!.nodePort!;
    assert.ok(dyn >= 30000 && dyn <= 32767);
    const clash = await registry
      .create(svc, 'default', {
        metadata: { name: 'np2' },
        spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] },
      })
      .catch((e: unknown) => e);
    assert.ok(clash instanceof ApiError && clash.code === 422);
    assert.equal(clash.details?.causes?.[0]?.field, 'spec.ports[0].nodePort');
    await registry.delete(svc, 'default', 'np');
    const again = await registry.create(svc, 'default', {
      metadata: { name: 'np3' },
      spec: { type: 'NodePort', clusterIP: '10.43.0.77', ports: [{ port: 80, nodePort: 30080 }] },
    });
    assert.equal(spec(again).clusterIP, '10.43.0.77');
  });

  it('a failed create releases what it reserved; a dry run reserves nothing', async () => {
    const { registry, svc } = await setup();
    await registry.create(svc, 'default', { metadata: { name: 'dup' }, spec: { ports: [{ port: 80 }] } });
    const failed = await registry
      .create(svc, 'default', {
        metadata: { name: 'dup' },
        spec: { clusterIP: '10.43.0.99', ports: [{ port: 80 }] },
      })
      .catch((e: unknown) => e);
    assert.ok(failed instanceof ApiError && failed.code === 409);
    await registry.create(
      svc,
      'default',
      { metadata: { name: 'dry' }, spec: { clusterIP: '10.43.0.98', ports: [{ port: 80 }] } },
      { dryRun: true },
    );
    for (const [name, ip] of [
      ['x', '10.43.0.99'],
      ['y', '10.43.0.98'],
    ]) {
      const s = await registry.create(svc, 'default', {
        metadata: { name },
        spec: { clusterIP: ip, ports: [{ port: 80 }] },
      });
      assert.equal(spec(s).clusterIP, ip);
    }
  });

  it('updates keep the address, refuse changing it, and move node ports with the type', async () => {
    const { registry, svc } = await setup();
    const s = await registry.create(svc, 'default', {
      metadata: { name: 'u' },
      spec: { ports: [{ port: 80 }] },
    });
    const ip = spec(s).clusterIP!;
    const kept = await registry.update(svc, 'default', 'u', {
      metadata: { name: 'u' },
      spec: {
        ports: [
          { port: 80, name: 'a' },
          { port: 90, name: 'x' },
        ],
      },
    });
    assert.equal(spec(kept.object).clusterIP, ip, 'an update without clusterIP keeps it');
    const changed = await registry
      .update(svc, 'default', 'u', {
        metadata: { name: 'u' },
        spec: { clusterIP: '10.43.0.200', ports: [{ port: 80 }] },
      })
      .catch((e: unknown) => e);
    assert.ok(changed instanceof ApiError && changed.code === 422);
    const np = await registry.update(svc, 'default', 'u', {
      metadata: { name: 'u' },
      spec: { type: 'NodePort', ports: [{ port: 80 }] },
    });
    const port = spec(np.object).ports![0]!.nodePort!;
    assert.ok(port >= 30000);
    const back = await registry.update(svc, 'default', 'u', {
      metadata: { name: 'u' },
      spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
    });
    assert.equal(spec(back.object).ports![0]!.nodePort, undefined);
    const reuse = await registry.create(svc, 'default', {
      metadata: { name: 'r' },
      spec: { type: 'NodePort', ports: [{ port: 80, nodePort: port }] },
    });
    assert.equal(spec(reuse).ports![0]!.nodePort, port, 'the released node port can be taken again');
    const ext = await registry.update(svc, 'default', 'u', {
      metadata: { name: 'u' },
      spec: { type: 'ExternalName', externalName: 'example.com' },
    });
    assert.equal(spec(ext.object).clusterIP, undefined);
    const other = await registry.create(svc, 'default', {
      metadata: { name: 'o' },
      spec: { clusterIP: ip, ports: [{ port: 80 }] },
    });
    assert.equal(spec(other).clusterIP, ip, 'the address was released when the type became ExternalName');
  });
});
