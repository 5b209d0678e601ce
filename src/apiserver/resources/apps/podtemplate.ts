/**
 * What the workload strategies need from the core (pod) rules, passed in rather than imported so
 * this folder does not depend on src/apiserver/resources/core/ directly.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';

export interface PodTemplateHelpers {
  /**
   * Kubernetes' pod spec defaulting (SetDefaults_PodSpec and the container, volume and probe
   * defaults under it), in place. Called with the `spec` object of every pod template the kinds
   * here embed; must be idempotent and total on arbitrary JSON.
   */
  defaultPodSpec(spec: Record<string, unknown>): void;
  /**
   * ValidatePodTemplateSpec: the template's metadata (labels, annotations) and pod spec, with errors
   * under `path` (e.g. `spec.template`, `spec.template.spec.containers[0].image`). Total on
   * arbitrary JSON.
   */
  validatePodTemplateSpec(template: unknown, path: FieldPath): FieldError[];
}
