/**
 * InterPodAffinity's counting helpers (interpodaffinity/filtering.go, scoring.go): counts of
 * matched terms per topology pair (key, value), and namespace-selector resolution.
 */
import type { Labels } from '../../api/labels.ts';
import type { Lister } from '../../client/types.ts';
import type { StateData } from '../framework/cycle_state.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import {
  type AffinityTerm,
  NOTHING,
  type PodInfo,
  podInfoOf,
  termMatchesLabels,
} from '../framework/podinfo.ts';
import type { Namespace, Node, Pod } from '../types.ts';

type NodeLabels = Readonly<Record<string, string>>;

/**
 * The object's own value of label `key`, or undefined (Object.hasOwn without a second lookup for
 * string values: plain objects inherit no string-valued properties).
 */
export function ownLabel(labels: NodeLabels, key: string): string | undefined {
  const v = labels[key];
  return v !== undefined && (typeof v === 'string' || Object.hasOwn(labels, key)) ? v : undefined;
}

/**
 * (topologyKey, value) → count, as topologyKey → value → count: lookups build no strings, and a
 * node is checked against the few topology keys counted rather than all of its labels.
 */
export class TopologyCounts {
  /** topologyKey → value → count; no zero counts, no empty inner maps. */
  readonly m = new Map<string, Map<string, number>>();
  #size = 0;

  get(k: string, v: string): number {
    return this.m.get(k)?.get(v) ?? 0;
  }

  /** The number of (key, value) pairs counted. */
  get size(): number {
    return this.#size;
  }

  /** Whether some label (key, value) of the node has a count > 0. */
  anyPositive(labels: NodeLabels): boolean {
    for (const [k, values] of this.m) {
      const v = ownLabel(labels, k);
      if (v !== undefined && (values.get(v) ?? 0) > 0) return true;
    }
    return false;
  }

  /** Adds `value` for the node's value of `tk` (nothing without the label); entries that reach 0 are dropped. */
  update(labels: NodeLabels, tk: string, value: number): void {
    const v = ownLabel(labels, tk);
    if (v === undefined) return;
    let values = this.m.get(tk);
    if (!values) {
      values = new Map();
      this.m.set(tk, values);
    }
    const old = values.get(v);
    const n = (old ?? 0) + value;
    if (n === 0) {
      if (old !== undefined) {
        values.delete(v);
        this.#size--;
        if (values.size === 0) this.m.delete(tk);
      } else if (values.size === 0) {
        this.m.delete(tk);
      }
    } else {
      if (old === undefined) this.#size++;
      values.set(v, n);
    }
  }

  /** For each anti-affinity term that matches the pod (namespace, labels), counts the node's topology pair. */
  updateWithAntiAffinityTerms(
    terms: readonly AffinityTerm[],
    namespace: string,
    podLabels: Labels,
    nsLabels: Labels,
    nodeLabels: NodeLabels,
    value: number,
  ): void {
    for (let i = 0; i < terms.length; i++) {
      const t = terms[i]!;
      if (termMatchesLabels(t, namespace, podLabels, nsLabels)) this.update(nodeLabels, t.topologyKey, value);
    }
  }

  /** When the pod (namespace, labels) matches all affinity terms, counts the node's pair of each term. */
  updateWithAffinityTerms(
    terms: readonly AffinityTerm[],
    namespace: string,
    podLabels: Labels,
    nodeLabels: NodeLabels,
    value: number,
  ): void {
    if (terms.length === 0) return;
    for (let i = 0; i < terms.length; i++) {
      if (!termMatchesLabels(terms[i]!, namespace, podLabels, null)) return;
    }
    for (let i = 0; i < terms.length; i++) this.update(nodeLabels, terms[i]!.topologyKey, value);
  }

  clone(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, values] of this.m) c.m.set(k, new Map(values));
    c.#size = this.#size;
    return c;
  }
}

export class PreFilterState implements StateData {
  pod!: Pod;
  affinityTerms: AffinityTerm[] = [];
  antiAffinityTerms: AffinityTerm[] = [];
  namespaceLabels: Labels = null;
  /** Existing pods' required anti-affinity terms that match the incoming pod. */
  existingAntiAffinityCounts = new TopologyCounts();
  /** Existing pods matching all of the incoming pod's required affinity terms. */
  affinityCounts = new TopologyCounts();
  /** Existing pods matching the incoming pod's required anti-affinity terms. */
  antiAffinityCounts = new TopologyCounts();
  /** podInfoOf(pod), looked up once. */
  #podInfo: PodInfo | undefined;

  clone(): StateData {
    const c = new PreFilterState();
    Object.assign(c, this);
    c.existingAntiAffinityCounts = this.existingAntiAffinityCounts.clone();
    c.affinityCounts = this.affinityCounts.clone();
    c.antiAffinityCounts = this.antiAffinityCounts.clone();
    return c;
  }

  /** Counts the node's existing pods' required anti-affinity terms that match the incoming pod. */
  countExistingAntiAffinity(ni: NodeInfo): void {
    const pods = ni.podsWithRequiredAntiAffinity;
    const nodeLabels = ni.labels;
    this.#podInfo ??= podInfoOf(this.pod);
    const pi = this.#podInfo;
    for (let i = 0; i < pods.length; i++) {
      this.existingAntiAffinityCounts.updateWithAntiAffinityTerms(
        pods[i]!.requiredAntiAffinityTerms,
        pi.namespace,
        pi.labels,
        this.namespaceLabels,
        nodeLabels,
        1,
      );
    }
  }

  /** Counts the node's existing pods that the incoming pod's required (anti-)affinity terms select. */
  countIncomingTerms(ni: NodeInfo): void {
    const affinityTerms = this.affinityTerms;
    const antiTerms = this.antiAffinityTerms;
    const nodeLabels = ni.labels;
    const pods = ni.pods;
    for (let i = 0; i < pods.length; i++) {
      const existing = pods[i]!;
      if (affinityTerms.length > 0) {
        this.affinityCounts.updateWithAffinityTerms(
          affinityTerms,
          existing.namespace,
          existing.labels,
          nodeLabels,
          1,
        );
      }
      if (antiTerms.length > 0) {
        this.antiAffinityCounts.updateWithAntiAffinityTerms(
          antiTerms,
          existing.namespace,
          existing.labels,
          null,
          nodeLabels,
          1,
        );
      }
    }
  }

  /** Accounts for `pi` being added (1) or removed (-1) on `node` (preFilterState.updateWithPod). */
  updateWithPod(pi: PodInfo, node: Node | null, multiplier: number): void {
    if (!node) return;
    const nodeLabels = node.metadata.labels ?? {};
    this.existingAntiAffinityCounts.updateWithAntiAffinityTerms(
      pi.requiredAntiAffinityTerms,
      this.pod.metadata.namespace ?? '',
      this.pod.metadata.labels,
      this.namespaceLabels,
      nodeLabels,
      multiplier,
    );
    this.affinityCounts.updateWithAffinityTerms(
      this.affinityTerms,
      pi.namespace,
      pi.labels,
      nodeLabels,
      multiplier,
    );
    this.antiAffinityCounts.updateWithAntiAffinityTerms(
      this.antiAffinityTerms,
      pi.namespace,
      pi.labels,
      null,
      nodeLabels,
      multiplier,
    );
  }
}

/** The labels of the pod's namespace, or null when unknown (GetNamespaceLabelsSnapshot). */
export function namespaceLabels(lister: Lister<Namespace> | undefined, ns: string): Labels {
  return lister?.get(ns)?.metadata.labels ?? null;
}

/**
 * Resolves a non-empty namespaceSelector into the term's namespace set, so matching needs no
 * namespace labels (mergeAffinityTermNamespacesIfNotEmpty). Returns a copy; an empty selector
 * ({}: all namespaces) is kept.
 */
export function mergeTermNamespaces<T extends AffinityTerm>(t: T, lister: Lister<Namespace> | undefined): T {
  if (t.namespaceSelector.isEmpty()) return t;
  const namespaces = new Set(t.namespaces);
  if (!t.namespaceSelector.matchesNothing()) {
    for (const ns of lister?.list() ?? []) {
      if (t.namespaceSelector.matches(ns.metadata.labels)) namespaces.add(ns.metadata.name ?? '');
    }
  }
  return { ...t, namespaces, namespaceSelector: NOTHING };
}
