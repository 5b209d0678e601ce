/**
 * Operations on JSON values guided by an {@link SsaSchema}, as structured-merge-diff's `typed` package
 * does them: the set of fields a value sets ({@link toFieldSet}), merging an applied configuration
 * into an object ({@link merge}), comparing two objects ({@link compare}) and removing a set of fields
 * ({@link removeItems}).
 *
 * Values: `undefined` is "absent". Lists are atomic (a leaf), sets (items by value) or maps (items by
 * key fields); objects are granular (entry by entry) or atomic. An empty list or object on both sides
 * is a leaf, which keeps `[]` and `{}` distinct from absent.
 */
import type { Json, JsonObject } from '../patch/json.ts';
import { isObject, jsonEqual, setOwn } from '../patch/json.ts';
import {
  FieldSet,
  FieldSetCursor,
  fieldPE,
  keyPE,
  type PathElement,
  pathString,
  serializePE,
  valuePE,
} from './fieldpath.ts';
import type { SsaSchema } from './schema.ts';

type Value = Json | undefined;

export interface IndexedItem {
  readonly pe: PathElement;
  /** serializePE(pe). */
  readonly key: string;
  readonly item: Json;
}

/** A granular list's items by element (first occurrence), and the elements seen more than once. */
export interface ListIndex {
  readonly order: IndexedItem[];
  readonly byKey: Map<string, Json>;
  readonly duplicates: PathElement[];
}

/** The path element of a list item, or `undefined` when the item cannot have one (then the list is treated as atomic). */
function itemPE(s: SsaSchema, item: Json): PathElement | undefined {
  const lt = s.listType();
  if (lt === 'set') return isObject(item) || Array.isArray(item) ? undefined : valuePE(item);
  if (lt !== 'map' || !isObject(item)) return undefined;
  const fields: [string, Json][] = [];
  for (const k of s.listMapKeys()) {
    if (Object.hasOwn(item, k)) fields.push([k, item[k] as Json]);
    else {
      const d = s.listMapKeyDefault(k);
      if (d !== undefined) fields.push([k, d]);
    }
  }
  return keyPE(fields);
}

/**
 * The items of a set or map list (`s` is the list's schema) by path element, in list order; `undefined`
 * when an item cannot have an element (an object in a set, a non-object in a map), which makes the
 * list a leaf. `order` is a fresh array the caller may reorder.
 */
export function indexList(list: Json[], s: SsaSchema): ListIndex | undefined {
  const order: IndexedItem[] = [];
  const byKey = new Map<string, Json>();
  const duplicates: PathElement[] = [];
  for (const item of list) {
    const pe = itemPE(s, item);
    if (!pe) return undefined;
    const k = serializePE(pe);
    if (byKey.has(k)) {
      duplicates.push(pe);
      continue;
    }
    byKey.set(k, item);
    order.push({ pe, key: k, item });
  }
  return { order, byKey, duplicates };
}

function isGranularList(v: Json[], s: SsaSchema): boolean {
  return s.listType() !== 'atomic' && v.length > 0;
}

// ---------------------------------------------------------------------------------------------

/** Problems found in an applied configuration (duplicate list items), as structured-merge-diff words them. */
export class ValidationErrors extends Error {
  override name = 'ValidationErrors';
  readonly errors: readonly string[];
  constructor(errors: readonly string[]) {
    super(errors.length === 1 ? (errors[0] as string) : `errors:\n  ${errors.join('\n  ')}`);
    this.errors = errors;
  }
}

/**
 * Checks an applied configuration: items of set and map lists must be scalars / objects, and unique.
 * Throws {@link ValidationErrors}.
 */
export function validate(v: Json, s: SsaSchema): void {
  const errors: string[] = [];
  const walk = (v: Json, s: SsaSchema, path: PathElement[]) => {
    if (Array.isArray(v)) {
      const lt = s.listType();
      if (lt === 'atomic') return;
      const seen = new Set<string>();
      v.forEach((item, i) => {
        const pe = itemPE(s, item);
        if (!pe) {
          const what =
            lt === 'set'
              ? 'associative list without keys has an element that is a map type'
              : item === null
                ? 'associative list with keys may not have a null element'
                : 'associative list with keys may not have non-map elements';
          errors.push(`${pathString(path)}: element ${i}: ${what}`);
          return;
        }
        const k = serializePE(pe);
        if (seen.has(k)) {
          errors.push(
            `${pathString(path)}: duplicate entries for key ${pathString([pe]).replace(/^\./, '')}`,
          );
          return;
        }
        seen.add(k);
        walk(item, s.item(), [...path, pe]);
      });
    } else if (isObject(v)) {
      if (s.mapType() === 'atomic') return;
      for (const k of Object.keys(v)) walk(v[k] as Json, s.field(k), [...path, fieldPE(k)]);
    }
  };
  walk(v, s, []);
  if (errors.length > 0) throw new ValidationErrors(errors);
}

/**
 * Every leaf field and list item a value sets (ToFieldSet): scalars, atomic lists and objects, list
 * items (which are also walked into) and map entries; struct fields only through what they hold.
 */
export function toFieldSet(v: Json, s: SsaSchema): FieldSet {
  const set = new FieldSet();
  const walk = (v: Json, s: SsaSchema, path: PathElement[]) => {
    if (Array.isArray(v)) {
      const idx = s.listType() === 'atomic' ? undefined : indexList(v, s);
      if (!idx) {
        set.insert(path);
        return;
      }
      for (const { pe, item } of idx.order) {
        const p = [...path, pe];
        walk(item, s.item(), p);
        set.insert(p);
      }
    } else if (isObject(v)) {
      if (s.mapType() === 'atomic') {
        set.insert(path);
        return;
      }
      for (const k of Object.keys(v)) {
        const p = [...path, fieldPE(k)];
        walk(v[k] as Json, s.field(k), p);
        if (!s.isField(k)) set.insert(p);
      }
    } else {
      set.insert(path);
    }
  };
  walk(v, s, []);
  return set;
}

// ---------------------------------------------------------------------------------------------

/**
 * Merges `rhs` (an applied configuration) into `lhs` (Merge with "keep RHS" at the leaves): nothing is
 * removed; a leaf set in `rhs` takes its value; list-map and set items merge by key; atomic lists and
 * objects are replaced whole. List order: `lhs`'s, with `rhs`'s items placed in `rhs`'s order.
 */
export function merge(lhs: Value, rhs: Value, s: SsaSchema): Value {
  if (lhs === undefined) return rhs;
  if (rhs === undefined) return lhs;
  if (Array.isArray(lhs) && Array.isArray(rhs)) {
    if (!isGranularList(lhs, s) && !isGranularList(rhs, s)) return rhs;
    if (s.listType() === 'atomic') return rhs;
    const l = indexList(lhs, s);
    const r = indexList(rhs, s);
    if (!l || !r || l.duplicates.length > 0) return rhs;
    return mergeListItems(l, r, s.item());
  }
  if (isObject(lhs) && isObject(rhs)) {
    const lk = Object.keys(lhs);
    const rk = Object.keys(rhs);
    if (s.mapType() === 'atomic' || (lk.length === 0 && rk.length === 0)) return rhs;
    const out: JsonObject = {};
    for (const k of lk) {
      const m = merge(lhs[k], Object.hasOwn(rhs, k) ? rhs[k] : undefined, s.field(k));
      if (m !== undefined) setOwn(out, k, m);
    }
    for (const k of rk) if (!Object.hasOwn(lhs, k)) setOwn(out, k, rhs[k] as Json);
    return out;
  }
  return rhs;
}

/** The list-merge ordering of structured-merge-diff's visitListItems. */
function mergeListItems(l: ListIndex, r: ListIndex, itemSchema: SsaSchema): Json[] {
  const out: Json[] = [];
  const put = (v: Value) => {
    if (v !== undefined) out.push(v);
  };
  const lKeys = l.order.map((x) => serializePE(x.pe));
  const rKeys = r.order.map((x) => serializePE(x.pe));
  const shared = rKeys.filter((k) => l.byKey.has(k));
  let si = 0;
  let nextShared: string | undefined = shared[si++];
  let li = 0;
  let ri = 0;
  while (li < lKeys.length || ri < rKeys.length) {
    if (li < lKeys.length && ri < rKeys.length) {
      const lk = lKeys[li] as string;
      if (lk === rKeys[ri]) {
        put(merge(l.byKey.get(lk), r.byKey.get(lk), itemSchema));
        li++;
        ri++;
        nextShared = shared[si++];
        continue;
      }
      if (r.byKey.has(lk) && nextShared !== undefined && nextShared !== lk) {
        li++;
        continue;
      }
    }
    if (li < lKeys.length) {
      const lk = lKeys[li] as string;
      if (!r.byKey.has(lk)) {
        put(l.byKey.get(lk));
        li++;
        continue;
      }
    }
    if (ri < rKeys.length) {
      const rk = rKeys[ri] as string;
      put(merge(l.byKey.get(rk), r.byKey.get(rk), itemSchema));
      ri++;
      if (nextShared === rk) nextShared = shared[si++];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/** The fields that differ between two objects (typed.Comparison). No path is in two of the sets. */
export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

function kindOf(v: Json): 'list' | 'object' | 'scalar' {
  return Array.isArray(v) ? 'list' : isObject(v) ? 'object' : 'scalar';
}

function isEmptyContainer(v: Value): boolean {
  if (v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  return isObject(v) && Object.keys(v).length === 0;
}

/**
 * Compares `lhs` (before) with `rhs` (after): leaves that were added, modified or removed, and list
 * items and map entries that appeared or disappeared as a whole. A field the schema marks as
 * {@link SsaSchema.zeroFields} counts as that value when its parent exists, as Go objects carry it.
 */
export function compare(lhs: Value, rhs: Value, s: SsaSchema): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  // The path walked, and each element's serializePE, as stacks (pushed on the way down, popped after).
  const path: PathElement[] = [];
  const keys: string[] = [];
  const added = new FieldSetCursor(c.added);
  const modified = new FieldSetCursor(c.modified);
  const removed = new FieldSetCursor(c.removed);
  const insert = (cursor: FieldSetCursor) => cursor.insert(path, keys);
  const walkChild = (l: Value, r: Value, s: SsaSchema, pe: PathElement, key: string) => {
    path.push(pe);
    keys.push(key);
    walk(l, r, s);
    path.pop();
    keys.pop();
    added.truncate(path.length);
    modified.truncate(path.length);
    removed.truncate(path.length);
  };
  const walk = (l: Value, r: Value, s: SsaSchema) => {
    if (l === undefined && r === undefined) return;
    // Equal subtrees hold no difference (most of an object, in most writes): skip them whole.
    if (l === r || (l !== undefined && r !== undefined && typeof l === 'object' && jsonEqual(l, r))) return;
    const leaf = () => {
      if (l === undefined) insert(added);
      else if (r === undefined) insert(removed);
      else if (!jsonEqual(l, r)) insert(modified);
    };
    const kind = kindOf((l ?? r) as Json);
    if ((l !== undefined && r !== undefined && kindOf(l) !== kindOf(r)) || kind === 'scalar') return leaf();
    if (kind === 'list') {
      if (s.listType() === 'atomic' || (isEmptyContainer(l) && isEmptyContainer(r))) return leaf();
      const li = l === undefined ? emptyIndex : indexList(l as Json[], s);
      const ri = r === undefined ? emptyIndex : indexList(r as Json[], s);
      if (!li || !ri || li.duplicates.length > 0 || ri.duplicates.length > 0) return leaf();
      const item = s.item();
      for (const x of li.order) walkChild(x.item, ri.byKey.get(x.key), item, x.pe, x.key);
      for (const x of ri.order) {
        if (!li.byKey.has(x.key)) walkChild(undefined, x.item, item, x.pe, x.key);
      }
    } else {
      if (s.mapType() === 'atomic' || (isEmptyContainer(l) && isEmptyContainer(r))) return leaf();
      const lo = l as JsonObject | undefined;
      const ro = r as JsonObject | undefined;
      const zero = s.zeroFields();
      const child = (o: JsonObject | undefined, k: string): Value => {
        if (!o) return undefined;
        return Object.hasOwn(o, k) ? o[k] : Object.hasOwn(zero, k) ? zero[k] : undefined;
      };
      const field = (k: string) => walkChild(child(lo, k), child(ro, k), s.field(k), fieldPE(k), `f:${k}`);
      // Every key of either side or of the zero fields once, in that order.
      if (lo) for (const k of Object.keys(lo)) field(k);
      if (ro) for (const k of Object.keys(ro)) if (!(lo && Object.hasOwn(lo, k))) field(k);
      for (const k of Object.keys(zero)) {
        if (!(lo && Object.hasOwn(lo, k)) && !(ro && Object.hasOwn(ro, k))) field(k);
      }
    }
    if (path.length > 0) {
      if (l === undefined) insert(added);
      else if (r === undefined) insert(removed);
    }
  };
  walk(lhs, rhs, s);
  return c;
}

const emptyIndex: ListIndex = { order: [], byKey: new Map(), duplicates: [] };

/** The comparison without anything at or below the paths of `fields` (Comparison.ExcludeFields). */
export function excludeFields(c: Comparison, fields: FieldSet | undefined): Comparison {
  if (!fields || fields.empty()) return c;
  return {
    added: c.added.recursiveDifference(fields),
    modified: c.modified.recursiveDifference(fields),
    removed: c.removed.recursiveDifference(fields),
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * Removes the paths of `set` from a value (RemoveItems): a member is removed with everything below it;
 * a path with children is walked into. A list or object left empty by the removal is removed too, as
 * Kubernetes drops it when it decodes the result.
 */
export function removeItems(v: Value, set: FieldSet, s: SsaSchema): Value {
  if (v === undefined || set.empty()) return v;
  if (Array.isArray(v)) {
    if (v.length === 0 || s.listType() === 'atomic') return undefined;
    const out: Json[] = [];
    for (const item of v) {
      const pe = itemPE(s, item);
      if (!pe) return v;
      if (set.hasMember(pe)) continue;
      const sub = set.withPrefix(pe);
      const kept = sub.empty() ? item : removeItems(item, sub, s.item());
      if (kept !== undefined) out.push(kept);
    }
    return out.length > 0 ? out : undefined;
  }
  if (isObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0 || s.mapType() === 'atomic') return undefined;
    const out: JsonObject = {};
    for (const k of keys) {
      const pe = fieldPE(k);
      if (set.hasMember(pe)) continue;
      const sub = set.withPrefix(pe);
      const kept = sub.empty() ? v[k] : removeItems(v[k], sub, s.field(k));
      if (kept !== undefined) setOwn(out, k, kept);
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return v;
}

/**
 * The set with every named (struct) field that has something below it also a member
 * (EnsureNamedFieldsAreMembers), for the schema `s` at the set's root.
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, s: SsaSchema): FieldSet {
  return set.ensureNamedFieldsAreMembers<SsaSchema>(
    s,
    (ctx, name) => ctx.isField(name),
    (ctx, pe) => (pe.kind === 'field' ? ctx.field(pe.name) : ctx.item()),
  );
}

/** Removes `null` entries from objects (Kubernetes decodes them as unset). */
export function dropNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v)) {
      const x = v[k] as Json;
      if (x !== null) setOwn(out, k, dropNulls(x));
    }
    return out;
  }
  return v;
}
