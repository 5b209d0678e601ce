/** Pod cgroups (the kubelet's container manager, cgroupfs driver) and the QoS class. */
export { CgroupError, type CgroupLayout, detectCgroups } from './cgroupfs.ts';
export { CgroupfsPodCgroups, type CgroupfsPodCgroupsOptions, type PodCgroupUsage } from './pod-cgroups.ts';
export { computePodQOS, type QosClass, qosClass } from './qos.ts';
export { type PodResourceConfig, podLimits, podRequests, resourceConfigForPod } from './resources.ts';
