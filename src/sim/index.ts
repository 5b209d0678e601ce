/** Simulated nodes (like KWOK): Nodes, Leases and pod lifecycles with no containers. */
export { fallbackPodCIDR, hostIP, PodIPAllocator } from './addresses.ts';
export { SimCluster, type SimClusterOptions, type SimStats } from './cluster.ts';
export { KUBELET_VERSION, qosClass, runsToCompletion } from './objects.ts';
export type { Taint } from './types.ts';
export { Semaphore, TimerWheel } from './wheel.ts';
