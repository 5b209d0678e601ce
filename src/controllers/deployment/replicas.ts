/**
 * Replica arithmetic of rolling updates (deployment_util.go, controller_utils.go): maxSurge and
 * maxUnavailable resolved against spec.replicas (surge rounds up, unavailable rounds down, and both
 * zero means one unavailable), how far the new ReplicaSet may grow, proportional shares when a
 * Deployment is scaled mid-rollout, the desired/max-replicas annotations, and the orders in which
 * ReplicaSets are scaled.
 */

import { type ReplicaSet, specReplicas } from '../replicaset/types.ts';
import { annotationsOf, parseTime } from '../util/pods.ts';
import {
  DESIRED_REPLICAS_ANNOTATION,
  type Deployment,
  deploymentReplicas,
  type IntOrString,
  isRollingUpdate,
  MAX_REPLICAS_ANNOTATION,
  rollingUpdateParams,
  strategyType,
} from './types.ts';

/**
 * intstr.GetScaledValueFromIntOrPercent: an int as is; "N%" as N% of `total`, rounded up or down.
 * Throws for any other string.
 */
export function scaledValue(v: IntOrString, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) {
    if (!v.endsWith('%')) throw new Error(`invalid type: string is not a percentage`);
    throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(v)}`);
  }
  const pct = Number(m[1]);
  const scaled = (pct * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * ResolveFenceposts: maxSurge (rounded up) and maxUnavailable (rounded down) for `desired`
 * replicas; if both come to zero, maxUnavailable is 1 so that a rollout can proceed.
 */
export function resolveFenceposts(
  maxSurge: IntOrString | undefined,
  maxUnavailable: IntOrString | undefined,
  desired: number,
): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const { maxSurge, maxUnavailable } = rollingUpdateParams(d);
  try {
    return resolveFenceposts(maxSurge, maxUnavailable, deploymentReplicas(d));
  } catch {
    // Validation keeps bad values out.
    return { surge: 0, unavailable: 0 };
  }
}

/** MaxSurge: 0 unless RollingUpdate. */
export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

/** MaxUnavailable: 0 unless RollingUpdate with replicas; never more than spec.replicas. */
export function maxUnavailable(d: Deployment): number {
  const replicas = deploymentReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicas);
}

/** MinAvailable */
export function minAvailable(d: Deployment): number {
  return deploymentReplicas(d) - maxUnavailable(d);
}

/** GetReplicaCountForReplicaSets: the sum of spec.replicas. */
export function specReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs ? specReplicas(rs) : 0), 0);
}

/** GetActualReplicaCountForReplicaSets: the sum of status.replicas. */
export function actualReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
}

/** GetReadyReplicaCountForReplicaSets */
export function readyReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
}

/** GetAvailableReplicaCountForReplicaSets */
export function availableReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
}

/**
 * NewRSNewReplicas: how many replicas the new ReplicaSet may have now — for RollingUpdate, grow
 * until all ReplicaSets together reach spec.replicas + maxSurge, never past spec.replicas; for
 * Recreate, spec.replicas.
 */
export function newRSNewReplicas(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet): number {
  const replicas = deploymentReplicas(d);
  switch (strategyType(d)) {
    case 'RollingUpdate': {
      const surge = scaledValue(rollingUpdateParams(d).maxSurge, replicas, true);
      const current = specReplicaCount(allRSs);
      const maxTotal = replicas + surge;
      if (current >= maxTotal) return specReplicas(newRS);
      const scaleUp = Math.min(maxTotal - current, replicas - specReplicas(newRS));
      return specReplicas(newRS) + scaleUp;
    }
    case 'Recreate':
      return replicas;
    default:
      throw new Error(`deployment type ${strategyType(d)} isn't supported`);
  }
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key];
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

/** GetDesiredReplicasAnnotation */
export function desiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
}

/** IsSaturated: the new ReplicaSet has all of spec.replicas, and they are all available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicasAnnotation(rs);
  const replicas = deploymentReplicas(d);
  return (
    specReplicas(rs) === replicas && desired === replicas && (rs.status?.availableReplicas ?? 0) === replicas
  );
}

/** SetReplicasAnnotations: returns whether they changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = annotationsOf(rs);
  let changed = false;
  for (const [k, v] of [
    [DESIRED_REPLICAS_ANNOTATION, String(desired)],
    [MAX_REPLICAS_ANNOTATION, String(max)],
  ] as const) {
    if (a[k] !== v) {
      a[k] = v;
      changed = true;
    }
  }
  return changed;
}

/** ReplicasAnnotationsNeedUpdate */
export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata.annotations ?? {};
  return a[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a[MAX_REPLICAS_ANNOTATION] !== String(max);
}

/** Go's math.Round (half away from zero). */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** getReplicaSetFraction: this ReplicaSet's share of the Deployment's new size, minus its own. */
function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  const replicas = deploymentReplicas(d);
  if (replicas === 0) return -specReplicas(rs);
  const deploymentMax = replicas + maxSurge(d);
  let before = intAnnotation(rs, MAX_REPLICAS_ANNOTATION);
  if (!before) {
    // No record of the size before the scaling: use the current one.
    before = d.status?.replicas ?? 0;
    if (before === 0) return 0;
  }
  return roundHalfAway((specReplicas(rs) * deploymentMax) / before) - specReplicas(rs);
}

/**
 * GetReplicaSetProportion: how many of the `toAdd` replicas (negative: to remove) this ReplicaSet
 * takes, given `added` were already handed out.
 */
export function replicaSetProportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/** FilterActiveReplicaSets: those with spec.replicas > 0. */
export function activeReplicaSets(rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => !!rs && specReplicas(rs) > 0);
}

/** ReplicaSetsByCreationTimestamp: oldest first, then by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const ta = parseTime(a.metadata.creationTimestamp);
  const tb = parseTime(b.metadata.creationTimestamp);
  if (ta !== tb) return ta - tb;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}

/** ReplicaSetsBySizeOlder: larger first, then older first (for scaling down). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  if (specReplicas(a) !== specReplicas(b)) return specReplicas(b) - specReplicas(a);
  return byCreation(a, b);
}

/** ReplicaSetsBySizeNewer: larger first, then newer first (for scaling up). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  if (specReplicas(a) !== specReplicas(b)) return specReplicas(b) - specReplicas(a);
  return byCreation(b, a);
}
