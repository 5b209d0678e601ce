/** ServiceAccounts (only JSON types are checked, as Kubernetes checks only their metadata) and PodTemplates. */
import type { FieldError } from '../../../api/errors.ts';
import { FieldPath } from '../../../api/errors.ts';
import type { KubeObject } from '../../object.ts';
import type { Strategy } from '../../resource.ts';
import { ensureObj } from './json.ts';
import { defaultPodSpec, validatePodTemplateSpec } from './podspec.ts';
import { shapeErrors } from './shape.ts';
import { serviceAccountShape } from './shapes.ts';

export function serviceAccountStrategy(): Partial<Strategy> {
  return { validate: (sa) => shapeErrors(sa, serviceAccountShape, new FieldPath('')) };
}

/** A PodTemplate's template is a struct in Kubernetes: absent, it is validated (and defaulted) as empty. */
export function defaultPodTemplate(pt: KubeObject): void {
  const template = ensureObj(pt, 'template');
  const spec = template && ensureObj(template, 'spec');
  if (spec) defaultPodSpec(spec);
}

export function validatePodTemplate(pt: KubeObject): FieldError[] {
  return validatePodTemplateSpec(pt.template ?? {}, new FieldPath('template'));
}

export function podTemplateStrategy(): Partial<Strategy> {
  return { defaults: defaultPodTemplate, validate: (pt) => validatePodTemplate(pt) };
}
