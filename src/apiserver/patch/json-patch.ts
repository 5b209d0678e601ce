/**
 * JSON patch (RFC 6902, `application/json-patch+json`) as the API server applies it: operations are
 * applied in order by fast-json-patch, after each one is brought to the semantics of the library
 * Kubernetes uses (gopkg.in/evanphx/json-patch.v4):
 *
 * - negative array indices count from the end (`/spec/containers/-1` is the last container);
 * - `replace` of a missing object key sets it (only array indices must exist);
 * - a missing `value` means `null`; `copy` from a missing object key copies `null`;
 * - `test` of a missing key (or a `null` one) passes when the value is `null` or absent;
 * - the root (`""`) can only be `replace`d (by an object or array) or `test`ed;
 * - a path without a leading `/` drops its first segment (`a/b` acts as `/b`).
 *
 * Errors, as in handlers/patch.go: a body that is not a JSON array of objects is 400 with the
 * decoder's message; more than 10000 operations is 413; any operation that does not apply (failed
 * `test`, missing path, bad index, unknown `op`) is 422 "the server rejected our request due to an
 * error in our request".
 */
import jsonpatch from 'fast-json-patch';
import { badPatch, patchNotApplicable, tooManyOperations } from './errors.ts';
import {
  getOwn,
  isObject,
  type Json,
  type JsonObject,
  JsonSyntaxError,
  jsonEqual,
  jsonKind,
  parseJson,
} from './json.ts';

/** The most operations one JSON patch may hold (maxJSONPatchOperations). */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/**
 * Applies a JSON-patch body to a copy of `original` (or, with `inPlace`, to `original` itself: the
 * caller's own detached copy) and returns the new document.
 */
export function applyJsonPatch(original: JsonObject, body: string, opts: { inPlace?: boolean } = {}): Json {
  const ops = decodeOperations(body);
  let doc: Json = opts.inPlace ? original : structuredClone(original);
  for (const [i, op] of ops.entries()) {
    try {
      doc = applyOne(doc, op, i);
    } catch (err) {
      throw patchNotApplicable(err);
    }
  }
  return doc;
}

/** Decodes the body as `[]Operation`, failing the way Go's decoder does. */
function decodeOperations(body: string): (JsonObject | null)[] {
  let parsed: Json;
  try {
    parsed = parseJson(body);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw badPatch(err.message);
    throw err;
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) {
    throw badPatch(`json: cannot unmarshal ${jsonKind(parsed)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of parsed) {
    if (op !== null && !isObject(op)) {
      throw badPatch(`json: cannot unmarshal ${jsonKind(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (parsed.length > MAX_JSON_PATCH_OPERATIONS) {
    throw tooManyOperations(MAX_JSON_PATCH_OPERATIONS, parsed.length);
  }
  return parsed as (JsonObject | null)[];
}

class OpError extends Error {
  override name = 'JsonPatchOperationError';
}

/** Applies one operation; throws on anything that does not apply. */
function applyOne(doc: Json, raw: JsonObject | null, index: number): Json {
  const op = raw ?? {};
  const kind = typeof op.op === 'string' ? op.op : 'unknown';
  const value = Object.hasOwn(op, 'value') ? (op.value ?? null) : undefined;
  const path = pointer(op, 'path');
  if (kind === 'replace' && path === '') {
    if (!Array.isArray(value) && !isObject(value))
      throw new OpError('replace operation value must be object or array');
    return value;
  }
  if (kind === 'test') {
    test(doc, path, value);
    return doc;
  }
  if (path === '') throw new OpError(`${kind} operation does not apply: doc is missing path: ""`);
  switch (kind) {
    case 'add':
      return lib(doc, { op: 'add', path: resolve(doc, path, true).path, value: value ?? null }, index);
    case 'remove':
      return lib(doc, { op: 'remove', path: resolve(doc, path, false).path }, index);
    case 'replace': {
      // v4 only requires the key to exist inside arrays; on objects replace acts as add.
      const t = resolve(doc, path, false);
      const libOp = Array.isArray(t.parent) ? 'replace' : 'add';
      return lib(doc, { op: libOp, path: t.path, value: value ?? null }, index);
    }
    case 'move':
    case 'copy': {
      const fromPath = pointer(op, 'from');
      if (fromPath === '')
        throw new OpError(`${kind} operation does not apply: doc is missing from path: ""`);
      const from = resolve(doc, fromPath, false);
      if (kind === 'copy') {
        const to = resolve(doc, path, true).path;
        if (isObject(from.parent) && !Object.hasOwn(from.parent, from.key)) {
          return lib(doc, { op: 'add', path: to, value: null }, index);
        }
        return lib(doc, { op: 'copy', from: from.path, path: to }, index);
      }
      // move: take the value out, then resolve the destination in what is left, as v4 does.
      const moved = lookup(from);
      const rest = lib(doc, { op: 'remove', path: from.path }, index);
      return lib(rest, { op: 'add', path: resolve(rest, path, true).path, value: moved }, index);
    }
    default:
      throw new OpError(`Unexpected kind: ${kind}`);
  }
}

/** Runs one operation through fast-json-patch with its validation on. */
function lib(doc: Json, op: jsonpatch.Operation, index: number): Json {
  return jsonpatch.applyOperation(doc, op, true, true, true, index).newDocument as Json;
}

/** Reads `path`/`from` as a string pointer, normalised the way v4's `findObject` splits it. */
function pointer(op: JsonObject, field: 'path' | 'from'): string {
  const p = getOwn(op, field);
  if (typeof p !== 'string') throw new OpError(`operation missing ${field} field`);
  if (p === '' || p.startsWith('/')) return p;
  const slash = p.indexOf('/');
  if (slash < 0) throw new OpError(`${field} does not apply: doc is missing path: "${p}"`);
  return p.slice(slash);
}

/** Where a pointer lands: its parent container and last key, with array indices made plain. */
interface Target {
  path: string;
  parent: Json;
  key: string;
}

/** The value a resolved target points at (the parent is its container before the operation). */
function lookup(t: Target): Json {
  if (Array.isArray(t.parent)) return t.parent[Number(t.key)] ?? null;
  return isObject(t.parent) ? (getOwn(t.parent, t.key) ?? null) : null;
}

/**
 * Walks `path` through `doc` and rewrites array indices to plain non-negative decimals: negative
 * ones count from the end (the end is one further for an insertion), `+1`/`01` become `1`.
 */
function resolve(doc: Json, path: string, inserting: boolean): Target {
  const parts = path.split('/').slice(1);
  let node: Json = doc;
  const out: string[] = [];
  for (const [i, raw] of parts.entries()) {
    const last = i === parts.length - 1;
    let seg = raw;
    if (Array.isArray(node) && /^[+-]?\d+$/.test(seg)) {
      let idx = Number(seg);
      const len = node.length + (last && inserting ? 1 : 0);
      if (idx < 0) {
        if (idx < -len) throw new OpError(`Unable to access invalid index: ${idx}`);
        idx += len;
      }
      seg = String(idx);
    }
    out.push(seg);
    if (last) return { path: `/${out.join('/')}`, parent: node, key: unescapeToken(seg) };
    const key = unescapeToken(seg);
    const next: Json | undefined = Array.isArray(node)
      ? node[Number(key)]
      : isObject(node)
        ? getOwn(node, key)
        : undefined;
    if (next === undefined || next === null || typeof next !== 'object') {
      throw new OpError(`doc is missing path: "${path}"`);
    }
    node = next;
  }
  throw new OpError(`doc is missing path: "${path}"`);
}

function unescapeToken(seg: string): string {
  return seg.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** `test`: equal values pass; a missing or null target passes only for a null/absent value. */
function test(doc: Json, path: string, value: Json | undefined): void {
  let actual: Json | undefined;
  if (path === '') {
    actual = doc;
  } else {
    const t = resolve(doc, path, false);
    if (Array.isArray(t.parent)) {
      const idx = Number(t.key);
      if (!Number.isInteger(idx) || idx >= t.parent.length)
        throw new OpError(`Unable to access invalid index: ${t.key}`);
      actual = t.parent[idx];
    } else {
      actual = isObject(t.parent) ? getOwn(t.parent, t.key) : undefined;
    }
  }
  if (actual === undefined || actual === null) {
    if (value === undefined || value === null) return;
    throw new OpError(`testing value ${path} failed: test failed`);
  }
  if (value === undefined || !jsonEqual(actual, value))
    throw new OpError(`testing value ${path} failed: test failed`);
}
