/**
 * The kubelet's pod workers: PodManager runs the pods bound to the node through CRI, with probes,
 * back-off, lifecycle hooks, graceful termination and status reports.
 */
export {
  ApiEventRecorder,
  containerFieldPath,
  type EventRecorder,
  type EventType,
  imageEventSink,
  MemoryEventRecorder,
} from './events.ts';
export {
  PodManager,
  type PodManagerOptions,
  type PodObject,
  type RunningContainer,
  type RunningPod,
} from './manager.ts';
export { type QosClass, qosClass } from './qos.ts';
