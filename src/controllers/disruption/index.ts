/** The disruption controller: PodDisruptionBudget status. */
export {
  buildDisruptedPodMap,
  type Condition,
  countHealthyPods,
  DELETION_TIMEOUT_MS,
  DisruptionController,
  type DisruptionControllerOptions,
  type PodDisruptionBudget,
  REPLICATION_CONTROLLERS,
  STALE_POD_DISRUPTION_TIMEOUT_MS,
  scaledValue,
} from './controller.ts';
