/**
 * The CRI: the kubelet's view of the container runtime (types.ts), a gRPC client for containerd
 * (client.ts) and an in-memory fake for tests (fake.ts).
 */
export { type CriClientOptions, createCriRuntime, socketTarget } from './client.ts';
export * from './errors.ts';
export * from './fake.ts';
export { normalizeImageRef } from './ref.ts';
export type * from './types.ts';
