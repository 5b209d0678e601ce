/**
 * The container runtime skiff runs for itself: containerd's config and supervision, the CNI
 * network config, and a raw CRI probe.
 */
export * from './cni.ts';
export * from './config.ts';
export * from './containerd.ts';
export * from './probe.ts';
