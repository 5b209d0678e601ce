import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Printer } from '../table.ts';
import { cronJobPrinter, jobPrinter } from './batch.ts';
import { ago, DAY, HOUR, MINUTE, NOW, obj, SECOND } from './testing.ts';

const names = (p: Printer) => p.columns.map((c) => (c.priority ? `${c.name}*` : c.name));
const podTemplate = { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }], restartPolicy: 'Never' } };
const selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': 'a1b2' } };

describe('job printer', () => {
  it('has the columns of kubectl get jobs', () => {
    assert.deepEqual(names(jobPrinter), [
      'Name',
      'Status',
      'Completions',
      'Duration',
      'Age',
      'Containers*',
      'Images*',
      'Selector*',
    ]);
  });

  it('prints a completed job with its duration', () => {
    const job = obj('pi', 10 * MINUTE, {
      spec: { completions: 1, parallelism: 1, selector, template: podTemplate },
      status: {
        startTime: ago(10 * MINUTE),
        completionTime: ago(10 * MINUTE - 47 * SECOND),
        succeeded: 1,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True' },
          { type: 'Complete', status: 'True' },
        ],
      },
    });
    assert.deepEqual(jobPrinter.row(job, NOW), [
      'pi',
      'Complete',
      '1/1',
      '47s',
      '10m',
      'pi',
      'perl:5.34',
      'batch.kubernetes.io/controller-uid=a1b2',
    ]);
  });

  it('prints a running job, its elapsed time and completions', () => {
    const job = obj('work', 3 * MINUTE, {
      spec: { completions: 5, parallelism: 2, template: podTemplate },
      status: { startTime: ago(3 * MINUTE), succeeded: 2, active: 2 },
    });
    assert.deepEqual(jobPrinter.row(job, NOW).slice(0, 5), ['work', 'Running', '2/5', '3m', '3m']);
  });

  it('prints work-queue jobs as "N/1 of P"', () => {
    const queue = obj('queue', MINUTE, {
      spec: { parallelism: 3, template: podTemplate },
      status: { succeeded: 0 },
    });
    assert.equal(jobPrinter.row(queue, NOW)[2], '0/1 of 3');
    const single = obj('one', MINUTE, { spec: { parallelism: 1, template: podTemplate } });
    assert.equal(jobPrinter.row(single, NOW)[2], '0/1');
  });

  it('prints Failed, Suspended, FailureTarget and Terminating', () => {
    const withConditions = (conditions: unknown[], meta = {}) =>
      jobPrinter.row(obj('j', HOUR, { spec: { completions: 1 }, status: { conditions } }, meta), NOW)[1];
    assert.equal(
      withConditions([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }]),
      'Failed',
    );
    assert.equal(withConditions([{ type: 'Suspended', status: 'True' }]), 'Suspended');
    assert.equal(withConditions([{ type: 'Suspended', status: 'False' }]), 'Running');
    assert.equal(withConditions([{ type: 'FailureTarget', status: 'True' }]), 'FailureTarget');
    assert.equal(
      withConditions([{ type: 'Suspended', status: 'True' }], { deletionTimestamp: ago(SECOND) }),
      'Terminating',
    );
    assert.equal(
      withConditions([{ type: 'Complete', status: 'True' }], { deletionTimestamp: ago(SECOND) }),
      'Complete',
    );
  });

  it('prints an empty duration before the job starts', () => {
    assert.deepEqual(jobPrinter.row(obj('j', 0), NOW), ['j', 'Running', '0/1', '', '0s', '', '', '<none>']);
  });
});

describe('cron job printer', () => {
  it('has the columns of kubectl get cronjobs', () => {
    assert.deepEqual(names(cronJobPrinter), [
      'Name',
      'Schedule',
      'Timezone',
      'Suspend',
      'Active',
      'Last Schedule',
      'Age',
      'Containers*',
      'Images*',
      'Selector*',
    ]);
  });

  it('prints schedule, time zone, suspension, active jobs and the last schedule', () => {
    const cj = obj('backup', 2 * DAY, {
      spec: {
        schedule: '*/5 * * * *',
        timeZone: 'Etc/UTC',
        suspend: false,
        jobTemplate: {
          spec: { template: { spec: { containers: [{ name: 'backup', image: 'busybox:1.36' }] } } },
        },
      },
      status: { active: [{ kind: 'Job', name: 'backup-28571234' }], lastScheduleTime: ago(4 * MINUTE) },
    });
    assert.deepEqual(cronJobPrinter.row(cj, NOW), [
      'backup',
      '*/5 * * * *',
      'Etc/UTC',
      'False',
      1,
      '4m',
      '2d',
      'backup',
      'busybox:1.36',
      '<none>',
    ]);
  });

  it('prints <none> before the first run and without a time zone', () => {
    const cj = obj('nightly', HOUR, { spec: { schedule: '0 3 * * *', suspend: true } });
    assert.deepEqual(cronJobPrinter.row(cj, NOW).slice(0, 7), [
      'nightly',
      '0 3 * * *',
      '<none>',
      'True',
      0,
      '<none>',
      '60m',
    ]);
    assert.equal(cronJobPrinter.row(obj('bare', HOUR), NOW)[3], '<unset>');
  });
});
