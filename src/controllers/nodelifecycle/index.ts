/** Node lifecycle: node health and NoExecute/NoSchedule taints, taint-based eviction, default tolerations. */
export {
  NOT_READY_TAINT,
  NodeLifecycleController,
  type NodeLifecycleOptions,
  UNREACHABLE_TAINT,
} from './controller.ts';
export { TaintEvictionController } from './tainteviction.ts';
export { matchingTolerations, toleratesTaint } from './taints.ts';
export { defaultTolerations } from './tolerations.ts';
export * from './types.ts';
