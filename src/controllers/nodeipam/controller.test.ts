import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { NODES } from '../../client/resources.ts';
import { type Harness, startHarness } from '../nodelifecycle/testing.ts';
import type { Node } from '../nodelifecycle/types.ts';
import { NodeIpamController } from './controller.ts';

let h: Harness | undefined;
afterEach(() => {
  h?.stop();
  h = undefined;
});

const node = (name: string, podCIDR?: string): Node => ({
  metadata: { name },
  spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
});

async function cidrs(h: Harness): Promise<Record<string, string[] | undefined>> {
  await h.settle();
  return Object.fromEntries(h.client.objects<Node>(NODES).map((n) => [n.metadata.name, n.spec?.podCIDRs]));
}

describe('NodeIpamController', () => {
  it('gives each node the next free subnet, in spec.podCIDR and spec.podCIDRs', async () => {
    h = await startHarness([new NodeIpamController()], { clusterCidr: '10.42.0.0/16', nodeCidrMaskSize: 24 });
    await h.client.create(NODES, '', node('a'));
    await h.client.create(NODES, '', node('b'));
    assert.deepEqual(await cidrs(h), { a: ['10.42.0.0/24'], b: ['10.42.1.0/24'] });
    const [a] = h.client.objects<Node>(NODES);
    assert.equal(a?.spec?.podCIDR, '10.42.0.0/24');
  });

  it('rebuilds the used set from existing nodes before allocating', async () => {
    h = await startHarness([new NodeIpamController()], { clusterCidr: '10.42.0.0/16' }, async (client) => {
      await client.create(NODES, '', node('z-new'));
      await client.create(NODES, '', node('a-old', '10.42.0.0/24'));
      await client.create(NODES, '', node('b-old', '10.42.1.0/24'));
    });
    assert.deepEqual(await cidrs(h), {
      'a-old': ['10.42.0.0/24'],
      'b-old': ['10.42.1.0/24'],
      'z-new': ['10.42.2.0/24'],
    });
  });

  it('reclaims a deleted node subnet; a node that found the range full gets it', async () => {
    h = await startHarness([new NodeIpamController()], { clusterCidr: '10.42.0.0/23', nodeCidrMaskSize: 24 });
    await h.client.create(NODES, '', node('a'));
    await h.client.create(NODES, '', node('b'));
    await h.settle();
    await h.client.create(NODES, '', node('c'));
    assert.deepEqual((await cidrs(h)).c, undefined, 'no subnet left');
    await h.client.delete(NODES, '', 'a');
    await h.step(1_000);
    assert.deepEqual(await cidrs(h), { b: ['10.42.1.0/24'], c: ['10.42.0.0/24'] });
  });

  it('allocates one subnet of each family for a dual-stack cluster CIDR', async () => {
    h = await startHarness([new NodeIpamController()], { clusterCidr: '10.42.0.0/16,fd00:42::/56' });
    await h.client.create(NODES, '', node('a'));
    assert.deepEqual(await cidrs(h), { a: ['10.42.0.0/24', 'fd00:42::/64'] });
  });
});
