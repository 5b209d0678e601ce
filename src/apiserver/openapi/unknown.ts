/**
 * Fields an object has that its kind's schema does not declare — what fieldValidation=Strict refuses
 * and Warn reports ("unknown field \"spec.foo\""), as the API server's strict decoding finds them.
 */
import { openApiData, type Schema } from './data.ts';

const REF_PREFIX = '#/components/schemas/';

let byGvk: Map<string, string> | undefined;

/** The definition name of a built-in kind, or undefined. */
function definitionOf(group: string, version: string, kind: string): string | undefined {
  if (!byGvk) {
    byGvk = new Map();
    for (const [name, s] of Object.entries(openApiData().schemas)) {
      const gvks = s['x-kubernetes-group-version-kind'];
      if (!Array.isArray(gvks) || gvks.length !== 1) continue;
      const g = gvks[0] as { group: string; version: string; kind: string };
      byGvk.set(`${g.group}/${g.version}/${g.kind}`, name);
    }
  }
  return byGvk.get(`${group}/${version}/${kind}`);
}

/** What each schema node resolves to: the bundled schemas never change, so it is worked out once. */
const resolved = new WeakMap<Schema, Schema | undefined>();

/** The schema `schema` stands for, with `$ref`s and one-element `allOf`s followed (memoised). */
function resolve(schema: Schema | undefined): Schema | undefined {
  if (!schema) return schema;
  const hit = resolved.get(schema);
  if (hit !== undefined || resolved.has(schema)) return hit;
  const r = follow(schema, 0);
  resolved.set(schema, r);
  return r;
}

function follow(schema: Schema | undefined, depth: number): Schema | undefined {
  if (!schema || depth > 8) return schema;
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.startsWith(REF_PREFIX) ? schema.$ref.slice(REF_PREFIX.length) : schema.$ref;
    return follow(openApiData().schemas[name], depth + 1);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && !schema.properties)
    return follow(schema.allOf[0], depth + 1);
  return schema;
}

function walk(value: unknown, schema: Schema | undefined, path: string, out: string[], depth: number): void {
  const s = resolve(schema);
  if (
    !s ||
    depth > 64 ||
    s['x-kubernetes-preserve-unknown-fields'] === true ||
    s['x-kubernetes-int-or-string'] === true
  )
    return;
  if (Array.isArray(value)) {
    if (s.items) for (const [i, v] of value.entries()) walk(v, s.items, `${path}[${i}]`, out, depth + 1);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const obj = value as Record<string, unknown>;
  if (s.properties) {
    for (const [k, v] of Object.entries(obj)) {
      const child = s.properties[k];
      const p = path ? `${path}.${k}` : k;
      if (child) walk(v, child, p, out, depth + 1);
      else if (s.additionalProperties === undefined || s.additionalProperties === false) out.push(p);
      else if (typeof s.additionalProperties === 'object') walk(v, s.additionalProperties, p, out, depth + 1);
    }
    return;
  }
  if (typeof s.additionalProperties === 'object') {
    for (const [k, v] of Object.entries(obj))
      walk(v, s.additionalProperties, path ? `${path}.${k}` : k, out, depth + 1);
  }
}

/**
 * Paths of the fields of `obj` that the built-in kind's schema does not declare (dotted, with list
 * indexes: `spec.containers[0].imagePullPolcy`), or null when the kind has no bundled schema.
 */
export function unknownBuiltinFields(
  group: string,
  version: string,
  kind: string,
  obj: unknown,
): string[] | null {
  const name = definitionOf(group, version, kind);
  if (!name) return null;
  const out: string[] = [];
  walk(obj, { $ref: `${REF_PREFIX}${name}` }, '', out, 0);
  return out;
}
