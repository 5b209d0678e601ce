/** The Job and TTL controllers against a real API server; the test plays the kubelet. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JOBS, NAMESPACES, PODS } from '../../client/resources.ts';
import { HttpRestClient } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import { ControllerManager } from '../manager.ts';
import { JobController } from './controller.ts';
import type { Pod } from './podutil.ts';
import { TtlAfterFinishedController } from './ttl-after-finished.ts';
import { JOB_TRACKING_FINALIZER, type Job } from './types.ts';

describe('Job controller against the API server', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  const ac = new AbortController();

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config, { component: 'job-test' });
    await client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'jobs' } });
    const manager = new ControllerManager({
      client,
      controllers: [new JobController({ podEventBatchMs: 20 }), new TtlAfterFinishedController()],
      leaderElection: false,
    });
    void manager.run(ac.signal);
  });
  after(async () => {
    ac.abort();
    await srv.close();
  });

  it('runs 20 completions at parallelism 5 to Complete, then the TTL deletes the Job', async () => {
    await client.create(JOBS, 'jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'twenty' },
      spec: {
        completions: 20,
        parallelism: 5,
        ttlSecondsAfterFinished: 0,
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    });
    let maxActive = 0;
    let finished = 0;
    let done = false;
    // The kubelet: every pod that shows up runs, then succeeds.
    while (!done) {
      const pods = (await client.list<Pod>(PODS, 'jobs')).items;
      const running = pods.filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase ?? ''));
      maxActive = Math.max(maxActive, running.length);
      for (const p of running) {
        assert.ok(p.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER));
        await client.patch(
          PODS,
          'jobs',
          p.metadata.name ?? '',
          'merge',
          { status: { phase: 'Succeeded' } },
          { subresource: 'status' },
        );
        finished++;
      }
      const job = await client.get<Job>(JOBS, 'jobs', 'twenty').catch(() => null);
      done = !job || !!job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');
      if (!done) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(finished, 20, 'exactly 20 pods ran');
    assert.ok(maxActive <= 5, `at most parallelism pods at once (saw ${maxActive})`);
    // ttlSecondsAfterFinished: 0 → deleted right after it finished.
    await eventually(
      async () => (await client.list(JOBS, 'jobs')).items.length === 0,
      'the TTL controller deleting the Job',
      10_000,
    );
    const pods = (await client.list<Pod>(PODS, 'jobs')).items;
    assert.ok(
      pods.every((p) => !p.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)),
      'every pod was counted',
    );
  });

  it('records status as it goes: succeeded, completionTime, conditions', async () => {
    await client.create(JOBS, 'jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'one' },
      spec: {
        completions: 2,
        parallelism: 2,
        completionMode: 'Indexed',
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    await eventually(
      async () =>
        (await client.list<Pod>(PODS, 'jobs', { labelSelector: 'batch.kubernetes.io/job-name=one' })).items
          .length === 2,
      'two indexed pods',
    );
    for (const p of (
      await client.list<Pod>(PODS, 'jobs', { labelSelector: 'batch.kubernetes.io/job-name=one' })
    ).items) {
      await client.patch(
        PODS,
        'jobs',
        p.metadata.name ?? '',
        'merge',
        { status: { phase: 'Succeeded' } },
        { subresource: 'status' },
      );
    }
    let job: Job | undefined;
    await eventually(async () => {
      job = await client.get<Job>(JOBS, 'jobs', 'one');
      return job.status?.conditions?.some((c) => c.type === 'Complete');
    }, 'the Job completing');
    assert.equal(job?.status?.succeeded, 2);
    assert.equal(job?.status?.completedIndexes, '0,1');
    assert.ok(job?.status?.completionTime);
    assert.ok(job?.status?.startTime);
    assert.deepEqual(
      job?.status?.conditions?.map((c) => c.type),
      ['SuccessCriteriaMet', 'Complete'],
    );
  });
});
