/** apps/v1 ReplicaSet, as far as the ReplicaSet and Deployment controllers read and write it. */
import type { LabelSelector } from '../../api/labels.ts';
import type { KubeObject } from '../../client/types.ts';
import type { Condition, PodTemplateSpec } from '../util/pods.ts';

export interface ReplicaSetSpec {
  /** Defaulted to 1 by the API server. */
  replicas?: number;
  minReadySeconds?: number;
  selector?: LabelSelector | null;
  template?: PodTemplateSpec;
}

export interface ReplicaSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface ReplicaSet extends KubeObject {
  spec?: ReplicaSetSpec;
  status?: ReplicaSetStatus;
}

/** `*rs.Spec.Replicas`, with the API server's default. */
export function specReplicas(rs: ReplicaSet): number {
  return rs.spec?.replicas ?? 1;
}

export const REPLICA_SET_API_VERSION = 'apps/v1';
export const REPLICA_SET_KIND = 'ReplicaSet';
