/**
 * Test helpers for the pod workers: builders for runtime states and pods. Used only by tests.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { containerHash } from './hash.ts';
import type { ContainerInfo, PodRuntime, SandboxInfo } from './runtime-state.ts';

const T0 = Date.UTC(2026, 0, 1);

export function testPod(
  spec: Partial<NonNullable<Pod['spec']>> = {},
  meta: Partial<NonNullable<Pod['metadata']>> = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', ...meta },
    spec: { containers: [{ name: 'app', image: 'busybox' }], restartPolicy: 'Always', ...spec },
  };
}

export function sandbox(o: Partial<SandboxInfo> = {}): SandboxInfo {
  return {
    id: 'sb1',
    state: 'SANDBOX_READY',
    attempt: 0,
    createdAt: T0,
    ip: '10.244.0.5',
    additionalIps: [],
    hostNetwork: false,
    ...o,
  };
}

let seq = 0;

/** A container instance; `spec` sets name and hash. */
export function instance(spec: Container, o: Partial<ContainerInfo> = {}): ContainerInfo {
  seq++;
  return {
    id: `c${seq}`,
    uid: 'uid-1',
    name: spec.name,
    sandboxId: 'sb1',
    state: 'CONTAINER_RUNNING',
    createdAt: T0 + seq,
    startedAt: T0 + seq,
    finishedAt: 0,
    exitCode: 0,
    reason: '',
    message: '',
    image: spec.image ?? '',
    imageRef: 'sha256:abc',
    restartCount: 0,
    hash: containerHash(spec),
    isInit: false,
    logPath: '',
    annotations: {},
    ...o,
  };
}

export function exited(spec: Container, exitCode: number, o: Partial<ContainerInfo> = {}): ContainerInfo {
  return instance(spec, {
    state: 'CONTAINER_EXITED',
    exitCode,
    reason: exitCode === 0 ? 'Completed' : 'Error',
    finishedAt: T0 + 1000 + seq,
    ...o,
  });
}

/** A runtime state; containers are given oldest first and stored newest first. */
export function runtime(sandboxes: SandboxInfo[], containers: ContainerInfo[]): PodRuntime {
  return {
    uid: 'uid-1',
    name: 'web',
    namespace: 'default',
    sandboxes,
    containers: [...containers].reverse(),
  };
}
