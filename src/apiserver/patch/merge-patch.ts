/**
 * JSON merge patch (RFC 7386, `application/merge-patch+json`) as the API server applies it
 * (evanphx/json-patch v4 `MergePatch`):
 *
 * - an object in the patch merges into an object in the document, key by key, recursively;
 * - `null` deletes the key; any other value (scalar, array, or an object where the document has a
 *   non-object) replaces it whole, with `null`-valued keys pruned from the new value;
 * - arrays are never merged: they replace.
 *
 * Errors: a body that is not JSON, or is `null` or a scalar, is 400 "Invalid JSON Patch". A body that
 * is an array yields that array (the caller then fails to decode it: 422, see `undecodablePatchResult`).
 */
import { badPatch } from './errors.ts';
import { getOwn, isObject, type Json, type JsonObject, JsonSyntaxError, parseJson, setOwn } from './json.ts';

const BAD_PATCH = 'Invalid JSON Patch';

/**
 * Applies a merge-patch body to a copy of `original` (or, with `inPlace`, to `original` itself: the
 * caller's own detached copy). Returns the new document (an array if the patch was one).
 */
export function applyMergePatch(original: JsonObject, body: string, opts: { inPlace?: boolean } = {}): Json {
  let patch: Json;
  try {
    patch = parseJson(body);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw badPatch(BAD_PATCH);
    throw err;
  }
  if (Array.isArray(patch)) return pruneNulls(patch);
  if (!isObject(patch)) throw badPatch(BAD_PATCH);
  const doc = opts.inPlace ? original : structuredClone(original);
  mergeInto(doc, patch);
  return doc;
}

/** Merges `patch` into `doc` in place (RFC 7386 `MergePatch` for two objects). */
export function mergeInto(doc: JsonObject, patch: JsonObject): void {
  for (const key of Object.keys(patch)) {
    const value = patch[key] ?? null;
    if (value === null) {
      delete doc[key];
      continue;
    }
    const current = getOwn(doc, key);
    if (current === undefined || current === null) {
      setOwn(doc, key, pruneNulls(value));
    } else if (!isObject(current)) {
      setOwn(doc, key, pruneNulls(value));
    } else if (isObject(value)) {
      mergeInto(current, value);
    } else {
      // An object replaced by a non-object: taken as is (evanphx v4 does not prune here).
      setOwn(doc, key, value);
    }
  }
}

/** Drops `null`-valued keys from objects, recursively, also inside arrays; `null` array items stay. */
export function pruneNulls<T extends Json>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) if (item !== null) pruneNulls(item);
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      const v = value[key] ?? null;
      if (v === null) delete value[key];
      else pruneNulls(v);
    }
  }
  return value;
}
