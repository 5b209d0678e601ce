/**
 * JSON type checking: the part of decoding Kubernetes does before any validation runs. A field of
 * the wrong JSON type (a string where an integer belongs) is a FieldValueTypeInvalid error at its
 * path; a quantity that does not parse is FieldValueInvalid with resource.Quantity's message.
 * null is accepted everywhere (Go decodes it as the zero value); unknown fields are not this
 * module's concern.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { parseQuantity } from '../../../api/quantity.ts';
import { fe, isObj } from './json.ts';

/** A leaf type. */
export type Leaf = 'string' | 'bool' | 'int32' | 'int64' | 'number' | 'quantity' | 'intstr' | 'any';

/** The expected shape of a JSON value. */
export type Shape = Leaf | ObjShape | ArrShape | MapShape | LazyShape;

export interface ObjShape {
  readonly o: Readonly<Record<string, Shape>>;
}
export interface ArrShape {
  readonly a: Shape;
}
export interface MapShape {
  readonly m: Shape;
}
export interface LazyShape {
  readonly lazy: () => Shape;
}

/** An object with these known fields (others are not checked). */
export const o = (fields: Record<string, Shape>): ObjShape => ({ o: fields });
/** An array of `s`. */
export const a = (s: Shape): ArrShape => ({ a: s });
/** A map from strings to `s`. */
export const m = (s: Shape): MapShape => ({ m: s });
/** A shape defined later (for recursive or forward references). */
export const lazy = (f: () => Shape): LazyShape => ({ lazy: f });
/** Any object (fields not checked). */
export const anyObj: ObjShape = o({});
export const strs: ArrShape = a('string');
export const strMapShape: MapShape = m('string');
export const quantityMap: MapShape = m('quantity');

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function leaf(v: unknown, s: Leaf, path: FieldPath, errs: FieldError[]): void {
  switch (s) {
    case 'any':
      return;
    case 'string':
      if (typeof v !== 'string') errs.push(fe.typeInvalid(path, v, 'must be of type string'));
      return;
    case 'bool':
      if (typeof v !== 'boolean') errs.push(fe.typeInvalid(path, v, 'must be of type boolean'));
      return;
    case 'number':
      if (typeof v !== 'number') errs.push(fe.typeInvalid(path, v, 'must be of type number'));
      return;
    case 'int32':
    case 'int64':
      if (typeof v !== 'number') errs.push(fe.typeInvalid(path, v, 'must be of type integer'));
      else if (!Number.isInteger(v)) errs.push(fe.typeInvalid(path, v, 'must be an integer'));
      else if (s === 'int32' && (v < INT32_MIN || v > INT32_MAX))
        errs.push(fe.typeInvalid(path, v, `must be between ${INT32_MIN} and ${INT32_MAX}, inclusive`));
      else if (s === 'int64' && !Number.isSafeInteger(v))
        errs.push(fe.typeInvalid(path, v, 'must be a safe integer'));
      return;
    case 'intstr':
      if (typeof v === 'string') return;
      if (typeof v !== 'number') errs.push(fe.typeInvalid(path, v, 'must be of type integer or string'));
      else if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX)
        errs.push(fe.typeInvalid(path, v, 'must be an int32 integer'));
      return;
    case 'quantity':
      if (typeof v !== 'string' && typeof v !== 'number') {
        errs.push(fe.typeInvalid(path, v, 'must be of type string'));
        return;
      }
      try {
        parseQuantity(v);
      } catch (err) {
        errs.push(fe.invalid(path, v, err instanceof Error ? err.message : String(err)));
      }
      return;
  }
}

/** Appends the type errors of `v` against `s` at `path`. */
export function checkShape(v: unknown, s: Shape, path: FieldPath, errs: FieldError[]): void {
  if (v === undefined || v === null) return;
  if (typeof s === 'string') {
    leaf(v, s, path, errs);
    return;
  }
  if ('lazy' in s) {
    checkShape(v, s.lazy(), path, errs);
    return;
  }
  if ('a' in s) {
    if (!Array.isArray(v)) {
      errs.push(fe.typeInvalid(path, v, 'must be of type array'));
      return;
    }
    v.forEach((x, i) => {
      checkShape(x, s.a, path.index(i), errs);
    });
    return;
  }
  if (!isObj(v)) {
    errs.push(fe.typeInvalid(path, v, 'must be of type object'));
    return;
  }
  if ('m' in s) {
    for (const [k, x] of Object.entries(v)) checkShape(x, s.m, path.key(k), errs);
    return;
  }
  for (const [k, fs] of Object.entries(s.o)) {
    if (Object.hasOwn(v, k)) checkShape(v[k], fs, path.child(k), errs);
  }
}

/** The type errors of `v` against `s`. */
export function shapeErrors(v: unknown, s: Shape, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  checkShape(v, s, path, errs);
  return errs;
}
