/**
 * The node part of the kubelet: NodeAgent (registration, status, Lease, podCIDR), the eviction
 * manager and its signals, and the host readers they share.
 */
export {
  NodeAgent,
  type NodeAgentOptions,
  type NodeObject,
  NodeRegistrationError,
  type PressureSource,
} from './agent.ts';
export { computeAllocatable, readCapacity } from './capacity.ts';
export { type NodeEventSink, setPressureCondition, setReadyCondition } from './conditions.ts';
export {
  type EvictionDetails,
  EvictionManager,
  type EvictionManagerOptions,
  isCriticalPod,
  type PressureCondition,
} from './eviction.ts';
export { chooseNodeIP, type FsStats, goArch, type HostReader, realHost } from './host.ts';
export { NODE_LEASE_NAMESPACE, NodeLease } from './lease.ts';
export { type PodStatsSources, podStatsFrom } from './podstats.ts';
export type { PodUsage } from './rank.ts';
export { hostSignals, type NodeSignals, type SignalSource } from './signals.ts';
export { nodeImages, runtimeErrors } from './status.ts';
export {
  DEFAULT_EVICTION_HARD,
  parseThresholds,
  type Signal,
  type Threshold,
  ThresholdError,
} from './thresholds.ts';
