/**
 * Defaulting and validation, as Kubernetes does them, for the built-in kinds outside the core group:
 * apps (Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision), batch (Job, CronJob),
 * policy (PodDisruptionBudget), scheduling.k8s.io (PriorityClass), coordination.k8s.io (Lease),
 * discovery.k8s.io (EndpointSlice), storage.k8s.io (StorageClass), rbac.authorization.k8s.io
 * (Role, ClusterRole, RoleBinding, ClusterRoleBinding) and events.k8s.io (Event).
 *
 * {@link extraStrategies} returns, per `${group}/${resource}`, the strategy hooks to merge over the
 * resource's base strategy (status subresource, generation, field selectors stay the base's).
 * Object metadata is validated by the registry; these hooks cover everything else.
 *
 * Contract with the registry (see common.ts kindStrategy): an update runs prepareForUpdate before
 * validate and validateUpdate, on the same object; prepareForUpdate marks it so that validate()
 * returns nothing and validateUpdate() gives Kubernetes' whole update verdict. Writes through
 * /status get the kind's status rules only.
 */
import type { Strategy } from '../../resource.ts';
import { type KindRules, kindStrategy } from './common.ts';
import { leaseRules } from './coordination.ts';
import { cronJobRules } from './cronjob.ts';
import { controllerRevisionRules, daemonSetRules } from './daemonset.ts';
import { deploymentRules, replicaSetRules } from './deployment.ts';
import { endpointSliceRules } from './discovery.ts';
import { eventRules } from './events.ts';
import { jobRules } from './job.ts';
import type { PodTemplateHelpers } from './podtemplate.ts';
import { podDisruptionBudgetRules } from './policy.ts';
import { clusterRoleBindingRules, clusterRoleRules, roleBindingRules, roleRules } from './rbac.ts';
import { priorityClassRules } from './scheduling.ts';
import { statefulSetRules } from './statefulset.ts';
import { storageClassRules } from './storage.ts';

export { cronScheduleError, loadLocationError } from './cron.ts';
export { TEMPLATE_GENERATION_ANNOTATION } from './daemonset.ts';
export {
  CONTROLLER_UID_LABEL,
  JOB_NAME_LABEL,
  jobPrepareForCreate,
  LEGACY_CONTROLLER_UID_LABEL,
  LEGACY_JOB_NAME_LABEL,
} from './job.ts';
export type { PodTemplateHelpers } from './podtemplate.ts';

/** The rules of every kind here, keyed `${group}/${resource}`. */
export function kindRules(pod: PodTemplateHelpers): Record<string, KindRules> {
  return {
    'apps/deployments': deploymentRules(pod),
    'apps/replicasets': replicaSetRules(pod),
    'apps/statefulsets': statefulSetRules(pod),
    'apps/daemonsets': daemonSetRules(pod),
    'apps/controllerrevisions': controllerRevisionRules(),
    'batch/jobs': jobRules(pod),
    'batch/cronjobs': cronJobRules(pod),
    'policy/poddisruptionbudgets': podDisruptionBudgetRules(),
    'scheduling.k8s.io/priorityclasses': priorityClassRules(),
    'coordination.k8s.io/leases': leaseRules(),
    'discovery.k8s.io/endpointslices': endpointSliceRules(),
    'storage.k8s.io/storageclasses': storageClassRules(),
    'rbac.authorization.k8s.io/roles': roleRules(),
    'rbac.authorization.k8s.io/clusterroles': clusterRoleRules(),
    'rbac.authorization.k8s.io/rolebindings': roleBindingRules(),
    'rbac.authorization.k8s.io/clusterrolebindings': clusterRoleBindingRules(),
    'events.k8s.io/events': eventRules(),
  };
}

/**
 * Strategy hooks (defaults, prepareForCreate where Kubernetes' differs from a plain status reset,
 * prepareForUpdate, validate, validateUpdate) per `${group}/${resource}`, to spread over the base
 * strategy in builtin.ts. Jobs and DaemonSets bring a prepareForCreate that also resets status.
 */
export function extraStrategies(pod: PodTemplateHelpers): Record<string, Partial<Strategy>> {
  return Object.fromEntries(Object.entries(kindRules(pod)).map(([key, rules]) => [key, kindStrategy(rules)]));
}
