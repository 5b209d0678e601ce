/**
 * Metadata validation per kind: the name rule Kubernetes applies to each resource (most take a
 * DNS-1123 subdomain; namespaces a DNS-1123 label; services a DNS-1035 label; RBAC objects a path
 * segment), then apimachinery's ValidateObjectMeta.
 */
import { FieldError } from '../../api/errors.ts';
import {
  type NameValidator,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  validateObjectMeta,
} from '../../api/validation.ts';
import type { KubeObject } from '../object.ts';
import type { ResourceDef } from '../resource.ts';

/** ValidatePathSegmentName: anything but '.', '..' and names containing '/' or '%'. */
const pathSegmentName: NameValidator = (name, prefix) => {
  if (!prefix && (name === '.' || name === '..')) return [`may not be '${name}'`];
  for (const bad of ['/', '%']) if (name.includes(bad)) return [`may not contain '${bad}'`];
  return [];
};

function nameRule(def: ResourceDef): NameValidator {
  if (def.group === '' && def.resource === 'namespaces') return nameIsDNSLabel;
  if (def.group === '' && def.resource === 'services') return nameIsDNS1035Label;
  if (def.group === 'rbac.authorization.k8s.io') return pathSegmentName;
  return nameIsDNSSubdomain;
}

export function validateMeta(obj: KubeObject, def: ResourceDef): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, { namespaced: def.namespaced, nameFn: nameRule(def) });
  if (def.group === 'apiextensions.k8s.io' && def.resource === 'customresourcedefinitions') {
    const spec = obj.spec as { names?: { plural?: unknown }; group?: unknown } | undefined;
    const want = `${String(spec?.names?.plural ?? '')}.${String(spec?.group ?? '')}`;
    if (obj.metadata.name && obj.metadata.name !== want) {
      errs.push(
        FieldError.invalid('metadata.name', obj.metadata.name, `must be spec.names.plural+"."+spec.group`),
      );
    }
  }
  return errs;
}
