/**
 * NodeResourcesFit: the pod's requests (cpu, memory, ephemeral-storage, extended resources and one
 * pod slot) must fit in what the node has left (Filter: "Insufficient cpu", "Too many pods"); a
 * request larger than the node's whole allocatable is unresolvable (preemption cannot help).
 * Scores with the configured strategy (LeastAllocated by default, or MostAllocated).
 */
import { type CycleState, type StateData, StateReader } from '../framework/cycle_state.ts';
import {
  ActionType,
  type ClusterEvent,
  type FilterPlugin,
  type NodeScore,
  type PreFilterPlugin,
  type PreFilterReturn,
  type PreScorePlugin,
  type ScorePlugin,
} from '../framework/interface.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import { podInfoOf } from '../framework/podinfo.ts';
import type { Resource } from '../framework/resource.ts';
import { Code, type MaybeStatus, Status } from '../framework/status.ts';
import type { Pod } from '../types.ts';
import { Names } from './names.ts';
import {
  AllocationScorer,
  DEFAULT_RESOURCES,
  leastAllocatedScorer,
  mostAllocatedScorer,
  PairScorer,
  podRequestList,
  type ResourceSpec,
} from './resource_allocation.ts';

const PRE_FILTER_KEY = `PreFilter${Names.NodeResourcesFit}`;
const PRE_SCORE_KEY = `PreScore${Names.NodeResourcesFit}`;

/** NodeResourcesFitArgs. */
export interface FitArgs {
  /** Extended resources the filter ignores. */
  ignoredResources?: string[];
  /** Extended resource groups (the part before "/") the filter ignores. */
  ignoredResourceGroups?: string[];
  scoringStrategy?: { type?: 'LeastAllocated' | 'MostAllocated'; resources?: ResourceSpec[] };
}

class Requests implements StateData {
  readonly r: Resource;
  constructor(r: Resource) {
    this.r = r;
  }
  clone(): StateData {
    return this;
  }
}

class PreScoreRequests implements StateData {
  readonly list: number[];
  constructor(list: number[]) {
    this.list = list;
  }
  clone(): StateData {
    return this;
  }
}

export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
  /** The request exceeds the node's whole allocatable: preemption cannot help. */
  unresolvable: boolean;
}

const NONE: readonly InsufficientResource[] = Object.freeze([]);

/** fitsRequest: every resource the pod does not fit in on this node (empty when it fits). */
export function fitsRequest(
  req: Resource,
  nodeInfo: NodeInfo,
  ignored: ReadonlySet<string> = new Set(),
  ignoredGroups: ReadonlySet<string> = new Set(),
): readonly InsufficientResource[] {
  // Fast path: the common answer, "fits", without allocating, from the NodeInfo's own copies of
  // the numbers (one object read per node).
  if (
    nodeInfo.numPods + 1 <= nodeInfo.allowedPodNumber &&
    req.milliCPU <= nodeInfo.allocatableMilliCPU - nodeInfo.requestedMilliCPU &&
    req.memory <= nodeInfo.allocatableMemory - nodeInfo.requestedMemory &&
    req.ephemeralStorage <= nodeInfo.allocatableEphemeralStorage - nodeInfo.requestedEphemeralStorage &&
    req.scalar.size === 0
  ) {
    return NONE;
  }
  return insufficientResources(req, nodeInfo, ignored, ignoredGroups);
}

/**
 * fitsRequest past its fast path. Apart so that fitsRequest itself has no closure: a function with
 * one allocates its context on every call, and fitsRequest runs for every node filtered.
 */
function insufficientResources(
  req: Resource,
  nodeInfo: NodeInfo,
  ignored: ReadonlySet<string>,
  ignoredGroups: ReadonlySet<string>,
): readonly InsufficientResource[] {
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  let out: InsufficientResource[] | undefined;
  const add = (
    resourceName: string,
    reason: string,
    requested: number,
    u: number,
    capacity: number,
    unresolvable: boolean,
  ) => {
    out ??= [];
    out.push({ resourceName, reason, requested, used: u, capacity, unresolvable });
  };
  const allowed = alloc.allowedPodNumber;
  if (nodeInfo.pods.length + 1 > allowed)
    add('pods', 'Too many pods', 1, nodeInfo.pods.length, allowed, false);
  if (req.milliCPU === 0 && req.memory === 0 && req.ephemeralStorage === 0 && req.scalar.size === 0)
    return out ?? NONE;
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) {
    add(
      'cpu',
      'Insufficient cpu',
      req.milliCPU,
      used.milliCPU,
      alloc.milliCPU,
      req.milliCPU > alloc.milliCPU,
    );
  }
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) {
    add('memory', 'Insufficient memory', req.memory, used.memory, alloc.memory, req.memory > alloc.memory);
  }
  const eph = req.ephemeralStorage;
  if (eph > 0 && eph > alloc.ephemeralStorage - used.ephemeralStorage) {
    add(
      'ephemeral-storage',
      'Insufficient ephemeral-storage',
      eph,
      used.ephemeralStorage,
      alloc.ephemeralStorage,
      eph > alloc.ephemeralStorage,
    );
  }
  if (req.scalar.size === 0) return out ?? NONE;
  for (const [name, q] of req.scalar) {
    if (q === 0) continue;
    const extended = !name.startsWith('hugepages-') && !name.startsWith('kubernetes.io/');
    if (extended && (ignored.has(name) || ignoredGroups.has(name.split('/')[0]!))) continue;
    const u = used.scalar.get(name) ?? 0;
    const c = alloc.scalar.get(name) ?? 0;
    if (q > c - u) add(name, `Insufficient ${name}`, q, u, c, q > c);
  }
  return out ?? NONE;
}

export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = Names.NodeResourcesFit;
  readonly #ignored: Set<string>;
  readonly #ignoredGroups: Set<string>;
  readonly #resources: ResourceSpec[];
  readonly #scorer: AllocationScorer;
  readonly #preFilterState = new StateReader<Requests>(PRE_FILTER_KEY);
  readonly #preScoreState = new StateReader<PreScoreRequests>(PRE_SCORE_KEY);

  constructor(args: FitArgs = {}) {
    this.#ignored = new Set(args.ignoredResources ?? []);
    this.#ignoredGroups = new Set(args.ignoredResourceGroups ?? []);
    this.#resources = args.scoringStrategy?.resources ?? DEFAULT_RESOURCES;
    const most = args.scoringStrategy?.type === 'MostAllocated';
    const strategy = most ? mostAllocatedScorer(this.#resources) : leastAllocatedScorer(this.#resources);
    this.#scorer = new AllocationScorer(
      this.#resources,
      strategy,
      false,
      most ? PairScorer.MostAllocated : PairScorer.LeastAllocated,
    );
  }

  preFilter(state: CycleState, pod: Pod): PreFilterReturn | undefined {
    state.write(PRE_FILTER_KEY, new Requests(podInfoOf(pod).requests));
    return undefined;
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const req = this.#preFilterState.read(state)?.r ?? podInfoOf(pod).requests;
    const insufficient = fitsRequest(req, nodeInfo, this.#ignored, this.#ignoredGroups);
    if (insufficient.length === 0) return undefined;
    const code = insufficient.some((i) => i.unresolvable)
      ? Code.UnschedulableAndUnresolvable
      : Code.Unschedulable;
    return new Status(
      code,
      insufficient.map((i) => i.reason),
    );
  }

  preScore(state: CycleState, pod: Pod): MaybeStatus {
    state.write(PRE_SCORE_KEY, new PreScoreRequests(podRequestList(pod, this.#resources, false)));
    return undefined;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const list = this.#preScoreState.read(state)?.list ?? podRequestList(pod, this.#resources, false);
    return this.#scorer.score(list, nodeInfo);
  }

  scoreNodes(state: CycleState, pod: Pod, nodes: readonly NodeInfo[], scores: NodeScore[]): void {
    const list = this.#preScoreState.read(state)?.list ?? podRequestList(pod, this.#resources, false);
    this.#scorer.scoreNodes(list, nodes, scores);
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', actions: ActionType.Delete },
      { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeAllocatable },
    ];
  }
}
