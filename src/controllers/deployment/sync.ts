/**
 * The Deployment controller's shared steps (pkg/controller/deployment/sync.go): find or create the
 * new ReplicaSet and keep revisions in order, scale (proportionally across ReplicaSets when the
 * Deployment is resized mid-rollout), clean up old ReplicaSets beyond revisionHistoryLimit, and
 * compute and write the Deployment's status.
 *
 * Every step works on a {@link SyncPass}: a copy of the Deployment that the pass may change, and
 * its ReplicaSets, replaced by what the API server returned after each of the pass's own writes —
 * so one pass does not trip over its own stale copies.
 */

import { DEPLOYMENTS, REPLICA_SETS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { Lister, RestClient } from '../../client/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { Logger } from '../../util/log.ts';
import type { ReplicaSet } from '../replicaset/types.ts';
import { specReplicas } from '../replicaset/types.ts';
import type { EventRecorder } from '../util/events.ts';
import { jsonEqual } from '../util/json.ts';
import { controllerRefOf, newControllerRef, type Pod } from '../util/pods.ts';
import { getCondition, newCondition, setCondition } from './conditions.ts';
import { computeHash } from './hash.ts';
import {
  activeReplicaSets,
  actualReplicaCount,
  availableReplicaCount,
  byCreation,
  bySizeNewer,
  bySizeOlder,
  desiredReplicasAnnotation,
  isSaturated,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  readyReplicaCount,
  replicaSetProportion,
  replicasAnnotationsNeedUpdate,
  setReplicasAnnotations,
  specReplicaCount,
} from './replicas.ts';
import {
  byRevision,
  equalIgnoreHash,
  findNewReplicaSet,
  findOldReplicaSets,
  maxRevision,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
} from './revision.ts';
import {
  AVAILABLE,
  DEPLOYMENT_API_VERSION,
  DEPLOYMENT_KIND,
  type Deployment,
  type DeploymentStatus,
  deploymentReplicas,
  hasProgressDeadline,
  isRollingUpdate,
  POD_TEMPLATE_HASH_LABEL,
  PROGRESSING,
  REASON_FAILED_RS_CREATE,
  REASON_FOUND_NEW_RS,
  REASON_MIN_AVAILABLE,
  REASON_MIN_UNAVAILABLE,
  REASON_NEW_RS_CREATED,
  REVISION_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
  revisionHistoryLimit,
  statusOf,
} from './types.ts';

/** What the steps need from the controller. */
export interface DeploymentEnv {
  client: RestClient;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
  rsLister: Lister<ReplicaSet>;
  /** Field manager of the controller's writes. */
  fieldManager: string;
}

/** One reconcile pass over one Deployment. */
export class SyncPass {
  /** A copy of the Deployment, changed by the pass (status, revision annotation). */
  d: Deployment;
  /** The Deployment's ReplicaSets (claimed), with the pass's own writes applied. */
  rsList: ReplicaSet[];
  /** Its pods by the uid of their ReplicaSet (for Recreate). */
  podMap: Map<string, Pod[]>;

  constructor(d: Deployment, rsList: ReplicaSet[], podMap: Map<string, Pod[]> = new Map()) {
    this.d = d;
    this.rsList = rsList;
    this.podMap = podMap;
  }

  /** Takes `rs` (as the API server returned it) in place of the pass's copy. */
  replace(rs: ReplicaSet): ReplicaSet {
    const i = this.rsList.findIndex((x) => x.metadata.uid === rs.metadata.uid);
    if (i >= 0) this.rsList[i] = rs;
    else this.rsList.push(rs);
    return rs;
  }

  /** The pass's current copy of `rs`. */
  current(rs: ReplicaSet): ReplicaSet {
    return this.rsList.find((x) => x.metadata.uid === rs.metadata.uid) ?? rs;
  }
}

/** The new ReplicaSet (if any) and every old one. */
export interface ReplicaSets {
  newRS: ReplicaSet | undefined;
  oldRSs: ReplicaSet[];
}

/** getRollbackTo: the revision of the deprecated rollback annotation, if one is set and readable. */
export function getRollbackTo(d: Deployment): number | undefined {
  const v = d.metadata.annotations?.[ROLLBACK_TO_ANNOTATION];
  if (!v || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** UpdateStatus of the pass's Deployment; the pass keeps its copy, at the new resourceVersion. */
export async function writeStatus(env: DeploymentEnv, pass: SyncPass): Promise<void> {
  const d = pass.d;
  const updated = await env.client.update<Deployment>(DEPLOYMENTS, d.metadata.namespace ?? '', d, {
    subresource: 'status',
    fieldManager: env.fieldManager,
  });
  d.metadata.resourceVersion = updated.metadata.resourceVersion;
}

/** Update of the pass's Deployment (spec and metadata). */
export async function writeDeployment(env: DeploymentEnv, pass: SyncPass): Promise<void> {
  const d = pass.d;
  const updated = await env.client.update<Deployment>(DEPLOYMENTS, d.metadata.namespace ?? '', d, {
    fieldManager: env.fieldManager,
  });
  pass.d = updated;
}

async function updateRS(env: DeploymentEnv, pass: SyncPass, rs: ReplicaSet): Promise<ReplicaSet> {
  const updated = await env.client.update<ReplicaSet>(REPLICA_SETS, rs.metadata.namespace ?? '', rs, {
    fieldManager: env.fieldManager,
  });
  return pass.replace(updated);
}

/**
 * getAllReplicaSetsAndSyncRevision: the new ReplicaSet — created (with `create`) if there is none
 * — with its revision raised above every old one, and the old ReplicaSets.
 */
export async function getAllReplicaSetsAndSyncRevision(
  env: DeploymentEnv,
  pass: SyncPass,
  create: boolean,
): Promise<ReplicaSets> {
  const { all } = findOldReplicaSets(pass.d, pass.rsList);
  const newRS = await getNewReplicaSet(env, pass, all, create);
  return { newRS, oldRSs: findOldReplicaSets(pass.d, pass.rsList).all };
}

/**
 * getNewReplicaSet: the ReplicaSet of the Deployment's template with its annotations and revision
 * brought up to date (the Deployment's revision follows it); or, with `create`, a new one named
 * `<deployment>-<pod-template-hash>` — on a name collision with a different ReplicaSet, the
 * Deployment's collisionCount is raised and the pass fails, to try again with a new hash.
 */
export async function getNewReplicaSet(
  env: DeploymentEnv,
  pass: SyncPass,
  oldRSs: ReplicaSet[],
  create: boolean,
): Promise<ReplicaSet | undefined> {
  const d = pass.d;
  const now = env.clock.now();
  const existing = findNewReplicaSet(d, pass.rsList);
  const newRevision = maxRevision(oldRSs) + 1;

  if (existing) {
    const copy: ReplicaSet = structuredClone(existing);
    const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
    const minReadySeconds = d.spec?.minReadySeconds ?? 0;
    if (annotationsUpdated || (copy.spec?.minReadySeconds ?? 0) !== minReadySeconds) {
      copy.spec = { ...copy.spec, minReadySeconds };
      return updateRS(env, pass, copy);
    }
    let needsUpdate = setDeploymentRevision(d, copy.metadata.annotations?.[REVISION_ANNOTATION] ?? '');
    if (hasProgressDeadline(d) && !getCondition(d.status, PROGRESSING)) {
      const status = statusOf(d);
      setCondition(
        status,
        newCondition(
          PROGRESSING,
          'True',
          REASON_FOUND_NEW_RS,
          `Found new replica set "${copy.metadata.name}"`,
          now,
        ),
      );
      needsUpdate = true;
    }
    if (needsUpdate) await writeStatus(env, pass);
    return copy;
  }
  if (!create) return undefined;

  const template = structuredClone(d.spec?.template ?? {});
  const collisionCount = d.status?.collisionCount;
  const hash = computeHash(d.spec?.template, collisionCount);
  const labels = { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  template.metadata = { ...template.metadata, labels };
  const selector = structuredClone(d.spec?.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const name = `${d.metadata.name}-${hash}`;
  const newRS: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: d.metadata.namespace,
      ownerReferences: [newControllerRef(d, DEPLOYMENT_API_VERSION, DEPLOYMENT_KIND)],
      labels: { ...labels },
    },
    spec: {
      replicas: 0,
      minReadySeconds: d.spec?.minReadySeconds ?? 0,
      selector,
      template,
    },
  };
  const replicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
  newRS.spec!.replicas = replicas;
  setNewReplicaSetAnnotations(d, newRS, newRevision, false);

  let created: ReplicaSet;
  let alreadyExists = false;
  try {
    created = await env.client.create<ReplicaSet>(REPLICA_SETS, d.metadata.namespace ?? '', newRS, {
      fieldManager: env.fieldManager,
    });
  } catch (err) {
    if (isApiError(err, 409) && err.reason === 'AlreadyExists') {
      alreadyExists = true;
      const rs = env.rsLister.get(`${d.metadata.namespace}/${name}`);
      if (!rs) throw err;
      // Ours, with our template: the cache was just behind. Anything else is a hash collision.
      if (
        controllerRefOf(rs)?.uid === d.metadata.uid &&
        equalIgnoreHash(d.spec?.template, rs.spec?.template)
      ) {
        created = rs;
      } else {
        const status = statusOf(d);
        const before = status.collisionCount ?? 0;
        status.collisionCount = before + 1;
        try {
          await writeStatus(env, pass);
          env.log.info(
            {
              deployment: `${d.metadata.namespace}/${d.metadata.name}`,
              collisionCount: status.collisionCount,
            },
            'hash collision: raised collisionCount',
          );
        } catch {
          // Raised on the next pass.
        }
        throw err;
      }
    } else {
      if (!isApiError(err) || !(err.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating')) {
        const msg = `Failed to create new replica set "${name}": ${err instanceof Error ? err.message : String(err)}`;
        if (hasProgressDeadline(d)) {
          setCondition(statusOf(d), newCondition(PROGRESSING, 'False', REASON_FAILED_RS_CREATE, msg, now));
          await writeStatus(env, pass).catch(() => {});
        }
        env.events.event(DEPLOYMENTS, d, 'Warning', REASON_FAILED_RS_CREATE, msg);
      }
      throw err;
    }
  }
  pass.replace(created);
  if (!alreadyExists && replicas > 0) {
    env.events.event(
      DEPLOYMENTS,
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`,
    );
  }
  let needsUpdate = setDeploymentRevision(d, String(newRevision));
  if (!alreadyExists && hasProgressDeadline(d)) {
    setCondition(
      statusOf(d),
      newCondition(
        PROGRESSING,
        'True',
        REASON_NEW_RS_CREATED,
        `Created new replica set "${created.metadata.name}"`,
        now,
      ),
    );
    needsUpdate = true;
  }
  if (needsUpdate) await writeStatus(env, pass);
  return created;
}

/**
 * scaleReplicaSet: sets spec.replicas and the desired/max-replicas annotations (when either
 * changed) and records the scaling. Returns whether the size changed, and the ReplicaSet.
 */
export async function scaleReplicaSet(
  env: DeploymentEnv,
  pass: SyncPass,
  rs: ReplicaSet,
  newScale: number,
): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  const d = pass.d;
  const current = pass.current(rs);
  const oldScale = specReplicas(current);
  const replicas = deploymentReplicas(d);
  const max = replicas + maxSurge(d);
  const sizeNeedsUpdate = oldScale !== newScale;
  if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(current, replicas, max)) {
    return { scaled: false, rs: current };
  }
  const copy: ReplicaSet = structuredClone(current);
  copy.spec = { ...copy.spec, replicas: newScale };
  setReplicasAnnotations(copy, replicas, max);
  const updated = await updateRS(env, pass, copy);
  if (sizeNeedsUpdate) {
    const op = oldScale < newScale ? 'up' : 'down';
    env.events.event(
      DEPLOYMENTS,
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${op} replica set ${updated.metadata.name} from ${oldScale} to ${newScale}`,
    );
  }
  return { scaled: sizeNeedsUpdate, rs: updated };
}

/** scaleReplicaSetAndRecordEvent: scaleReplicaSet unless it already has `newScale`. */
export async function scaleTo(
  env: DeploymentEnv,
  pass: SyncPass,
  rs: ReplicaSet,
  newScale: number,
): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  const current = pass.current(rs);
  if (specReplicas(current) === newScale) return { scaled: false, rs: current };
  return scaleReplicaSet(env, pass, current, newScale);
}

/** FindActiveOrLatest: the only active ReplicaSet, or the newest one when none is active. */
export function findActiveOrLatest(
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = activeReplicaSets([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/**
 * scale: after a resize (or while paused) — one active ReplicaSet takes the new size; a saturated
 * new ReplicaSet means the old ones go to zero; otherwise, for RollingUpdate, the difference to
 * spec.replicas + maxSurge is spread over the active ReplicaSets in proportion to their size
 * (larger first; leftovers to the largest).
 */
export async function scale(
  env: DeploymentEnv,
  pass: SyncPass,
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
): Promise<void> {
  const d = pass.d;
  const replicas = deploymentReplicas(d);
  newRS = newRS && pass.current(newRS);
  oldRSs = oldRSs.map((rs) => pass.current(rs));
  const single = findActiveOrLatest(newRS, oldRSs);
  if (single) {
    if (specReplicas(pass.current(single)) === replicas) return;
    await scaleTo(env, pass, single, replicas);
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const old of activeReplicaSets(oldRSs)) await scaleTo(env, pass, old, 0);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const all = activeReplicaSets([...oldRSs, newRS]);
  const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
  const toAdd = allowed - specReplicaCount(all);
  if (toAdd > 0) all.sort(bySizeNewer);
  else if (toAdd < 0) all.sort(bySizeOlder);
  let added = 0;
  const sizes = new Map<string, number>();
  for (const rs of all) {
    if (toAdd !== 0) {
      const proportion = replicaSetProportion(rs, d, toAdd, added);
      sizes.set(rs.metadata.uid ?? '', specReplicas(rs) + proportion);
      added += proportion;
    } else {
      sizes.set(rs.metadata.uid ?? '', specReplicas(rs));
    }
  }
  for (const [i, rs] of all.entries()) {
    const uid = rs.metadata.uid ?? '';
    if (i === 0 && toAdd !== 0) sizes.set(uid, Math.max(0, (sizes.get(uid) ?? 0) + toAdd - added));
    await scaleReplicaSet(env, pass, rs, sizes.get(uid) ?? 0);
  }
}

/**
 * cleanupDeployment: deletes the oldest old ReplicaSets beyond revisionHistoryLimit — only those
 * scaled to zero, with no pods, whose status is current and that are not being deleted already.
 */
export async function cleanupDeployment(
  env: DeploymentEnv,
  pass: SyncPass,
  oldRSs: ReplicaSet[],
): Promise<void> {
  const limit = revisionHistoryLimit(pass.d);
  if (limit === undefined) return;
  const cleanable = oldRSs.map((rs) => pass.current(rs)).filter((rs) => !rs.metadata.deletionTimestamp);
  const diff = cleanable.length - limit;
  if (diff <= 0) return;
  cleanable.sort(byRevision);
  for (const rs of cleanable.slice(0, diff)) {
    if (
      (rs.status?.replicas ?? 0) !== 0 ||
      specReplicas(rs) !== 0 ||
      (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0) ||
      rs.metadata.deletionTimestamp
    ) {
      continue;
    }
    env.log.debug({ replicaSet: rs.metadata.name }, 'deleting old replica set beyond the history limit');
    try {
      await env.client.delete(REPLICA_SETS, rs.metadata.namespace ?? '', rs.metadata.name ?? '');
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
  }
}

/**
 * calculateStatus: counts from the ReplicaSets' statuses (updatedReplicas: the new one's), and
 * the Available condition — True once availableReplicas reaches spec.replicas - maxUnavailable.
 */
export function calculateStatus(
  allRSs: readonly (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
  d: Deployment,
  now: number,
): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const total = specReplicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions?.length) status.conditions = structuredClone(d.status.conditions);
  if (available >= deploymentReplicas(d) - maxUnavailable(d)) {
    setCondition(
      status,
      newCondition(AVAILABLE, 'True', REASON_MIN_AVAILABLE, 'Deployment has minimum availability.', now),
    );
  } else {
    setCondition(
      status,
      newCondition(
        AVAILABLE,
        'False',
        REASON_MIN_UNAVAILABLE,
        'Deployment does not have minimum availability.',
        now,
      ),
    );
  }
  return status;
}

/** Whether two statuses are the same (absent counts are zero). */
export function statusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  const x = a ?? {};
  const counts = [
    'observedGeneration',
    'replicas',
    'updatedReplicas',
    'readyReplicas',
    'availableReplicas',
    'unavailableReplicas',
  ] as const;
  return (
    counts.every((k) => (x[k] ?? 0) === (b[k] ?? 0)) &&
    (x.collisionCount ?? null) === (b.collisionCount ?? null) &&
    jsonEqual(x.conditions ?? [], b.conditions ?? [])
  );
}

/** syncDeploymentStatus: writes the calculated status if it changed. */
export async function syncDeploymentStatus(
  env: DeploymentEnv,
  pass: SyncPass,
  allRSs: readonly (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
): Promise<void> {
  const current = allRSs.map((rs) => (rs ? pass.current(rs) : rs));
  const status = calculateStatus(current, newRS && pass.current(newRS), pass.d, env.clock.now());
  if (statusEqual(pass.d.status, status)) return;
  pass.d.status = status;
  await writeStatus(env, pass);
}

/** sync: scaling (and cleanup while paused) without rolling out; then status. */
export async function sync(env: DeploymentEnv, pass: SyncPass): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(env, pass, false);
  await scale(env, pass, newRS, oldRSs);
  if (pass.d.spec?.paused && getRollbackTo(pass.d) === undefined) {
    await cleanupDeployment(env, pass, oldRSs);
  }
  await syncDeploymentStatus(env, pass, [...oldRSs, newRS], newRS);
}

/** syncStatusOnly: for a Deployment being deleted. */
export async function syncStatusOnly(env: DeploymentEnv, pass: SyncPass): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(env, pass, false);
  await syncDeploymentStatus(env, pass, [...oldRSs, newRS], newRS);
}

/** isScalingEvent: an active ReplicaSet was sized for another spec.replicas (desired-replicas). */
export async function isScalingEvent(env: DeploymentEnv, pass: SyncPass): Promise<boolean> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(env, pass, false);
  const replicas = deploymentReplicas(pass.d);
  for (const rs of activeReplicaSets([...oldRSs, newRS])) {
    const desired = desiredReplicasAnnotation(pass.current(rs));
    if (desired !== undefined && desired !== replicas) return true;
  }
  return false;
}
