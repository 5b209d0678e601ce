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

// ---- the fast check: whether a value has no type errors at all ---------------------------------
//
// Almost every object is well typed, so checkShape first asks {@link valid}, which builds no paths
// and no errors, and walks only the fields the value has (not every field the shape declares). Only
// when it answers false does the walk that reports errors (in the shape's field order) run.

/** A shape compiled for {@link valid}: a tagged node whose object fields are in a Map. */
type Node = LeafNode | ArrNode | MapNode | ObjNode | LazyNode;
interface LeafNode {
  readonly t: 'leaf';
  readonly leaf: Leaf;
}
interface ArrNode {
  readonly t: 'arr';
  readonly item: Node;
}
interface MapNode {
  readonly t: 'map';
  readonly value: Node;
}
interface ObjNode {
  readonly t: 'obj';
  /** The declared fields; a Map, so that keys such as `__proto__` match nothing. */
  readonly fields: Map<string, Node>;
}
interface LazyNode {
  readonly t: 'lazy';
  /** The node of the shape `lazy()` returns, compiled on first use. */
  node: Node | undefined;
  readonly shape: LazyShape;
}

const leafNodes = new Map<Leaf, LeafNode>();
const compiled = new WeakMap<object, Node>();

/** The node of `s`, compiled once per shape object (shapes are immutable once built). */
function compile(s: Shape): Node {
  if (typeof s === 'string') {
    let n = leafNodes.get(s);
    if (!n) {
      n = { t: 'leaf', leaf: s };
      leafNodes.set(s, n);
    }
    return n;
  }
  const hit = compiled.get(s);
  if (hit) return hit;
  let n: Node;
  if ('lazy' in s) n = { t: 'lazy', node: undefined, shape: s };
  else if ('a' in s) n = { t: 'arr', item: compile(s.a) };
  else if ('m' in s) n = { t: 'map', value: compile(s.m) };
  else {
    const fields = new Map<string, Node>();
    n = { t: 'obj', fields };
    compiled.set(s, n);
    for (const k of Object.keys(s.o)) fields.set(k, compile(s.o[k] as Shape));
    return n;
  }
  compiled.set(s, n);
  return n;
}

/** Whether `v` (a string or number) parses as a quantity. */
function isQuantity(v: string | number): boolean {
  try {
    parseQuantity(v);
    return true;
  } catch {
    return false;
  }
}

/** Whether the leaf check of `v` against `s` reports nothing (mirrors {@link leaf}). */
function validLeaf(v: unknown, s: Leaf): boolean {
  switch (s) {
    case 'any':
      return true;
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'number':
      return typeof v === 'number';
    case 'int32':
      return typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX;
    case 'int64':
      return typeof v === 'number' && Number.isSafeInteger(v);
    case 'intstr':
      return (
        typeof v === 'string' ||
        (typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX)
      );
    case 'quantity':
      return (typeof v === 'string' || typeof v === 'number') && isQuantity(v);
  }
}

/** Whether checking `v` against `n` reports no error. */
function valid(v: unknown, n: Node): boolean {
  if (v === undefined || v === null) return true;
  switch (n.t) {
    case 'leaf':
      return validLeaf(v, n.leaf);
    case 'lazy':
      n.node ??= compile(n.shape.lazy());
      return valid(v, n.node);
    case 'arr': {
      if (!Array.isArray(v)) return false;
      for (let i = 0; i < v.length; i++) if (!valid(v[i], n.item)) return false;
      return true;
    }
    case 'map': {
      if (!isObj(v)) return false;
      for (const k in v) if (Object.hasOwn(v, k) && !valid(v[k], n.value)) return false;
      return true;
    }
    case 'obj': {
      if (!isObj(v)) return false;
      const fields = n.fields;
      for (const k in v) {
        const f = fields.get(k);
        if (f !== undefined && Object.hasOwn(v, k) && !valid(v[k], f)) return false;
      }
      return true;
    }
  }
}

// ---- the reporting walk --------------------------------------------------------------------------

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

/**
 * Appends the type errors of `v` against `s` at `path`: in the order of the shape's fields (for
 * objects), of the elements (arrays) and of the keys (maps); nothing when `v` is well typed.
 */
export function checkShape(v: unknown, s: Shape, path: FieldPath, errs: FieldError[]): void {
  if (valid(v, compile(s))) return;
  report(v, s, path, errs);
}

/** The errors of a value known to have some: the walk that builds paths. */
function report(v: unknown, s: Shape, path: FieldPath, errs: FieldError[]): void {
  if (v === undefined || v === null) return;
  if (typeof s === 'string') {
    leaf(v, s, path, errs);
    return;
  }
  if ('lazy' in s) {
    report(v, s.lazy(), path, errs);
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
