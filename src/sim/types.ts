/** The parts of Nodes, Pods and Leases simulated nodes write and read (core/v1, coordination/v1). */
import type { KubeObject } from '../client/types.ts';

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface ResourceRequirements {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

export interface Container {
  name: string;
  image?: string;
  resources?: ResourceRequirements;
  restartPolicy?: string;
}

export interface SimPod extends KubeObject {
  spec?: {
    nodeName?: string;
    containers?: Container[];
    initContainers?: Container[];
    restartPolicy?: string;
    hostNetwork?: boolean;
    resources?: ResourceRequirements;
    [field: string]: unknown;
  };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; [field: string]: unknown }[];
    startTime?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    qosClass?: string;
    [field: string]: unknown;
  };
}

export interface SimNodeObject extends KubeObject {
  spec?: { podCIDR?: string; podCIDRs?: string[]; taints?: Taint[]; [field: string]: unknown };
  status?: {
    conditions?: { type: string; status: string; [field: string]: unknown }[];
    [field: string]: unknown;
  };
}

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    renewTime?: string;
    [field: string]: unknown;
  };
}
