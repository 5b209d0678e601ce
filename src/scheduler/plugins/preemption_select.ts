/**
 * Preemption's pure parts (preemption.go, default_preemption.go): victim ordering, PDB grouping
 * and choosing the node whose preemption disrupts least.
 */
import { labelSelectorAsSelector } from '../../api/labels.ts';
import type { PodInfo } from '../framework/podinfo.ts';
import { type Pod, type PodDisruptionBudget, podPriority, podStartTime } from '../types.ts';

/** Victims on one node, most important first, and how many of them violate a PDB. */
export interface Candidate {
  name: string;
  pods: Pod[];
  numPDBViolations: number;
}

/** Higher priority, then earlier start, is more important (util.MoreImportantPod). */
export function moreImportantPod(a: Pod, b: Pod, now: number): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return podStartTime(a, now) < podStartTime(b, now);
}

/**
 * Splits pods (stably) into those whose eviction would push a matching PDB below its allowed
 * disruptions and the rest (filterPodsWithPDBViolation). Pods listed in a PDB's disruptedPods are
 * already accounted for.
 */
export function filterPodsWithPDBViolation(
  pods: readonly PodInfo[],
  pdbs: readonly PodDisruptionBudget[],
): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((p) => {
    try {
      return labelSelectorAsSelector(p.spec?.selector);
    } catch {
      return undefined;
    }
  });
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pi of pods) {
    const pod = pi.pod;
    let violated = false;
    const labels = pod.metadata.labels ?? {};
    if (Object.keys(labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        if (pdb.metadata.namespace !== pod.metadata.namespace) return;
        const sel = selectors[i];
        if (!sel || sel.isEmpty() || !sel.matches(labels)) return;
        if (pdb.status?.disruptedPods && Object.hasOwn(pdb.status.disruptedPods, pod.metadata.name ?? ''))
          return;
        allowed[i]!--;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

/** The earliest start time among the highest-priority victims (GetEarliestPodStartTime). */
function earliestStartOfHighest(pods: readonly Pod[], now: number): number {
  let maxPrio = podPriority(pods[0]!);
  let earliest = podStartTime(pods[0]!, now);
  for (const p of pods) {
    const pr = podPriority(p);
    if (pr === maxPrio) earliest = Math.min(earliest, podStartTime(p, now));
    else if (pr > maxPrio) {
      maxPrio = pr;
      earliest = podStartTime(p, now);
    }
  }
  return earliest;
}

/**
 * pickOneNodeForPreemption: fewest PDB violations, then the lowest highest-priority victim, then
 * the smallest sum of priorities, then the fewest victims, then the latest start of the highest
 * priority victims; then the first.
 */
export function pickOneNodeForPreemption(
  candidates: readonly Candidate[],
  now: number,
): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const scoreFuncs: ((c: Candidate) => number)[] = [
    (c) => -c.numPDBViolations,
    (c) => -podPriority(c.pods[0]!),
    (c) => -c.pods.reduce((sum, p) => sum + podPriority(p) + 2147483648, 0),
    (c) => -c.pods.length,
    (c) => earliestStartOfHighest(c.pods, now),
  ];
  let remaining = [...candidates];
  for (const f of scoreFuncs) {
    let best = Number.NEGATIVE_INFINITY;
    let selected: Candidate[] = [];
    for (const c of remaining) {
      const s = f(c);
      if (s > best) {
        best = s;
        selected = [c];
      } else if (s === best) {
        selected.push(c);
      }
    }
    if (selected.length === 1) return selected[0];
    remaining = selected;
  }
  return remaining[0];
}
