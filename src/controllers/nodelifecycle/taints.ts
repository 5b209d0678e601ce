/**
 * Taints and tolerations as Kubernetes matches them (core/v1 Toleration.ToleratesTaint,
 * v1helper.GetMatchingTolerations, taintutils), and small helpers on RFC 3339 times.
 */
import type { Taint, Toleration } from './types.ts';

/** Whether `toleration` tolerates `taint` (empty effect: any effect; empty key with Exists: any key). */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? '') {
    case '':
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/**
 * GetMatchingTolerations: whether every taint is tolerated, and for each taint (in order) the first
 * toleration that tolerates it.
 */
export function matchingTolerations(
  taints: readonly Taint[],
  tolerations: readonly Toleration[] | undefined,
): { allTolerated: boolean; used: Toleration[] } {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = (tolerations ?? []).find((tol) => toleratesTaint(tol, taint));
    if (!t) return { allTolerated: false, used: [] };
    used.push(t);
  }
  return { allTolerated: true, used };
}

/** MatchTaint: same key and effect. */
export function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

export function taintExists(taints: readonly Taint[] | undefined, taint: Taint): boolean {
  return (taints ?? []).some((t) => sameTaint(t, taint));
}

export function noExecuteTaints(taints: readonly Taint[] | undefined): Taint[] {
  return (taints ?? []).filter((t) => t.effect === 'NoExecute');
}

/**
 * The node's taints with `add` added (those not there yet, by key and effect, stamped with
 * `timeAdded`) and `remove` removed; null when nothing changes.
 */
export function swapTaints(
  current: readonly Taint[] | undefined,
  add: readonly Taint[],
  remove: readonly Taint[],
  timeAdded: string,
): Taint[] | null {
  const list = current ?? [];
  let changed = false;
  const out: Taint[] = [];
  for (const t of list) {
    if (remove.some((r) => sameTaint(r, t))) changed = true;
    else out.push(t);
  }
  for (const a of add) {
    if (out.some((t) => sameTaint(t, a))) continue;
    out.push({ ...a, timeAdded });
    changed = true;
  }
  return changed ? out : null;
}

/** Seconds-precision RFC 3339 (metav1.Time). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Milliseconds of an RFC 3339 time, or undefined when absent or unparsable. */
export function parseTime(s: string | null | undefined): number | undefined {
  if (!s) return undefined;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}
