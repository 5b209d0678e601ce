/** The Job controller and the TTL-after-finished controller, with what they share with other workload controllers. */
export { JobController, type JobControllerOptions } from './controller.ts';
export { TtlAfterFinishedController } from './ttl-after-finished.ts';
export {
  CONTROLLER_UID_LABEL,
  isJobFinished,
  isJobSucceeded,
  JOB_COMPLETION_INDEX_ANNOTATION,
  JOB_NAME_LABEL,
  JOB_TRACKING_FINALIZER,
  type Job,
  type JobSpec,
  type JobStatus,
} from './types.ts';
