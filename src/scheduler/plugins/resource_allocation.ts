/**
 * The shared scorer of NodeResourcesFit and NodeResourcesBalancedAllocation
 * (noderesources/resource_allocation.go) and the LeastAllocated / MostAllocated strategies
 * (least_allocated.go, most_allocated.go).
 */
import { MAX_NODE_SCORE, type NodeScore } from '../framework/interface.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import { podInfoOf } from '../framework/podinfo.ts';
import {
  CPU,
  EPHEMERAL_STORAGE,
  isScalarResourceName,
  MEMORY,
  resourceAmount,
} from '../framework/resource.ts';
import type { Pod } from '../types.ts';

/** A resource a scorer looks at, with its weight. */
export interface ResourceSpec {
  name: string;
  weight: number;
}

export const DEFAULT_RESOURCES: ResourceSpec[] = [
  { name: CPU, weight: 1 },
  { name: MEMORY, weight: 1 },
];

/** Scores requested-vs-allocatable vectors (index-aligned with the resources). */
export type Scorer = (requested: readonly number[], allocatable: readonly number[]) => number;

/** One resource's LeastAllocated score: (capacity - requested) / capacity × 100; `cap` > 0. */
function leastAllocated(req: number, cap: number): number {
  return req > cap ? 0 : Math.trunc(((cap - req) * MAX_NODE_SCORE) / cap);
}

/** One resource's MostAllocated score: requested / capacity × 100, at most 100; `cap` > 0. */
function mostAllocated(req: number, cap: number): number {
  return Math.trunc((Math.min(req, cap) * MAX_NODE_SCORE) / cap);
}

/** (capacity - requested) / capacity × 100, averaged by weight: emptier nodes score higher. */
export function leastAllocatedScorer(resources: readonly ResourceSpec[]): Scorer {
  return (requested, allocatable) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      const cap = allocatable[i]!;
      if (cap === 0) continue;
      const s = leastAllocated(requested[i]!, cap);
      const w = resources[i]!.weight;
      nodeScore += s * w;
      weightSum += w;
    }
    return weightSum === 0 ? 0 : Math.trunc(nodeScore / weightSum);
  };
}

/** requested / capacity × 100, averaged by weight: fuller nodes score higher (bin packing). */
export function mostAllocatedScorer(resources: readonly ResourceSpec[]): Scorer {
  return (requested, allocatable) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < requested.length; i++) {
      const cap = allocatable[i]!;
      if (cap === 0) continue;
      const s = mostAllocated(requested[i]!, cap);
      const w = resources[i]!.weight;
      nodeScore += s * w;
      weightSum += w;
    }
    return weightSum === 0 ? 0 : Math.trunc(nodeScore / weightSum);
  };
}

/** The pod's request per resource: non-zero defaults unless `useRequested` (calculatePodResourceRequestList). */
export function podRequestList(
  pod: Pod,
  resources: readonly ResourceSpec[],
  useRequested: boolean,
): number[] {
  const pi = podInfoOf(pod);
  const r = useRequested ? pi.requests : pi.nonZeroRequests;
  return resources.map((s) => resourceAmount(r, s.name));
}

/**
 * The scorers AllocationScorer.scoreNodes computes inline for the usual resources, cpu and memory
 * in that order (the same arithmetic as the Scorer functions, in the same order).
 */
export const PairScorer = { None: 0, LeastAllocated: 1, MostAllocated: 2, Balanced: 3 } as const;
export type PairScorer = (typeof PairScorer)[keyof typeof PairScorer];

const KIND_CPU = 0;
const KIND_MEMORY = 1;
const KIND_EPHEMERAL = 2;
const KIND_SCALAR = 3;

/**
 * Scores a node with the pod's requests added (resourceAllocationScorer.score). Extended resources
 * the pod does not request, and resources the node lacks, are left out. Reuses its buffers: one
 * score at a time.
 */
export class AllocationScorer {
  readonly #names: string[];
  readonly #kinds: Uint8Array;
  readonly #scalarName: boolean[];
  readonly #scorer: Scorer;
  readonly #useRequested: boolean;
  readonly #req: number[];
  readonly #alloc: number[];
  /** The inline scorer scoreNodes uses when the resources are [cpu, memory]; None otherwise. */
  readonly #pair: PairScorer;
  readonly #w0: number;
  readonly #w1: number;

  constructor(
    resources: readonly ResourceSpec[],
    scorer: Scorer,
    useRequested: boolean,
    pair: PairScorer = PairScorer.None,
  ) {
    this.#names = resources.map((r) => r.name);
    this.#kinds = Uint8Array.from(resources, (r) =>
      r.name === CPU
        ? KIND_CPU
        : r.name === MEMORY
          ? KIND_MEMORY
          : r.name === EPHEMERAL_STORAGE
            ? KIND_EPHEMERAL
            : KIND_SCALAR,
    );
    this.#scalarName = resources.map((r) => isScalarResourceName(r.name));
    this.#scorer = scorer;
    this.#useRequested = useRequested;
    this.#req = resources.map(() => 0);
    this.#alloc = resources.map(() => 0);
    const cpuMemory = resources.length === 2 && resources[0]!.name === CPU && resources[1]!.name === MEMORY;
    this.#pair = cpuMemory ? pair : PairScorer.None;
    this.#w0 = cpuMemory ? resources[0]!.weight : 0;
    this.#w1 = cpuMemory ? resources[1]!.weight : 0;
  }

  /**
   * score() for every node into `scores[i].score`. With cpu and memory only (the default), the
   * scorer runs inline on the NodeInfo's numbers: no per-node calls or buffers.
   */
  scoreNodes(podRequests: readonly number[], nodes: readonly NodeInfo[], scores: NodeScore[]): void {
    const n = nodes.length;
    const pair = this.#pair;
    if (pair === PairScorer.None) {
      for (let i = 0; i < n; i++) scores[i]!.score = this.score(podRequests, nodes[i]!);
      return;
    }
    const useRequested = this.#useRequested;
    const podCPU = podRequests[0]!;
    const podMemory = podRequests[1]!;
    const w0 = this.#w0;
    const w1 = this.#w1;
    for (let i = 0; i < n; i++) {
      const ni = nodes[i]!;
      if (!ni.node) {
        scores[i]!.score = 0;
        continue;
      }
      const a0 = ni.allocatableMilliCPU;
      const a1 = ni.allocatableMemory;
      const r0 = (useRequested ? ni.requestedMilliCPU : ni.nonZeroRequestedMilliCPU) + podCPU;
      const r1 = (useRequested ? ni.requestedMemory : ni.nonZeroRequestedMemory) + podMemory;
      let score: number;
      if (pair === PairScorer.Balanced) {
        // balancedScore: the std of two fractions is half their distance; of one, 0.
        let std = 0;
        if (a0 !== 0 && a1 !== 0) std = Math.abs((Math.min(r0 / a0, 1) - Math.min(r1 / a1, 1)) / 2);
        score = Math.trunc((1 - std) * MAX_NODE_SCORE);
      } else {
        let nodeScore = 0;
        let weightSum = 0;
        if (a0 !== 0) {
          nodeScore +=
            (pair === PairScorer.LeastAllocated ? leastAllocated(r0, a0) : mostAllocated(r0, a0)) * w0;
          weightSum += w0;
        }
        if (a1 !== 0) {
          nodeScore +=
            (pair === PairScorer.LeastAllocated ? leastAllocated(r1, a1) : mostAllocated(r1, a1)) * w1;
          weightSum += w1;
        }
        score = weightSum === 0 ? 0 : Math.trunc(nodeScore / weightSum);
      }
      scores[i]!.score = score;
    }
  }

  score(podRequests: readonly number[], nodeInfo: NodeInfo): number {
    if (!nodeInfo.node) return 0;
    const useRequested = this.#useRequested;
    const req = this.#req;
    const alloc = this.#alloc;
    // cpu, memory and ephemeral-storage come from the NodeInfo's own copies of the numbers.
    for (let i = 0; i < req.length; i++) {
      const podReq = podRequests[i]!;
      let al = 0;
      let rq = 0;
      switch (this.#kinds[i]) {
        case KIND_CPU:
          al = nodeInfo.allocatableMilliCPU;
          rq = (useRequested ? nodeInfo.requestedMilliCPU : nodeInfo.nonZeroRequestedMilliCPU) + podReq;
          break;
        case KIND_MEMORY:
          al = nodeInfo.allocatableMemory;
          rq = (useRequested ? nodeInfo.requestedMemory : nodeInfo.nonZeroRequestedMemory) + podReq;
          break;
        case KIND_EPHEMERAL:
          al = nodeInfo.allocatableEphemeralStorage;
          rq = nodeInfo.requestedEphemeralStorage + podReq;
          break;
        default: {
          const name = this.#names[i]!;
          const a = nodeInfo.allocatable;
          if ((podReq !== 0 || !this.#scalarName[i]) && a.scalar.has(name)) {
            al = a.scalar.get(name)!;
            rq = (nodeInfo.requested.scalar.get(name) ?? 0) + podReq;
          }
        }
      }
      alloc[i] = al;
      req[i] = al === 0 ? 0 : rq;
    }
    return this.#scorer(req, alloc);
  }
}
