/**
 * Total accessors for plain JSON, for the strategies in this folder. Defaulting and validation run
 * on whatever a client sent: every read goes through these, a value of the wrong type reads as
 * absent (shape.ts reports it as a type error), and nothing here throws.
 */
import { FieldError, type FieldPath } from '../../../api/errors.ts';
import { isPlainObject } from '../../object.ts';

export type Obj = Record<string, unknown>;

export const isObj = isPlainObject;

/** The object, or an empty (detached) one for anything else. */
export function obj(v: unknown): Obj {
  return isPlainObject(v) ? v : {};
}

/** The object, or undefined for anything else. */
export function optObj(v: unknown): Obj | undefined {
  return isPlainObject(v) ? v : undefined;
}

/** The array, or an empty one. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The string, or '' (Go's zero value). */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The string, or undefined (an unset pointer). */
export function optStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The finite number, or undefined (an unset pointer). */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The number, or 0 (Go's zero value). */
export function num0(v: unknown): number {
  return num(v) ?? 0;
}

/** Whether a field is set: present and not null (Go decodes null as nil / the zero value). */
export function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

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

/** The strings of an array (other entries dropped). */
export function strList(v: unknown): string[] {
  return arr(v).filter((x): x is string => typeof x === 'string');
}

/** The plain objects of an array, each with its index (other entries skipped). */
export function objItems(v: unknown): [Obj, number][] {
  const out: [Obj, number][] = [];
  arr(v).forEach((x, i) => {
    if (isPlainObject(x)) out.push([x, i]);
  });
  return out;
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

/**
 * For defaulting: `parent[key]` as an object, created when unset. Undefined (and the field left
 * alone) when it holds something that is not an object.
 */
export function ensureObj(parent: Obj, key: string): Obj | undefined {
  const v = parent[key];
  if (v === undefined || v === null) {
    const o: Obj = {};
    parent[key] = o;
    return o;
  }
  return isPlainObject(v) ? v : undefined;
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
