/**
 * The CronJob controller against a real API server, on a FakeClock: Jobs appear when the clock
 * reaches schedule times, and concurrencyPolicy Forbid holds one back while a Job is active. The
 * test plays the Job controller (it marks Jobs Complete).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CRON_JOBS, EVENTS, JOBS, NAMESPACES } from '../../client/resources.ts';
import { HttpRestClient } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import type { KubeObject } from '../../client/types.ts';
import { FakeClock } from '../../util/clock.ts';
import { rfc3339 } from '../job/podutil.ts';
import type { Job } from '../job/types.ts';
import { ControllerManager } from '../manager.ts';
import { CronJobController } from './controller.ts';
import type { CronJob } from './utils.ts';

const MIN = 60_000;

describe('CronJob controller against the API server (FakeClock)', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  const ac = new AbortController();
  // Start a little after a minute boundary, as the real clock stands (creationTimestamp is real).
  const clock = new FakeClock(Date.now());

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config, { component: 'cronjob-test' });
    await client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cron' } });
    const manager = new ControllerManager({
      client,
      clock,
      controllers: [new CronJobController({ defaultTimeZone: 'UTC' })],
      leaderElection: false,
    });
    void manager.run(ac.signal);
  });
  after(async () => {
    ac.abort();
    await srv.close();
  });

  const jobNames = async () =>
    (await client.list<Job>(JOBS, 'cron')).items.map((j) => j.metadata.name ?? '').sort();
  /** Moves the fake clock to `second` seconds past the next minute boundary. */
  const toNextMinute = (second: number) => {
    const target = (Math.floor(clock.now() / MIN) + 1) * MIN + second * 1000;
    clock.advance(target - clock.now());
    return Math.floor(target / MIN) * MIN;
  };

  it('fires on schedule and respects concurrencyPolicy Forbid', async () => {
    await client.create(CRON_JOBS, 'cron', {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tick' },
      spec: {
        schedule: '* * * * *',
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 10,
        jobTemplate: {
          spec: {
            template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
          },
        },
      },
    } as KubeObject);
    // Nothing before the first schedule time.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await jobNames(), []);

    const t1 = toNextMinute(1);
    const first = `tick-${t1 / MIN}`;
    await eventually(async () => (await jobNames()).includes(first), 'the first Job', 10_000);
    await eventually(async () => {
      const cj = await client.get<CronJob>(CRON_JOBS, 'cron', 'tick');
      return cj.status?.active?.[0]?.name === first && cj.status.lastScheduleTime === rfc3339(t1);
    }, 'status.active and lastScheduleTime');

    // The next minute: the first Job is still active, so Forbid skips it.
    toNextMinute(1);
    await eventually(
      async () => (await client.list(EVENTS, 'cron')).items.some((e) => e.reason === 'JobAlreadyActive'),
      'a JobAlreadyActive event',
      10_000,
    );
    assert.deepEqual(await jobNames(), [first]);

    // Past that time's starting deadline, the first Job completes: no late run for the skipped time.
    clock.advance(30_000);
    const job = await client.get<Job>(JOBS, 'cron', first);
    await client.update(
      JOBS,
      'cron',
      {
        ...job,
        status: {
          startTime: rfc3339(t1),
          completionTime: rfc3339(clock.now()),
          succeeded: 1,
          conditions: [
            {
              type: 'SuccessCriteriaMet',
              status: 'True',
              lastProbeTime: rfc3339(clock.now()),
              lastTransitionTime: rfc3339(clock.now()),
            },
            {
              type: 'Complete',
              status: 'True',
              lastProbeTime: rfc3339(clock.now()),
              lastTransitionTime: rfc3339(clock.now()),
            },
          ],
        },
      },
      { subresource: 'status' },
    );
    await eventually(async () => {
      const cj = await client.get<CronJob>(CRON_JOBS, 'cron', 'tick');
      return (cj.status?.active ?? []).length === 0 && !!cj.status?.lastSuccessfulTime;
    }, 'the finished Job leaving status.active');
    assert.deepEqual(await jobNames(), [first]);

    // The minute after: a new Job.
    const t3 = toNextMinute(1);
    const third = `tick-${t3 / MIN}`;
    await eventually(async () => (await jobNames()).includes(third), 'the next Job', 10_000);
    assert.deepEqual(await jobNames(), [first, third]);
  });
});
