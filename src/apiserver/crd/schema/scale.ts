/**
 * The scale subresource's checks on a custom resource (customResourceValidator.ValidateScaleSpec and
 * ValidateScaleStatus): the replicas at specReplicasPath and statusReplicasPath, when present, are
 * integers in [0, 2147483647], and the labelSelectorPath value is a string. Errors sit at the JSON
 * path itself, e.g. `.spec.replicas: Invalid value: -1: should be a non-negative integer`.
 */
import { FieldError } from '../../../api/errors.ts';
import { goV } from '../../patch/go-fmt.ts';
import type { Json } from '../../patch/json.ts';
import type { CustomResourceSubresourceScale } from './types.ts';
import { isObject } from './util.ts';

const MAX_INT32 = 2147483647;

/** Go's %T of a decoded JSON value. */
function goType(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return Array.isArray(v) ? '[]interface {}' : 'map[string]interface {}';
}

/** unstructured.NestedFieldNoCopy then a type check: the value, or Kubernetes' accessor error. */
function nested(
  obj: unknown,
  jsonPath: string,
  want: 'int64' | 'string',
): { value?: unknown; error?: string } {
  const fields = jsonPath.replace(/^\./, '').split('.');
  let cur: unknown = obj;
  for (let i = 0; i < fields.length; i++) {
    if (cur === null || cur === undefined) return {};
    if (!isObject(cur)) {
      const at = `.${fields.slice(0, i + 1).join('.')}`;
      return {
        error: `${at} accessor error: ${goV(cur as Json)} is of the type ${goType(cur)}, expected map[string]interface{}`,
      };
    }
    const f = fields[i] as string;
    if (!Object.hasOwn(cur, f)) return {};
    cur = cur[f];
  }
  const ok = want === 'int64' ? typeof cur === 'number' && Number.isInteger(cur) : typeof cur === 'string';
  if (!ok)
    return {
      error: `.${fields.join('.')} accessor error: ${goV(cur as Json)} is of the type ${goType(cur)}, expected ${want}`,
    };
  return { value: cur };
}

function replicas(obj: unknown, jsonPath: string | undefined): FieldError[] {
  if (!jsonPath) return [];
  const { value, error } = nested(obj, jsonPath, 'int64');
  if (error !== undefined) return [FieldError.invalid(jsonPath, 0, error)];
  if (typeof value !== 'number') return [];
  if (value < 0) return [FieldError.invalid(jsonPath, value, 'should be a non-negative integer')];
  if (value > MAX_INT32)
    return [FieldError.invalid(jsonPath, value, `should be less than or equal to ${MAX_INT32}`)];
  return [];
}

/** Validates a custom resource against its version's scale subresource (nothing when there is none). */
export function validateScale(obj: unknown, scale: CustomResourceSubresourceScale | undefined): FieldError[] {
  if (!isObject(scale)) return [];
  const errs = [...replicas(obj, scale.specReplicasPath), ...replicas(obj, scale.statusReplicasPath)];
  if (scale.labelSelectorPath) {
    const { error } = nested(obj, scale.labelSelectorPath, 'string');
    if (error !== undefined) errs.push(FieldError.invalid(scale.labelSelectorPath, '', error));
  }
  return errs;
}
