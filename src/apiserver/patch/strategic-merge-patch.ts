/**
 * Strategic merge patch (`application/strategic-merge-patch+json`), applied as the API server does
 * (strategicpatch.StrategicMergeMapPatch, apimachinery v0.36), driven by the field metadata of
 * smp-schema.ts instead of Go struct tags:
 *
 * - objects merge key by key; `null` deletes a key; a value of another type replaces;
 * - lists with strategy `merge` and a merge key merge element by element (matching elements merge
 *   recursively, new ones are added); lists of scalars with strategy `merge` are unions; all other
 *   lists are replaced whole;
 * - `$patch: replace` replaces the object (or, as a list element, the whole list) with the patch;
 *   `$patch: delete` empties an object, or, as a list element with the merge key, removes the
 *   matching elements; `$patch: merge` is rejected, as in Kubernetes;
 * - `$retainKeys: [...]` drops the object's keys not listed (every patched key must be listed);
 * - `$deleteFromPrimitiveList/<field>: [...]` removes those scalars from the list `<field>`;
 * - `$setElementOrder/<field>: [...]` fixes the order of the merged list `<field>`;
 * - values added where nothing was have their `null`s and `$patch`-marked objects dropped.
 *
 * Errors map as interpretStrategicMergePatchError does: malformed directives are 400, lists of lists
 * 422. Kubernetes answers the remaining ones (a merge-list element without its merge key, an unknown
 * `$patch` value, ...) with 500 and the raw message; skiff answers 400 with the same message, since
 * bad input never yields a 500 here.
 */
import { badPatch, patchNotApplicable } from './errors.ts';
import { goV } from './go-fmt.ts';
import {
  getOwn,
  goTypeName,
  isObject,
  type Json,
  type JsonObject,
  JsonSyntaxError,
  jsonKind,
  parseJson,
  setOwn,
} from './json.ts';
import {
  deduplicateScalars,
  deleteFromSlice,
  errBadArgType,
  errBadPatchFormatForPrimitiveList,
  errBadPatchFormatForRetainKeys,
  errBadPatchFormatForSetElementOrderList,
  errBadPatchType,
  errNoMergeKey,
  extractToDeleteItems,
  findMapInSlice,
  MAP_TYPE,
  normalizeElementOrder,
  partitionMaps,
  partitionPrimitives,
  SLICE_TYPE,
  SmpError,
  sliceElementType,
} from './smp-lists.ts';
import { type FieldMeta, fieldMeta, type SchemaNode } from './smp-schema.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_PREFIX = '$deleteFromPrimitiveList';
const ORDER_PREFIX = '$setElementOrder';

/**
 * Applies a strategic-merge-patch body to a copy of `original` (or, with `inPlace`, to `original`
 * itself: the caller's own detached copy), using `schema` (the kind's tree from smpSchemaFor) for
 * list strategies and merge keys.
 */
export function applyStrategicMergePatch(
  original: JsonObject,
  body: string,
  schema: SchemaNode,
  opts: { inPlace?: boolean } = {},
): JsonObject {
  let patch: Json;
  try {
    patch = parseJson(body);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw badPatch(err.message);
    throw err;
  }
  const doc = opts.inPlace ? original : structuredClone(original);
  if (patch === null) return doc;
  if (!isObject(patch)) {
    throw badPatch(`json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`);
  }
  try {
    return stripDirectives(mergeMap(doc, patch, schema));
  } catch (err) {
    if (!(err instanceof SmpError)) throw err;
    throw err.kind === 'unprocessable' ? patchNotApplicable(err) : badPatch(err.message);
  }
}

/** Merges `patch` into `original` (both may be modified) and returns the result. */
function mergeMap(original: JsonObject, patch: JsonObject, schema: SchemaNode | undefined): JsonObject {
  if (Object.hasOwn(patch, DIRECTIVE)) return mapDirective(patch);
  applyRetainKeys(original, patch);
  mergeOrderedLists(original, patch, schema);
  for (const key of Object.keys(patch)) {
    const patchV = patch[key] ?? null;
    const isDeleteList = key.startsWith(DELETE_PREFIX);
    const k = isDeleteList ? extractKey(key, DELETE_PREFIX) : key;
    if (patchV === null) {
      delete original[k];
      continue;
    }
    const current = getOwn(original, k);
    if (current === undefined || goTypeName(current) !== goTypeName(patchV)) {
      if (!isDeleteList) setOrDrop(original, k, removeDirectives(discardNulls(patchV)));
      continue;
    }
    const meta = fieldMeta(schema, k);
    if (isObject(current)) setOwn(original, k, mergeMapField(current, patchV as JsonObject, meta));
    else if (Array.isArray(current))
      setOwn(original, k, mergeListField(current, patchV as Json[], meta, k, isDeleteList));
    else setOrDrop(original, k, removeDirectives(patchV));
  }
  return original;
}

/** `$patch` on an object: `replace` → the patch itself, `delete` → `{}`, anything else is an error. */
function mapDirective(patch: JsonObject): JsonObject {
  const directive = patch[DIRECTIVE];
  if (directive === 'replace') {
    delete patch[DIRECTIVE];
    return patch;
  }
  if (directive === 'delete') return {};
  throw errBadPatchType(directive, patch);
}

function mergeMapField(current: JsonObject, patch: JsonObject, meta: FieldMeta | undefined): JsonObject {
  return meta?.strategy === 'replace' ? patch : mergeMap(current, patch, meta?.fields);
}

function mergeListField(
  current: Json[],
  patch: Json[],
  meta: FieldMeta | undefined,
  field: string,
  isDeleteList: boolean,
): Json[] {
  // Delete lists apply whatever the field's strategy is.
  if (meta?.strategy !== 'merge' && !isDeleteList) return patch;
  return mergeList(current, patch, meta, field, isDeleteList);
}

/** `$retainKeys`: every patched key must be listed; keys of `original` not listed are dropped. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw errBadPatchFormatForRetainKeys();
  const keep = new Set(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_PREFIX) || k.startsWith(ORDER_PREFIX)) continue;
    if (!keep.has(k)) throw errBadPatchFormatForRetainKeys();
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** Handles each `$setElementOrder/<field>` with its list: merge, then impose the order. */
function mergeOrderedLists(original: JsonObject, patch: JsonObject, schema: SchemaNode | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(ORDER_PREFIX) || !Object.hasOwn(patch, key)) continue;
    const order = patch[key] ?? null;
    delete patch[key];
    if (!Array.isArray(order)) throw errBadArgType(SLICE_TYPE, order);
    const field = extractKey(key, ORDER_PREFIX);
    const originalList = listAt(original, field);
    const patchList = listAt(patch, field);
    const meta = fieldMeta(schema, field);
    const mergeKey = meta?.mergeKey ?? '';
    checkOrderList(patchList ?? [], order, mergeKey);
    let merged: Json[];
    if (originalList && patchList) merged = mergeListField(originalList, patchList, meta, field, false);
    else if (originalList) merged = originalList;
    else if (patchList) merged = removeDirectives(patchList) as Json[];
    else continue;
    const [items, serverOnly] = mergeKey
      ? partitionMaps(merged, order, mergeKey)
      : partitionPrimitives(merged, order);
    const isMap = sliceElementType(originalList ?? [], patchList ?? []) === MAP_TYPE;
    setOwn(
      original,
      field,
      normalizeElementOrder(items, serverOnly, order, originalList ?? [], mergeKey, isMap),
    );
    delete patch[field];
  }
}

/** The list at `field`, `undefined` if absent; anything else there is an error. */
function listAt(o: JsonObject, field: string): Json[] | undefined {
  if (!Object.hasOwn(o, field)) return undefined;
  const v = o[field] ?? null;
  if (!Array.isArray(v)) throw errBadArgType(SLICE_TYPE, v);
  return v;
}

/** The patch list (less deletions and directives) must follow the `$setElementOrder` list. */
function checkOrderList(patchList: Json[], order: Json[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey ? extractToDeleteItems(patchList)[0] : patchList;
  let p = 0;
  let s = 0;
  while (p < items.length && s < order.length) {
    const item = items[p] ?? null;
    if (isObject(item) && Object.hasOwn(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKeyEqual(item, order[s] ?? null, mergeKey)) p++;
    s++;
  }
  if (p < items.length && s >= order.length) {
    throw new SmpError(
      'other',
      `the order in patch list:\n${goV(patchList)}\n doesn't match ${ORDER_PREFIX} list:\n${goV(order)}`,
    );
  }
}

function mergeKeyEqual(left: Json, right: Json, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isObject(left)) throw errBadArgType(MAP_TYPE, left);
  if (!isObject(right)) throw errBadArgType(MAP_TYPE, right);
  if (!Object.hasOwn(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!Object.hasOwn(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

/** Merges two lists of a `merge` field (or applies a delete list), keeping Kubernetes' order rules. */
function mergeList(
  original: Json[],
  patch: Json[],
  meta: FieldMeta | undefined,
  field: string,
  isDeleteList: boolean,
): Json[] {
  if (original.length === 0 && patch.length === 0) return original;
  const isMap = sliceElementType(original, patch) === MAP_TYPE;
  const mergeKey = meta?.mergeKey ?? '';
  let server = original;
  let items = patch;
  let merged: Json[];
  if (!isMap) {
    if (isDeleteList) return deleteFromSlice(original, patch);
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (!mergeKey) throw new SmpError('other', `cannot merge lists without merge key for ${field}`);
    [server, items] = applySpecialElements(original, patch, mergeKey);
    merged = server.slice();
    for (const v of items) {
      const m = v as JsonObject;
      if (!Object.hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
      const found = findMapInSlice(merged, mergeKey, m[mergeKey] ?? null);
      if (found) merged[found.index] = mergeMap(found.map, m, meta?.fields);
      else merged.push(v);
    }
  }
  const [inPatch, serverOnly] = mergeKey
    ? partitionMaps(merged, items, mergeKey)
    : partitionPrimitives(merged, items);
  return normalizeElementOrder(inPatch, serverOnly, items, server, mergeKey, isMap);
}

/**
 * List elements with `$patch`: `delete` removes the server elements with that merge key, `replace`
 * makes the other patch elements the whole list. Returns the server list and the plain patch items.
 */
function applySpecialElements(original: Json[], patch: Json[], mergeKey: string): [Json[], Json[]] {
  const plain: Json[] = [];
  let server = original;
  let replace = false;
  for (const v of patch) {
    const m = v as JsonObject;
    if (!Object.hasOwn(m, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const directive = m[DIRECTIVE];
    if (directive === 'delete') {
      if (!Object.hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
      const value = m[mergeKey] ?? null;
      findMapInSlice(server, mergeKey, value); // every server element must be a map
      server = server.filter((e) => !(isObject(e) && Object.hasOwn(e, mergeKey) && e[mergeKey] === value));
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw new SmpError('other', 'merging lists cannot yet be specified in the patch');
    } else {
      throw errBadPatchType(directive, m);
    }
  }
  return replace ? [plain, []] : [server, plain];
}

/** `prefix/<field>` → `<field>`; a key that only starts like the prefix is malformed. */
function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw prefix === DELETE_PREFIX
      ? errBadPatchFormatForPrimitiveList()
      : errBadPatchFormatForSetElementOrderList();
  }
  return key.slice(slash + 1);
}

const DROP = Symbol('drop');

/** Removes objects marked with `$patch` (and list items that are such objects); DROP if `v` is one. */
function removeDirectives(v: Json): Json | typeof DROP {
  if (Array.isArray(v)) {
    return v.map(removeDirectives).filter((x): x is Json => x !== DROP);
  }
  if (!isObject(v)) return v;
  if (Object.hasOwn(v, DIRECTIVE)) return DROP;
  for (const k of Object.keys(v)) setOrDrop(v, k, removeDirectives(v[k] ?? null));
  return v;
}

function setOrDrop(o: JsonObject, key: string, v: Json | typeof DROP): void {
  if (v === DROP) delete o[key];
  else setOwn(o, key, v);
}

/** Drops `null`-valued keys everywhere in `v` (list items stay). */
function discardNulls(v: Json): Json {
  if (Array.isArray(v)) for (const x of v) discardNulls(x);
  else if (isObject(v)) {
    for (const k of Object.keys(v)) {
      const x = v[k] ?? null;
      if (x === null) delete v[k];
      else discardNulls(x);
    }
  }
  return v;
}

/**
 * Removes directive keys left in parts taken from the patch as is (replaced lists, `$patch: replace`
 * objects). Kubernetes drops them when decoding into the typed object; skiff has no typed decode here.
 */
function stripDirectives<T extends Json>(v: T): T {
  if (Array.isArray(v)) for (const x of v) stripDirectives(x);
  else if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(DELETE_PREFIX) || k.startsWith(ORDER_PREFIX)) {
        delete v[k];
      } else {
        stripDirectives(v[k] ?? null);
      }
    }
  }
  return v;
}
