/**
 * Structural defaulting (apiextensions-apiserver pkg/apiserver/schema/defaulting/algorithm.go): a
 * property's `default` fills it in when absent, or null while not nullable, but only inside an
 * object that exists; defaults apply recursively, also inside the values just defaulted, list items
 * and additionalProperties values. The API server runs this when it decodes a request and when it
 * reads from storage. Defaults are deep-copied.
 */
import { additionalSchema, type SchemaNode } from './node.ts';
import { deepCopy, isObject, setOwn } from './util.ts';

function isNonNullableNull(x: unknown, s: SchemaNode | undefined): boolean {
  return x === null && s !== undefined && !s.nullable;
}

/** Applies the defaults of `s` to `x` in place. */
export function applyDefaults(x: unknown, s: SchemaNode | undefined): void {
  if (!s) return;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      if (s.items && isNonNullableNull(x[i], s.items)) x[i] = deepCopy(s.items.default ?? null);
      applyDefaults(x[i], s.items);
    }
    return;
  }
  if (!isObject(x)) return;
  for (const [k, prop] of s.properties) {
    if (prop.default === undefined) continue;
    if (!Object.hasOwn(x, k) || isNonNullableNull(x[k], prop)) setOwn(x, k, deepCopy(prop.default));
  }
  const ap = additionalSchema(s);
  for (const k of Object.keys(x)) {
    const prop = s.properties.get(k);
    if (prop) applyDefaults(x[k], prop);
    else if (ap) {
      if (isNonNullableNull(x[k], ap)) x[k] = deepCopy(ap.default ?? null);
      applyDefaults(x[k], ap);
    }
  }
}
