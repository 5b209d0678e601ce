/**
 * One scheduling decision (schedule_one.go's schedulePod): filter nodes, score the feasible ones,
 * pick the best. Synchronous: it reads one Snapshot that nothing changes meanwhile.
 *
 * To stay fast on large clusters it stops filtering once enough feasible nodes are found
 * (percentageOfNodesToScore: adaptive 50% - nodes/125, at least 5%, at least 100 nodes), and it
 * resumes the next search where the last one stopped so every node gets its turn.
 */
import type { CycleState } from './framework/cycle_state.ts';
import { type Diagnosis, FitError, newDiagnosis } from './framework/fit_error.ts';
import type { NodeInfo } from './framework/nodeinfo.ts';
import type { Framework, NodeTotalScore } from './framework/runtime.ts';
import type { Snapshot } from './framework/snapshot.ts';
import { Code, isSuccess, Status } from './framework/status.ts';
import type { Pod } from './types.ts';

export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** No node exists at all (ErrNoNodesAvailable). */
export class NoNodesAvailableError extends Error {
  constructor() {
    super('no nodes available to schedule pods');
    this.name = 'NoNodesAvailableError';
  }
}

export interface ScheduleResult {
  suggestedHost: string;
  /** Nodes filtered (feasible or not). */
  evaluatedNodes: number;
  feasibleNodes: number;
}

/**
 * How many feasible nodes to look for before scoring (numFeasibleNodesToFind). `percentage` 0
 * means adaptive.
 */
export function numFeasibleNodesToFind(percentage: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let pct = percentage;
  if (!pct) {
    pct = 50 - Math.trunc(numAllNodes / 125);
    if (pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const n = Math.trunc((numAllNodes * pct) / 100);
  return Math.max(n, MIN_FEASIBLE_NODES_TO_FIND);
}

/** A uniformly random node among those with the highest total score (reservoir sampling). */
export function selectHost(scores: readonly NodeTotalScore[], random: () => number): string {
  if (scores.length === 0) throw new Error('empty priorityList');
  let best = scores[0]!;
  let count = 1;
  for (let i = 1; i < scores.length; i++) {
    const s = scores[i]!;
    if (s.total > best.total) {
      best = s;
      count = 1;
    } else if (s.total === best.total) {
      count++;
      if (Math.floor(random() * count) === 0) best = s;
    }
  }
  return best.nodeInfo.name;
}

/** selectHost over `nodes` with index-aligned `totals` (no NodeTotalScore objects); same draws. */
function selectHostOf(nodes: readonly NodeInfo[], totals: ArrayLike<number>, random: () => number): string {
  if (nodes.length === 0) throw new Error('empty priorityList');
  let best = 0;
  let bestTotal = totals[0]!;
  let count = 1;
  for (let i = 1; i < nodes.length; i++) {
    const t = totals[i]!;
    if (t > bestTotal) {
      best = i;
      bestTotal = t;
      count = 1;
    } else if (t === bestTotal) {
      count++;
      if (Math.floor(random() * count) === 0) {
        best = i;
        bestTotal = t;
      }
    }
  }
  return nodes[best]!.name;
}

export class Algorithm {
  /** Where the next filter pass starts in the node list. */
  nextStartNodeIndex = 0;
  readonly #percentage: number;
  readonly #random: () => number;

  constructor(percentageOfNodesToScore = 0, random: () => number = Math.random) {
    this.#percentage = percentageOfNodesToScore;
    this.#random = random;
  }

  /** Picks a node, or throws FitError (no node fits), NoNodesAvailableError, or an Error. */
  schedulePod(fw: Framework, state: CycleState, pod: Pod, snapshot: Snapshot): ScheduleResult {
    if (snapshot.numNodes === 0) throw new NoNodesAvailableError();
    const { feasible, diagnosis } = this.findNodesThatFitPod(fw, state, pod, snapshot);
    if (feasible.length === 0) {
      throw new FitError(
        { namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '' },
        snapshot.numNodes,
        diagnosis,
      );
    }
    const evaluatedNodes = feasible.length + diagnosis.nodeToStatus.map.size;
    if (feasible.length === 1) {
      return { suggestedHost: feasible[0]!.name, evaluatedNodes, feasibleNodes: 1 };
    }
    return {
      suggestedHost: this.#prioritizeAndSelect(fw, state, pod, feasible),
      evaluatedNodes,
      feasibleNodes: feasible.length,
    };
  }

  findNodesThatFitPod(
    fw: Framework,
    state: CycleState,
    pod: Pod,
    snapshot: Snapshot,
  ): { feasible: NodeInfo[]; diagnosis: Diagnosis } {
    const diagnosis = newDiagnosis();
    const all = snapshot.list();
    const pre = fw.runPreFilterPlugins(state, pod, all);
    diagnosis.unschedulablePlugins = pre.plugins;
    if (!isSuccess(pre.status)) {
      const s = pre.status!;
      if (!s.isRejected()) throw s.asError();
      diagnosis.nodeToStatus.absent = s;
      diagnosis.preFilterMsg = s.message();
      return { feasible: [], diagnosis };
    }
    const nominated = pod.status?.nominatedNodeName;
    if (nominated) {
      const ni = snapshot.get(nominated);
      if (ni) {
        const feasible = this.findNodesThatPassFilters(fw, state, pod, diagnosis, [ni]);
        if (feasible.length > 0) return { feasible, diagnosis };
      }
    }
    let nodes: readonly NodeInfo[] = all;
    if (pre.result) {
      nodes = [...pre.result.nodeNames]
        .map((n) => snapshot.get(n))
        .filter((n): n is NodeInfo => n !== undefined);
      const plugins = [...pre.plugins].sort().join(' ');
      diagnosis.nodeToStatus.absent = Status.unresolvable(`node(s) didn't satisfy plugin(s) [${plugins}]`);
    }
    const feasible = this.findNodesThatPassFilters(fw, state, pod, diagnosis, nodes);
    const processed = feasible.length + diagnosis.nodeToStatus.map.size;
    this.nextStartNodeIndex = all.length === 0 ? 0 : (this.nextStartNodeIndex + processed) % all.length;
    return { feasible, diagnosis };
  }

  findNodesThatPassFilters(
    fw: Framework,
    state: CycleState,
    pod: Pod,
    diagnosis: Diagnosis,
    nodes: readonly NodeInfo[],
  ): NodeInfo[] {
    const n = nodes.length;
    if (n === 0) return [];
    let numToFind = numFeasibleNodesToFind(fw.percentageOfNodesToScore ?? this.#percentage, n);
    if (!fw.hasScorePlugins()) numToFind = 1;
    const start = this.nextStartNodeIndex % n;
    if (!fw.hasFilterPlugins()) {
      const feasible: NodeInfo[] = [];
      for (let i = 0; i < numToFind; i++) feasible.push(nodes[(start + i) % n]!);
      return feasible;
    }
    // Sized for the most it can hold (no regrowth while hundreds of nodes are added), then cut to
    // what was found.
    const feasible = new Array<NodeInfo>(Math.min(numToFind, n));
    let found = 0;
    for (let i = 0; i < n; i++) {
      const ni = nodes[(start + i) % n]!;
      const s = fw.runFilterPluginsWithNominatedPods(state, pod, ni);
      if (!s || s.code === Code.Success) {
        feasible[found++] = ni;
        if (found >= numToFind) break;
        continue;
      }
      if (s.code === Code.Error) throw s.asError();
      diagnosis.nodeToStatus.set(ni.name, s);
      if (s.plugin) diagnosis.unschedulablePlugins.add(s.plugin);
    }
    feasible.length = found;
    return feasible;
  }

  /** selectHost(prioritizeNodes(...)) without a NodeTotalScore per node. */
  #prioritizeAndSelect(fw: Framework, state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): string {
    if (!fw.hasScorePlugins()) return selectHost(this.prioritizeNodes(fw, state, pod, nodes), this.#random);
    const pre = fw.runPreScorePlugins(state, pod, nodes);
    if (!isSuccess(pre)) throw pre!.asError();
    const totals = fw.scoreTotals(state, pod, nodes);
    if (totals instanceof Status) throw totals.asError();
    return selectHostOf(nodes, totals, this.#random);
  }

  /** Weighted total scores of the feasible nodes (all 1 without Score plugins). */
  prioritizeNodes(fw: Framework, state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): NodeTotalScore[] {
    if (!fw.hasScorePlugins()) return nodes.map((nodeInfo) => ({ nodeInfo, total: 1 }));
    const pre = fw.runPreScorePlugins(state, pod, nodes);
    if (!isSuccess(pre)) throw pre!.asError();
    const r = fw.runScorePlugins(state, pod, nodes);
    if (r instanceof Status) throw r.asError();
    return r;
  }
}
