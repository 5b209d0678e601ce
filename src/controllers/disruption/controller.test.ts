/** The disruption controller's rules, on a fake client and clock. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  DEPLOYMENTS,
  POD_DISRUPTION_BUDGETS,
  PODS,
  REPLICA_SETS,
  STATEFUL_SETS,
} from '../../client/resources.ts';
import type { KubeObject, ResourceRef } from '../../client/types.ts';
import { FakeClock } from '../../util/clock.ts';
import type { Pod } from '../endpoints/pods.ts';
import { type Harness, startHarness } from '../garbagecollector/testing.ts';
import {
  buildDisruptedPodMap,
  DisruptionController,
  type PodDisruptionBudget,
  scaledValue,
} from './controller.ts';

const START = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

type Owner = { kind: string; apiVersion: string; name: string; uid: string };

function pod(
  name: string,
  opts: { ready?: boolean; owner?: Owner; labels?: Record<string, string>; deleting?: boolean } = {},
): [ResourceRef, Pod] {
  return [
    PODS,
    {
      metadata: {
        name,
        namespace: 'ns',
        labels: opts.labels ?? { app: 'web' },
        ownerReferences: opts.owner ? [{ ...opts.owner, controller: true }] : undefined,
        ...(opts.deleting ? { deletionTimestamp: iso(START) } : {}),
      },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
      },
    },
  ];
}

function pdb(
  spec: PodDisruptionBudget['spec'],
  status?: PodDisruptionBudget['status'],
): [ResourceRef, PodDisruptionBudget] {
  return [
    POD_DISRUPTION_BUDGETS,
    {
      metadata: { name: 'budget', namespace: 'ns', generation: 2 },
      spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
      status,
    },
  ];
}

describe('scaledValue', () => {
  it('takes integers as they are and rounds percentages up', () => {
    assert.equal(scaledValue(3, 10), 3);
    assert.equal(scaledValue('50%', 5), 3);
    assert.equal(scaledValue('0%', 5), 0);
    assert.throws(() => scaledValue('5', 10), /not a percentage/);
  });
});

describe('buildDisruptedPodMap', () => {
  it('keeps pods disrupted less than 2 minutes ago and not being deleted, and says when to look again', () => {
    const now = START + 5 * 60_000;
    const pods = ['recent', 'old', 'deleting', 'absent-from-status'].map(
      (n) => pod(n, { deleting: n === 'deleting' })[1],
    );
    const budget = pdb(
      {},
      {
        disruptedPods: {
          recent: iso(now - 30_000),
          old: iso(now - 3 * 60_000),
          deleting: iso(now - 1000),
          gone: iso(now),
        },
      },
    )[1];
    const { disrupted, recheckAt } = buildDisruptedPodMap(pods, budget, now);
    assert.deepEqual(Object.keys(disrupted), ['recent']);
    assert.equal(recheckAt, now - 30_000 + 120_000);
  });
});

describe('DisruptionController', () => {
  let h: Harness | undefined;
  let c: DisruptionController;
  afterEach(() => {
    h?.stop();
    h = undefined;
  });

  async function start(objects: [ResourceRef, KubeObject][]): Promise<Harness> {
    c = new DisruptionController();
    h = await startHarness(c, { objects, clock: new FakeClock(START) });
    await h.settle();
    return h;
  }
  const status = (h: Harness) => h.client.objects<PodDisruptionBudget>(POD_DISRUPTION_BUDGETS)[0]?.status;
  const summary = (h: Harness) => {
    const s = status(h);
    const cond = s?.conditions?.find((x) => x.type === 'DisruptionAllowed');
    return {
      expected: s?.expectedPods,
      desired: s?.desiredHealthy,
      current: s?.currentHealthy,
      allowed: s?.disruptionsAllowed,
      generation: s?.observedGeneration,
      condition: `${cond?.status} ${cond?.reason}`,
    };
  };

  it('minAvailable as an integer: counts the selected pods; healthy means ready and not being deleted', async () => {
    const h = await start([
      pdb({ minAvailable: 2 }),
      pod('a'),
      pod('b'),
      pod('c'),
      pod('d', { ready: false }),
      pod('e', { deleting: true }),
      pod('other', { labels: { app: 'db' } }),
    ]);
    await c.reconcile('ns/budget');
    assert.deepEqual(summary(h), {
      expected: 5,
      desired: 2,
      current: 3,
      allowed: 1,
      generation: 2,
      condition: 'True SufficientPods',
    });
  });

  it('allows no disruption when too few pods are healthy', async () => {
    const h = await start([pdb({ minAvailable: 2 }), pod('a'), pod('b', { ready: false })]);
    await c.reconcile('ns/budget');
    assert.deepEqual(summary(h), {
      expected: 2,
      desired: 2,
      current: 1,
      allowed: 0,
      generation: 2,
      condition: 'False InsufficientPods',
    });
  });

  it('maxUnavailable as a percentage: expects the scale of the Deployment behind the ReplicaSet', async () => {
    const dep = { kind: 'Deployment', apiVersion: 'apps/v1', name: 'web', uid: 'fake-uid-1' };
    const rs = { kind: 'ReplicaSet', apiVersion: 'apps/v1', name: 'web-1', uid: 'fake-uid-2' };
    const h = await start([
      [DEPLOYMENTS, { metadata: { name: 'web', namespace: 'ns' }, spec: { replicas: 4 } }],
      [
        REPLICA_SETS,
        {
          metadata: { name: 'web-1', namespace: 'ns', ownerReferences: [{ ...dep, controller: true }] },
          spec: { replicas: 3 },
        },
      ],
      pdb({ maxUnavailable: '25%' }),
      pod('a', { owner: rs }),
      pod('b', { owner: rs }),
      pod('c', { owner: rs }),
    ]);
    await c.reconcile('ns/budget');
    assert.deepEqual(summary(h), {
      expected: 4,
      desired: 3,
      current: 3,
      allowed: 0,
      generation: 2,
      condition: 'False InsufficientPods',
    });
  });

  it('minAvailable as a percentage: expects the StatefulSet scale, rounding up', async () => {
    const sts = { kind: 'StatefulSet', apiVersion: 'apps/v1', name: 'db', uid: 'fake-uid-1' };
    const h = await start([
      [STATEFUL_SETS, { metadata: { name: 'db', namespace: 'ns' }, spec: { replicas: 3 } }],
      pdb({ minAvailable: '50%' }),
      pod('a', { owner: sts }),
      pod('b', { owner: sts }),
      pod('c', { owner: sts }),
    ]);
    await c.reconcile('ns/budget');
    assert.deepEqual(summary(h), {
      expected: 3,
      desired: 2,
      current: 3,
      allowed: 1,
      generation: 2,
      condition: 'True SufficientPods',
    });
  });

  it('fails safe (no disruptions, SyncFailed) when a pod has a controller it cannot find', async () => {
    const h = await start([
      pdb({ maxUnavailable: 1 }, { disruptionsAllowed: 3 }),
      pod('a', { owner: { kind: 'Widget', apiVersion: 'example.com/v1', name: 'w', uid: 'u' } }),
    ]);
    await assert.rejects(c.reconcile('ns/budget'), /found no controllers for pod "a"/);
    const s = status(h);
    assert.equal(s?.disruptionsAllowed, 0);
    const cond = s?.conditions?.find((x) => x.type === 'DisruptionAllowed');
    assert.equal(cond?.reason, 'SyncFailed');
    assert.match(cond?.message ?? '', /found no controllers/);
  });

  it('counts recently disrupted pods as unhealthy, prunes old entries, and looks again when one expires', async () => {
    const h = await start([
      pdb({ minAvailable: 1 }, { disruptedPods: { a: iso(START - 60_000), b: iso(START - 5 * 60_000) } }),
      pod('a'),
      pod('b'),
    ]);
    assert.deepEqual(await c.reconcile('ns/budget'), { requeueAfterMs: 60_000 });
    assert.deepEqual(status(h)?.disruptedPods, { a: iso(START - 60_000) });
    assert.equal(status(h)?.currentHealthy, 1);
  });

  it('writes nothing when the status is current', async () => {
    const h = await start([pdb({ minAvailable: 1 }), pod('a')]);
    await c.reconcile('ns/budget');
    await h.settle();
    const writes = h.client.calls.filter((x) => x.verb === 'update').length;
    await c.reconcile('ns/budget');
    assert.equal(h.client.calls.filter((x) => x.verb === 'update').length, writes);
  });

  it('syncs a budget when its pods change', async () => {
    const h = await start([pdb({ minAvailable: 1 }), pod('a')]);
    await h.run();
    assert.equal(status(h)?.currentHealthy, 1);
    await h.client.create(PODS, 'ns', pod('b')[1]);
    await h.run();
    assert.equal(status(h)?.currentHealthy, 2);
    assert.equal(status(h)?.disruptionsAllowed, 1);
  });

  it('clears a DisruptionTarget condition on a pod that was not deleted within 2 minutes', async () => {
    const [, p] = pod('a');
    p.status!.conditions!.push({
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'EvictionByEvictionAPI',
      lastTransitionTime: iso(START),
    });
    const h = await start([[PODS, p]]);
    await h.run();
    assert.equal(
      h.client.objects<Pod>(PODS)[0]?.status?.conditions?.find((x) => x.type === 'DisruptionTarget')?.status,
      'True',
    );
    h.clock.advance(120_000);
    await h.run();
    assert.equal(
      h.client.objects<Pod>(PODS)[0]?.status?.conditions?.find((x) => x.type === 'DisruptionTarget')?.status,
      'False',
    );
  });
});
