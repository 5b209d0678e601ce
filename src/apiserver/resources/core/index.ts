/**
 * Defaulting and validation of the core/v1 kinds, the way Kubernetes does them
 * (pkg/apis/core/v1/defaults.go, pkg/apis/core/validation, and the per-kind registry strategies).
 *
 * {@link coreStrategies} gives the strategy hooks (defaults, prepareForUpdate, validate,
 * validateUpdate) per resource; builtin.ts merges them over its own (status subresource,
 * prepareForCreate, field selectors, ...). Metadata is validated by the registry, not here.
 *
 * Every hook is total on arbitrary JSON: a field of the wrong JSON type is reported as a
 * FieldValueTypeInvalid error (as decoding would fail in Kubernetes) and nothing throws.
 *
 * Subresources, as the registry passes them in WriteContext.subresource: "status" validates
 * status only (ValidateXStatusUpdate); pods also understand "binding" (spec.nodeName may be set
 * once) and "ephemeralcontainers" (only spec.ephemeralContainers changes); namespaces understand
 * "finalize" (only then may spec.finalizers change).
 */
import type { Strategy } from '../../resource.ts';
import { configMapStrategy, secretStrategy } from './config.ts';
import { endpointsStrategy } from './endpoints.ts';
import { eventStrategy } from './event.ts';
import { podTemplateStrategy, serviceAccountStrategy } from './misc.ts';
import { namespaceStrategy } from './namespace.ts';
import { nodeStrategy } from './node.ts';
import { podStrategy } from './pod.ts';
import { limitRangeStrategy, resourceQuotaStrategy } from './policy.ts';
import { serviceStrategy } from './service.ts';
import type { ServiceOptions } from './service-defaults.ts';
import { pvcStrategy, pvStrategy } from './storage.ts';

export type { PodSpecOptions } from './podspec.ts';
export { defaultPodSpec, validatePodSpec, validatePodTemplateSpec } from './podspec.ts';
export type { ServiceOptions } from './service-defaults.ts';

/** Options of the core strategies. */
export interface CoreOptions extends ServiceOptions {}

/**
 * The strategy hooks of the core/v1 resources, keyed by resource: pods, services, configmaps,
 * secrets, namespaces, nodes, events, persistentvolumes, persistentvolumeclaims, serviceaccounts,
 * endpoints, limitranges, resourcequotas, podtemplates. Only defaults, prepareForUpdate, validate
 * and validateUpdate are set.
 */
export function coreStrategies(opts: CoreOptions = {}): Record<string, Partial<Strategy>> {
  return {
    pods: podStrategy(),
    services: serviceStrategy(opts),
    configmaps: configMapStrategy(),
    secrets: secretStrategy(),
    namespaces: namespaceStrategy(),
    nodes: nodeStrategy(),
    events: eventStrategy(),
    persistentvolumes: pvStrategy(),
    persistentvolumeclaims: pvcStrategy(),
    serviceaccounts: serviceAccountStrategy(),
    endpoints: endpointsStrategy(),
    limitranges: limitRangeStrategy(),
    resourcequotas: resourceQuotaStrategy(),
    podtemplates: podTemplateStrategy(),
  };
}
