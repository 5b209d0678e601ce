/**
 * The kubelet's HTTPS server for the API server (logs, exec, attach, port-forward) and the
 * container log rotation that goes with the logs it serves.
 */

export { KubeletHttpError } from './errors.ts';
export {
  ContainerLogManager,
  type ContainerLogManagerOptions,
  type LoggedContainer,
  type LoggedContainerSource,
} from './logs/rotation.ts';
export { KubeletServer, type KubeletServerOptions } from './server.ts';
