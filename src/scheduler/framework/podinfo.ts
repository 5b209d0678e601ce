/**
 * PodInfo: a pod with what the scheduler derives from it once (framework.PodInfo): parsed
 * inter-pod affinity terms and resource requests. PodInfos are memoized per pod object, so the
 * cache, the queue and the plugins share one per version of a pod.
 */
import { type Labels, labelSelectorAsSelector, Selector } from '../../api/labels.ts';
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from '../types.ts';
import { podRequests, type Resource } from './resource.ts';

/** A parsed PodAffinityTerm (framework.AffinityTerm). */
export interface AffinityTerm {
  namespaces: Set<string>;
  selector: Selector;
  topologyKey: string;
  /** Matches the labels of the pod's namespace; Nothing when unset. */
  namespaceSelector: Selector;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

/** Whether `pod` (in a namespace labelled `nsLabels`) is selected by the term (AffinityTerm.Matches). */
export function termMatches(term: AffinityTerm, pod: Pod, nsLabels: Labels): boolean {
  const ns = pod.metadata.namespace ?? '';
  if (term.namespaces.has(ns) || term.namespaceSelector.matches(nsLabels)) {
    return term.selector.matches(pod.metadata.labels);
  }
  return false;
}

/** Whether `pod` matches every term (podMatchesAllAffinityTerms); false for no terms. */
export function matchesAllTerms(terms: readonly AffinityTerm[], pod: Pod): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!termMatches(t, pod, null)) return false;
  return true;
}

function newAffinityTerm(pod: Pod, t: PodAffinityTerm): AffinityTerm {
  const namespaces = new Set<string>();
  if ((t.namespaces ?? []).length === 0 && t.namespaceSelector == null) {
    namespaces.add(pod.metadata.namespace ?? '');
  } else {
    for (const n of t.namespaces ?? []) namespaces.add(n);
  }
  return {
    namespaces,
    selector: labelSelectorAsSelector(t.labelSelector),
    topologyKey: t.topologyKey,
    namespaceSelector: labelSelectorAsSelector(t.namespaceSelector),
  };
}

function terms(pod: Pod, list: PodAffinityTerm[] | undefined): AffinityTerm[] {
  return (list ?? []).map((t) => newAffinityTerm(pod, t));
}

function weighted(pod: Pod, list: WeightedPodAffinityTerm[] | undefined): WeightedAffinityTerm[] {
  return (list ?? []).map((w) => ({ ...newAffinityTerm(pod, w.podAffinityTerm), weight: w.weight }));
}

export class PodInfo {
  readonly pod: Pod;
  readonly requiredAffinityTerms: AffinityTerm[];
  readonly requiredAntiAffinityTerms: AffinityTerm[];
  readonly preferredAffinityTerms: WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: WeightedAffinityTerm[];
  /** A selector in the pod's affinity did not parse; the terms are empty then. */
  readonly parseError: string | undefined;
  #requests: Resource | undefined;
  #nonZero: Resource | undefined;

  constructor(pod: Pod) {
    this.pod = pod;
    const a = pod.spec?.affinity;
    let parseError: string | undefined;
    let ra: AffinityTerm[] = [];
    let raa: AffinityTerm[] = [];
    let pa: WeightedAffinityTerm[] = [];
    let paa: WeightedAffinityTerm[] = [];
    if (a?.podAffinity || a?.podAntiAffinity) {
      try {
        ra = terms(pod, a.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
        raa = terms(pod, a.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
        pa = weighted(pod, a.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
        paa = weighted(pod, a.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
      } catch (err) {
        parseError = err instanceof Error ? err.message : String(err);
        ra = [];
        raa = [];
        pa = [];
        paa = [];
      }
    }
    this.requiredAffinityTerms = ra;
    this.requiredAntiAffinityTerms = raa;
    this.preferredAffinityTerms = pa;
    this.preferredAntiAffinityTerms = paa;
    this.parseError = parseError;
  }

  /** What the pod requests, overhead included (resource.PodRequests). */
  get requests(): Resource {
    this.#requests ??= podRequests(this.pod);
    return this.#requests;
  }

  /** The request with the non-zero defaults for containers that request no cpu or memory. */
  get nonZeroRequests(): Resource {
    this.#nonZero ??= podRequests(this.pod, { nonMissing: true });
    return this.#nonZero;
  }

  hasAffinity(): boolean {
    return (
      this.requiredAffinityTerms.length > 0 ||
      this.requiredAntiAffinityTerms.length > 0 ||
      this.preferredAffinityTerms.length > 0 ||
      this.preferredAntiAffinityTerms.length > 0
    );
  }

  hasRequiredAntiAffinity(): boolean {
    return this.requiredAntiAffinityTerms.length > 0;
  }
}

const memo = new WeakMap<Pod, PodInfo>();

/** The PodInfo of this pod object, built once. */
export function podInfoOf(pod: Pod): PodInfo {
  let pi = memo.get(pod);
  if (!pi) {
    pi = new PodInfo(pod);
    memo.set(pod, pi);
  }
  return pi;
}

/** A selector matching nothing, for terms whose namespaces were resolved. */
export const NOTHING = Selector.nothing();
