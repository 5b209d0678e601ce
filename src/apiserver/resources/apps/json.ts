/**
 * Total accessors for plain JSON, for the strategies in this folder. Defaulting and validation run
 * on whatever a client sent: every read goes through these, a value of the wrong type reads as
 * absent (shape.ts reports it as a type error), and nothing here throws.
 */
import { FieldError, type FieldPath } from '../../../api/errors.ts';
import { isPlainObject } from '../../object.ts';

export type Obj = Record<string, unknown>;

export const isObj = isPlainObject;

// The accessors that behave exactly as the core strategies' do are shared with them.
export {
  arr,
  ensureObj,
  isSet,
  num,
  num0,
  obj,
  objItems,
  optObj,
  optStr,
  str,
  strList,
} from '../core/json.ts';

/** The string entries of a map, or undefined for an unset (nil) map. */
export function optStrMap(v: unknown): Record<string, string> | undefined {
  if (!isPlainObject(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** The string entries of a map (empty for an unset one). */
export function strMap(v: unknown): Record<string, string> {
  return optStrMap(v) ?? {};
}

/** The value at a path of object keys, or undefined. */
export function at(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const k of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** For defaulting a pointer field: sets `o[key]` when it is unset (absent or null). */
export function defaultUnset(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

/** For defaulting a string field: sets `o[key]` when it is unset or "" (Go's `len(x) == 0`). */
export function defaultEmpty(o: Obj, key: string, value: string): void {
  if (o[key] === undefined || o[key] === null || o[key] === '') o[key] = value;
}

/** FieldError constructors taking FieldPaths. */
export const fe = {
  required: (p: FieldPath, detail = '') => FieldError.required(p.toString(), detail),
  invalid: (p: FieldPath, value: unknown, detail: string) => FieldError.invalid(p.toString(), value, detail),
  notSupported: (p: FieldPath, value: unknown, supported: readonly string[]) =>
    FieldError.notSupported(p.toString(), value, supported),
  duplicate: (p: FieldPath, value: unknown) => FieldError.duplicate(p.toString(), value),
  forbidden: (p: FieldPath, detail: string) => FieldError.forbidden(p.toString(), detail),
  tooLong: (p: FieldPath, max: number) => FieldError.tooLong(p.toString(), max),
  tooMany: (p: FieldPath, actual: number, max: number) => FieldError.tooMany(p.toString(), actual, max),
  typeInvalid: (p: FieldPath, value: unknown, detail: string) =>
    FieldError.typeInvalid(p.toString(), value, detail),
};

/** Go's sets.List: sorted (by bytes), distinct. */
export function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
