/** The CronJob controller and its cron schedule parser. */
export { CronJobController, type CronJobControllerOptions } from './controller.ts';
export { CronParseError, parseDuration, parseSchedule, type Schedule } from './schedule.ts';
export { type CronJob, SCHEDULED_TIMESTAMP_ANNOTATION } from './utils.ts';
