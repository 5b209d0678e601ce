/**
 * PodInfo: a pod with what the scheduler derives from it once (framework.PodInfo): parsed
 * inter-pod affinity terms and resource requests. PodInfos are memoized per pod object, so the
 * cache, the queue and the plugins share one per version of a pod.
 */
import { type Labels, labelSelectorAsSelector, Selector } from '../../api/labels.ts';
import type {
  Affinity,
  Container,
  Pod,
  PodAffinityTerm,
  PodSpec,
  WeightedPodAffinityTerm,
} from '../types.ts';
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

/** termMatches for a pod given by its namespace and labels (a PodInfo's cached copies). */
export function termMatchesLabels(
  term: AffinityTerm,
  namespace: string,
  labels: Labels,
  nsLabels: Labels,
): boolean {
  if (term.namespaces.has(namespace) || term.namespaceSelector.matches(nsLabels)) {
    return term.selector.matches(labels);
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

/** The host ports a pod asks for: containers and init containers with hostPort > 0. */
export function podHostPorts(pod: Pod): { hostIP?: string; protocol?: string; hostPort: number }[] {
  const out: { hostIP?: string; protocol?: string; hostPort: number }[] = [];
  const spec = pod.spec ?? {};
  for (const list of [spec.containers, spec.initContainers]) {
    for (const c of list ?? []) {
      for (const p of c.ports ?? []) {
        if (p.hostPort && p.hostPort > 0)
          out.push({ hostIP: p.hostIP, protocol: p.protocol, hostPort: p.hostPort });
      }
    }
  }
  return out;
}

interface ParsedAffinity {
  namespace: string;
  ra: AffinityTerm[];
  raa: AffinityTerm[];
  pa: WeightedAffinityTerm[];
  paa: WeightedAffinityTerm[];
  parseError: string | undefined;
}

/**
 * Parsed affinity terms by spec.affinity object: copies of a pod that share it (the assumed pod the
 * scheduler makes with spec.nodeName set) parse it once. Terms depend on the namespace too.
 */
const affinityMemo = new WeakMap<Affinity, ParsedAffinity>();

/**
 * JSON.stringify(v), or undefined when JSON would lose something that tells values apart
 * (undefined, functions, symbols, non-finite numbers, bigints, toJSON): content keys are exact then.
 */
function plainJson(v: unknown): string | undefined {
  let lossy = false;
  let json: string | undefined;
  try {
    json = JSON.stringify(v, (_k, x: unknown) => {
      switch (typeof x) {
        case 'string':
        case 'boolean':
          return x;
        case 'number':
          if (!Number.isFinite(x)) lossy = true;
          return x;
        case 'object':
          if (x !== null && typeof (x as { toJSON?: unknown }).toJSON === 'function') lossy = true;
          return x;
        default:
          lossy = true;
          return x;
      }
    });
  } catch {
    return undefined;
  }
  return lossy ? undefined : json;
}

/**
 * Parsed affinity terms by content (namespace and the pod (anti-)affinity as JSON): the pods of one
 * workload share one set of term objects, so matching every existing pod's terms reads the same few
 * objects over and over. Bounded: cleared when it grows large.
 */
const affinityByContent = new Map<string, ParsedAffinity>();
const INTERN_MAX = 4096;

function parseAffinity(pod: Pod, a: Affinity): ParsedAffinity {
  const namespace = pod.metadata.namespace ?? '';
  const memo = affinityMemo.get(a);
  if (memo && memo.namespace === namespace) return memo;
  const pa = a.podAffinity === undefined ? '-' : plainJson(a.podAffinity);
  const paa = a.podAntiAffinity === undefined ? '-' : plainJson(a.podAntiAffinity);
  if (pa === undefined || paa === undefined) {
    const parsed = parseAffinityTerms(pod, a, namespace);
    affinityMemo.set(a, parsed);
    return parsed;
  }
  const key = `${namespace}\u0000${pa}\u0000${paa}`;
  const same = affinityByContent.get(key);
  if (same) {
    affinityMemo.set(a, same);
    return same;
  }
  const parsed = parseAffinityTerms(pod, a, namespace);
  if (affinityByContent.size >= INTERN_MAX) affinityByContent.clear();
  affinityByContent.set(key, parsed);
  affinityMemo.set(a, parsed);
  return parsed;
}

/**
 * One shared object per distinct set of labels (by content): PodInfo.labels of the pods of one
 * workload is then the same object, read over and over when terms and selectors are matched.
 * Bounded: cleared when it grows large.
 */
const labelsByContent = new Map<string, Labels>();

function internLabels(labels: Labels): Labels {
  if (!labels) return labels;
  // Flat string values (always, for labels from the API) stringify exactly.
  for (const k in labels) if (typeof labels[k] !== 'string') return labels;
  const key = JSON.stringify(labels);
  const same = labelsByContent.get(key);
  if (same) return same;
  if (labelsByContent.size >= INTERN_MAX) labelsByContent.clear();
  labelsByContent.set(key, labels);
  return labels;
}

function parseAffinityTerms(pod: Pod, a: Affinity, namespace: string): ParsedAffinity {
  let parseError: string | undefined;
  let ra: AffinityTerm[] = [];
  let raa: AffinityTerm[] = [];
  let pa: WeightedAffinityTerm[] = [];
  let paa: WeightedAffinityTerm[] = [];
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
  return { namespace, ra, raa, pa, paa, parseError };
}

interface RequestsMemo {
  initContainers: Container[] | undefined;
  overhead: PodSpec['overhead'];
  resources: PodSpec['resources'];
  requests: Resource | undefined;
  nonZero: Resource | undefined;
}

/**
 * Requests by spec.containers array, for copies of a pod sharing its containers, init containers,
 * overhead and pod-level resources (what resource.PodRequests reads). Resources are never modified.
 */
const requestsMemo = new WeakMap<Container[], RequestsMemo>();

function requestsEntry(pod: Pod): RequestsMemo | undefined {
  const spec = pod.spec;
  const containers = spec?.containers;
  if (!spec || !containers) return undefined;
  let m = requestsMemo.get(containers);
  if (
    !m ||
    m.initContainers !== spec.initContainers ||
    m.overhead !== spec.overhead ||
    m.resources !== spec.resources
  ) {
    m = {
      initContainers: spec.initContainers,
      overhead: spec.overhead,
      resources: spec.resources,
      requests: undefined,
      nonZero: undefined,
    };
    requestsMemo.set(containers, m);
  }
  return m;
}

// Shared by every PodInfo without pod (anti-)affinity; frozen so that a stray push throws.
const NO_AFFINITY_TERMS = Object.freeze([]) as unknown as AffinityTerm[];
const NO_WEIGHTED_TERMS = Object.freeze([]) as unknown as WeightedAffinityTerm[];

export class PodInfo {
  readonly pod: Pod;
  /** metadata.namespace ('' when unset). */
  readonly namespace: string;
  /** metadata.namespace as is (undefined when unset). */
  readonly rawNamespace: string | undefined;
  /** metadata.labels, or an object with the same labels (shared by pods with equal labels). */
  readonly labels: Labels;
  /** metadata.deletionTimestamp is set. */
  readonly terminating: boolean;
  readonly requiredAffinityTerms: AffinityTerm[];
  readonly requiredAntiAffinityTerms: AffinityTerm[];
  readonly preferredAffinityTerms: WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: WeightedAffinityTerm[];
  /** A selector in the pod's affinity did not parse; the terms are empty then. */
  readonly parseError: string | undefined;
  /**
   * Has required affinity or preferred (anti-)affinity terms: terms InterPodAffinity scores other
   * pods against (required anti-affinity alone only filters).
   */
  readonly hasScoringAffinity: boolean;
  #requests: Resource | undefined;
  #nonZero: Resource | undefined;
  #hostPorts: ReturnType<typeof podHostPorts> | undefined;

  constructor(pod: Pod) {
    this.pod = pod;
    this.rawNamespace = pod.metadata.namespace;
    this.namespace = this.rawNamespace ?? '';
    this.labels = internLabels(pod.metadata.labels);
    this.terminating = !!pod.metadata.deletionTimestamp;
    const a = pod.spec?.affinity;
    if (a && (a.podAffinity || a.podAntiAffinity)) {
      const p = parseAffinity(pod, a);
      this.requiredAffinityTerms = p.ra;
      this.requiredAntiAffinityTerms = p.raa;
      this.preferredAffinityTerms = p.pa;
      this.preferredAntiAffinityTerms = p.paa;
      this.parseError = p.parseError;
    } else {
      this.requiredAffinityTerms = NO_AFFINITY_TERMS;
      this.requiredAntiAffinityTerms = NO_AFFINITY_TERMS;
      this.preferredAffinityTerms = NO_WEIGHTED_TERMS;
      this.preferredAntiAffinityTerms = NO_WEIGHTED_TERMS;
      this.parseError = undefined;
    }
    this.hasScoringAffinity =
      this.requiredAffinityTerms.length > 0 ||
      this.preferredAffinityTerms.length > 0 ||
      this.preferredAntiAffinityTerms.length > 0;
  }

  /** What the pod requests, overhead included (resource.PodRequests). */
  get requests(): Resource {
    if (!this.#requests) {
      const m = requestsEntry(this.pod);
      if (!m) {
        this.#requests = podRequests(this.pod);
      } else {
        m.requests ??= podRequests(this.pod);
        this.#requests = m.requests;
      }
    }
    return this.#requests;
  }

  /** The request with the non-zero defaults for containers that request no cpu or memory. */
  get nonZeroRequests(): Resource {
    if (!this.#nonZero) {
      const m = requestsEntry(this.pod);
      if (!m) {
        this.#nonZero = podRequests(this.pod, { nonMissing: true });
      } else {
        m.nonZero ??= podRequests(this.pod, { nonMissing: true });
        this.#nonZero = m.nonZero;
      }
    }
    return this.#nonZero;
  }

  /** The host ports the pod asks for (podHostPorts). */
  get hostPorts(): ReturnType<typeof podHostPorts> {
    this.#hostPorts ??= podHostPorts(this.pod);
    return this.#hostPorts;
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
