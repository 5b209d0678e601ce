/**
 * The table printers of the built-in resources, keyed `${group}/${resource}` (the core group is "",
 * so keys look like "/pods" or "apps/deployments"), and {@link crdPrinter} for custom resources.
 * Columns and cells follow Kubernetes' pkg/printers/internalversion; every row includes the wide
 * (priority 1) cells, as the API server always prints wide and kubectl hides them without -o wide.
 * Kinds Kubernetes prints with its default table (Roles, ClusterRoles, LimitRanges,
 * CustomResourceDefinitions) map to the default printer: NAME, CREATED AT.
 */
import { defaultPrinter, type Printer } from '../table.ts';
import {
  controllerRevisionPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  replicaSetPrinter,
  statefulSetPrinter,
} from './apps.ts';
import { cronJobPrinter, jobPrinter } from './batch.ts';
import {
  configMapPrinter,
  endpointsPrinter,
  eventPrinter,
  namespacePrinter,
  nodePrinter,
  persistentVolumeClaimPrinter,
  persistentVolumePrinter,
  podTemplatePrinter,
  replicationControllerPrinter,
  resourceQuotaPrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './core.ts';
import {
  certificateSigningRequestPrinter,
  csiDriverPrinter,
  csiNodePrinter,
  horizontalPodAutoscalerPrinter,
  ingressClassPrinter,
  ingressPrinter,
  networkPolicyPrinter,
  runtimeClassPrinter,
  volumeAttachmentPrinter,
  webhookConfigurationPrinter,
} from './extra.ts';
import {
  clusterRoleBindingPrinter,
  endpointSlicePrinter,
  leasePrinter,
  podDisruptionBudgetPrinter,
  priorityClassPrinter,
  roleBindingPrinter,
  storageClassPrinter,
} from './other.ts';
import { podPrinter } from './pod.ts';

export { type CustomResourceColumnDefinition, crdPrinter } from './crd.ts';

/** A fresh map of the built-in printers (the printers themselves are shared and immutable). */
export function builtinPrinters(): Map<string, Printer> {
  return new Map<string, Printer>([
    // core
    ['/pods', podPrinter],
    ['/podtemplates', podTemplatePrinter],
    ['/replicationcontrollers', replicationControllerPrinter],
    ['/services', servicePrinter],
    ['/nodes', nodePrinter],
    ['/namespaces', namespacePrinter],
    ['/events', eventPrinter],
    ['/configmaps', configMapPrinter],
    ['/secrets', secretPrinter],
    ['/serviceaccounts', serviceAccountPrinter],
    ['/persistentvolumes', persistentVolumePrinter],
    ['/persistentvolumeclaims', persistentVolumeClaimPrinter],
    ['/endpoints', endpointsPrinter],
    ['/resourcequotas', resourceQuotaPrinter],
    ['/limitranges', defaultPrinter],
    // apps
    ['apps/deployments', deploymentPrinter],
    ['apps/replicasets', replicaSetPrinter],
    ['apps/statefulsets', statefulSetPrinter],
    ['apps/daemonsets', daemonSetPrinter],
    ['apps/controllerrevisions', controllerRevisionPrinter],
    // batch
    ['batch/jobs', jobPrinter],
    ['batch/cronjobs', cronJobPrinter],
    // others
    ['events.k8s.io/events', eventPrinter],
    ['discovery.k8s.io/endpointslices', endpointSlicePrinter],
    ['coordination.k8s.io/leases', leasePrinter],
    ['scheduling.k8s.io/priorityclasses', priorityClassPrinter],
    ['policy/poddisruptionbudgets', podDisruptionBudgetPrinter],
    ['storage.k8s.io/storageclasses', storageClassPrinter],
    ['storage.k8s.io/csidrivers', csiDriverPrinter],
    ['storage.k8s.io/csinodes', csiNodePrinter],
    ['storage.k8s.io/volumeattachments', volumeAttachmentPrinter],
    ['rbac.authorization.k8s.io/rolebindings', roleBindingPrinter],
    ['rbac.authorization.k8s.io/clusterrolebindings', clusterRoleBindingPrinter],
    ['rbac.authorization.k8s.io/roles', defaultPrinter],
    ['rbac.authorization.k8s.io/clusterroles', defaultPrinter],
    ['apiextensions.k8s.io/customresourcedefinitions', defaultPrinter],
    ['networking.k8s.io/ingresses', ingressPrinter],
    ['networking.k8s.io/ingressclasses', ingressClassPrinter],
    ['networking.k8s.io/networkpolicies', networkPolicyPrinter],
    ['autoscaling/horizontalpodautoscalers', horizontalPodAutoscalerPrinter],
    ['node.k8s.io/runtimeclasses', runtimeClassPrinter],
    ['admissionregistration.k8s.io/mutatingwebhookconfigurations', webhookConfigurationPrinter],
    ['admissionregistration.k8s.io/validatingwebhookconfigurations', webhookConfigurationPrinter],
    ['certificates.k8s.io/certificatesigningrequests', certificateSigningRequestPrinter],
  ]);
}
