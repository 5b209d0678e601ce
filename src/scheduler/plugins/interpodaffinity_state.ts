/**
 * InterPodAffinity's counting helpers (interpodaffinity/filtering.go, scoring.go): counts of
 * matched terms per topology pair (key, value), and namespace-selector resolution.
 */
import type { Labels } from '../../api/labels.ts';
import type { Lister } from '../../client/types.ts';
import type { StateData } from '../framework/cycle_state.ts';
import {
  type AffinityTerm,
  matchesAllTerms,
  NOTHING,
  type PodInfo,
  termMatches,
} from '../framework/podinfo.ts';
import type { Namespace, Node, Pod } from '../types.ts';

/** (topologyKey, value) → count. Keys are `key\0value`. */
export class TopologyCounts {
  readonly m = new Map<string, number>();

  static key(k: string, v: string): string {
    return `${k}\u0000${v}`;
  }

  get(k: string, v: string): number {
    return this.m.get(TopologyCounts.key(k, v)) ?? 0;
  }

  get size(): number {
    return this.m.size;
  }

  /** Adds `value` for the node's value of `tk`; entries that reach 0 are dropped. */
  update(node: Node, tk: string, value: number): void {
    const labels = node.metadata.labels;
    if (!labels || !Object.hasOwn(labels, tk)) return;
    const key = TopologyCounts.key(tk, labels[tk]!);
    const n = (this.m.get(key) ?? 0) + value;
    if (n === 0) this.m.delete(key);
    else this.m.set(key, n);
  }

  /** For each anti-affinity term that matches `pod`, counts the node's topology pair. */
  updateWithAntiAffinityTerms(
    terms: readonly AffinityTerm[],
    pod: Pod,
    nsLabels: Labels,
    node: Node,
    value: number,
  ): void {
    for (const t of terms) if (termMatches(t, pod, nsLabels)) this.update(node, t.topologyKey, value);
  }

  /** When `pod` matches all affinity terms, counts the node's pair of each term. */
  updateWithAffinityTerms(terms: readonly AffinityTerm[], pod: Pod, node: Node, value: number): void {
    if (!matchesAllTerms(terms, pod)) return;
    for (const t of terms) this.update(node, t.topologyKey, value);
  }

  clone(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, v] of this.m) c.m.set(k, v);
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

  clone(): StateData {
    const c = new PreFilterState();
    Object.assign(c, this);
    c.existingAntiAffinityCounts = this.existingAntiAffinityCounts.clone();
    c.affinityCounts = this.affinityCounts.clone();
    c.antiAffinityCounts = this.antiAffinityCounts.clone();
    return c;
  }

  /** Accounts for `pi` being added (1) or removed (-1) on `node` (preFilterState.updateWithPod). */
  updateWithPod(pi: PodInfo, node: Node | null, multiplier: number): void {
    if (!node) return;
    this.existingAntiAffinityCounts.updateWithAntiAffinityTerms(
      pi.requiredAntiAffinityTerms,
      this.pod,
      this.namespaceLabels,
      node,
      multiplier,
    );
    this.affinityCounts.updateWithAffinityTerms(this.affinityTerms, pi.pod, node, multiplier);
    this.antiAffinityCounts.updateWithAntiAffinityTerms(
      this.antiAffinityTerms,
      pi.pod,
      null,
      node,
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
