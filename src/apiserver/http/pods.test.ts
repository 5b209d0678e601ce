import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { MemoryStore } from '../../storage/memory/store.ts';
import { FakeClock } from '../../util/clock.ts';
import { bootstrapCluster } from '../bootstrap.ts';
import { Catalog } from '../catalog.ts';
import { Registry } from '../registry/registry.ts';
import { validateMeta } from '../registry/validate-meta.ts';
import { builtinResources } from '../resources/builtin.ts';
import { bindPod, evictPod } from './pods.ts';

async function setup() {
  const clock = new FakeClock();
  const store = new MemoryStore({ clock });
  const catalog = new Catalog();
  for (const d of builtinResources()) catalog.add(d);
  const registry = new Registry({ store, clock, validateMeta });
  await bootstrapCluster(registry, catalog);
  const pods = catalog.get('', 'v1', 'pods')!;
  const pdbs = catalog.get('policy', 'v1', 'poddisruptionbudgets')!;
  const pod = (name: string, labels = { app: 'web' }) =>
    registry.create(pods, 'default', {
      metadata: { name, labels },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
  const opts = { dryRun: false, user: 'test' };
  return { clock, registry, pods, pdbs, pod, opts };
}

const err = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as ApiError,
  );

describe('pods/binding', () => {
  it('sets the node once and marks the pod scheduled', async () => {
    const { registry, pods, pod, opts, clock } = await setup();
    await pod('p');
    await bindPod(
      registry,
      pods,
      'default',
      'p',
      { metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } },
      clock.now(),
      opts,
    );
    const bound = await registry.get(pods, 'default', 'p');
    assert.equal((bound.spec as { nodeName: string }).nodeName, 'n1');
    const cond = (bound.status as { conditions: { type: string; status: string }[] }).conditions;
    assert.deepEqual(
      cond.map((c) => [c.type, c.status]),
      [['PodScheduled', 'True']],
    );
    const again = await err(
      bindPod(registry, pods, 'default', 'p', { target: { name: 'n2' } }, clock.now(), opts),
    );
    assert.ok(again instanceof ApiError && again.code === 409);
    assert.match(again.message, /pod p is already assigned to node "n1"/);
    const missing = await err(bindPod(registry, pods, 'default', 'p', { target: {} }, clock.now(), opts));
    assert.ok(missing instanceof ApiError && missing.code === 422);
  });

  it('writes straight to storage like BindingREST: annotations merged, managedFields untouched, preconditions honoured', async () => {
    const { registry, pods, pod, opts, clock } = await setup();
    const created = await pod('p');
    const before = created.metadata.managedFields;
    const wrongUid = await err(
      bindPod(
        registry,
        pods,
        'default',
        'p',
        { metadata: { name: 'p', uid: 'not-it' }, target: { name: 'n1' } },
        clock.now(),
        opts,
      ),
    );
    assert.ok(wrongUid instanceof ApiError && wrongUid.code === 409);
    assert.match(wrongUid.message, /Precondition failed: UID/);
    await bindPod(
      registry,
      pods,
      'default',
      'p',
      {
        metadata: { name: 'p', uid: created.metadata.uid, annotations: { 'example.com/why': 'test' } },
        target: { name: 'n1' },
      },
      clock.now(),
      opts,
    );
    const bound = await registry.get(pods, 'default', 'p');
    assert.equal((bound.spec as { nodeName: string }).nodeName, 'n1');
    assert.equal(bound.metadata.annotations?.['example.com/why'], 'test');
    assert.deepEqual(bound.metadata.managedFields, before);
    const again = await err(
      bindPod(registry, pods, 'default', 'p', { target: { name: 'n2' } }, clock.now(), opts),
    );
    assert.equal(
      again?.message,
      'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "n1"',
    );
    const gone = await err(
      bindPod(registry, pods, 'default', 'nope', { target: { name: 'n1' } }, clock.now(), opts),
    );
    assert.ok(gone instanceof ApiError && gone.code === 404);
  });

  it('refuses pods with scheduling gates', async () => {
    const { registry, pods, opts, clock } = await setup();
    await registry.create(pods, 'default', {
      metadata: { name: 'g' },
      spec: {
        schedulingGates: [{ name: 'example.com/wait' }],
        containers: [{ name: 'c', image: 'busybox' }],
      },
    });
    const gated = await err(
      bindPod(registry, pods, 'default', 'g', { target: { name: 'n1' } }, clock.now(), opts),
    );
    assert.ok(gated instanceof ApiError && gated.code === 409);
    assert.match(gated.message, /non-empty \.spec\.schedulingGates/);
  });
});

describe('pods/eviction', () => {
  async function runningPod(ctx: Awaited<ReturnType<typeof setup>>, name: string) {
    await ctx.pod(name);
    await bindPod(
      ctx.registry,
      ctx.pods,
      'default',
      name,
      { target: { name: 'n1' } },
      ctx.clock.now(),
      ctx.opts,
    );
    const p = await ctx.registry.get(ctx.pods, 'default', name);
    await ctx.registry.update(
      ctx.pods,
      'default',
      name,
      { ...p, status: { ...(p.status as object), phase: 'Running' } },
      { subresource: 'status' },
    );
  }

  it('honours a PodDisruptionBudget: 429 when it allows nothing, otherwise decrements it and deletes', async () => {
    const ctx = await setup();
    const { registry, pods, pdbs, clock, opts } = ctx;
    await runningPod(ctx, 'a');
    await runningPod(ctx, 'b');
    await registry.create(pdbs, 'default', {
      metadata: { name: 'budget' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } },
    });
    const pending = await err(evictPod(registry, pods, pdbs, 'default', 'a', {}, clock.now(), opts));
    assert.ok(
      pending instanceof ApiError && pending.code === 429,
      'a budget the controller has not processed blocks evictions',
    );
    assert.match(pending.details?.causes?.[0]?.message ?? '', /still being processed/);
    const pdb = await registry.get(pdbs, 'default', 'budget');
    await registry.update(
      pdbs,
      'default',
      'budget',
      {
        ...pdb,
        status: { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1 },
      },
      { subresource: 'status' },
    );
    await evictPod(registry, pods, pdbs, 'default', 'a', { metadata: { name: 'a' } }, clock.now(), opts);
    const evicted = await registry.get(pods, 'default', 'a');
    assert.ok(
      evicted.metadata.deletionTimestamp,
      'the evicted pod is being deleted (gracefully: it is on a node)',
    );
    const after = await registry.get(pdbs, 'default', 'budget');
    assert.equal((after.status as { disruptionsAllowed: number }).disruptionsAllowed, 0);
    const blocked = await err(evictPod(registry, pods, pdbs, 'default', 'b', {}, clock.now(), opts));
    assert.ok(blocked instanceof ApiError && blocked.code === 429);
    assert.equal(blocked.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.match(blocked.details?.causes?.[0]?.message ?? '', /needs 1 healthy pods and has 2 currently/);
  });

  it('pods that are not running are evicted without consulting budgets', async () => {
    const ctx = await setup();
    await ctx.pod('pending');
    await ctx.registry.create(ctx.pdbs, 'default', {
      metadata: { name: 'budget' },
      spec: { maxUnavailable: 0, selector: { matchLabels: { app: 'web' } } },
    });
    await evictPod(ctx.registry, ctx.pods, ctx.pdbs, 'default', 'pending', {}, ctx.clock.now(), ctx.opts);
    const gone = await err(ctx.registry.get(ctx.pods, 'default', 'pending'));
    assert.ok(gone instanceof ApiError && gone.code === 404);
  });
});
