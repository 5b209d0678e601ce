/**
 * Pruning of unknown fields, as the API server decodes a custom resource
 * (apiextensions-apiserver's unstructuredSchemaCoercer):
 *
 * 1. root `metadata` is reduced to ObjectMeta's fields (unknown ones reported as `metadata.foo`);
 * 2. every field the structural schema does not specify is dropped (pruning/algorithm.go), except
 *    under x-kubernetes-preserve-unknown-fields, and except apiVersion/kind/metadata at the root and
 *    in x-kubernetes-embedded-resource objects;
 * 3. nulls in non-nullable fields without a default are dropped (defaulting/prunenulls.go);
 * 4. the metadata of embedded resources is reduced to ObjectMeta's fields too (objectmeta/coerce).
 *
 * The reported paths read like `spec.foo`, `spec.items[0].bar`; the API server turns them into
 * `unknown field "spec.foo"` warnings (fieldValidation=Warn) or errors (Strict).
 */
import { FieldPath } from '../../../api/errors.ts';
import { additionalSchema, compileNode, type SchemaNode } from './node.ts';
import { isObject } from './util.ts';

const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/** What a strict decode into a Go struct knows: an object with named fields, a list of them, or anything. */
type Shape = { fields: Record<string, Shape> } | { list: Shape } | 'any';

const OWNER_REFERENCE: Shape = {
  fields: {
    apiVersion: 'any',
    kind: 'any',
    name: 'any',
    uid: 'any',
    controller: 'any',
    blockOwnerDeletion: 'any',
  },
};
const MANAGED_FIELDS_ENTRY: Shape = {
  fields: {
    manager: 'any',
    operation: 'any',
    apiVersion: 'any',
    time: 'any',
    fieldsType: 'any',
    fieldsV1: 'any',
    subresource: 'any',
  },
};
/** metav1.ObjectMeta */
const OBJECT_META: Shape = {
  fields: {
    name: 'any',
    generateName: 'any',
    namespace: 'any',
    selfLink: 'any',
    uid: 'any',
    resourceVersion: 'any',
    generation: 'any',
    creationTimestamp: 'any',
    deletionTimestamp: 'any',
    deletionGracePeriodSeconds: 'any',
    labels: 'any',
    annotations: 'any',
    ownerReferences: { list: OWNER_REFERENCE },
    finalizers: 'any',
    managedFields: { list: MANAGED_FIELDS_ENTRY },
  },
};

function keyPath(parent: string, k: string): string {
  return parent ? `${parent}.${k}` : k;
}

/** Drops what a strict decode into `shape` would call unknown, recording `prefix.path` for each. */
function stripToShape(x: unknown, shape: Shape, path: string, prefix: string, out: string[]): void {
  if (shape === 'any') return;
  if ('list' in shape) {
    if (Array.isArray(x))
      x.forEach((item, i) => {
        stripToShape(item, shape.list, `${path}[${i}]`, prefix, out);
      });
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    const sub = Object.hasOwn(shape.fields, k) ? shape.fields[k] : undefined;
    if (sub === undefined) {
      out.push(`${prefix}.${keyPath(path, k)}`);
      delete x[k];
    } else stripToShape(x[k], sub, keyPath(path, k), prefix, out);
  }
}

function prune(x: unknown, s: SchemaNode | undefined, path: string, out: string[]): void {
  if (s?.preserveUnknownFields) {
    skipPrune(x, s, path, out);
    return;
  }
  if (Array.isArray(x)) {
    x.forEach((item, i) => {
      prune(item, s?.items, `${path}[${i}]`, out);
    });
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    if (!s) {
      out.push(keyPath(path, k));
      delete x[k];
      continue;
    }
    if (s.embeddedResource && META_FIELDS.has(k)) continue;
    const prop = s.properties.get(k);
    if (prop) prune(x[k], prop, keyPath(path, k), out);
    else if (s.additionalProperties !== undefined) prune(x[k], additionalSchema(s), keyPath(path, k), out);
    else {
      if (!META_FIELDS.has(k) || path !== '') out.push(keyPath(path, k));
      delete x[k];
    }
  }
}

function skipPrune(x: unknown, s: SchemaNode | undefined, path: string, out: string[]): void {
  if (!s) return;
  if (Array.isArray(x)) {
    x.forEach((item, i) => {
      skipPrune(item, s.items, `${path}[${i}]`, out);
    });
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    if (s.embeddedResource && META_FIELDS.has(k)) continue;
    const prop = s.properties.get(k);
    if (prop) prune(x[k], prop, keyPath(path, k), out);
    else if (s.additionalProperties !== undefined) prune(x[k], additionalSchema(s), keyPath(path, k), out);
  }
}

/** PruneNonNullableNullsWithoutDefaults */
export function pruneNulls(x: unknown, s: SchemaNode | undefined): void {
  if (Array.isArray(x)) {
    for (const item of x) pruneNulls(item, s?.items);
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    const sub = s ? (s.properties.get(k) ?? additionalSchema(s)) : undefined;
    if (x[k] === null && sub && !sub.nullable && sub.default === undefined) delete x[k];
    else pruneNulls(x[k], sub);
  }
}

/** objectmeta.Coerce: the metadata of embedded resources, reduced to ObjectMeta. */
function coerceEmbedded(path: FieldPath, x: unknown, s: SchemaNode | undefined, out: string[]): void {
  if (!s) return;
  if (Array.isArray(x)) {
    x.forEach((item, i) => {
      coerceEmbedded(path.index(i), item, s.items, out);
    });
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    if (s.embeddedResource && k === 'metadata' && isObject(x[k])) {
      stripToShape(x[k], OBJECT_META, '', path.child('metadata').toString(), out);
    }
    const prop = s.properties.get(k);
    const ap = additionalSchema(s);
    if (prop) coerceEmbedded(path.child(k), x[k], prop, out);
    else if (ap) coerceEmbedded(path.key(k), x[k], ap, out);
  }
}

/**
 * Prunes a custom resource in place against its structural schema and returns the paths of the
 * fields it dropped: unknown root metadata fields first, then pruned fields, then unknown metadata
 * of embedded resources (each group sorted, as the API server reports them).
 */
export function pruneObject(root: SchemaNode | undefined, obj: unknown): string[] {
  if (!isObject(obj)) return [];
  const metaUnknown: string[] = [];
  if (isObject(obj.metadata)) stripToShape(obj.metadata, OBJECT_META, '', 'metadata', metaUnknown);
  const schema: SchemaNode = { ...(root ?? compileNode({})), embeddedResource: true };
  const pruned: string[] = [];
  prune(obj, schema, '', pruned);
  pruneNulls(obj, root);
  const embedded: string[] = [];
  if (root) coerceEmbedded(new FieldPath(''), obj, root, embedded);
  return [...metaUnknown, ...pruned.sort(), ...embedded.sort()];
}

/** Prunes a value (not a resource root) against a schema node; used to check that defaults are pruned. */
export function pruneValue(s: SchemaNode, x: unknown): void {
  prune(x, s, '', []);
}
