/**
 * A ReplicaSet's status from its active pods (replica_set_utils.go calculateStatus and
 * updateReplicaSetStatus): replicas, fullyLabeledReplicas (pods carrying every template label),
 * readyReplicas, availableReplicas (ready for minReadySeconds), observedGeneration, and the
 * ReplicaFailure condition while creating or deleting pods fails.
 */
import { selectorFromSet } from '../../api/labels.ts';
import { jsonEqual } from '../util/json.ts';
import { type Condition, isPodAvailable, isPodReady, type Pod, rfc3339 } from '../util/pods.ts';
import { type ReplicaSet, type ReplicaSetStatus, specReplicas } from './types.ts';

export const REPLICA_FAILURE = 'ReplicaFailure';

/** calculateStatus (observedGeneration is set when the status is written). */
export function calculateStatus(
  rs: ReplicaSet,
  activePods: readonly Pod[],
  manageReplicasError: Error | undefined,
  now: number,
): ReplicaSetStatus {
  const status: ReplicaSetStatus = structuredClone(rs.status ?? {});
  const templateLabels = selectorFromSet(rs.spec?.template?.metadata?.labels ?? {});
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of activePods) {
    if (templateLabels.matches(pod.metadata.labels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReadySeconds, now)) available++;
    }
  }
  const failure = status.conditions?.find((c) => c.type === REPLICA_FAILURE);
  if (manageReplicasError && !failure) {
    const diff = activePods.length - specReplicas(rs);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    const cond: Condition = {
      type: REPLICA_FAILURE,
      status: 'True',
      lastTransitionTime: rfc3339(now),
      reason,
      message: manageReplicasError.message,
    };
    status.conditions = [...(status.conditions ?? []), cond];
  } else if (!manageReplicasError && failure) {
    status.conditions = status.conditions?.filter((c) => c.type !== REPLICA_FAILURE);
    if (!status.conditions?.length) delete status.conditions;
  }
  status.replicas = activePods.length;
  status.fullyLabeledReplicas = fullyLabeled;
  status.readyReplicas = ready;
  status.availableReplicas = available;
  return status;
}

/** Whether writing `next` would change nothing (updateReplicaSetStatus's steady-state check). */
export function statusUnchanged(rs: ReplicaSet, next: ReplicaSetStatus): boolean {
  const cur = rs.status ?? {};
  return (
    (cur.replicas ?? 0) === next.replicas &&
    (cur.fullyLabeledReplicas ?? 0) === next.fullyLabeledReplicas &&
    (cur.readyReplicas ?? 0) === next.readyReplicas &&
    (cur.availableReplicas ?? 0) === next.availableReplicas &&
    (rs.metadata.generation ?? 0) === (cur.observedGeneration ?? 0) &&
    jsonEqual(cur.conditions ?? [], next.conditions ?? [])
  );
}
