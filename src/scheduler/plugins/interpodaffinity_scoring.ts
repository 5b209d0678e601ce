/** InterPodAffinity's PreScore, Score and NormalizeScore (interpodaffinity/scoring.go). */
import type { Labels } from '../../api/labels.ts';
import { type CycleState, type StateData, StateReader } from '../framework/cycle_state.ts';
import { type Handle, MAX_NODE_SCORE, type NodeScore } from '../framework/interface.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import {
  type AffinityTerm,
  type PodInfo,
  podInfoOf,
  termMatches,
  type WeightedAffinityTerm,
} from '../framework/podinfo.ts';
import { type MaybeStatus, Status } from '../framework/status.ts';
import type { Node, Pod } from '../types.ts';
import { mergeTermNamespaces, namespaceLabels } from './interpodaffinity_state.ts';

const PRE_SCORE_KEY = 'PreScoreInterPodAffinity';

/** InterPodAffinityArgs. */
export interface InterPodAffinityArgs {
  /** Score weight of existing pods' required affinity terms the incoming pod matches (default 1). */
  hardPodAffinityWeight?: number;
  /** Skip scoring when the incoming pod has no preferred terms. */
  ignorePreferredTermsOfExistingPods?: boolean;
}

class PreScoreState implements StateData {
  /** topologyKey → value → score. */
  readonly topologyScore = new Map<string, Map<string, number>>();
  clone(): StateData {
    return this;
  }

  processTerm(
    term: AffinityTerm,
    weight: number,
    pod: Pod,
    nsLabels: Labels,
    node: Node,
    mult: number,
  ): void {
    if (!termMatches(term, pod, nsLabels)) return;
    const labels = node.metadata.labels;
    if (!labels || !Object.hasOwn(labels, term.topologyKey)) return;
    let m = this.topologyScore.get(term.topologyKey);
    if (!m) {
      m = new Map();
      this.topologyScore.set(term.topologyKey, m);
    }
    const v = labels[term.topologyKey]!;
    m.set(v, (m.get(v) ?? 0) + weight * mult);
  }

  processTerms(
    terms: readonly WeightedAffinityTerm[],
    pod: Pod,
    nsLabels: Labels,
    node: Node,
    mult: number,
  ): void {
    for (const t of terms) this.processTerm(t, t.weight, pod, nsLabels, node, mult);
  }
}

/** Object.keys(labels).length > 0, without the array. */
function hasAnyLabel(labels: Readonly<Record<string, string>>): boolean {
  for (const k in labels) if (Object.hasOwn(labels, k)) return true;
  return false;
}

export class InterPodAffinityScoring {
  protected readonly handle: Handle;
  readonly #hardWeight: number;
  readonly #ignoreExisting: boolean;
  readonly #preScoreState = new StateReader<PreScoreState>(PRE_SCORE_KEY);

  constructor(handle: Handle, args: InterPodAffinityArgs) {
    this.handle = handle;
    this.#hardWeight = args.hardPodAffinityWeight ?? 1;
    this.#ignoreExisting = args.ignorePreferredTermsOfExistingPods ?? false;
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): MaybeStatus {
    if (nodes.length === 0) return Status.skip();
    const a = pod.spec?.affinity;
    const hasConstraints =
      (a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).length > 0 ||
      (a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).length > 0;
    if (this.#ignoreExisting && !hasConstraints) return Status.skip();
    const snap = this.handle.snapshot();
    // Without preferred terms of its own, the pod is scored against existing pods' required affinity
    // and preferred terms only: nodes whose affinity pods have none (e.g. only required
    // anti-affinity) add nothing and are left out.
    const all = hasConstraints ? snap.list() : snap.havePodsWithScoringAffinityList();
    const pi = podInfoOf(pod);
    const lister = this.handle.namespaceLister;
    const prefAffinity = pi.preferredAffinityTerms.map((t) => mergeTermNamespaces(t, lister));
    const prefAnti = pi.preferredAntiAffinityTerms.map((t) => mergeTermNamespaces(t, lister));
    const nsLabels = namespaceLabels(lister, pod.metadata.namespace ?? '');
    const s = new PreScoreState();
    for (const ni of all) {
      const node = ni.node;
      if (!node || !hasAnyLabel(ni.labels)) continue;
      for (const existing of hasConstraints ? ni.pods : ni.podsWithAffinity) {
        this.#processExisting(s, existing, node, pod, nsLabels, prefAffinity, prefAnti);
      }
    }
    if (s.topologyScore.size === 0) return Status.skip();
    state.write(PRE_SCORE_KEY, s);
    return undefined;
  }

  #processExisting(
    s: PreScoreState,
    existing: PodInfo,
    node: Node,
    pod: Pod,
    nsLabels: Labels,
    prefAffinity: WeightedAffinityTerm[],
    prefAnti: WeightedAffinityTerm[],
  ): void {
    s.processTerms(prefAffinity, existing.pod, null, node, 1);
    s.processTerms(prefAnti, existing.pod, null, node, -1);
    if (this.#hardWeight > 0) {
      for (const t of existing.requiredAffinityTerms)
        s.processTerm(t, this.#hardWeight, pod, nsLabels, node, 1);
    }
    s.processTerms(existing.preferredAffinityTerms, pod, nsLabels, node, 1);
    s.processTerms(existing.preferredAntiAffinityTerms, pod, nsLabels, node, -1);
  }

  score(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): number {
    const s = this.#preScoreState.read(state);
    if (!s) return 0;
    const labels = nodeInfo.node?.metadata.labels ?? {};
    let score = 0;
    for (const [k, values] of s.topologyScore) {
      if (Object.hasOwn(labels, k)) score += values.get(labels[k]!) ?? 0;
    }
    return score;
  }

  /** Min-max scaling into [0, 100]. */
  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): MaybeStatus {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s || s.topologyScore.size === 0) return undefined;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const sc of scores) {
      if (sc.score > max) max = sc.score;
      if (sc.score < min) min = sc.score;
    }
    const diff = max - min;
    for (const sc of scores) sc.score = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((sc.score - min) / diff)) : 0;
    return undefined;
  }
}
