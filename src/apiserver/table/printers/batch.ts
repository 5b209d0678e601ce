/**
 * Printers for the batch group, after Kubernetes' printJob (STATUS, COMPLETIONS "1/1" or
 * "0/1 of 3", DURATION) and printCronJob (SCHEDULE, TIMEZONE, SUSPEND, ACTIVE, LAST SCHEDULE).
 */
import type { KubeObject } from '../../object.ts';
import { AGE_COLUMN, col, humanDuration, NAME_COLUMN, type Printer } from '../table.ts';
import {
  boolPtr,
  CONTAINERS_COLUMN,
  formatLabelSelector,
  IMAGES_COLUMN,
  int,
  layoutContainerCells,
  rec,
  recs,
  selectorColumn,
  since,
  str,
  timeOf,
} from './format.ts';

const name = (o: KubeObject) => o.metadata.name ?? '';
const age = (o: KubeObject, now: number) => since(o.metadata.creationTimestamp, now);

/** hasJobCondition: the first condition of that type decides. */
function hasJobCondition(conditions: unknown, type: string): boolean {
  const c = recs(conditions).find((x) => x.type === type);
  return c !== undefined && c.status === 'True';
}

function jobStatus(o: KubeObject, conditions: unknown): string {
  if (hasJobCondition(conditions, 'Complete')) return 'Complete';
  if (hasJobCondition(conditions, 'Failed')) return 'Failed';
  if (typeof o.metadata.deletionTimestamp === 'string' && o.metadata.deletionTimestamp !== '')
    return 'Terminating';
  if (hasJobCondition(conditions, 'Suspended')) return 'Suspended';
  if (hasJobCondition(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function jobCompletions(spec: Record<string, unknown>, succeeded: number): string {
  if (typeof spec.completions === 'number') return `${succeeded}/${spec.completions}`;
  const parallelism = int(spec.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(status: Record<string, unknown>, now: number): string {
  const start = timeOf(status.startTime);
  if (start === undefined) return '';
  const end = timeOf(status.completionTime);
  return humanDuration((end ?? now) - start);
}

export const jobPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', 'Status of the job.'),
    col('Completions', 'string', 'The number of pods which reached phase Succeeded.'),
    col('Duration', 'string', 'Time required to complete the job.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    selectorColumn('A label query over pods that should match the pod count.'),
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const status = rec(o.status);
    const [names, images] = layoutContainerCells(rec(rec(spec.template).spec).containers);
    return [
      name(o),
      jobStatus(o, status.conditions),
      jobCompletions(spec, int(status.succeeded)),
      jobDuration(status, now),
      age(o, now),
      names,
      images,
      formatLabelSelector(spec.selector),
    ];
  },
};

export const cronJobPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    col(
      'Timezone',
      'string',
      'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.',
    ),
    col(
      'Suspend',
      'boolean',
      'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.',
    ),
    col('Active', 'integer', 'A list of pointers to currently running jobs.'),
    col('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    selectorColumn('A label query over pods that should match the pod count.'),
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const status = rec(o.status);
    const jobSpec = rec(rec(spec.jobTemplate).spec);
    const [names, images] = layoutContainerCells(rec(rec(jobSpec.template).spec).containers);
    const lastSchedule =
      timeOf(status.lastScheduleTime) !== undefined ? since(status.lastScheduleTime, now) : '<none>';
    return [
      name(o),
      str(spec.schedule),
      typeof spec.timeZone === 'string' ? spec.timeZone : '<none>',
      boolPtr(spec.suspend),
      recs(status.active).length,
      lastSchedule,
      age(o, now),
      names,
      images,
      formatLabelSelector(jobSpec.selector),
    ];
  },
};
