/**
 * Total accessors for plain JSON. Validation and defaulting run on whatever a client sent, so every
 * read goes through these: a value of the wrong type reads as absent (the shape check in shape.ts
 * reports it), and nothing here throws.
 */
import { FieldError, type FieldErrorType, FieldPath } from '../../../api/errors.ts';
import { isPlainObject, jsonEqual } from '../../object.ts';

export type Obj = Record<string, unknown>;

export { isPlainObject as isObj, jsonEqual };

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

/** The string, or '' (Go's zero value) for anything else. */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The string, or undefined (an unset pointer) for anything else. */
export function optStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The finite number, or undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The number, or 0 (Go's zero value). */
export function num0(v: unknown): number {
  return num(v) ?? 0;
}

/** true only for the JSON true. */
export function bool(v: unknown): boolean {
  return v === true;
}

/** Whether a field is set: present and not null (Go decodes null as the zero value / nil). */
export function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** The string entries of a map (other values are dropped). */
export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'string') out[k] = x;
  return out;
}

/** The strings of an array (other values are dropped). */
export function strList(v: unknown): string[] {
  return arr(v).filter((x): x is string => typeof x === 'string');
}

/** The plain objects of an array, each with its index (others skipped). */
export function objItems(v: unknown): [Obj, number][] {
  const out: [Obj, number][] = [];
  arr(v).forEach((x, i) => {
    if (isPlainObject(x)) out.push([x, i]);
  });
  return out;
}

/**
 * For defaulting: `parent[key]` as an object, creating it when unset. Returns undefined (and
 * leaves the field alone) when it holds something that is not an object.
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

/** For defaulting: sets `o[key] = value` when the field is unset or an empty string. */
export function defaultTo(o: Obj, key: string, value: unknown): void {
  const v = o[key];
  if (v === undefined || v === null || v === '') o[key] = value;
}

/** A path from a dotted string or an existing FieldPath. */
export function toPath(p: FieldPath | string): FieldPath {
  return typeof p === 'string' ? new FieldPath(p) : p;
}

/** FieldError helpers taking FieldPaths. */
export const fe = {
  required: (p: FieldPath, detail = '') => FieldError.required(p.toString(), detail),
  invalid: (p: FieldPath, value: unknown, detail: string) => FieldError.invalid(p.toString(), value, detail),
  notSupported: (p: FieldPath, value: unknown, supported: readonly string[]) =>
    FieldError.notSupported(p.toString(), value, supported),
  duplicate: (p: FieldPath, value: unknown) => FieldError.duplicate(p.toString(), value),
  forbidden: (p: FieldPath, detail: string) => FieldError.forbidden(p.toString(), detail),
  notFound: (p: FieldPath, value: unknown) => FieldError.notFound(p.toString(), value),
  tooLong: (p: FieldPath, max: number) => FieldError.tooLong(p.toString(), max),
  typeInvalid: (p: FieldPath, value: unknown, detail: string) =>
    FieldError.typeInvalid(p.toString(), value, detail),
  /** An error of any type with a detail of its own (e.g. a Duplicate or NotFound that explains itself). */
  withDetail: (type: FieldErrorType, p: FieldPath, value: unknown, detail: string) =>
    new FieldError(type, p.toString(), value, detail),
};

/** Go's sets.List: sorted, distinct. */
export function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function show(v: unknown): string {
  if (v === undefined) return '<unset>';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

/**
 * A short description of how `b` differs from `a`: one line per differing leaf,
 * "  <path>: <old> -> <new>" (at most `limit` lines). Used where Kubernetes appends a go-cmp diff.
 */
export function describeDiff(a: unknown, b: unknown, path: string, limit = 20): string {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, p: string) => {
    if (out.length >= limit || jsonEqual(x, y)) return;
    if (isPlainObject(x) && isPlainObject(y)) {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk(x[k], y[k], `${p}.${k}`);
      return;
    }
    if (Array.isArray(x) && Array.isArray(y) && x.length === y.length) {
      x.forEach((v, i) => {
        walk(v, y[i], `${p}[${i}]`);
      });
      return;
    }
    out.push(`  ${p}: ${show(x)} -> ${show(y)}`);
  };
  walk(a, b, path);
  return out.join('\n');
}
