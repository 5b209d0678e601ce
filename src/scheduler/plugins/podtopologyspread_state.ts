/**
 * PodTopologySpread's constraint parsing and per-cycle state (podtopologyspread/common.go,
 * filtering.go): matching-pod counts per topology domain and the two smallest counts ("critical
 * paths") per constraint, kept up to date incrementally for preemption.
 */
import { labelSelectorAsSelector, Selector, selectorFromSet } from '../../api/labels.ts';
import type { StateData } from '../framework/cycle_state.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import type { PodInfo } from '../framework/podinfo.ts';
import type { Node, Pod, TopologySpreadConstraint } from '../types.ts';
import { doNotScheduleTaint, findUntoleratedTaint, requiredNodeAffinityMatches } from './helpers.ts';

export interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  nodeAffinityPolicy: string;
  nodeTaintsPolicy: string;
}

/** The pod's constraints with this whenUnsatisfiable, parsed (filterTopologySpreadConstraints). */
export function parseConstraints(
  list: readonly TopologySpreadConstraint[],
  podLabels: Readonly<Record<string, string>> | undefined,
  action: 'DoNotSchedule' | 'ScheduleAnyway',
): Constraint[] {
  const out: Constraint[] = [];
  for (const c of list) {
    if (c.whenUnsatisfiable !== action) continue;
    let selector = labelSelectorAsSelector(c.labelSelector);
    const keys = c.matchLabelKeys ?? [];
    if (keys.length > 0 && podLabels) {
      const extra: Record<string, string> = {};
      for (const k of keys) if (Object.hasOwn(podLabels, k)) extra[k] = podLabels[k]!;
      if (Object.keys(extra).length > 0 && !selector.matchesNothing()) {
        selector = mergeSelector(selector, extra);
      }
    }
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector,
      minDomains: c.minDomains ?? 1,
      nodeAffinityPolicy: c.nodeAffinityPolicy ?? 'Honor',
      nodeTaintsPolicy: c.nodeTaintsPolicy ?? 'Ignore',
    });
  }
  return out;
}

function mergeSelector(s: Selector, set: Record<string, string>): Selector {
  return Selector.of([...s.requirements, ...selectorFromSet(set).requirements]);
}

/** The node has every constraint's topology key (nodeLabelsMatchSpreadConstraints). */
export function nodeHasAllKeys(node: Node, constraints: readonly Constraint[]): boolean {
  return labelsHaveAllKeys(node.metadata.labels ?? {}, constraints);
}

/** nodeHasAllKeys for a node given by its labels (NodeInfo.labels). */
export function labelsHaveAllKeys(
  labels: Readonly<Record<string, string>>,
  constraints: readonly Constraint[],
): boolean {
  for (let i = 0; i < constraints.length; i++) {
    const k = constraints[i]!.topologyKey;
    if (typeof labels[k] !== 'string' && !Object.hasOwn(labels, k)) return false;
  }
  return true;
}

/** The pod has spec.nodeSelector or required node affinity. */
export function hasRequiredNodeAffinity(pod: Pod): boolean {
  return (
    !!pod.spec?.nodeSelector ||
    !!pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
  );
}

/** Whether the node counts for the constraint under nodeAffinityPolicy/nodeTaintsPolicy. */
export function matchNodeInclusionPolicies(c: Constraint, pod: Pod, node: Node): boolean {
  if (c.nodeAffinityPolicy === 'Honor' && !requiredNodeAffinityMatches(pod, node)) return false;
  if (
    c.nodeTaintsPolicy === 'Honor' &&
    findUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, doNotScheduleTaint)
  ) {
    return false;
  }
  return true;
}

/** Live (not terminating) pods of `namespace` on the node that the selector matches. */
export function countPodsMatchSelector(
  pods: readonly PodInfo[],
  selector: Selector,
  namespace: string,
): number {
  if (selector.matchesNothing()) return 0;
  let n = 0;
  for (let i = 0; i < pods.length; i++) {
    const pi = pods[i]!;
    if (pi.terminating || pi.rawNamespace !== namespace) continue;
    if (selector.matches(pi.labels)) n++;
  }
  return n;
}

const MAX_INT32 = 2147483647;

/**
 * Per constraint, the distinct values of its topology key on the nodes carrying every constraint's
 * key, in node order (the domains calPreFilterState meets, without inclusion policies).
 */
export function topologyDomains(constraints: readonly Constraint[], nodes: readonly NodeInfo[]): string[][] {
  const domains = constraints.map((): string[] => []);
  const seen = constraints.map(() => new Set<string>());
  for (let j = 0; j < nodes.length; j++) {
    const ni = nodes[j]!;
    if (!ni.node) continue;
    const labels = ni.labels;
    if (!labelsHaveAllKeys(labels, constraints)) continue;
    for (let i = 0; i < constraints.length; i++) {
      const v = labels[constraints[i]!.topologyKey]!;
      if (!seen[i]!.has(v)) {
        seen[i]!.add(v);
        domains[i]!.push(v);
      }
    }
  }
  return domains;
}

/** The two domains with the fewest matching pods, smallest first. */
export class CriticalPaths {
  v0 = '';
  n0 = MAX_INT32;
  v1 = '';
  n1 = MAX_INT32;

  update(value: string, num: number): void {
    if (value === this.v0 || value === this.v1) {
      if (value === this.v0) this.n0 = num;
      else this.n1 = num;
      if (this.n0 > this.n1) {
        [this.v0, this.n0, this.v1, this.n1] = [this.v1, this.n1, this.v0, this.n0];
      }
    } else if (num < this.n0) {
      this.v1 = this.v0;
      this.n1 = this.n0;
      this.v0 = value;
      this.n0 = num;
    } else if (num < this.n1) {
      this.v1 = value;
      this.n1 = num;
    }
  }

  clone(): CriticalPaths {
    return Object.assign(new CriticalPaths(), this);
  }
}

export class PreFilterState implements StateData {
  constraints: Constraint[] = [];
  /** Per constraint: topology value → matching pod count. */
  tpValueToMatchNum: Map<string, number>[] = [];
  criticalPaths: CriticalPaths[] = [];
  /** Per constraint: the number of eligible domains. */
  domainsNum: number[] = [];
  /** Per constraint: 1 when the incoming pod matches its own selector (computed once per cycle). */
  selfMatchNum: number[] | undefined;

  clone(): StateData {
    const c = new PreFilterState();
    c.constraints = this.constraints;
    c.selfMatchNum = this.selfMatchNum;
    c.tpValueToMatchNum = this.tpValueToMatchNum.map((m) => new Map(m));
    c.criticalPaths = this.criticalPaths.map((p) => p.clone());
    c.domainsNum = this.domainsNum.slice();
    return c;
  }

  /** The global minimum for skew, 0 while there are fewer domains than minDomains. */
  minMatchNum(i: number): number {
    const c = this.constraints[i]!;
    if ((this.domainsNum[i] ?? 0) < c.minDomains) return 0;
    return this.criticalPaths[i]!.n0;
  }

  /** Adds (delta 1) or removes (-1) a pod on `node` (preFilterState.updateWithPod). */
  updateWithPod(pod: Pod, preemptor: Pod, node: Node | null, delta: number): void {
    if (!node || pod.metadata.namespace !== preemptor.metadata.namespace) return;
    if (!nodeHasAllKeys(node, this.constraints)) return;
    for (let i = 0; i < this.constraints.length; i++) {
      const c = this.constraints[i]!;
      if (!c.selector.matches(pod.metadata.labels)) continue;
      if (!matchNodeInclusionPolicies(c, preemptor, node)) continue;
      const v = node.metadata.labels![c.topologyKey]!;
      const m = this.tpValueToMatchNum[i]!;
      const n = (m.get(v) ?? 0) + delta;
      m.set(v, n);
      this.criticalPaths[i]!.update(v, n);
    }
  }

  /**
   * calPreFilterState over every node. With `domains` (from {@link topologyDomains} over `nodes`,
   * which then must be every node) and `nodesWithPods` (the nodes of `nodes` holding pods, in the
   * same order), only the nodes with pods are walked: each domain starts at 0 in the order the node
   * walk would have met it, so the counts, and their order, are the same.
   */
  static compute(
    pod: Pod,
    constraints: Constraint[],
    nodes: readonly NodeInfo[],
    domains?: readonly (readonly string[])[],
    nodesWithPods?: readonly NodeInfo[],
  ): PreFilterState {
    const s = new PreFilterState();
    s.constraints = constraints;
    s.tpValueToMatchNum = constraints.map(() => new Map());
    const ns = pod.metadata.namespace ?? '';
    // Inclusion policies only matter when the pod has node affinity / tolerations to honour.
    const policies = constraints.some(
      (c) =>
        (c.nodeAffinityPolicy === 'Honor' && hasRequiredNodeAffinity(pod)) || c.nodeTaintsPolicy === 'Honor',
    );
    let walk = nodes;
    if (!policies && domains && nodesWithPods) {
      for (let i = 0; i < constraints.length; i++) {
        const m = s.tpValueToMatchNum[i]!;
        for (const v of domains[i]!) m.set(v, 0);
      }
      walk = nodesWithPods;
    }
    for (let j = 0; j < walk.length; j++) {
      const ni = walk[j]!;
      const node = ni.node;
      if (!node) continue;
      const labels = ni.labels;
      if (!labelsHaveAllKeys(labels, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i]!;
        if (policies && !matchNodeInclusionPolicies(c, pod, node)) continue;
        const v = labels[c.topologyKey]!;
        const m = s.tpValueToMatchNum[i]!;
        const n = ni.numPods === 0 ? 0 : countPodsMatchSelector(ni.pods, c.selector, ns);
        m.set(v, (m.get(v) ?? 0) + n);
      }
    }
    const podLabels = pod.metadata.labels;
    s.selfMatchNum = constraints.map((c) => (c.selector.matches(podLabels) ? 1 : 0));
    s.domainsNum = s.tpValueToMatchNum.map((m) => m.size);
    s.criticalPaths = s.tpValueToMatchNum.map((m) => {
      const p = new CriticalPaths();
      for (const [v, n] of m) p.update(v, n);
      return p;
    });
    return s;
  }
}
