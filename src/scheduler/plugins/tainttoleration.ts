/**
 * TaintToleration: a node's NoSchedule and NoExecute taints must be tolerated (Filter); nodes with
 * fewer untolerated PreferNoSchedule taints score higher (Score, normalized in reverse).
 */
import { type CycleState, type StateData, StateReader } from '../framework/cycle_state.ts';
import {
  ActionType,
  type ClusterEvent,
  type FilterPlugin,
  MAX_NODE_SCORE,
  type NodeScore,
  type PreScorePlugin,
  type ScorePlugin,
} from '../framework/interface.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import { type MaybeStatus, Status } from '../framework/status.ts';
import type { Pod, Toleration } from '../types.ts';
import {
  defaultNormalizeScore,
  doNotScheduleTaint,
  findUntoleratedTaint,
  tolerationsTolerateTaint,
} from './helpers.ts';
import { Names } from './names.ts';

const PRE_SCORE_KEY = `PreScore${Names.TaintToleration}`;

class PreScoreState implements StateData {
  readonly tolerations: Toleration[];
  constructor(tolerations: Toleration[]) {
    this.tolerations = tolerations;
  }
  clone(): StateData {
    return this;
  }
}

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = Names.TaintToleration;
  readonly #preScoreState = new StateReader<PreScoreState>(PRE_SCORE_KEY);

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const taints = nodeInfo.taints;
    if (taints.length === 0) return undefined;
    const taint = findUntoleratedTaint(taints, pod.spec?.tolerations, doNotScheduleTaint);
    if (!taint) return undefined;
    return Status.unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
  }

  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): MaybeStatus {
    if (nodes.length === 0) return undefined;
    const tolerations = (pod.spec?.tolerations ?? []).filter(
      (t) => !t.effect || t.effect === 'PreferNoSchedule',
    );
    state.write(PRE_SCORE_KEY, new PreScoreState(tolerations));
    return undefined;
  }

  /** The number of PreferNoSchedule taints the pod does not tolerate. */
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const taints = nodeInfo.taints;
    if (taints.length === 0) return 0;
    const tolerations = this.#preScoreState.read(state)?.tolerations ?? pod.spec?.tolerations ?? [];
    let n = 0;
    for (const taint of taints) {
      if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, taint)) n++;
    }
    return n;
  }

  scoreNodes(state: CycleState, pod: Pod, nodes: readonly NodeInfo[], scores: NodeScore[]): void {
    for (let i = 0; i < nodes.length; i++) {
      const ni = nodes[i]!;
      scores[i]!.score = ni.taints.length === 0 ? 0 : this.score(state, pod, ni);
    }
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): MaybeStatus {
    defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
    return undefined;
  }

  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeTaint }];
  }
}
