/**
 * The parts of Nodes, Pods and Leases the node controllers read and write (core/v1 and
 * coordination/v1 shapes), and the well-known taint keys.
 */
import type { KubeObject } from '../../client/types.ts';

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect | string;
  /** RFC 3339; set for the taints the node lifecycle controller adds. */
  timeAdded?: string | null;
}

export interface Toleration {
  key?: string;
  /** 'Equal' (default) or 'Exists'. */
  operator?: string;
  value?: string;
  /** '' or absent: every effect. */
  effect?: string;
  tolerationSeconds?: number | null;
}

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown' | string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string | null;
  lastTransitionTime?: string | null;
}

export interface Node extends KubeObject {
  spec?: {
    podCIDR?: string;
    podCIDRs?: string[];
    taints?: Taint[];
    unschedulable?: boolean;
    [field: string]: unknown;
  };
  status?: {
    conditions?: NodeCondition[];
    [field: string]: unknown;
  };
}

export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string | null;
  observedGeneration?: number;
}

export interface Pod extends KubeObject {
  spec?: {
    nodeName?: string;
    tolerations?: Toleration[];
    [field: string]: unknown;
  };
  status?: {
    phase?: string;
    conditions?: PodCondition[];
    [field: string]: unknown;
  };
}

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    renewTime?: string | null;
    acquireTime?: string | null;
  };
}

/** The namespace of node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_NODE_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_NODE_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_NODE_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';
export const TAINT_NODE_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';

export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';

/** The index of pods by spec.nodeName that the node controllers share on the pod informer. */
export const NODE_NAME_INDEX = 'spec.nodeName';
