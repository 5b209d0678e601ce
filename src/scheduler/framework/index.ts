/** The scheduling framework: extension points, cycle state, statuses, NodeInfo, snapshot and runner. */
export { CycleState, type StateData } from './cycle_state.ts';
export { type Diagnosis, FitError, fitErrorMessage, newDiagnosis } from './fit_error.ts';
export * from './interface.ts';
export { HostPortInfo, type ImageStateSummary, NodeInfo, newNodeInfo } from './nodeinfo.ts';
export { type AffinityTerm, PodInfo, podInfoOf, type WeightedAffinityTerm } from './podinfo.ts';
export { podRequests, type Resource } from './resource.ts';
export {
  Framework,
  type FrameworkOptions,
  type NodeTotalScore,
  type PluginSpec,
  type Profile,
} from './runtime.ts';
export { type NodeInfoLister, Snapshot } from './snapshot.ts';
export { Code, codeName, isSuccess, type MaybeStatus, Status } from './status.ts';
