/** ResourceRefs of the built-in kinds components use. */
import type { ResourceRef } from './types.ts';

function core(resource: string, kind: string, namespaced = true): ResourceRef {
  return { group: '', version: 'v1', resource, kind, namespaced };
}

function grouped(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced = true,
): ResourceRef {
  return { group, version, resource, kind, namespaced };
}

export const PODS = core('pods', 'Pod');
export const NODES = core('nodes', 'Node', false);
export const NAMESPACES = core('namespaces', 'Namespace', false);
export const SERVICES = core('services', 'Service');
export const ENDPOINTS = core('endpoints', 'Endpoints');
/** core/v1 Events (what kubectl describe shows). */
export const EVENTS = core('events', 'Event');
export const CONFIG_MAPS = core('configmaps', 'ConfigMap');
export const SECRETS = core('secrets', 'Secret');
export const SERVICE_ACCOUNTS = core('serviceaccounts', 'ServiceAccount');
export const PERSISTENT_VOLUME_CLAIMS = core('persistentvolumeclaims', 'PersistentVolumeClaim');
export const PERSISTENT_VOLUMES = core('persistentvolumes', 'PersistentVolume', false);

export const ENDPOINT_SLICES = grouped('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice');
/** events.k8s.io/v1 Events. */
export const EVENTS_V1 = grouped('events.k8s.io', 'v1', 'events', 'Event');
export const LEASES = grouped('coordination.k8s.io', 'v1', 'leases', 'Lease');
export const DEPLOYMENTS = grouped('apps', 'v1', 'deployments', 'Deployment');
export const REPLICA_SETS = grouped('apps', 'v1', 'replicasets', 'ReplicaSet');
export const STATEFUL_SETS = grouped('apps', 'v1', 'statefulsets', 'StatefulSet');
export const DAEMON_SETS = grouped('apps', 'v1', 'daemonsets', 'DaemonSet');
export const CONTROLLER_REVISIONS = grouped('apps', 'v1', 'controllerrevisions', 'ControllerRevision');
export const JOBS = grouped('batch', 'v1', 'jobs', 'Job');
export const CRON_JOBS = grouped('batch', 'v1', 'cronjobs', 'CronJob');
export const POD_DISRUPTION_BUDGETS = grouped('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget');
export const PRIORITY_CLASSES = grouped('scheduling.k8s.io', 'v1', 'priorityclasses', 'PriorityClass', false);

/** All of the above. */
export const BUILTIN_RESOURCES: readonly ResourceRef[] = [
  PODS,
  NODES,
  NAMESPACES,
  SERVICES,
  ENDPOINTS,
  EVENTS,
  CONFIG_MAPS,
  SECRETS,
  SERVICE_ACCOUNTS,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  ENDPOINT_SLICES,
  EVENTS_V1,
  LEASES,
  DEPLOYMENTS,
  REPLICA_SETS,
  STATEFUL_SETS,
  DAEMON_SETS,
  CONTROLLER_REVISIONS,
  JOBS,
  CRON_JOBS,
  POD_DISRUPTION_BUDGETS,
  PRIORITY_CLASSES,
];

/** `apiVersion` of a ref: `v1` or `group/version`. */
export function apiVersionOf(ref: ResourceRef): string {
  return ref.group ? `${ref.group}/${ref.version}` : ref.version;
}
