/**
 * List helpers of the strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch): element
 * typing, dedup, partitioning, and the ordering rules ($setElementOrder > order in the patch > order
 * on the server), plus the errors they raise (mergepatch/errors.go), with the same texts.
 */
import { goS, goV } from './go-fmt.ts';
import { getOwn, goTypeName, isObject, type Json, type JsonObject } from './json.ts';

/** How the API server answers a strategic-merge-patch error (interpretStrategicMergePatchError). */
export type SmpErrorKind = 'badRequest' | 'unprocessable' | 'other';

/** A strategic-merge-patch failure. `other` is an unclassified error (Kubernetes answers it with 500). */
export class SmpError extends Error {
  override name = 'StrategicMergePatchError';
  readonly kind: SmpErrorKind;
  constructor(kind: SmpErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export const MAP_TYPE = 'map[string]interface {}';
export const SLICE_TYPE = '[]interface {}';

export const errBadPatchFormatForPrimitiveList = () =>
  new SmpError('badRequest', 'invalid patch format of primitive list');
export const errBadPatchFormatForRetainKeys = () =>
  new SmpError('badRequest', 'invalid patch format of retainKeys');
export const errBadPatchFormatForSetElementOrderList = () =>
  new SmpError('badRequest', 'invalid patch format of setElementOrder list');
export const errNoListOfLists = () => new SmpError('unprocessable', 'lists of lists are not supported');
export const errNoMergeKey = (m: JsonObject, key: string) =>
  new SmpError('other', `map: ${goV(m)} does not contain declared merge key: ${key}`);
export const errBadPatchType = (t: Json | undefined, m: JsonObject) =>
  new SmpError('other', `unknown patch type: ${goS(t)} in map: ${goV(m)}`);

/** ErrBadArgType: `expected` is a Go type name, `actual` the value that had another type. */
export function errBadArgType(expected: string, actual: Json | undefined): SmpError {
  const got = actual === null || actual === undefined ? '%!s(<nil>)' : goTypeName(actual);
  return new SmpError('other', `expected a ${expected}, but received a ${got}`);
}

/** The one Go type of all elements of the slices; lists of lists and mixed types are errors. */
export function sliceElementType(...slices: Json[][]): string {
  let prev: string | undefined;
  for (const s of slices) {
    for (const v of s) {
      const t = goTypeName(v);
      if (prev === undefined) {
        if (t === SLICE_TYPE) throw errNoListOfLists();
        if (v === null) throw notIdentical(slices);
        prev = t;
      } else if (prev !== t) {
        throw notIdentical(slices);
      }
    }
  }
  if (prev === undefined) throw new SmpError('other', 'no elements in any of the given slices');
  return prev;
}

function notIdentical(slices: Json[][]): SmpError {
  return new SmpError('other', `list element types are not identical: ${goV(slices)}`);
}

/** Removes later duplicates the way Go's deduplicateScalars does (swapping in the last element). */
export function deduplicateScalars(list: Json[]): Json[] {
  const s = list.slice();
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (s[i] === s[j]) {
        s[j] = s[length] ?? null;
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

/** `current` without the scalars listed in `toDelete`. */
export function deleteFromSlice(current: Json[], toDelete: Json[]): Json[] {
  const drop = new Set(toDelete);
  return current.filter((v) => !drop.has(v));
}

/** The first map in `list` whose `key` equals `value`; every element must be a map. */
export function findMapInSlice(
  list: Json[],
  key: string,
  value: Json,
): { map: JsonObject; index: number } | undefined {
  for (const [index, v] of list.entries()) {
    if (!isObject(v)) throw new SmpError('other', `value for key ${index} is not a map`);
    if (Object.hasOwn(v, key) && v[key] === value) return { map: v, index };
  }
  return undefined;
}

/** Splits `list` into the elements present in `by` and the rest (server-only), keeping order. */
export function partitionPrimitives(list: Json[], by: Json[]): [Json[], Json[]] {
  const inPatch = new Set(by);
  return [list.filter((v) => inPatch.has(v)), list.filter((v) => !inPatch.has(v))];
}

/** Like {@link partitionPrimitives} for maps, matched by merge key. */
export function partitionMaps(list: Json[], by: Json[], mergeKey: string): [Json[], Json[]] {
  const patch: Json[] = [];
  const serverOnly: Json[] = [];
  for (const v of list) {
    if (!isObject(v)) throw errBadArgType(MAP_TYPE, v);
    if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
    (findMapInSlice(by, mergeKey, v[mergeKey] ?? null) ? patch : serverOnly).push(v);
  }
  return [patch, serverOnly];
}

/** Splits maps into those without and with `$patch: delete`. */
export function extractToDeleteItems(list: Json[]): [Json[], Json[]] {
  const keep: Json[] = [];
  const del: Json[] = [];
  for (const v of list) {
    if (!isObject(v)) throw errBadArgType(MAP_TYPE, v);
    (getOwn(v, '$patch') === 'delete' ? del : keep).push(v);
  }
  return [keep, del];
}

/** Position of `value` in `list` (by merge-key value for maps), or -1. */
function indexOf(list: Json[], value: Json, mergeKey: string, isMap: boolean): number {
  const key = (item: Json): Json =>
    isMap ? (isObject(item) ? (getOwn(item, mergeKey) ?? null) : null) : item;
  const want = key(value);
  return list.findIndex((v) => key(v) === want);
}

/** Sorts `toSort` by position in `order` (Go's stable sort with its "unknown sorts first" less). */
function normalizeSliceOrder(toSort: Json[], order: Json[], mergeKey: string, isMap: boolean): Json[] {
  let items = toSort;
  let toDelete: Json[] = [];
  if (isMap) {
    for (const list of [toSort, order]) {
      for (const v of list) {
        if (!isObject(v)) throw errBadArgType(MAP_TYPE, v);
        if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey);
      }
    }
    [items, toDelete] = extractToDeleteItems(toSort);
  }
  const less = (a: Json, b: Json): boolean => {
    const ia = indexOf(order, a, mergeKey, isMap);
    const ib = indexOf(order, b, mergeKey, isMap);
    return ia >= 0 && ib >= 0 ? ia < ib : true;
  };
  const s = items.slice();
  for (let i = 1; i < s.length; i++) {
    for (let j = i; j > 0 && less(s[j] ?? null, s[j - 1] ?? null); j--) {
      [s[j], s[j - 1]] = [s[j - 1] ?? null, s[j] ?? null];
    }
  }
  return [...s, ...toDelete];
}

/**
 * Interleaves server-only items (`left`) into patch items (`right`), keeping each list's order:
 * a server-only item goes first only when both are on the server and it came first there.
 */
function mergeSortedSlice(
  left: Json[],
  right: Json[],
  serverOrder: Json[],
  mergeKey: string,
  isMap: boolean,
): Json[] {
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++] ?? null);
    else if (j >= right.length) out.push(left[i++] ?? null);
    else {
      const li = indexOf(serverOrder, left[i] ?? null, mergeKey, isMap);
      const ri = indexOf(serverOrder, right[j] ?? null, mergeKey, isMap);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++] ?? null);
      else out.push(right[j++] ?? null);
    }
  }
  return out;
}

/** Orders the patch items by `patchOrder`, the server-only items by `serverOrder`, then interleaves them. */
export function normalizeElementOrder(
  patch: Json[],
  serverOnly: Json[],
  patchOrder: Json[],
  serverOrder: Json[],
  mergeKey: string,
  isMap: boolean,
): Json[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, isMap);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, isMap);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, isMap);
}
