import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CRON_JOBS, JOBS } from '../../client/resources.ts';
import { rfc3339 } from '../job/podutil.ts';
import { Harness, podTemplate, T0 } from '../job/testing.ts';
import type { Job } from '../job/types.ts';
import { CronJobController } from './controller.ts';
import { type CronJob, SCHEDULED_TIMESTAMP_ANNOTATION } from './utils.ts';

const MIN = 60_000;

function newCronJob(name: string, spec: Partial<CronJob['spec']> = {}): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default' },
    spec: {
      schedule: '*/5 * * * *',
      concurrencyPolicy: 'Allow',
      jobTemplate: {
        metadata: { labels: { app: name } },
        spec: { template: podTemplate({ app: name }) },
      },
      ...spec,
    },
  };
}

describe('CronJobController', () => {
  let h: Harness;
  let c: CronJobController;
  beforeEach(async () => {
    // T0 is 10:00:00; the CronJobs are created at 10:00:00.
    h = new Harness();
    c = new CronJobController({ defaultTimeZone: 'UTC' });
    await h.start(c);
  });
  afterEach(() => h.stop());

  const cronJob = (name: string) =>
    h.client.objects<CronJob>(CRON_JOBS).find((x) => x.metadata.name === name) as CronJob;
  const jobs = () => h.client.objects<Job>(JOBS);
  const sync = async (name: string) => {
    await h.settle();
    const r = await c.reconcile(`default/${name}`);
    await h.settle();
    return r;
  };
  const finish = async (job: Job, type: 'Complete' | 'Failed', at = h.clock.now()) => {
    await h.client.patch(JOBS, 'default', job.metadata.name ?? '', 'merge', {
      status: {
        startTime: job.status?.startTime ?? rfc3339(at),
        completionTime: type === 'Complete' ? rfc3339(at) : undefined,
        conditions: [{ type, status: 'True', lastTransitionTime: rfc3339(at) }],
      },
    });
  };

  it('waits for the first schedule time, then creates its Job and records it', async () => {
    await h.create(CRON_JOBS, newCronJob('cj'));
    const r0 = await sync('cj');
    assert.equal(jobs().length, 0);
    assert.equal(r0?.requeueAfterMs, 5 * MIN + 100, 'look again just after 10:05');
    h.clock.advance(5 * MIN + 100);
    const r1 = await sync('cj');
    const [job] = jobs();
    const scheduled = T0 + 5 * MIN;
    assert.equal(job?.metadata.name, `cj-${scheduled / MIN}`);
    assert.equal(job?.metadata.annotations?.[SCHEDULED_TIMESTAMP_ANNOTATION], '2026-03-01T10:05:00Z');
    assert.equal(job?.metadata.labels?.app, 'cj');
    assert.equal(job?.metadata.ownerReferences?.[0]?.kind, 'CronJob');
    assert.equal(job?.metadata.ownerReferences?.[0]?.controller, true);
    const st = cronJob('cj').status;
    assert.equal(st?.lastScheduleTime, '2026-03-01T10:05:00Z');
    assert.deepEqual(
      st?.active?.map((a) => a.name),
      [job?.metadata.name],
    );
    assert.equal(r1?.requeueAfterMs, 5 * MIN, 'next at 10:10:00.100');
    // Nothing new for the same time.
    await sync('cj');
    assert.equal(jobs().length, 1);
    assert.ok(c.events.recent.some((e) => e.reason === 'SuccessfulCreate'));
  });

  it('Forbid skips a time while a Job is active; Replace deletes the active one; Allow runs both', async () => {
    await h.create(CRON_JOBS, newCronJob('forbid', { concurrencyPolicy: 'Forbid' }));
    await h.create(CRON_JOBS, newCronJob('replace', { concurrencyPolicy: 'Replace' }));
    await h.create(CRON_JOBS, newCronJob('allow', { concurrencyPolicy: 'Allow' }));
    h.clock.advance(5 * MIN);
    for (const n of ['forbid', 'replace', 'allow']) await sync(n);
    h.clock.advance(5 * MIN);
    for (const n of ['forbid', 'replace', 'allow']) await sync(n);
    const names = (p: string) =>
      jobs()
        .filter((j) => j.metadata.name?.startsWith(`${p}-`))
        .map((j) => j.metadata.name);
    assert.deepEqual(names('forbid'), [`forbid-${(T0 + 5 * MIN) / MIN}`]);
    assert.ok(c.events.recent.some((e) => e.reason === 'JobAlreadyActive' && e.object === 'CronJob/forbid'));
    assert.deepEqual(names('replace'), [`replace-${(T0 + 10 * MIN) / MIN}`]);
    assert.equal(cronJob('replace').status?.active?.length, 1);
    assert.equal(names('allow').length, 2);
    assert.equal(cronJob('allow').status?.active?.length, 2);
    // Once the Forbid Job finishes, the skipped 10:10 time (still the most recent) runs, late.
    await finish(jobs().find((j) => j.metadata.name?.startsWith('forbid-')) as Job, 'Complete');
    await sync('forbid');
    assert.deepEqual(names('forbid'), [`forbid-${(T0 + 5 * MIN) / MIN}`, `forbid-${(T0 + 10 * MIN) / MIN}`]);
    assert.deepEqual(
      cronJob('forbid').status?.active?.map((a) => a.name),
      [`forbid-${(T0 + 10 * MIN) / MIN}`],
    );
    assert.equal(cronJob('forbid').status?.lastSuccessfulTime, rfc3339(h.clock.now()));
  });

  it('startingDeadlineSeconds: a time missed by more is skipped', async () => {
    await h.create(CRON_JOBS, newCronJob('late', { startingDeadlineSeconds: 60 }));
    h.clock.advance(7 * MIN);
    await sync('late');
    assert.equal(jobs().length, 0);
    h.clock.advance(3 * MIN + 30_000);
    await sync('late');
    assert.equal(jobs().length, 1, '10:10 is 30 s late, within the deadline');
  });

  it('many missed times: warns and runs only the most recent', async () => {
    await h.create(CRON_JOBS, newCronJob('m', { schedule: '* * * * *' }));
    h.clock.advance(200 * MIN + 30_000);
    await sync('m');
    assert.deepEqual(
      jobs().map((j) => j.metadata.name),
      [`m-${T0 / MIN + 200}`],
    );
    assert.ok(c.events.recent.some((e) => e.reason === 'TooManyMissedTimes'));
  });

  it('keeps successfulJobsHistoryLimit / failedJobsHistoryLimit finished Jobs', async () => {
    await h.create(
      CRON_JOBS,
      newCronJob('hist', { schedule: '* * * * *', successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }),
    );
    for (let i = 1; i <= 4; i++) {
      h.clock.advance(MIN);
      await sync('hist');
      const mine = jobs().find((j) => j.metadata.name === `hist-${T0 / MIN + i}`) as Job;
      await finish(mine, i === 2 || i === 3 ? 'Failed' : 'Complete');
    }
    h.clock.advance(MIN);
    await sync('hist');
    const left = jobs()
      .filter((j) => j.status?.conditions?.length)
      .map((j) => j.metadata.name)
      .sort();
    // Successes at minutes 1 and 4 (limit 2); failures at 2 and 3 (limit 1: the older goes).
    assert.deepEqual(left, [`hist-${T0 / MIN + 1}`, `hist-${T0 / MIN + 3}`, `hist-${T0 / MIN + 4}`]);
    const del = h.client.calls.find((x) => x.verb === 'delete' && x.resource === 'jobs');
    assert.deepEqual(del?.opts, { propagationPolicy: 'Background' });
  });

  it('a suspended CronJob starts nothing; a vanished active Job leaves status.active', async () => {
    await h.create(CRON_JOBS, newCronJob('s'));
    h.clock.advance(5 * MIN);
    await sync('s');
    const [job] = jobs();
    await h.client.delete(JOBS, 'default', job?.metadata.name ?? '');
    await h.client.patch(CRON_JOBS, 'default', 's', 'merge', { spec: { suspend: true } });
    h.clock.advance(5 * MIN);
    await sync('s');
    assert.equal(jobs().length, 0);
    assert.deepEqual(cronJob('s').status?.active, []);
    assert.ok(c.events.recent.some((e) => e.reason === 'MissingJob'));
  });

  it('schedules in spec.timeZone and stamps the time in that zone', async () => {
    // 10:00Z is 11:00 in Paris; "0 12 * * *" there is 11:00Z.
    await h.create(CRON_JOBS, newCronJob('tz', { schedule: '0 12 * * *', timeZone: 'Europe/Paris' }));
    const r = await sync('tz');
    assert.equal(r?.requeueAfterMs, 60 * MIN + 100);
    h.clock.advance(60 * MIN);
    await sync('tz');
    assert.equal(
      jobs()[0]?.metadata.annotations?.[SCHEDULED_TIMESTAMP_ANNOTATION],
      '2026-03-01T12:00:00+01:00',
    );
  });

  it('an unparseable schedule is reported, not retried', async () => {
    await h.create(CRON_JOBS, newCronJob('bad', { schedule: '*/0 * * * *' }));
    assert.equal(await sync('bad'), undefined);
    assert.ok(c.events.recent.some((e) => e.reason === 'UnparseableSchedule'));
  });
});
