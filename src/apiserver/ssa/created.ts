/**
 * The create shortcut of field tracking: the FieldsV1 of what a create adds, built in one walk of the
 * new object, equal to what the general path gets from
 * `compare({}, obj).added ∪ modified`, minus the reset (ignored) fields, minus the metadata fields
 * nobody owns, encoded with `FieldSet.toFieldsV1()`, but without building field sets and comparing
 * against an empty object.
 *
 * How `compare({}, obj)` sees a create (see typed.ts): the old side of every field is absent, except
 * where the schema declares a zero value ({@link SsaSchema.zeroFields}: `spec: {}`, a pod's
 * `containers: []`), which the old side holds wherever its parent exists on both sides. So the walk
 * has two modes:
 *
 * - **added** (old side absent): the value is a member, and so is everything below it: scalars, empty
 *   or atomic lists and objects, lists that cannot be keyed or hold duplicate keys are leaves; a
 *   granular object or keyed list is a member *and* is walked into (an object's own keys, then its
 *   zero fields it lacks, which are added as they are).
 * - **from zero** (old side an empty `{}`/`[]`, new side different): a kind mismatch or an atomic or
 *   unkeyable value is a (modified) member; otherwise the node is not a member and its entries are
 *   walked: an entry with a zero value of its own continues "from zero", any other one is added.
 *   The root is walked this way (old side `{}`), and is never a member itself.
 *
 * A zero value that is not an empty container is not handled here: {@link createdFieldsV1} returns
 * `undefined` (declines), and the caller takes the general path.
 */

import { compareStrings } from '../../util/strings.ts';
import type { Json, JsonObject } from '../patch/json.ts';
import { isObject, jsonEqual } from '../patch/json.ts';
import { comparePE } from './fieldpath.ts';
import type { SsaSchema } from './schema.ts';
import { indexList } from './typed.ts';

/** A FieldsV1 node: `{}` for a member leaf, `{".": {}, ...}` for a member with entries below. */
export type FieldsV1 = Record<string, unknown>;

/**
 * A set of field-name paths as a trie, for walking alongside an object: `member` is whether the path
 * ending here is in the set; `children` lead to longer paths, by field name.
 */
export interface FieldTrie {
  readonly member: boolean;
  readonly children: ReadonlyMap<string, FieldTrie>;
}

/** The trie of `paths` (each a list of field names; empty paths are left out, as FieldSet.insert does). */
export function fieldTrie(paths: readonly (readonly string[])[]): FieldTrie {
  type Node = { member: boolean; children: Map<string, Node> };
  const root: Node = { member: false, children: new Map() };
  for (const p of paths) {
    if (p.length === 0) continue;
    let n = root;
    for (const name of p) {
      let c = n.children.get(name);
      if (!c) {
        c = { member: false, children: new Map() };
        n.children.set(name, c);
      }
      n = c;
    }
    n.member = true;
  }
  return root;
}

/** Thrown inside the walk when it meets a zero value it does not handle; caught by {@link createdFieldsV1}. */
class Declined extends Error {}

/** What is left out at one place of the walk: `ignored` with everything below it, `strip` only itself. */
interface Leave {
  /** Reset fields (recursive: a member removes its whole subtree). */
  readonly ignored: FieldTrie | undefined;
  /** Metadata fields nobody owns (not recursive: a member only stops the node being a member). */
  readonly strip: FieldTrie | undefined;
}

const NOTHING: Leave = { ignored: undefined, strip: undefined };

/** The {@link Leave} of field `name` below `leave`, or `null` when the field is ignored as a whole. */
function leaveField(leave: Leave, name: string): Leave | null {
  if (leave === NOTHING) return NOTHING;
  const ignored = leave.ignored?.children.get(name);
  if (ignored?.member) return null;
  const strip = leave.strip?.children.get(name);
  return ignored || strip ? { ignored, strip } : NOTHING;
}

/**
 * `f:name` keys, made once per field name: a property key must be a flat, internalized string,
 * which a fresh concatenation is not.
 */
const fieldKeys = new Map<string, string>();

function fieldKey(name: string): string {
  let k = fieldKeys.get(name);
  if (k === undefined) {
    k = `f:${name}`;
    // Bounded: map keys (labels, data) are unbounded, so only the first names seen are kept.
    if (fieldKeys.size < 4096) fieldKeys.set(name, k);
  }
  return k;
}

/** Finishes a node: `out` holds `'.'` first when `member`, then `n` entries. */
function finish(out: FieldsV1, member: boolean, n: number): FieldsV1 | undefined {
  if (n > 0) return out;
  return member ? {} : undefined;
}

function kindOf(v: Json): 'list' | 'object' | 'scalar' {
  return Array.isArray(v) ? 'list' : isObject(v) ? 'object' : 'scalar';
}

function isEmptyContainer(v: Json): boolean {
  return Array.isArray(v) ? v.length === 0 : isObject(v) && Object.keys(v).length === 0;
}

/** `keys` (those of `o`) and the zero fields `o` lacks, in FieldsV1 order (names sort byte-wise). */
function withZeroFields(keys: string[], o: JsonObject, zero: Readonly<Record<string, Json>>): string[] {
  for (const k of Object.keys(zero)) if (!Object.hasOwn(o, k)) keys.push(k);
  return keys.length < 2 ? keys : keys.sort(compareStrings);
}

/**
 * The FieldsV1 of a value the write added (old side absent) at a non-root place, or `undefined` when
 * nothing is left of it.
 */
function added(v: Json, s: SsaSchema, leave: Leave): FieldsV1 | undefined {
  const member = !leave.strip?.member;
  if (Array.isArray(v)) {
    if (v.length === 0 || s.listType() === 'atomic') return member ? {} : undefined;
    return listItems(v, s, member, member);
  }
  if (!isObject(v) || s.mapType() === 'atomic') return member ? {} : undefined;
  const own = Object.keys(v);
  if (own.length === 0) return member ? {} : undefined;
  const zero = s.zeroFields();
  const out: FieldsV1 = member ? { '.': {} } : {};
  let n = 0;
  for (const k of withZeroFields(own, v, zero)) {
    const l = leaveField(leave, k);
    if (l === null) continue;
    const child = Object.hasOwn(v, k) ? v[k] : zero[k];
    if (child === undefined) continue;
    const f = added(child, s.field(k), l);
    if (f !== undefined) {
      out[fieldKey(k)] = f;
      n++;
    }
  }
  return finish(out, member, n);
}

/**
 * The FieldsV1 of a non-empty granular list: its items, all added, in element order, under a node that
 * is a member or not; a list whose items cannot be keyed, or holds a key twice, is a leaf.
 */
function listItems(v: Json[], s: SsaSchema, member: boolean, leafMember: boolean): FieldsV1 | undefined {
  const idx = indexList(v, s);
  if (!idx || idx.duplicates.length > 0) return leafMember ? {} : undefined;
  const items = idx.order.length < 2 ? idx.order : idx.order.sort((a, b) => comparePE(a.pe, b.pe));
  const out: FieldsV1 = member ? { '.': {} } : {};
  const item = s.item();
  for (const x of items) out[x.key] = added(x.item, item, NOTHING);
  return finish(out, member, items.length);
}

/**
 * The FieldsV1 of a place whose old side is the empty container `l` (a zero value, or the root's
 * `{}`) and whose new side `r` differs from it; `undefined` when nothing is owned there. `root`: the
 * place is the root, which is never a member.
 */
function fromZero(l: Json, r: Json, s: SsaSchema, leave: Leave, root: boolean): FieldsV1 | undefined {
  const member = !root && !leave.strip?.member;
  if (kindOf(l) !== kindOf(r)) return member ? {} : undefined;
  if (Array.isArray(r)) {
    if (s.listType() === 'atomic') return member ? {} : undefined;
    // Not a member (the old side has the list), but a (modified) leaf when its items cannot be keyed.
    return listItems(r, s, false, member);
  }
  const ro = r as JsonObject;
  if (s.mapType() === 'atomic') return member ? {} : undefined;
  // The zero fields `ro` lacks hold their zero value on both sides: unchanged.
  const keys = Object.keys(ro);
  if (keys.length > 1) keys.sort(compareStrings);
  const zero = s.zeroFields();
  const out: FieldsV1 = {};
  let n = 0;
  for (const k of keys) {
    const after = ro[k];
    if (after === undefined) continue;
    const l = leaveField(leave, k);
    if (l === null) continue;
    const before = Object.hasOwn(zero, k) ? zero[k] : undefined;
    let f: FieldsV1 | undefined;
    if (before === undefined) f = added(after, s.field(k), l);
    else if (jsonEqual(before, after)) continue;
    else if (typeof before !== 'object' || before === null) f = l.strip?.member ? undefined : {};
    else if (isEmptyContainer(before)) f = fromZero(before, after, s.field(k), l, false);
    else throw new Declined();
    if (f !== undefined) {
      out[fieldKey(k)] = f;
      n++;
    }
  }
  return n > 0 ? out : undefined;
}

/**
 * The FieldsV1 a create of `obj` records for its manager (the fields it sets, less the `ignored`
 * paths and everything below them, less the `strip` paths themselves): `{}` when it sets none, or
 * `undefined` when the schema has a zero value this shortcut does not handle (use the general path).
 * `obj` is read only; values that are `undefined` read as absent.
 */
export function createdFieldsV1(
  obj: JsonObject,
  s: SsaSchema,
  ignored: FieldTrie | undefined,
  strip: FieldTrie,
): FieldsV1 | undefined {
  const root: Json = {};
  if (jsonEqual(root, obj)) return {};
  try {
    return fromZero(root, obj, s, { ignored, strip }, true) ?? {};
  } catch (err) {
    if (err instanceof Declined) return undefined;
    throw err;
  }
}
