/**
 * NodeResourcesBalancedAllocation: favours nodes whose resource fractions (requested/allocatable,
 * with the pod) are close to each other: score = (1 - std(fractions)) × 100. Best-effort pods
 * (no requests) are not scored.
 */
import { type CycleState, type StateData, StateReader } from '../framework/cycle_state.ts';
import {
  MAX_NODE_SCORE,
  type NodeScore,
  type PreScorePlugin,
  type ScorePlugin,
} from '../framework/interface.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import { type MaybeStatus, Status } from '../framework/status.ts';
import type { Pod } from '../types.ts';
import { Names } from './names.ts';
import {
  AllocationScorer,
  DEFAULT_RESOURCES,
  PairScorer,
  podRequestList,
  type ResourceSpec,
} from './resource_allocation.ts';

const PRE_SCORE_KEY = `PreScore${Names.NodeResourcesBalancedAllocation}`;

class PreScoreRequests implements StateData {
  readonly list: number[];
  constructor(list: number[]) {
    this.list = list;
  }
  clone(): StateData {
    return this;
  }
}

/** balancedResourceScorer: (1 - std of the requested/allocatable fractions) × 100. */
export function balancedScore(requested: readonly number[], allocatable: readonly number[]): number {
  let count = 0;
  let total = 0;
  let f0 = 0;
  let f1 = 0;
  for (let i = 0; i < requested.length; i++) {
    const cap = allocatable[i]!;
    if (cap === 0) continue;
    const f = Math.min(requested[i]! / cap, 1);
    if (count === 0) f0 = f;
    else if (count === 1) f1 = f;
    total += f;
    count++;
  }
  let std = 0;
  if (count === 2) {
    std = Math.abs((f0 - f1) / 2);
  } else if (count > 2) {
    const mean = total / count;
    let sum = 0;
    for (let i = 0; i < requested.length; i++) {
      const cap = allocatable[i]!;
      if (cap === 0) continue;
      const f = Math.min(requested[i]! / cap, 1);
      sum += (f - mean) * (f - mean);
    }
    std = Math.sqrt(sum / count);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

export class BalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = Names.NodeResourcesBalancedAllocation;
  readonly #resources: ResourceSpec[];
  readonly #scorer: AllocationScorer;
  readonly #preScoreState = new StateReader<PreScoreRequests>(PRE_SCORE_KEY);

  constructor(args: { resources?: ResourceSpec[] } = {}) {
    this.#resources = args.resources ?? DEFAULT_RESOURCES;
    this.#scorer = new AllocationScorer(this.#resources, balancedScore, true, PairScorer.Balanced);
  }

  preScore(state: CycleState, pod: Pod): MaybeStatus {
    const list = podRequestList(pod, this.#resources, true);
    if (list.every((v) => v === 0)) return Status.skip();
    state.write(PRE_SCORE_KEY, new PreScoreRequests(list));
    return undefined;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const list = this.#preScoreState.read(state)?.list ?? podRequestList(pod, this.#resources, true);
    return this.#scorer.score(list, nodeInfo);
  }

  scoreNodes(state: CycleState, pod: Pod, nodes: readonly NodeInfo[], scores: NodeScore[]): void {
    const list = this.#preScoreState.read(state)?.list ?? podRequestList(pod, this.#resources, true);
    this.#scorer.scoreNodes(list, nodes, scores);
  }
}
