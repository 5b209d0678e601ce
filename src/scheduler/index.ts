/**
 * skiff's scheduler, modeled on kube-scheduler: a plugin framework (framework/), the in-tree
 * plugins (plugins/), the scheduling queue, the cache with assumed pods, and the Scheduler that
 * wires them to informers and the REST client.
 */
export { SchedulerCache } from './cache.ts';
export * as framework from './framework/index.ts';
export { Names as PluginNames } from './plugins/names.ts';
export { DEFAULT_PLUGINS, defaultProfile, IN_TREE_REGISTRY } from './plugins/registry.ts';
export { type QueuedPodInfo, SchedulingQueue } from './queue.ts';
export { Scheduler, type SchedulerInformers, type SchedulerOptions } from './scheduler.ts';
export type { Namespace, Node, Pod, PodDisruptionBudget, PriorityClass } from './types.ts';
export { DEFAULT_SCHEDULER_NAME } from './types.ts';
