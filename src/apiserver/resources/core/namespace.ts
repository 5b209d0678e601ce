/**
 * Namespaces: the kubernetes.io/metadata.name label, ValidateNamespace (spec.finalizers),
 * ValidateNamespaceStatusUpdate (phase follows deletionTimestamp) and
 * ValidateNamespaceFinalizeUpdate; a plain update keeps spec.finalizers (only /finalize changes them).
 */
import type { FieldError } from '../../../api/errors.ts';
import { FieldPath } from '../../../api/errors.ts';
import { invalidEach, isQualifiedName } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import type { Strategy } from '../../resource.ts';
import { fe, isObj, isSet, obj, str, strList } from './json.ts';
import { o, shapeErrors, strs } from './shape.ts';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const standardFinalizers = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** SetDefaults_Namespace and SetDefaults_NamespaceStatus */
export function defaultNamespace(ns: KubeObject): void {
  const name = ns.metadata.name;
  if (typeof name === 'string' && name) {
    const labels = isObj(ns.metadata.labels) ? ns.metadata.labels : {};
    labels[NAMESPACE_NAME_LABEL] = name;
    ns.metadata.labels = labels;
  }
  if (isObj(ns.status) && !str(ns.status.phase)) ns.status.phase = 'Active';
}

/** validateFinalizerName: a qualified name, and a standard one when unprefixed. */
function validateFinalizerName(value: string, path: FieldPath): FieldError[] {
  const errs = invalidEach(path, value, isQualifiedName(value));
  if (!value.includes('/') && !standardFinalizers.has(value))
    errs.push(fe.invalid(path, value, 'name is neither a standard finalizer name nor is it fully qualified'));
  return errs;
}

const shape = o({ spec: o({ finalizers: strs }), status: o({ phase: 'string', conditions: { a: o({}) } }) });

/** ValidateNamespace (errors at spec.finalizers, without an index, as Kubernetes reports them). */
export function validateNamespace(ns: KubeObject, finalize = false): FieldError[] {
  const errs = shapeErrors(ns, shape, new FieldPath(''));
  if (errs.length || finalize) return errs;
  const path = new FieldPath('spec').child('finalizers');
  for (const f of strList(obj(ns.spec).finalizers)) errs.push(...validateFinalizerName(f, path));
  return errs;
}

/** ValidateNamespaceStatusUpdate */
export function validateNamespaceStatus(ns: KubeObject): FieldError[] {
  const phase = str(obj(ns.status).phase);
  const path = new FieldPath('status').child('Phase');
  if (!ns.metadata.deletionTimestamp) {
    if (phase !== 'Active')
      return [fe.invalid(path, phase, "may only be 'Active' if `deletionTimestamp` is empty")];
  } else if (phase !== 'Terminating') {
    return [fe.invalid(path, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")];
  }
  return [];
}

export function namespaceStrategy(): Partial<Strategy> {
  return {
    defaults: defaultNamespace,
    prepareForUpdate(next, old, ctx) {
      // A plain update may not change spec.finalizers; only the finalize subresource does.
      if (ctx.subresource === '' && isObj(next.spec)) {
        const finalizers = obj(old.spec).finalizers;
        if (isSet(finalizers)) next.spec.finalizers = finalizers;
        else delete next.spec.finalizers;
      }
    },
    validate: (ns, ctx) => validateNamespace(ns, (ctx.subresource as string) === 'finalize'),
    validateUpdate(next, _old, ctx) {
      if (ctx.subresource === 'status') return validateNamespaceStatus(next);
      if ((ctx.subresource as string) === 'finalize') {
        const path = new FieldPath('spec').child('finalizers');
        return strList(obj(next.spec).finalizers).flatMap((f, i) => validateFinalizerName(f, path.index(i)));
      }
      return [];
    },
  };
}
