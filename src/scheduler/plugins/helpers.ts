/**
 * Helpers shared by plugins: toleration matching (v1helper), node selector matching
 * (component-helpers nodeaffinity) and score normalization (helper.DefaultNormalizeScore).
 */
import type { NodeScore } from '../framework/interface.ts';
import { MAX_NODE_SCORE } from '../framework/interface.ts';
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration } from '../types.ts';

// ---- taints and tolerations ----

/** Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function tolerationsTolerateTaint(
  tolerations: readonly Toleration[] | undefined,
  taint: Taint,
): boolean {
  for (const t of tolerations ?? []) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint passing `filter` that no toleration tolerates (FindMatchingUntoleratedTaint). */
export function findUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  filter: (t: Taint) => boolean,
): Taint | undefined {
  for (const taint of taints ?? []) {
    if (filter(taint) && !tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

/** NoSchedule and NoExecute taints keep pods off a node (DoNotScheduleTaintsFilterFunc). */
export function doNotScheduleTaint(t: Taint): boolean {
  return t.effect === 'NoSchedule' || t.effect === 'NoExecute';
}

// ---- node selectors ----

function parseIntStrict(s: string | undefined): number | undefined {
  if (s === undefined || !/^[+-]?\d+$/.test(s)) return undefined;
  return Number(s);
}

/** One NodeSelectorRequirement against a value map (labels, or {metadata.name}). */
export function requirementMatches(
  r: NodeSelectorRequirement,
  values: Readonly<Record<string, string>>,
): boolean {
  // A string value is an own label (plain objects inherit no string-valued properties).
  const raw = values[r.key];
  const present = typeof raw === 'string' || Object.hasOwn(values, r.key);
  const v = present ? raw : undefined;
  const vals = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return present && vals.includes(v!);
    case 'NotIn':
      return !present || !vals.includes(v!);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    case 'Gt':
    case 'Lt': {
      if (!present || vals.length !== 1) return false;
      const a = parseIntStrict(v);
      const b = parseIntStrict(vals[0]);
      if (a === undefined || b === undefined) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

export function isEmptyTerm(t: NodeSelectorTerm): boolean {
  return (t.matchExpressions ?? []).length === 0 && (t.matchFields ?? []).length === 0;
}

type NodeLabels = Readonly<Record<string, string>>;
const NO_LABELS: NodeLabels = Object.freeze({});

/** A NodeSelectorTerm: all its expressions and fields (only metadata.name) match. Empty matches nothing. */
export function termMatchesNode(t: NodeSelectorTerm, node: Node): boolean {
  return termMatchesLabels(t, node.metadata.labels ?? NO_LABELS, node.metadata.name ?? '');
}

/** termMatchesNode for a node given by its labels and name (a NodeInfo's copies). */
export function termMatchesLabels(t: NodeSelectorTerm, labels: NodeLabels, name: string): boolean {
  const exprs = t.matchExpressions;
  const fields = t.matchFields;
  if ((exprs ?? []).length === 0 && (fields ?? []).length === 0) return false;
  if (exprs) for (let i = 0; i < exprs.length; i++) if (!requirementMatches(exprs[i]!, labels)) return false;
  if (fields && fields.length > 0) {
    const values = { 'metadata.name': name };
    for (const r of fields) {
      if (r.key !== 'metadata.name' || (r.operator !== 'In' && r.operator !== 'NotIn')) return false;
      if (!requirementMatches(r, values)) return false;
    }
  }
  return true;
}

/** NodeSelectorTerms are ORed; an empty list matches nothing. */
export function nodeSelectorTermsMatch(terms: readonly NodeSelectorTerm[], node: Node): boolean {
  return nodeSelectorTermsMatchLabels(terms, node.metadata.labels ?? NO_LABELS, node.metadata.name ?? '');
}

export function nodeSelectorTermsMatchLabels(
  terms: readonly NodeSelectorTerm[],
  labels: NodeLabels,
  name: string,
): boolean {
  for (let i = 0; i < terms.length; i++) if (termMatchesLabels(terms[i]!, labels, name)) return true;
  return false;
}

/**
 * GetRequiredNodeAffinity(pod).Match(node): spec.nodeSelector and the required node affinity
 * both hold.
 */
export function requiredNodeAffinityMatches(pod: Pod, node: Node): boolean {
  const spec = pod.spec;
  if (!spec?.nodeSelector && !spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution) {
    return true;
  }
  return requiredNodeAffinityMatchesLabels(pod, node.metadata.labels ?? NO_LABELS, node.metadata.name ?? '');
}

/** requiredNodeAffinityMatches for a node given by its labels and name (a NodeInfo's copies). */
export function requiredNodeAffinityMatchesLabels(pod: Pod, labels: NodeLabels, name: string): boolean {
  const spec = pod.spec;
  if (!spec) return true;
  const sel = spec.nodeSelector;
  if (sel) {
    for (const k in sel) if (Object.hasOwn(sel, k) && labels[k] !== sel[k]) return false;
  }
  const req = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req) return nodeSelectorTermsMatchLabels(req.nodeSelectorTerms ?? [], labels, name);
  return true;
}

// ---- scores ----

/**
 * helper.DefaultNormalizeScore: scales scores so the highest becomes `max` (reversed: max - scaled).
 * All zero stays zero (reversed: all max).
 */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: NodeScore[]): void {
  const n = scores.length;
  let maxCount = 0;
  for (let i = 0; i < n; i++) {
    const sc = scores[i]!.score;
    if (sc > maxCount) maxCount = sc;
  }
  if (maxCount === 0) {
    if (reverse) for (let i = 0; i < n; i++) scores[i]!.score = maxPriority;
    return;
  }
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    let v = Math.trunc((maxPriority * s.score) / maxCount);
    if (reverse) v = maxPriority - v;
    s.score = v;
  }
}

export { MAX_NODE_SCORE };
