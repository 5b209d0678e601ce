/**
 * PodTopologySpread: spreads matching pods across topology domains.
 * - DoNotSchedule constraints filter: placing the pod must keep
 *   (matching pods in the node's domain + self) - (global minimum) <= maxSkew,
 *   where the global minimum is 0 while fewer than minDomains domains exist. Nodes without the
 *   topology key are unresolvable.
 * - ScheduleAnyway constraints score: fewer matching pods in the domain is better.
 * nodeAffinityPolicy (default Honor) and nodeTaintsPolicy (default Ignore) choose which nodes count.
 * Default constraints apply to pods without constraints when a `defaultSelector` is configured.
 */
import type { Selector } from '../../api/labels.ts';
import { type CycleState, type StateData, StateReader } from '../framework/cycle_state.ts';
import {
  ActionType,
  type ClusterEvent,
  type FilterPlugin,
  type Handle,
  MAX_NODE_SCORE,
  type NodeScore,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreFilterReturn,
  type PreScorePlugin,
  type ScorePlugin,
} from '../framework/interface.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import type { PodInfo } from '../framework/podinfo.ts';
import type { NodeInfoLister } from '../framework/snapshot.ts';
import { type MaybeStatus, Status } from '../framework/status.ts';
import { LABEL_HOSTNAME, type Pod, type TopologySpreadConstraint } from '../types.ts';
import { Names } from './names.ts';
import {
  type Constraint,
  countPodsMatchSelector,
  labelsHaveAllKeys,
  matchNodeInclusionPolicies,
  PreFilterState,
  parseConstraints,
  topologyDomains,
} from './podtopologyspread_state.ts';

export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;
const PRE_FILTER_KEY = `PreFilter${Names.PodTopologySpread}`;
const PRE_SCORE_KEY = `PreScore${Names.PodTopologySpread}`;

export interface PodTopologySpreadArgs {
  /** Constraints for pods that have none (DefaultingType List). */
  defaultConstraints?: TopologySpreadConstraint[];
  /** The selector default constraints use for a pod (upstream: its services/controllers); none disables them. */
  defaultSelector?: (pod: Pod) => Selector | undefined;
}

class PreScoreState implements StateData {
  constraints: Constraint[] = [];
  ignoredNodes = new Set<string>();
  /** Per constraint: topology value → matching pod count (hostname constraints count per node). */
  counts: Map<string, number>[] = [];
  weights: number[] = [];
  clone(): StateData {
    return this;
  }
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = Names.PodTopologySpread;
  readonly #handle: Handle;
  readonly #args: PodTopologySpreadArgs;
  readonly #preFilterState = new StateReader<PreFilterState>(PRE_FILTER_KEY);
  readonly #preScoreState = new StateReader<PreScoreState>(PRE_SCORE_KEY);
  #domainsSnapshot: NodeInfoLister | undefined;
  #domainsGeneration: number | undefined;
  readonly #domainsByKeys = new Map<string, string[][]>();

  constructor(handle: Handle, args: PodTopologySpreadArgs = {}) {
    this.#handle = handle;
    this.#args = args;
  }

  #constraints(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
    const own = pod.spec?.topologySpreadConstraints ?? [];
    if (own.length > 0) return parseConstraints(own, pod.metadata.labels, action);
    const defaults = this.#args.defaultConstraints ?? [];
    if (defaults.length === 0) return [];
    const selector = this.#args.defaultSelector?.(pod);
    if (!selector || selector.isEmpty() || selector.matchesNothing()) return [];
    return parseConstraints(defaults, undefined, action).map((c) => ({ ...c, selector }));
  }

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PreFilterReturn | undefined {
    const constraints = this.#constraints(pod, 'DoNotSchedule');
    if (constraints.length === 0) return { status: Status.skip() };
    const snap = this.#handle.snapshot();
    if (nodes === snap.list() && snap.labelsGeneration !== undefined) {
      const domains = this.#domains(snap, constraints);
      state.write(
        PRE_FILTER_KEY,
        PreFilterState.compute(pod, constraints, nodes, domains, snap.havePodsList()),
      );
    } else {
      state.write(PRE_FILTER_KEY, PreFilterState.compute(pod, constraints, nodes));
    }
    return undefined;
  }

  /**
   * topologyDomains over every node, kept while the snapshot's node list and node labels stay the
   * same (labelsGeneration), by the constraints' topology keys.
   */
  #domains(snap: NodeInfoLister, constraints: readonly Constraint[]): readonly (readonly string[])[] {
    if (snap !== this.#domainsSnapshot || snap.labelsGeneration !== this.#domainsGeneration) {
      this.#domainsByKeys.clear();
      this.#domainsSnapshot = snap;
      this.#domainsGeneration = snap.labelsGeneration;
    }
    const keys = constraints.map((c) => c.topologyKey).join('\u0000');
    let d = this.#domainsByKeys.get(keys);
    if (!d) {
      d = topologyDomains(constraints, snap.list());
      this.#domainsByKeys.set(keys, d);
    }
    return d;
  }

  preFilterExtensions(): PreFilterExtensions {
    const update = (state: CycleState, pod: Pod, pi: PodInfo, ni: NodeInfo, delta: number): MaybeStatus => {
      state.read<PreFilterState>(PRE_FILTER_KEY)?.updateWithPod(pi.pod, pod, ni.node, delta);
      return undefined;
    };
    return {
      addPod: (state, pod, pi, ni) => update(state, pod, pi, ni, 1),
      removePod: (state, pod, pi, ni) => update(state, pod, pi, ni, -1),
    };
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const s = this.#preFilterState.read(state);
    if (!s || s.constraints.length === 0) return undefined;
    const labels = nodeInfo.labels;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const v = labels[c.topologyKey];
      if (typeof v !== 'string' && !Object.hasOwn(labels, c.topologyKey)) {
        return Status.unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
      }
      const self = s.selfMatchNum?.[i] ?? (c.selector.matches(pod.metadata.labels) ? 1 : 0);
      const matchNum = s.tpValueToMatchNum[i]!.get(v!) ?? 0;
      if (matchNum + self - s.minMatchNum(i) > c.maxSkew)
        return Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }
    return undefined;
  }

  preScore(state: CycleState, pod: Pod, filtered: readonly NodeInfo[]): MaybeStatus {
    const all = this.#handle.snapshot().list();
    if (filtered.length === 0 || all.length === 0) return Status.skip();
    const s = new PreScoreState();
    s.constraints = this.#constraints(pod, 'ScheduleAnyway');
    if (s.constraints.length === 0) return Status.skip();
    // Nodes must carry every topology key (upstream relaxes this only for system-default constraints).
    s.counts = s.constraints.map(() => new Map());
    const sizes = s.constraints.map(() => 0);
    for (const ni of filtered) {
      const labels = ni.labels;
      if (!labelsHaveAllKeys(labels, s.constraints)) {
        s.ignoredNodes.add(ni.name);
        continue;
      }
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i]!;
        if (c.topologyKey === LABEL_HOSTNAME) continue;
        const v = labels[c.topologyKey] ?? '';
        if (!s.counts[i]!.has(v)) {
          s.counts[i]!.set(v, 0);
          sizes[i]!++;
        }
      }
    }
    s.weights = s.constraints.map((c, i) =>
      Math.log((c.topologyKey === LABEL_HOSTNAME ? filtered.length - s.ignoredNodes.size : sizes[i]!) + 2),
    );
    const ns = pod.metadata.namespace ?? '';
    for (const ni of all) {
      const node = ni.node;
      if (!node || !labelsHaveAllKeys(ni.labels, s.constraints)) continue;
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i]!;
        if (!matchNodeInclusionPolicies(c, pod, node)) continue;
        const v = ni.labels[c.topologyKey] ?? '';
        const m = s.counts[i]!;
        const cur = m.get(v);
        if (cur === undefined) continue;
        m.set(v, cur + countPodsMatchSelector(ni.pods, c.selector, ns));
      }
    }
    state.write(PRE_SCORE_KEY, s);
    return undefined;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const s = this.#preScoreState.read(state);
    if (!s || s.ignoredNodes.has(nodeInfo.name)) return 0;
    const labels = nodeInfo.labels;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      if (!Object.hasOwn(labels, c.topologyKey)) continue;
      const cnt =
        c.topologyKey === LABEL_HOSTNAME
          ? countPodsMatchSelector(nodeInfo.pods, c.selector, pod.metadata.namespace ?? '')
          : (s.counts[i]!.get(labels[c.topologyKey]!) ?? 0);
      score += cnt * s.weights[i]! + (c.maxSkew - 1);
    }
    return Math.round(score);
  }

  normalizeScore(state: CycleState, _pod: Pod, scores: NodeScore[]): MaybeStatus {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s) return undefined;
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    const ignored = scores.map((sc) => s.ignoredNodes.has(sc.name));
    scores.forEach((sc, i) => {
      if (ignored[i]) return;
      if (sc.score < min) min = sc.score;
      if (sc.score > max) max = sc.score;
    });
    scores.forEach((sc, i) => {
      if (ignored[i]) sc.score = 0;
      else if (max === 0) sc.score = MAX_NODE_SCORE;
      else sc.score = Math.trunc((MAX_NODE_SCORE * (max + min - sc.score)) / max);
    });
    return undefined;
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', actions: ActionType.All },
      {
        resource: 'Node',
        actions: ActionType.Add | ActionType.Delete | ActionType.UpdateNodeLabel | ActionType.UpdateNodeTaint,
      },
    ];
  }
}
