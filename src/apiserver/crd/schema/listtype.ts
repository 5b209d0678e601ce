/**
 * x-kubernetes-list-type invariants on custom resources (apiextensions-apiserver
 * pkg/apiserver/schema/listtype): items of a `set` list are unique, and so are the keys
 * (x-kubernetes-list-map-keys) of a `map` list's items. Each repeat is reported once, at its first
 * repetition, as "Duplicate value".
 */
import { FieldError, FieldPath } from '../../../api/errors.ts';
import { additionalSchema, type SchemaNode } from './node.ts';
import { isObject } from './util.ts';

/** A stable identity for a JSON value: scalars by type and value, compounds by their JSON. */
function identity(v: unknown): string {
  if (v === undefined) return 'u';
  return `${typeof v}:${JSON.stringify(v)}`;
}

/** Indices of the first repetition of each repeated value. */
function nonUnique(values: readonly unknown[]): number[] {
  const seen = new Map<string, number>();
  const out: number[] = [];
  values.forEach((x, i) => {
    const id = identity(x);
    const times = seen.get(id) ?? 0;
    seen.set(id, times + 1);
    if (times === 1) out.push(i);
  });
  return out;
}

function validateObject(path: FieldPath, s: SchemaNode, obj: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  const ap = additionalSchema(s);
  for (const [k, v] of Object.entries(obj)) {
    const prop = s.properties.get(k);
    if (prop) errs.push(...validateAny(path.child(k), prop, v));
    else if (ap) errs.push(...validateAny(path.key(k), ap, v));
  }
  return errs;
}

function validateAny(path: FieldPath, s: SchemaNode, v: unknown): FieldError[] {
  if (Array.isArray(v)) return validateArray(path, s, v);
  if (isObject(v)) return validateObject(path, s, v);
  return [];
}

function validateArray(path: FieldPath, s: SchemaNode, arr: unknown[]): FieldError[] {
  const errs: FieldError[] = [];
  if (s.listType === 'set') {
    for (const i of nonUnique(arr))
      errs.push(FieldError.duplicate(path.index(i).toString(), arr[i] ?? 'null'));
  } else if (s.listType === 'map') {
    errs.push(...validateListMap(path, s, arr));
  }
  if (s.items)
    arr.forEach((x, i) => {
      errs.push(...validateAny(path.index(i), s.items as SchemaNode, x));
    });
  return errs;
}

function validateListMap(path: FieldPath, s: SchemaNode, arr: unknown[]): FieldError[] {
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    if (x !== null && !isObject(x)) {
      return [
        FieldError.invalid(path.index(i).toString(), x, 'must be an object for an array of list-type map'),
      ];
    }
  }
  if (arr.length <= 1) return [];
  const keys = arr.map((x) => {
    const key: Record<string, unknown> = {};
    if (isObject(x)) for (const k of s.listMapKeys) if (Object.hasOwn(x, k)) key[k] = x[k];
    return key;
  });
  return nonUnique(keys).map((i) => FieldError.duplicate(path.index(i).toString(), keys[i]));
}

/** ValidateListSetsAndMaps over a whole object, with field paths under `prefix`. */
export function validateListSetsAndMaps(root: SchemaNode, obj: unknown, prefix = ''): FieldError[] {
  return isObject(obj) ? validateObject(new FieldPath(prefix), root, obj) : [];
}
