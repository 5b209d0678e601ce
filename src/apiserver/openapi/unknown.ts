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

/**
 * What the walk needs of a schema node, worked out once per node object (the bundled schemas never
 * change): the node with `$ref`s and one-element `allOf`s followed, reduced to the parts read.
 */
interface Node {
  /** Nothing below is checked: no schema, x-kubernetes-preserve-unknown-fields or int-or-string. */
  readonly open: boolean;
  /** The schema of array items. */
  readonly items: Schema | undefined;
  /** The declared fields; fields are looked up in it as a plain object, as JSON schemas are read. */
  readonly properties: Record<string, Schema> | undefined;
  /** For other fields: a schema to walk them with, 'unknown' (reported) or undefined (allowed). */
  readonly other: Schema | 'unknown' | undefined;
}

const nodes = new WeakMap<object, Node>();

function nodeOf(schema: Schema | undefined): Node {
  if (schema === undefined) return OPEN;
  let n = nodes.get(schema);
  if (n) return n;
  const s = resolve(schema);
  if (!s || s['x-kubernetes-preserve-unknown-fields'] === true || s['x-kubernetes-int-or-string'] === true) {
    n = OPEN;
  } else {
    const ap = s.additionalProperties;
    const properties = s.properties ? (s.properties as Record<string, Schema>) : undefined;
    let other: Node['other'];
    if (typeof ap === 'object' && ap !== null) other = ap as Schema;
    else if (properties && (ap === undefined || ap === false)) other = 'unknown';
    n = { open: false, items: s.items ? (s.items as Schema) : undefined, properties, other };
  }
  nodes.set(schema, n);
  return n;
}

const OPEN: Node = { open: true, items: undefined, properties: undefined, other: undefined };

/**
 * The path of a field: `segs` (names and list indexes) then `last`, written `a.b[0].c`. Only built
 * for a field that is reported.
 */
function pathOf(segs: readonly (string | number)[], last: string): string {
  let p = '';
  for (const seg of segs) p = typeof seg === 'number' ? `${p}[${seg}]` : p ? `${p}.${seg}` : seg;
  return p ? `${p}.${last}` : last;
}

/**
 * Appends to `out` the paths of the fields of `value` that `schema` does not declare. `segs` is the
 * path of `value` (pushed and popped on the way down); the walk stops 64 levels down.
 */
function walk(
  value: unknown,
  schema: Schema | undefined,
  segs: (string | number)[],
  out: string[],
  depth: number,
): void {
  const n = nodeOf(schema);
  if (n.open || depth > 64) return;
  if (Array.isArray(value)) {
    const items = n.items;
    if (!items) return;
    for (let i = 0; i < value.length; i++) {
      segs.push(i);
      walk(value[i], items, segs, out, depth + 1);
      segs.pop();
    }
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const obj = value as Record<string, unknown>;
  const { properties, other } = n;
  if (!properties && typeof other !== 'object') return;
  for (const k of Object.keys(obj)) {
    const child = properties?.[k] || other;
    if (child === 'unknown') out.push(pathOf(segs, k));
    else if (child) {
      segs.push(k);
      walk(obj[k], child, segs, out, depth + 1);
      segs.pop();
    }
  }
}

/** The `$ref` schema of each definition walked from. */
const roots = new Map<string, Schema>();

/**
 * Paths of the fields of `obj` that the built-in kind's schema does not declare (dotted, with list
 * indexes: `spec.containers[0].imagePullPolcy`), in the order of the object's fields, depth first;
 * null when the kind has no bundled schema.
 */
export function unknownBuiltinFields(
  group: string,
  version: string,
  kind: string,
  obj: unknown,
): string[] | null {
  const name = definitionOf(group, version, kind);
  if (!name) return null;
  let root = roots.get(name);
  if (!root) {
    root = { $ref: `${REF_PREFIX}${name}` };
    roots.set(name, root);
  }
  const out: string[] = [];
  walk(obj, root, [], out, 0);
  return out;
}
