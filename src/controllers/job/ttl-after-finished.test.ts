import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { JOBS } from '../../client/resources.ts';
import { rfc3339 } from './podutil.ts';
import { Harness, T0 } from './testing.ts';
import { TtlAfterFinishedController } from './ttl-after-finished.ts';
import type { Job } from './types.ts';

function finishedJob(name: string, ttl: number | undefined, finishedAt = T0): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: { template: {}, ttlSecondsAfterFinished: ttl },
    status: {
      conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: rfc3339(finishedAt) }],
    },
  };
}

describe('TtlAfterFinishedController', () => {
  let h: Harness;
  let c: TtlAfterFinishedController;
  beforeEach(async () => {
    h = new Harness();
    c = new TtlAfterFinishedController();
    await h.start(c);
  });
  afterEach(() => h.stop());

  it('waits for the TTL, then deletes the Job with background propagation and its uid', async () => {
    const job = await h.create(JOBS, finishedJob('done', 60));
    await h.settle();
    assert.deepEqual(await h.takeQueued(), ['default/done']);
    assert.deepEqual(await c.reconcile('default/done'), { requeueAfterMs: 60_000 });
    h.clock.advance(60_000);
    assert.equal(await c.reconcile('default/done'), undefined);
    assert.equal(h.client.objects(JOBS).length, 0);
    const del = h.client.calls.find((x) => x.verb === 'delete');
    assert.deepEqual(del?.opts, {
      propagationPolicy: 'Background',
      preconditions: { uid: job.metadata.uid },
    });
  });

  it('ignores unfinished Jobs and Jobs without a TTL', async () => {
    await h.create(JOBS, finishedJob('keep', undefined));
    const running = finishedJob('running', 0);
    running.status = {};
    await h.create(JOBS, running);
    await h.settle();
    assert.deepEqual(await h.takeQueued(), []);
    h.clock.advance(3_600_000);
    await c.reconcile('default/keep');
    await c.reconcile('default/running');
    assert.equal(h.client.objects(JOBS).length, 2);
  });

  it('rechecks the live Job before deleting', async () => {
    await h.create(JOBS, finishedJob('changed', 10));
    await h.settle();
    h.clock.advance(10_000);
    // The TTL grew after the cache saw it.
    await h.client.patch(JOBS, 'default', 'changed', 'merge', { spec: { ttlSecondsAfterFinished: 100 } });
    const jobs = h.client.objects<Job>(JOBS);
    assert.equal(jobs[0]?.spec.ttlSecondsAfterFinished, 100);
    const r = await c.reconcile('default/changed');
    assert.ok(r?.requeueAfterMs !== undefined && r.requeueAfterMs > 0);
    assert.equal(h.client.objects(JOBS).length, 1);
  });
});
