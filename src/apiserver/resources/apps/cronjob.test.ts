import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, edit, type Loose, update } from './testing.ts';

const CJ = 'batch/cronjobs';

function cronjob(spec: Record<string, unknown> = {}, jobSpec: Record<string, unknown> = {}, name = 'backup') {
  return {
    metadata: { name },
    spec: {
      schedule: '0 3 * * *',
      jobTemplate: {
        spec: {
          template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'OnFailure' } },
          ...jobSpec,
        },
      },
      ...spec,
    },
  };
}

const errorsOf = (spec: Record<string, unknown>, jobSpec: Record<string, unknown> = {}) =>
  create(CJ, cronjob(spec, jobSpec)).errors;

describe('CronJob defaults', () => {
  it('fills concurrencyPolicy, suspend, history limits and the pod defaults, not the job defaults', () => {
    const { obj, errors } = create(CJ, cronjob());
    assert.deepEqual(errors, []);
    const spec = obj.spec as Loose;
    assert.equal(spec.concurrencyPolicy, 'Allow');
    assert.equal(spec.suspend, false);
    assert.equal(spec.successfulJobsHistoryLimit, 3);
    assert.equal(spec.failedJobsHistoryLimit, 1);
    assert.equal(spec.jobTemplate.spec.template.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(spec.jobTemplate.spec.backoffLimit, undefined);
  });
});

describe('CronJob validation', () => {
  it('requires a schedule and parses it', () => {
    assert.deepEqual(errorsOf({ schedule: '' }), ['spec.schedule: Required value']);
    assert.deepEqual(errorsOf({ schedule: '0 25 * * *' }), [
      'spec.schedule: Invalid value: "0 25 * * *": end of range (25) above maximum (23): 25',
    ]);
    assert.deepEqual(errorsOf({ schedule: '@every 1h' }), []);
  });

  it('does not allow TZ in the schedule', () => {
    assert.deepEqual(errorsOf({ schedule: 'TZ=UTC 0 3 * * *' }), [
      'spec.schedule: Invalid value: "TZ=UTC 0 3 * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    ]);
  });

  it('checks the time zone', () => {
    assert.deepEqual(errorsOf({ timeZone: 'Europe/Berlin' }), []);
    assert.deepEqual(errorsOf({ timeZone: '' }), [
      'spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string',
    ]);
    assert.deepEqual(errorsOf({ timeZone: 'Mars/Olympus' }), [
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
    ]);
    assert.deepEqual(errorsOf({ timeZone: 'Local' }), [
      'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
    ]);
    assert.deepEqual(errorsOf({ timeZone: 'Europe/A_Very_Long_City_Name' }), [
      'spec.timeZone: Invalid value: "Europe/A_Very_Long_City_Name": unknown time zone Europe/A_Very_Long_City_Name',
    ]);
  });

  it('checks concurrencyPolicy and the history limits', () => {
    assert.deepEqual(
      errorsOf({
        concurrencyPolicy: 'Sometimes',
        successfulJobsHistoryLimit: -1,
        startingDeadlineSeconds: -1,
      }),
      [
        'spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0',
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
        'spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0',
      ],
    );
  });

  it('validates the job template, which may not bring a selector', () => {
    assert.deepEqual(
      errorsOf({}, { selector: { matchLabels: { a: 'b' } }, manualSelector: true, parallelism: -1 }),
      [
        'spec.jobTemplate.spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
        'spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated',
        'spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: "nil", "false"',
      ],
    );
    const always = cronjob();
    (always.spec.jobTemplate.spec.template.spec as Loose).restartPolicy = 'Always';
    assert.deepEqual(create(CJ, always).errors, [
      'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]);
  });

  it('limits names to 52 characters on create only', () => {
    const long = 'a'.repeat(53);
    assert.deepEqual(create(CJ, cronjob({}, {}, long)).errors, [
      `metadata.name: Invalid value: "${long}": must be no more than 52 characters`,
    ]);
    const old = create(CJ, cronjob({}, {}, long)).obj;
    assert.deepEqual(
      update(
        CJ,
        old,
        edit(old, (x) => {
          x.spec.suspend = true;
        }),
      ).errors,
      [],
    );
  });
});

describe('CronJob updates', () => {
  it('keeps a TZ= schedule that was already there', () => {
    const old = create(CJ, cronjob({ schedule: 'TZ=UTC 0 3 * * *' })).obj;
    assert.deepEqual(
      update(
        CJ,
        old,
        edit(old, (x) => {
          x.spec.schedule = 'TZ=UTC 0 4 * * *';
        }),
      ).errors,
      [],
    );
    assert.deepEqual(
      update(
        CJ,
        old,
        edit(old, (x) => {
          x.spec.timeZone = 'UTC';
        }),
      ).errors,
      [
        'spec.schedule: Invalid value: "TZ=UTC 0 3 * * *": cannot use both timeZone field and TZ or CRON_TZ in schedule',
      ],
    );
  });

  it('re-checks the time zone only when it changes', () => {
    const old = create(CJ, cronjob()).obj;
    (old.spec as Loose).timeZone = 'Nowhere/Zone';
    assert.deepEqual(
      update(
        CJ,
        old,
        edit(old, (x) => {
          x.spec.suspend = true;
        }),
      ).errors,
      [],
    );
    assert.deepEqual(
      update(
        CJ,
        old,
        edit(old, (x) => {
          x.spec.timeZone = 'Also/Nowhere';
        }),
      ).errors,
      ['spec.timeZone: Invalid value: "Also/Nowhere": unknown time zone Also/Nowhere'],
    );
  });
});
