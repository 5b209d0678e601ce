/**
 * batch/v1 CronJob: SetDefaults_CronJob (and the pod defaults of its job template),
 * ValidateCronJobCreate / ValidateCronJobUpdate: the schedule (cron syntax, no TZ= inside it unless
 * it was there before), timeZone, concurrencyPolicy, the job template (no selector of its own) and
 * the 52-character name limit on create (pkg/apis/batch/v1/defaults.go, pkg/apis/batch/validation).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import type { KubeObject } from '../../object.ts';
import { type KindRules, METADATA, nonNegative, objSpec, ROOT, SPEC } from './common.ts';
import { cronScheduleError, loadLocationError } from './cron.ts';
import { goInvalid, goLabelSelector } from './gofmt.ts';
import { defaultPodFailurePolicy, jobSpecShape, validateJobSpec } from './jobspec.ts';
import { defaultEmpty, defaultUnset, ensureObj, fe, isSet, type Obj, obj, optStr, str } from './json.ts';
import type { PodTemplateHelpers } from './podtemplate.ts';
import { anyObj, o, shapeErrors } from './shape.ts';
import { defaultPodTemplate } from './template.ts';

const cronJobShape = o({
  spec: o({
    schedule: 'string',
    timeZone: 'string',
    startingDeadlineSeconds: 'int64',
    concurrencyPolicy: 'string',
    suspend: 'bool',
    jobTemplate: o({ metadata: anyObj, spec: jobSpecShape }),
    successfulJobsHistoryLimit: 'int32',
    failedJobsHistoryLimit: 'int32',
  }),
});

/** The cronjob controller names jobs `<cronjob>-<11 characters>`, and job names are DNS-1035 labels. */
const MAX_CRONJOB_NAME_LENGTH = 63 - 11;

export function defaultCronJob(obj: KubeObject, pod: PodTemplateHelpers): void {
  const spec = ensureObj(obj, 'spec');
  if (!spec) return;
  defaultEmpty(spec, 'concurrencyPolicy', 'Allow');
  defaultUnset(spec, 'suspend', false);
  defaultUnset(spec, 'successfulJobsHistoryLimit', 3);
  defaultUnset(spec, 'failedJobsHistoryLimit', 1);
  const jobTemplate = ensureObj(spec, 'jobTemplate');
  const jobSpec = jobTemplate && ensureObj(jobTemplate, 'spec');
  if (!jobSpec) return;
  defaultPodFailurePolicy(jobSpec);
  defaultPodTemplate(jobSpec, 'template', pod);
}

/** validateScheduleFormat: a cron schedule, without TZ= / CRON_TZ= (unless grandfathered). */
function validateSchedule(
  schedule: string,
  allowTZ: boolean,
  timeZone: unknown,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const err = cronScheduleError(schedule);
  if (err !== undefined) errs.push(fe.invalid(path, schedule, err));
  if (allowTZ && schedule.includes('TZ') && isSet(timeZone))
    errs.push(fe.invalid(path, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  else if (!allowTZ && schedule.includes('TZ'))
    errs.push(fe.invalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  return errs;
}

const timeZonePart = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** validateTimeZone: unset, or an explicit IANA zone Go's time.LoadLocation knows. */
export function validateTimeZone(tz: unknown, path: FieldPath): FieldError[] {
  const zone = optStr(tz);
  if (zone === undefined) return [];
  if (zone.length === 0) return [fe.invalid(path, zone, 'timeZone must be nil or non-empty string')];
  for (const part of zone.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !timeZonePart.test(part))
      return [fe.invalid(path, zone, `unknown time zone ${zone}`)];
  }
  const errs: FieldError[] = [];
  if (zone.toLowerCase() === 'local')
    errs.push(
      fe.invalid(
        path,
        zone,
        'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
      ),
    );
  const err = loadLocationError(zone);
  if (err !== undefined) errs.push(fe.invalid(path, zone, err));
  return errs;
}

/** ValidateJobTemplateSpec: the job spec; the selector is always generated. */
function validateJobTemplate(jobTemplate: Obj, path: FieldPath, pod: PodTemplateHelpers): FieldError[] {
  const spec = obj(jobTemplate.spec);
  const specPath = path.child('spec');
  const errs = validateJobSpec(spec, specPath, pod);
  if (isSet(spec.selector))
    errs.push(
      goInvalid(
        specPath.child('selector'),
        spec.selector,
        goLabelSelector(spec.selector),
        '`selector` will be auto-generated',
      ),
    );
  if (spec.manualSelector === true)
    errs.push(fe.notSupported(specPath.child('manualSelector'), true, ['nil', 'false']));
  return errs;
}

/** validateCronJobSpec; `oldSpec` on update. */
function validateSpec(spec: Obj, oldSpec: Obj | undefined, pod: PodTemplateHelpers): FieldError[] {
  const errs: FieldError[] = [];
  const schedule = str(spec.schedule);
  if (schedule === '') errs.push(fe.required(SPEC.child('schedule')));
  else {
    const allowTZ = oldSpec !== undefined && str(oldSpec.schedule).includes('TZ');
    errs.push(...validateSchedule(schedule, allowTZ, spec.timeZone, SPEC.child('schedule')));
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, SPEC.child('startingDeadlineSeconds')));
  if (oldSpec === undefined || optStr(oldSpec.timeZone) !== optStr(spec.timeZone))
    errs.push(...validateTimeZone(spec.timeZone, SPEC.child('timeZone')));
  const policy = str(spec.concurrencyPolicy);
  if (policy === '') errs.push(fe.required(SPEC.child('concurrencyPolicy')));
  else if (!['Allow', 'Forbid', 'Replace'].includes(policy))
    errs.push(fe.notSupported(SPEC.child('concurrencyPolicy'), policy, ['Allow', 'Forbid', 'Replace']));
  errs.push(
    ...validateJobTemplate(obj(spec.jobTemplate), SPEC.child('jobTemplate'), pod),
    ...nonNegative(spec.successfulJobsHistoryLimit, SPEC.child('successfulJobsHistoryLimit')),
    ...nonNegative(spec.failedJobsHistoryLimit, SPEC.child('failedJobsHistoryLimit')),
  );
  return errs;
}

function validateCronJob(
  obj: KubeObject,
  old: KubeObject | undefined,
  pod: PodTemplateHelpers,
): FieldError[] {
  const shape = shapeErrors(obj, cronJobShape, ROOT);
  if (shape.length) return shape;
  return validateSpec(objSpec(obj), old && objSpec(old), pod);
}

export function cronJobRules(pod: PodTemplateHelpers): KindRules {
  return {
    defaults: (obj) => defaultCronJob(obj, pod),
    validateCreate(obj) {
      const errs = validateCronJob(obj, undefined, pod);
      const name = obj.metadata.name ?? '';
      if (name.length > MAX_CRONJOB_NAME_LENGTH)
        errs.push(
          fe.invalid(
            METADATA.child('name'),
            name,
            `must be no more than ${MAX_CRONJOB_NAME_LENGTH} characters`,
          ),
        );
      return errs;
    },
    // Names longer than 52 characters are not re-checked, so old CronJobs can still be updated.
    validateUpdate: (obj, old) => validateCronJob(obj, old, pod),
  };
}
