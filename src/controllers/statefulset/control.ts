/**
 * One pass of a StatefulSet (stateful_set_control.go's updateStatefulSet): bring pods
 * [start, start+replicas) into existence and health, remove condemned pods (ordinals outside that
 * range), then roll pods to the update revision.
 *
 * - OrderedReady: pod i is created only when every lower ordinal is Running and Ready (and
 *   available for minReadySeconds); condemned pods go one at a time, highest ordinal first, only
 *   while the others are healthy; Parallel creates and deletes without waiting;
 * - failed or succeeded pods are deleted and recreated; claims are created before their pod and
 *   never deleted here (persistentVolumeClaimRetentionPolicy only sets owner references for the
 *   garbage collector);
 * - RollingUpdate: from the highest ordinal down to the partition, one pod at a time, deletes a
 *   pod not at the update revision and waits for its replacement to be healthy; OnDelete leaves
 *   pods until they are deleted.
 */
import { PERSISTENT_VOLUME_CLAIMS, PODS, STATEFUL_SETS } from '../../client/resources.ts';
import type { Lister, RestClient } from '../../client/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { EventRecorder } from '../job/events.ts';
import { isAlreadyExists, isNotFound, type OwnerReference, type Pod } from '../job/podutil.ts';
import { type ControllerRevision, revisionTemplate } from './history.ts';
import {
  endOrdinal,
  identityMatches,
  isCreated,
  isFailed,
  isHealthy,
  isPending,
  isRunningAndAvailable,
  isRunningAndReady,
  isSucceeded,
  isTerminating,
  newStatefulSetPod,
  ordinalOf,
  type PersistentVolumeClaim,
  podClaims,
  revisionOf,
  type StatefulSet,
  type StatefulSetStatus,
  startOrdinal,
  storageMatches,
  updateIdentity,
  updateStorage,
} from './identity.ts';

export interface ControlDeps {
  client: RestClient;
  claims: Lister<PersistentVolumeClaim>;
  events: EventRecorder;
  clock: Clock;
}

/** The set with the template of `rev` (ApplyRevision). */
export function applyRevision(set: StatefulSet, rev: ControllerRevision): StatefulSet {
  const out = structuredClone(set);
  out.spec.template = revisionTemplate(rev);
  return out;
}

/** newVersionedStatefulSetPod: below the partition (or the current count) a pod keeps the current revision. */
function newVersionedPod(
  set: StatefulSet,
  currentSet: StatefulSet,
  updateSet: StatefulSet,
  current: string,
  update: string,
  ordinal: number,
): Pod {
  const us = set.spec.updateStrategy;
  if (us?.type === 'RollingUpdate') {
    const partition = us.rollingUpdate?.partition;
    const keepCurrent =
      partition === undefined || partition === null
        ? ordinal < startOrdinal(set) + (set.status?.currentReplicas ?? 0)
        : ordinal < startOrdinal(set) + partition;
    if (keepCurrent) return newStatefulSetPod(currentSet, ordinal, current);
  }
  return newStatefulSetPod(updateSet, ordinal, update);
}

/** The owner references a claim should have under the retention policy (set and/or pod). */
function wantedClaimOwners(set: StatefulSet, pod: Pod, condemned: boolean): OwnerReference[] {
  const policy = set.spec.persistentVolumeClaimRetentionPolicy ?? {};
  const deleteWithSet = policy.whenDeleted === 'Delete';
  const deleteOnScale = policy.whenScaled === 'Delete';
  const setRef: OwnerReference = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    name: set.metadata.name ?? '',
    uid: set.metadata.uid ?? '',
  };
  const podRef: OwnerReference = {
    apiVersion: 'v1',
    kind: 'Pod',
    name: pod.metadata.name ?? '',
    uid: pod.metadata.uid ?? '',
  };
  if (deleteOnScale && condemned && pod.metadata.uid) return [podRef];
  if (deleteWithSet) return [setRef];
  return [];
}

export class StatefulSetControl {
  readonly #d: ControlDeps;

  constructor(deps: ControlDeps) {
    this.#d = deps;
  }

  #event(set: StatefulSet, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.#d.events.event(STATEFUL_SETS, set, type, reason, message);
  }

  /** createPersistentVolumeClaims: every claim of the pod exists (made when missing). Returns false while one is being deleted. */
  async #ensureClaims(set: StatefulSet, pod: Pod): Promise<boolean> {
    const ns = set.metadata.namespace ?? '';
    for (const claim of podClaims(set, ordinalOf(pod)).values()) {
      const existing = this.#d.claims.get(`${ns}/${claim.metadata.name ?? ''}`);
      if (existing) {
        if (existing.metadata.deletionTimestamp) return false;
        continue;
      }
      claim.metadata.ownerReferences = wantedClaimOwners(set, pod, false);
      if (claim.metadata.ownerReferences.length === 0) delete claim.metadata.ownerReferences;
      try {
        await this.#d.client.create(PERSISTENT_VOLUME_CLAIMS, ns, claim);
        this.#event(
          set,
          'Normal',
          'SuccessfulCreate',
          `create Claim ${claim.metadata.name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`,
        );
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        this.#event(
          set,
          'Warning',
          'FailedCreate',
          `create Claim ${claim.metadata.name} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`,
        );
        throw err;
      }
    }
    return true;
  }

  /** Sets the claims' owner references as the retention policy wants (for the garbage collector). */
  async #fixClaimOwners(set: StatefulSet, pod: Pod, condemned: boolean): Promise<void> {
    const ns = set.metadata.namespace ?? '';
    const wanted = wantedClaimOwners(set, pod, condemned);
    const ours = (r: OwnerReference) =>
      (r.kind === 'StatefulSet' && r.uid === set.metadata.uid) ||
      (r.kind === 'Pod' && r.name === pod.metadata.name);
    for (const claim of podClaims(set, ordinalOf(pod)).values()) {
      const existing = this.#d.claims.get(`${ns}/${claim.metadata.name ?? ''}`);
      if (!existing) continue;
      const refs = (existing.metadata.ownerReferences ?? []) as OwnerReference[];
      const mine = refs.filter(ours);
      const same =
        mine.length === wanted.length &&
        wanted.every((w) => mine.some((m) => m.uid === w.uid && m.kind === w.kind));
      if (same) continue;
      const next = [...refs.filter((r) => !ours(r)), ...wanted];
      await this.#d.client.patch(PERSISTENT_VOLUME_CLAIMS, ns, existing.metadata.name ?? '', 'json', [
        { op: 'test', path: '/metadata/resourceVersion', value: existing.metadata.resourceVersion },
        { op: 'add', path: '/metadata/ownerReferences', value: next },
      ]);
    }
  }

  async #createPod(set: StatefulSet, pod: Pod): Promise<Pod | undefined> {
    if (!(await this.#ensureClaims(set, pod))) return undefined;
    try {
      const created = await this.#d.client.create<Pod>(PODS, set.metadata.namespace ?? '', pod);
      this.#event(
        set,
        'Normal',
        'SuccessfulCreate',
        `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
      );
      created.status = { ...(created.status ?? {}), phase: created.status?.phase || 'Pending' };
      return created;
    } catch (err) {
      // The cache has not seen our earlier create yet (or it is still being deleted): wait.
      if (isAlreadyExists(err)) return undefined;
      this.#event(
        set,
        'Warning',
        'FailedCreate',
        `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`,
      );
      throw err;
    }
  }

  async #deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.#d.client.delete(PODS, set.metadata.namespace ?? '', pod.metadata.name ?? '', {
        preconditions: { uid: pod.metadata.uid },
      });
      this.#event(
        set,
        'Normal',
        'SuccessfulDelete',
        `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
      );
    } catch (err) {
      if (isNotFound(err)) return;
      this.#event(
        set,
        'Warning',
        'FailedDelete',
        `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`,
      );
      throw err;
    }
  }

  /** UpdateStatefulPod: restores identity and storage of a pod that lost them. */
  async #updatePod(set: StatefulSet, pod: Pod): Promise<void> {
    const p = structuredClone(pod);
    updateIdentity(set, p);
    if (!storageMatches(set, p)) {
      await this.#ensureClaims(set, p);
      updateStorage(set, p);
    }
    await this.#d.client.update(PODS, set.metadata.namespace ?? '', p);
  }

  /**
   * updateStatefulSet: one pass over `pods` (the set's own pods). Returns the status it computed.
   */
  async update(
    set: StatefulSet,
    currentRev: ControllerRevision,
    updateRev: ControllerRevision,
    collisionCount: number,
    pods: readonly Pod[],
  ): Promise<StatefulSetStatus> {
    const now = this.#d.clock.now();
    const current = currentRev.metadata.name ?? '';
    const update = updateRev.metadata.name ?? '';
    const currentSet = applyRevision(set, currentRev);
    const updateSet = applyRevision(set, updateRev);
    const minReady = set.spec.minReadySeconds ?? 0;
    const monotonic = (set.spec.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
    const start = startOrdinal(set);
    const end = endOrdinal(set);
    const replicaCount = Math.max(0, end - start + 1);

    const replicas: (Pod | undefined)[] = new Array(replicaCount).fill(undefined);
    const condemned: Pod[] = [];
    for (const p of pods) {
      const ord = ordinalOf(p);
      if (ord < 0) continue;
      if (ord >= start && ord <= end) replicas[ord - start] = structuredClone(p);
      else condemned.push(structuredClone(p));
    }
    for (let i = 0; i < replicaCount; i++) {
      replicas[i] ??= newVersionedPod(set, currentSet, updateSet, current, update, start + i);
    }
    const live = replicas as Pod[];
    condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
    const firstUnhealthy = [...live, ...condemned].find((p) => !isHealthy(p));

    const status = (): StatefulSetStatus => {
      const st: StatefulSetStatus = {
        observedGeneration: set.metadata.generation ?? 0,
        replicas: 0,
        readyReplicas: 0,
        currentReplicas: 0,
        updatedReplicas: 0,
        availableReplicas: 0,
        currentRevision: current,
        updateRevision: update,
        collisionCount,
      };
      for (const p of [...live, ...condemned]) {
        if (isCreated(p)) st.replicas = (st.replicas ?? 0) + 1;
        if (isRunningAndReady(p)) {
          st.readyReplicas = (st.readyReplicas ?? 0) + 1;
          if (isRunningAndAvailable(p, minReady, now)) st.availableReplicas = (st.availableReplicas ?? 0) + 1;
        }
        if (isCreated(p) && !isTerminating(p)) {
          if (revisionOf(p) === current) st.currentReplicas = (st.currentReplicas ?? 0) + 1;
          if (revisionOf(p) === update) st.updatedReplicas = (st.updatedReplicas ?? 0) + 1;
        }
      }
      // completeRollingUpdate
      if (
        (set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' &&
        st.updatedReplicas === st.replicas &&
        st.readyReplicas === st.replicas
      ) {
        st.currentReplicas = st.updatedReplicas;
        st.currentRevision = update;
      }
      return st;
    };

    /** processReplica: true when this pass must stop here. */
    const processReplica = async (i: number): Promise<boolean> => {
      let pod = live[i] as Pod;
      if (isCreated(pod) && (isFailed(pod) || isSucceeded(pod)) && !isTerminating(pod)) {
        this.#event(
          set,
          'Warning',
          isFailed(pod) ? 'RecreatingFailedPod' : 'RecreatingTerminatedPod',
          `StatefulSet ${set.metadata.namespace}/${set.metadata.name} is recreating ${isFailed(pod) ? 'failed' : 'terminated'} Pod ${pod.metadata.name}`,
        );
        await this.#deletePod(set, pod);
        pod = newVersionedPod(set, currentSet, updateSet, current, update, start + i);
        live[i] = pod;
      }
      if (!isCreated(pod)) {
        const created = await this.#createPod(set, pod);
        if (!created) return true;
        live[i] = created;
        return monotonic;
      }
      if (isPending(pod)) await this.#ensureClaims(set, pod);
      if (isTerminating(pod) && monotonic) return true;
      if (!isRunningAndReady(pod) && monotonic) return true;
      if (!isRunningAndAvailable(pod, minReady, now) && monotonic) return true;
      await this.#fixClaimOwners(updateSet, pod, false);
      if (identityMatches(set, pod) && storageMatches(set, pod)) return false;
      await this.#updatePod(updateSet, pod);
      return false;
    };

    const processCondemned = async (i: number): Promise<boolean> => {
      const pod = condemned[i] as Pod;
      if (isTerminating(pod)) return monotonic;
      if (
        monotonic &&
        pod !== firstUnhealthy &&
        (!isRunningAndReady(pod) || !isRunningAndAvailable(pod, minReady, now))
      ) {
        return true;
      }
      await this.#fixClaimOwners(updateSet, pod, true);
      await this.#deletePod(set, pod);
      return monotonic;
    };

    if (await runForAll(live.length, processReplica, monotonic)) return status();
    if (await runForAll(condemned.length, processCondemned, monotonic)) return status();

    const st = status();
    if (set.spec.updateStrategy?.type === 'OnDelete') return st;
    const partition = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    const updateMin = Math.max(0, partition);
    for (let target = live.length - 1; target >= updateMin; target--) {
      const pod = live[target] as Pod;
      if (revisionOf(pod) !== update && !isTerminating(pod)) {
        await this.#deletePod(set, pod);
        st.currentReplicas = (st.currentReplicas ?? 0) - 1;
        return st;
      }
      if (!isHealthy(pod)) return st;
    }
    return st;
  }
}

/**
 * runForAll: in order, stopping at the first `fn` that says stop (monotonic); otherwise all at
 * once, where only an error stops the pass (it is thrown after the others finished).
 */
async function runForAll(
  n: number,
  fn: (i: number) => Promise<boolean>,
  monotonic: boolean,
): Promise<boolean> {
  if (monotonic) {
    for (let i = 0; i < n; i++) if (await fn(i)) return true;
    return false;
  }
  const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => fn(i)));
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) throw failed.reason;
  return false;
}
