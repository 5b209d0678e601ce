/** The strategies inside the real registry: hook order, status and the update/validate split. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../../api/errors.ts';
import { MemoryStore } from '../../../storage/memory/store.ts';
import { FakeClock } from '../../../util/clock.ts';
import { bootstrapCluster } from '../../bootstrap.ts';
import { Catalog } from '../../catalog.ts';
import type { KubeObject } from '../../object.ts';
import { Registry } from '../../registry/registry.ts';
import { validateMeta } from '../../registry/validate-meta.ts';
import { builtinResources } from '../builtin.ts';
import { extraStrategies } from './index.ts';
import { fakePod, type Loose } from './testing.ts';

async function setup() {
  const clock = new FakeClock(Date.UTC(2026, 10, 25, 12, 0, 0));
  const store = new MemoryStore({ clock });
  const catalog = new Catalog();
  const extra = extraStrategies(fakePod);
  for (const d of builtinResources()) {
    const e = extra[`${d.group}/${d.resource}`];
    catalog.add(e ? { ...d, strategy: { ...d.strategy, ...e } } : d);
  }
  const registry = new Registry({ store, clock, validateMeta });
  await bootstrapCluster(registry, catalog);
  const def = (group: string, resource: string) => {
    const d = catalog.get(group, 'v1', resource);
    assert.ok(d, `${group}/${resource}`);
    return d;
  };
  return { registry, def };
}

async function invalid(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApiError && err.code === 422, `expected 422, got ${String(err)}`);
  return err.message;
}

const template = (labels: Record<string, string>) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

describe('apps strategies in the registry', () => {
  it('defaults, bumps generation, and validates updates once', async () => {
    const { registry, def } = await setup();
    const D = def('apps', 'deployments');
    const d = await registry.create(D, 'default', {
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) },
    });
    assert.equal((d.spec as Loose).strategy.rollingUpdate.maxSurge, '25%');
    assert.equal(d.metadata.generation, 1);
    const scaled = await registry.update(D, 'default', 'web', {
      ...d,
      spec: { ...(d.spec as Loose), replicas: 3 },
    });
    assert.equal(scaled.object.metadata.generation, 2);
    const moved = {
      ...scaled.object,
      spec: { ...(scaled.object.spec as Loose), selector: { matchLabels: { app: 'x' } } },
    };
    assert.equal(
      await invalid(registry.update(D, 'default', 'web', moved)),
      'Deployment.apps "web" is invalid: [spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`, spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable]',
    );
  });

  it('validates status writes with the status rules', async () => {
    const { registry, def } = await setup();
    const D = def('apps', 'deployments');
    const d = await registry.create(D, 'default', {
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) },
    });
    const body: KubeObject = { ...d, status: { replicas: 1, readyReplicas: 5 } };
    assert.equal(
      await invalid(registry.update(D, 'default', 'web', body, { subresource: 'status' })),
      'Deployment.apps "web" is invalid: status.readyReplicas: Invalid value: 5: cannot be greater than status.replicas',
    );
  });

  it('generates the Job selector from the stored uid', async () => {
    const { registry, def } = await setup();
    const J = def('batch', 'jobs');
    const j = await registry.create(J, 'default', {
      metadata: { name: 'pi' },
      spec: { template: { spec: { containers: [{ name: 'c', image: 'perl' }], restartPolicy: 'Never' } } },
    });
    const uid = j.metadata.uid ?? '';
    assert.deepEqual((j.spec as Loose).selector, {
      matchLabels: { 'batch.kubernetes.io/controller-uid': uid },
    });
    assert.equal(j.metadata.labels?.['batch.kubernetes.io/job-name'], 'pi');
    assert.deepEqual(j.status, {});
    const suspended = await registry.update(J, 'default', 'pi', {
      ...j,
      spec: { ...(j.spec as Loose), suspend: true },
    });
    assert.equal(suspended.object.metadata.generation, 2);
  });
});
