/** The error a container's configuration fails with before it is created. */

/**
 * A container cannot be configured (a missing configMap, secret or key; a bad field reference; a bad
 * subPath): the pod worker shows `reason` as the waiting state's reason and `message` as its message,
 * and retries on the next sync, as the kubelet does.
 */
export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError';
  readonly reason = 'CreateContainerConfigError';
}
