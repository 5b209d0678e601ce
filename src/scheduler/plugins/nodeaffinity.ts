/**
 * NodeAffinity: spec.nodeSelector and required node affinity must match the node (Filter);
 * preferred terms add their weights (Score, normalized to 100). A required affinity that pins
 * metadata.name narrows the nodes tried (PreFilter result).
 */
import { type CycleState, type StateData, StateReader } from '../framework/cycle_state.ts';
import {
  ActionType,
  type ClusterEvent,
  type FilterPlugin,
  MAX_NODE_SCORE,
  type NodeScore,
  type PreFilterPlugin,
  type PreFilterReturn,
  type PreScorePlugin,
  type ScorePlugin,
} from '../framework/interface.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import { type MaybeStatus, Status } from '../framework/status.ts';
import type { Pod, PreferredSchedulingTerm } from '../types.ts';
import {
  defaultNormalizeScore,
  isEmptyTerm,
  requiredNodeAffinityMatchesLabels,
  termMatchesLabels,
} from './helpers.ts';
import { Names } from './names.ts';

export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';
const PRE_SCORE_KEY = `PreScore${Names.NodeAffinity}`;

class PreScoreState implements StateData {
  readonly terms: PreferredSchedulingTerm[];
  constructor(terms: PreferredSchedulingTerm[]) {
    this.terms = terms;
  }
  clone(): StateData {
    return this;
  }
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = Names.NodeAffinity;
  readonly #preScoreState = new StateReader<PreScoreState>(PRE_SCORE_KEY);

  preFilter(_state: CycleState, pod: Pod): PreFilterReturn | undefined {
    const na = pod.spec?.affinity?.nodeAffinity;
    if (!pod.spec?.nodeSelector && !na?.requiredDuringSchedulingIgnoredDuringExecution) {
      return { status: Status.skip() };
    }
    const terms = na?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (!terms) return undefined;
    // Nodes pinned by name: union over terms of the intersection within a term.
    let names: Set<string> | undefined;
    for (const t of terms) {
      let termNames: Set<string> | undefined;
      for (const r of t.matchFields ?? []) {
        if (r.key === 'metadata.name' && r.operator === 'In') {
          const s = new Set(r.values ?? []);
          termNames = termNames ? new Set([...termNames].filter((n) => s.has(n))) : s;
        }
      }
      if (!termNames) return undefined;
      names = names ? new Set([...names, ...termNames]) : termNames;
    }
    if (names && names.size === 0) return { status: Status.unresolvable(ERR_REASON_CONFLICT) };
    if (names) return { result: { nodeNames: names } };
    return undefined;
  }

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    if (!nodeInfo.node) return Status.unresolvable('node not found');
    return requiredNodeAffinityMatchesLabels(pod, nodeInfo.labels, nodeInfo.name)
      ? undefined
      : Status.unresolvable(ERR_REASON_POD);
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): MaybeStatus {
    if (nodes.length === 0) return undefined;
    const prefs = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const terms = prefs.filter((t) => t.weight !== 0 && !isEmptyTerm(t.preference ?? {}));
    if (terms.length === 0) return Status.skip();
    state.write(PRE_SCORE_KEY, new PreScoreState(terms));
    return undefined;
  }

  /** The sum of the weights of the preferred terms the node matches. */
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    if (!nodeInfo.node) return 0;
    const terms =
      this.#preScoreState.read(state)?.terms ??
      pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ??
      [];
    let count = 0;
    for (const t of terms) {
      if (termMatchesLabels(t.preference ?? {}, nodeInfo.labels, nodeInfo.name)) count += t.weight;
    }
    return count;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): MaybeStatus {
    defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
    return undefined;
  }

  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeLabel }];
  }
}
