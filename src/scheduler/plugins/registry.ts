/**
 * The in-tree plugin registry and the default profile's plugin list (apis/config/v1
 * default_plugins.go, minus volume and DRA plugins). Order matters: Filter plugins run in this
 * order and the first rejection is what a node reports.
 */
import type { PluginFactory } from '../framework/interface.ts';
import type { PluginSpec, Profile } from '../framework/runtime.ts';
import { DEFAULT_SCHEDULER_NAME } from '../types.ts';
import { BalancedAllocation } from './balanced_allocation.ts';
import { DefaultBinder } from './defaultbinder.ts';
import { DefaultPreemption, type DefaultPreemptionArgs } from './defaultpreemption.ts';
import { ImageLocality } from './imagelocality.ts';
import { InterPodAffinity } from './interpodaffinity.ts';
import type { InterPodAffinityArgs } from './interpodaffinity_scoring.ts';
import { Names } from './names.ts';
import { NodeAffinity } from './nodeaffinity.ts';
import { NodeName } from './nodename.ts';
import { NodePorts } from './nodeports.ts';
import { type FitArgs, NodeResourcesFit } from './noderesources_fit.ts';
import { NodeUnschedulable } from './nodeunschedulable.ts';
import { PodTopologySpread, type PodTopologySpreadArgs } from './podtopologyspread.ts';
import type { ResourceSpec } from './resource_allocation.ts';
import { TaintToleration } from './tainttoleration.ts';

export const IN_TREE_REGISTRY: Record<string, PluginFactory> = {
  [Names.NodeUnschedulable]: () => new NodeUnschedulable(),
  [Names.NodeName]: () => new NodeName(),
  [Names.TaintToleration]: () => new TaintToleration(),
  [Names.NodeAffinity]: () => new NodeAffinity(),
  [Names.NodePorts]: () => new NodePorts(),
  [Names.NodeResourcesFit]: (args) => new NodeResourcesFit(args as FitArgs | undefined),
  [Names.PodTopologySpread]: (args, h) => new PodTopologySpread(h, args as PodTopologySpreadArgs | undefined),
  [Names.InterPodAffinity]: (args, h) => new InterPodAffinity(h, args as InterPodAffinityArgs | undefined),
  [Names.DefaultPreemption]: (args, h) => new DefaultPreemption(h, args as DefaultPreemptionArgs | undefined),
  [Names.NodeResourcesBalancedAllocation]: (args) =>
    new BalancedAllocation(args as { resources?: ResourceSpec[] } | undefined),
  [Names.ImageLocality]: (_args, h) => new ImageLocality(h),
  [Names.DefaultBinder]: (_args, h) => new DefaultBinder(h),
};

/** The default multi-point plugin set with upstream's score weights. */
export const DEFAULT_PLUGINS: readonly PluginSpec[] = [
  { name: Names.NodeUnschedulable },
  { name: Names.NodeName },
  { name: Names.TaintToleration, weight: 3 },
  { name: Names.NodeAffinity, weight: 2 },
  { name: Names.NodePorts },
  { name: Names.NodeResourcesFit, weight: 1 },
  { name: Names.PodTopologySpread, weight: 2 },
  { name: Names.InterPodAffinity, weight: 2 },
  { name: Names.DefaultPreemption },
  { name: Names.NodeResourcesBalancedAllocation, weight: 1 },
  { name: Names.ImageLocality, weight: 1 },
  { name: Names.DefaultBinder },
];

/** The default profile, optionally under another scheduler name. */
export function defaultProfile(schedulerName = DEFAULT_SCHEDULER_NAME): Profile {
  return { schedulerName, plugins: DEFAULT_PLUGINS.map((p) => ({ ...p })) };
}
