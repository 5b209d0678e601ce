import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { JOBS, PODS } from '../../client/resources.ts';
import { JobController } from './controller.ts';
import type { Pod } from './podutil.ts';
import { Harness, podTemplate } from './testing.ts';
import { JOB_COMPLETION_INDEX_ANNOTATION, JOB_TRACKING_FINALIZER, type Job, type JobSpec } from './types.ts';

function newJob(name: string, spec: Partial<JobSpec> = {}): Job {
  const labels = { 'batch.kubernetes.io/job-name': name };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      parallelism: 2,
      completions: 4,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      selector: { matchLabels: labels },
      template: podTemplate(labels),
      ...spec,
    },
  };
}

describe('JobController', () => {
  let h: Harness;
  let jc: JobController;
  beforeEach(async () => {
    h = new Harness();
    jc = new JobController({ podEventBatchMs: 0 });
    await h.start(jc);
  });
  afterEach(() => h.stop());

  const job = (name: string) => h.client.objects<Job>(JOBS).find((j) => j.metadata.name === name) as Job;
  const sync = async (name: string) => {
    await h.settle();
    const r = await jc.reconcile(`default/${name}`);
    await h.settle();
    return r;
  };
  const active = () =>
    h
      .pods()
      .filter(
        (p) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase ?? ''),
      );
  const condition = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type);

  it('creates parallelism pods with the tracking finalizer and a controller reference, and sets startTime', async () => {
    await h.create(JOBS, newJob('a'));
    await sync('a');
    const pods = h.pods();
    assert.equal(pods.length, 2);
    for (const p of pods) {
      assert.match(p.metadata.name ?? '', /^a-/);
      assert.deepEqual(p.metadata.finalizers, [JOB_TRACKING_FINALIZER]);
      assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'Job');
      assert.equal(p.metadata.ownerReferences?.[0]?.controller, true);
    }
    const j = job('a');
    assert.equal(j.status?.active, 2);
    assert.equal(j.status?.startTime, '2026-03-01T10:00:00Z');
  });

  it('does not create again before the informer has seen its pods (expectations)', async () => {
    await h.create(JOBS, newJob('a'));
    await h.settle();
    await jc.reconcile('default/a');
    // No settle: the pod informer has not delivered the new pods yet.
    await jc.reconcile('default/a');
    await h.settle();
    assert.equal(h.pods().length, 2);
  });

  it('counts succeeded pods through uncountedTerminatedPods, removes finalizers, completes', async () => {
    await h.create(JOBS, newJob('a', { parallelism: 2, completions: 3 }));
    await sync('a');
    for (const p of h.pods()) await h.setPhase(p, 'Succeeded');
    await sync('a');
    let j = job('a');
    assert.equal(j.status?.succeeded, 2);
    assert.deepEqual(j.status?.uncountedTerminatedPods, { succeeded: [], failed: [] });
    assert.ok(
      h.pods().every((p) => p.status?.phase !== 'Succeeded' || (p.metadata.finalizers ?? []).length === 0),
    );
    // One completion left: one more pod.
    assert.equal(active().length, 1);
    await sync('a');
    assert.equal(active().length, 1);
    await h.setPhase(active()[0] as Pod, 'Succeeded');
    await sync('a');
    j = job('a');
    assert.equal(j.status?.succeeded, 3);
    assert.equal(condition(j, 'SuccessCriteriaMet')?.status, 'True');
    assert.equal(condition(j, 'Complete')?.status, 'True');
    assert.equal(condition(j, 'Complete')?.reason, 'CompletionsReached');
    assert.equal(j.status?.completionTime, '2026-03-01T10:00:00Z');
    assert.equal(j.status?.active, 0);
    assert.ok(jc.events.recent.some((e) => e.reason === 'Completed'));
  });

  it('a Job without completions completes once a pod succeeded and the others finished', async () => {
    await h.create(JOBS, newJob('w', { parallelism: 2, completions: null }));
    await sync('w');
    const [p1, p2] = h.pods() as [Pod, Pod];
    await h.setPhase(p1, 'Succeeded');
    await sync('w');
    assert.equal(active().length, 1, 'no replacement after a success');
    assert.equal(condition(job('w'), 'Complete'), undefined);
    await h.setPhase(p2, 'Succeeded');
    await sync('w');
    assert.equal(condition(job('w'), 'Complete')?.status, 'True');
  });

  it('backs off exponentially before replacing failed pods', async () => {
    await h.create(JOBS, newJob('b', { parallelism: 1, completions: 1 }));
    await sync('b');
    await h.setPhase(h.pods()[0] as Pod, 'Failed');
    const r = await sync('b');
    assert.equal(job('b').status?.failed, 1);
    assert.equal(active().length, 0, 'no replacement during the back-off');
    assert.equal(r?.requeueAfterMs, 10_000);
    h.clock.advance(10_000);
    await sync('b');
    assert.equal(active().length, 1);
    await h.setPhase(active()[0] as Pod, 'Failed');
    const r2 = await sync('b');
    assert.equal(r2?.requeueAfterMs, 20_000, 'second failure in a row: 20 s');
    h.clock.advance(19_000);
    await sync('b');
    assert.equal(active().length, 0);
    h.clock.advance(1_000);
    await sync('b');
    assert.equal(active().length, 1);
  });

  it('fails past backoffLimit: FailureTarget, then Failed once no pod is terminating', async () => {
    await h.create(JOBS, newJob('c', { parallelism: 2, completions: 4, backoffLimit: 0 }));
    await sync('c');
    const [p1] = h.pods() as [Pod, Pod];
    await h.setPhase(p1, 'Failed');
    await sync('c');
    let j = job('c');
    assert.equal(j.status?.failed, 2, 'the deleted active pod counts as failed too');
    assert.equal(condition(j, 'FailureTarget')?.reason, 'BackoffLimitExceeded');
    assert.equal(condition(j, 'Failed'), undefined, 'a pod was terminating');
    await sync('c');
    j = job('c');
    assert.equal(condition(j, 'Failed')?.reason, 'BackoffLimitExceeded');
    assert.equal(condition(j, 'Failed')?.message, 'Job has reached the specified backoff limit');
    assert.equal(active().length, 0);
    assert.equal(h.pods().length, 1, 'the fake deleted the active pod at once');
    assert.deepEqual(h.pods()[0]?.metadata.finalizers, [], 'the failed pod was counted');
  });

  it('fails with DeadlineExceeded after activeDeadlineSeconds, and asks to be synced at the deadline', async () => {
    await h.create(JOBS, newJob('d', { activeDeadlineSeconds: 30 }));
    const r = await sync('d');
    assert.equal(r?.requeueAfterMs, 30_000);
    h.clock.advance(30_000);
    await sync('d');
    assert.equal(condition(job('d'), 'FailureTarget')?.reason, 'DeadlineExceeded');
    await sync('d');
    const j = job('d');
    assert.equal(condition(j, 'Failed')?.reason, 'DeadlineExceeded');
    assert.equal(condition(j, 'Failed')?.message, 'Job was active longer than specified deadline');
    assert.equal(active().length, 0);
  });

  it('Indexed: one pod per index with annotation, label, hostname and env; completedIndexes', async () => {
    await h.create(JOBS, newJob('ix', { completionMode: 'Indexed', parallelism: 3, completions: 3 }));
    await sync('ix');
    const pods = h.pods().sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    assert.deepEqual(
      pods.map((p) => p.metadata.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION]),
      ['0', '1', '2'],
    );
    for (const p of pods) {
      const ix = p.metadata.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION];
      assert.equal(p.metadata.labels?.[JOB_COMPLETION_INDEX_ANNOTATION], ix);
      assert.equal(p.spec?.hostname, `ix-${ix}`);
      assert.match(p.metadata.name ?? '', new RegExp(`^ix-${ix}-`));
      assert.deepEqual(p.spec?.containers?.[0]?.env?.[0], {
        name: 'JOB_COMPLETION_INDEX',
        valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_COMPLETION_INDEX_ANNOTATION}']` } },
      });
    }
    const [p0, p1, p2] = pods as [Pod, Pod, Pod];
    await h.setPhase(p0, 'Succeeded');
    await h.setPhase(p2, 'Succeeded');
    await h.setPhase(p1, 'Failed');
    await sync('ix');
    let j = job('ix');
    assert.equal(j.status?.completedIndexes, '0,2');
    assert.equal(j.status?.succeeded, 2);
    assert.equal(j.status?.failed, 1);
    h.clock.advance(10_000);
    await sync('ix');
    const again = active();
    assert.equal(again.length, 1);
    assert.equal(
      again[0]?.metadata.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION],
      '1',
      'the failed index is retried',
    );
    await h.setPhase(again[0] as Pod, 'Succeeded');
    await sync('ix');
    j = job('ix');
    assert.equal(j.status?.completedIndexes, '0-2');
    assert.equal(condition(j, 'Complete')?.status, 'True');
  });

  it('suspend deletes active pods and sets Suspended; resume resets startTime', async () => {
    await h.create(JOBS, newJob('s'));
    await sync('s');
    await h.client.patch(JOBS, 'default', 's', 'merge', { spec: { suspend: true } });
    await sync('s');
    let j = job('s');
    assert.equal(active().length, 0);
    assert.equal(j.status?.active, 0);
    assert.equal(condition(j, 'Suspended')?.status, 'True');
    h.clock.advance(60_000);
    await h.client.patch(JOBS, 'default', 's', 'merge', { spec: { suspend: false } });
    await sync('s');
    j = job('s');
    assert.equal(condition(j, 'Suspended')?.status, 'False');
    assert.equal(condition(j, 'Suspended')?.reason, 'JobResumed');
    assert.equal(j.status?.startTime, '2026-03-01T10:01:00Z');
    assert.equal(active().length, 2);
  });

  it('deletes surplus pods when parallelism drops, not-ready ones first', async () => {
    await h.create(JOBS, newJob('p', { parallelism: 3, completions: 10 }));
    await sync('p');
    const [p1, p2, p3] = h.pods() as [Pod, Pod, Pod];
    await h.setPhase(p1, 'Running');
    await h.setPhase(p3, 'Running');
    await h.client.patch(JOBS, 'default', 'p', 'merge', { spec: { parallelism: 2 } });
    await sync('p');
    const names = active().map((p) => p.metadata.name);
    assert.deepEqual(names.sort(), [p1.metadata.name, p3.metadata.name].sort());
    assert.ok(!h.pods().some((p) => p.metadata.name === p2.metadata.name));
  });

  it('reports ready pods', async () => {
    await h.create(JOBS, newJob('r'));
    await sync('r');
    await h.setPhase(h.pods()[0] as Pod, 'Running');
    await sync('r');
    assert.equal(job('r').status?.ready, 1);
    assert.equal(job('r').status?.active, 2);
  });

  it('podFailurePolicy: FailJob fails the Job with PodFailurePolicy; Ignore does not count', async () => {
    await h.create(
      JOBS,
      newJob('f', {
        parallelism: 1,
        completions: 2,
        podFailurePolicy: {
          rules: [
            { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } },
            { action: 'Ignore', onExitCodes: { operator: 'In', values: [7] } },
          ],
        },
      }),
    );
    await sync('f');
    await h.setPhase(h.pods()[0] as Pod, 'Failed', { exitCode: 7 });
    await sync('f');
    assert.equal(job('f').status?.failed ?? 0, 0, 'ignored');
    h.clock.advance(10_000);
    await sync('f');
    assert.equal(active().length, 1, 'replaced after the back-off');
    await h.setPhase(active()[0] as Pod, 'Failed', { exitCode: 42 });
    await sync('f');
    assert.equal(condition(job('f'), 'FailureTarget')?.reason, 'PodFailurePolicy');
    await sync('f');
    const j = job('f');
    assert.equal(condition(j, 'Failed')?.reason, 'PodFailurePolicy');
    assert.match(
      condition(j, 'Failed')?.message ?? '',
      /failed with exit code 42 matching FailJob rule at index 0/,
    );
  });

  it('removes the finalizer of an orphan pod', async () => {
    await h.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'lost', namespace: 'default', finalizers: [JOB_TRACKING_FINALIZER] },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    });
    await h.settle();
    const keys = await h.takeQueued();
    assert.ok(keys.includes('orphan-pod:default/lost'));
    await jc.reconcile('orphan-pod:default/lost');
    assert.deepEqual(h.pods()[0]?.metadata.finalizers, []);
  });

  it('adopts a matching orphan pod', async () => {
    await h.create(JOBS, newJob('o', { parallelism: 1, completions: 1 }));
    await h.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stray', namespace: 'default', labels: { 'batch.kubernetes.io/job-name': 'o' } },
      spec: { containers: [{ name: 'c', image: 'x' }] },
      status: { phase: 'Running' },
    });
    await sync('o');
    const pods = h.pods();
    assert.equal(pods.length, 1, 'the adopted pod counts as the active one');
    assert.equal(pods[0]?.metadata.ownerReferences?.[0]?.name, 'o');
    assert.deepEqual(pods[0]?.metadata.finalizers, [JOB_TRACKING_FINALIZER]);
  });
});
