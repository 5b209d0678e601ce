/**
 * Field paths and field sets as server-side apply tracks them (sigs.k8s.io/structured-merge-diff
 * `fieldpath`): a path is a list of elements (a field name, a list item's key fields, a set item's
 * value, an index); a {@link FieldSet} is a trie of paths; `FieldsV1` is its JSON form in
 * `metadata.managedFields` (`{"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:image":{}}}}}`).
 *
 * Ordering, serialisation and the text of paths in conflict messages follow the Go implementation:
 * fields sort before keys, keys before values, values before indexes; `.` comes first in a node that
 * is both a member and a parent; conflict paths print as `.spec.containers[name="a"].image`.
 */
import { compareStrings } from '../../util/strings.ts';
import type { Json } from '../patch/json.ts';
import { isObject } from '../patch/json.ts';

/** One step of a path. */
export type PathElement =
  | { readonly kind: 'field'; readonly name: string }
  /** A list-map item, by its key fields (sorted by name). */
  | { readonly kind: 'key'; readonly fields: readonly (readonly [string, Json])[] }
  /** A set item, by its value. */
  | { readonly kind: 'value'; readonly value: Json }
  | { readonly kind: 'index'; readonly index: number };

export type Path = readonly PathElement[];

export const fieldPE = (name: string): PathElement => ({ kind: 'field', name });

/** A list-map key element; fields are sorted by name as Go sorts a FieldList. */
export function keyPE(fields: Iterable<readonly [string, Json]>): PathElement {
  const sorted = [...fields].sort((a, b) => compareStrings(a[0], b[0]));
  return { kind: 'key', fields: sorted };
}

export const valuePE = (value: Json): PathElement => ({ kind: 'value', value });
export const indexPE = (index: number): PathElement => ({ kind: 'index', index });

/** A path made of field names: `fieldPath('metadata', 'name')`. */
export function fieldPath(...names: string[]): Path {
  return names.map(fieldPE);
}

// ---------------------------------------------------------------------------------------------
// Ordering (Go's strings.Compare on UTF-8 bytes = code point order; value.Compare across types)

function typeRank(v: Json): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null) return 4;
  return 5;
}

/** value.Compare: numbers < strings < booleans < lists < maps < null. */
export function compareValues(a: Json, b: Json): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i] as Json, b[i] as Json);
      if (c !== 0) return c;
    }
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).sort(compareStrings);
    const kb = Object.keys(b).sort(compareStrings);
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      const c = compareStrings(ka[i] as string, kb[i] as string);
      if (c !== 0) return c;
      const d = compareValues(a[ka[i] as string] as Json, b[kb[i] as string] as Json);
      if (d !== 0) return d;
    }
    return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
  }
  return 0;
}

const kindRank = { field: 0, key: 1, value: 2, index: 3 } as const;

/** PathElement.Compare. */
export function comparePE(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return kindRank[a.kind] < kindRank[b.kind] ? -1 : 1;
  switch (a.kind) {
    case 'field':
      return compareStrings(a.name, (b as typeof a).name);
    case 'key': {
      const bf = (b as typeof a).fields;
      for (let i = 0; ; i++) {
        if (i >= a.fields.length && i >= bf.length) return 0;
        if (i >= a.fields.length) return -1;
        if (i >= bf.length) return 1;
        const [an, av] = a.fields[i] as readonly [string, Json];
        const [bn, bv] = bf[i] as readonly [string, Json];
        const c = compareStrings(an, bn);
        if (c !== 0) return c;
        const d = compareValues(av, bv);
        if (d !== 0) return d;
      }
    }
    case 'value':
      return compareValues(a.value, (b as typeof a).value);
    case 'index': {
      const bi = (b as typeof a).index;
      return a.index < bi ? -1 : a.index > bi ? 1 : 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Text forms

/** JSON as Go's encoders write it: sorted object keys, `<`, `>`, `&`, U+2028/9 escaped. */
export function goJson(v: Json): string {
  // Scalars (most calls: names and key values) need no key sorting, and mostly no escaping.
  const json = typeof v === 'object' && v !== null ? JSON.stringify(sortKeys(v)) : JSON.stringify(v);
  return GO_ESCAPED.test(json) ? json.replace(GO_ESCAPED_ALL, goEscape) : json;
}

const GO_ESCAPED = /[<>&\u2028\u2029]/;
const GO_ESCAPED_ALL = /[<>&\u2028\u2029]/g;
const goEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v)) {
    const out: Record<string, Json> = {};
    for (const k of Object.keys(v).sort(compareStrings)) out[k] = sortKeys(v[k] as Json);
    return out;
  }
  return v;
}

/** Go's %q (strconv.Quote) for the strings in conflict paths. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (cp === 7) out += '\\a';
    else if (cp === 8) out += '\\b';
    else if (cp === 12) out += '\\f';
    else if (cp === 10) out += '\\n';
    else if (cp === 13) out += '\\r';
    else if (cp === 9) out += '\\t';
    else if (cp === 11) out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0x80 && cp < 0xa0) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** value.ToString, as used in path strings. */
function valueText(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(valueText).join(',')}]`;
  return Object.keys(v)
    .map((k) => `${k}=${valueText(v[k] as Json)}`)
    .join('');
}

/** PathElement.String: `.name`, `[name="a",port=80]`, `[="x"]`, `[0]`. */
export function peString(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `.${pe.name}`;
    case 'key':
      return `[${pe.fields.map(([n, v]) => `${n}=${valueText(v)}`).join(',')}]`;
    case 'value':
      return `[=${valueText(pe.value)}]`;
    case 'index':
      return `[${pe.index}]`;
  }
}

/** Path.String, as in conflict messages and status causes. */
export function pathString(path: Path): string {
  return path.map(peString).join('');
}

/** The FieldsV1 key of an element: `f:name`, `k:{"name":"a"}`, `v:"x"`, `i:0`. */
export function serializePE(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return `f:${pe.name}`;
    case 'key':
      return `k:{${pe.fields.map(([n, v]) => `${goJson(n)}:${goJson(v)}`).join(',')}}`;
    case 'value':
      return `v:${goJson(pe.value)}`;
    case 'index':
      return `i:${pe.index}`;
  }
}

/** Error for a FieldsV1 document that cannot be read. */
export class FieldsV1Error extends Error {
  override name = 'FieldsV1Error';
}

/** Parses a FieldsV1 key; `undefined` for an unknown element type (dropped, as Go drops them). */
export function deserializePE(s: string): PathElement | undefined {
  if (s.length < 2) throw new FieldsV1Error('key must be 2 characters long:');
  if (s[1] !== ':') throw new FieldsV1Error(`missing colon: ${s}`);
  const body = s.slice(2);
  switch (s[0]) {
    case 'f':
      return fieldPE(body);
    case 'v':
      return valuePE(parseJsonText(body));
    case 'k': {
      const obj = parseJsonText(body);
      if (!isObject(obj)) throw new FieldsV1Error(`key is not a JSON object: ${body}`);
      return keyPE(Object.entries(obj));
    }
    case 'i': {
      if (!/^[+-]?\d+$/.test(body))
        throw new FieldsV1Error(`strconv.Atoi: parsing "${body}": invalid syntax`);
      return indexPE(Number(body));
    }
    default:
      return undefined;
  }
}

function parseJsonText(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new FieldsV1Error((err as Error).message);
  }
}

// ---------------------------------------------------------------------------------------------
// Sets

interface Member {
  readonly pe: PathElement;
}
interface Child {
  readonly pe: PathElement;
  readonly set: FieldSet;
}

/**
 * A set of paths, as a trie: `members` are paths that end here, `children` lead deeper. A node can be
 * both (a list item owned as a whole and some of its fields). Sets are immutable once built, except
 * through {@link FieldSet.insert} while building.
 */
export class FieldSet {
  readonly #members = new Map<string, Member>();
  readonly #children = new Map<string, Child>();

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds a path (a no-op for the empty path). */
  insert(path: Path): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    for (let i = 0; i < path.length - 1; i++) {
      const pe = path[i] as PathElement;
      node = node.#descend(pe, serializePE(pe));
    }
    const last = path[path.length - 1] as PathElement;
    const k = serializePE(last);
    if (!node.#members.has(k)) node.#members.set(k, { pe: last });
  }

  /**
   * For building a set level by level (see {@link FieldSetCursor}): the set under `pe`, made if
   * missing; `key` is serializePE(pe).
   */
  descendKeyed(pe: PathElement, key: string): FieldSet {
    return this.#descend(pe, key);
  }

  /** For building a set level by level: adds `pe` as a member here; `key` is serializePE(pe). */
  addMemberKeyed(pe: PathElement, key: string): void {
    this.#addMember(pe, key);
  }

  #descend(pe: PathElement, k: string): FieldSet {
    let c = this.#children.get(k);
    if (!c) {
      c = { pe, set: new FieldSet() };
      this.#children.set(k, c);
    }
    return c.set;
  }

  #addMember(pe: PathElement, key = serializePE(pe)): void {
    if (!this.#members.has(key)) this.#members.set(key, { pe });
  }

  #addChild(pe: PathElement, set: FieldSet, key = serializePE(pe)): void {
    if (!set.empty()) this.#children.set(key, { pe, set });
  }

  /** True when no path is in the set. */
  empty(): boolean {
    if (this.#members.size > 0) return false;
    for (const c of this.#children.values()) if (!c.set.empty()) return false;
    return true;
  }

  /** Whether `path` is a member. */
  has(path: Path): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1; i++) {
      node = node.#children.get(serializePE(path[i] as PathElement))?.set;
      if (!node) return false;
    }
    return node.#members.has(serializePE(path[path.length - 1] as PathElement));
  }

  /** Whether the element is a member at this level. */
  hasMember(pe: PathElement): boolean {
    return this.#members.has(serializePE(pe));
  }

  /** The paths under `pe` (relative to it), or an empty set. */
  withPrefix(pe: PathElement): FieldSet {
    return this.#children.get(serializePE(pe))?.set ?? EMPTY;
  }

  /** Paths in this set or `other`. */
  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, m] of this.#members) out.#addMember(m.pe, k);
    for (const [k, m] of other.#members) out.#addMember(m.pe, k);
    for (const [k, c] of this.#children) {
      const o = other.#children.get(k);
      out.#addChild(c.pe, o ? c.set.union(o.set) : c.set, k);
    }
    for (const [k, c] of other.#children) if (!this.#children.has(k)) out.#addChild(c.pe, c.set, k);
    return out;
  }

  /** Paths in both sets. */
  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, m] of this.#members) if (other.#members.has(k)) out.#addMember(m.pe, k);
    for (const [k, c] of this.#children) {
      const o = other.#children.get(k);
      if (o) out.#addChild(c.pe, c.set.intersection(o.set), k);
    }
    return out;
  }

  /** Paths in this set and not in `other` (a member of `other` does not remove paths below it). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, m] of this.#members) if (!other.#members.has(k)) out.#addMember(m.pe, k);
    for (const [k, c] of this.#children) {
      const o = other.#children.get(k);
      out.#addChild(c.pe, o ? c.set.difference(o.set) : c.set, k);
    }
    return out;
  }

  /** Like {@link difference}, but a member of `other` also removes every path below it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, m] of this.#members) if (!other.#members.has(k)) out.#addMember(m.pe, k);
    for (const [k, c] of this.#children) {
      if (other.#members.has(k)) continue;
      const o = other.#children.get(k);
      out.#addChild(c.pe, o ? c.set.recursiveDifference(o.set) : c.set, k);
    }
    return out;
  }

  /**
   * EnsureNamedFieldsAreMembers: also owns every named (struct) field that has something owned below
   * it, so that removing the set removes those fields when nothing else keeps them.
   * `isNamed(ctx, name)` says whether `name` is a named field of the object at `ctx`;
   * `descend(ctx, pe)` gives the context of a child.
   */
  ensureNamedFieldsAreMembers<C>(
    ctx: C,
    isNamed: (ctx: C, name: string) => boolean,
    descend: (ctx: C, pe: PathElement) => C,
  ): FieldSet {
    const out = new FieldSet();
    for (const [k, m] of this.#members) out.#addMember(m.pe, k);
    for (const [k, c] of this.#children) {
      if (c.pe.kind === 'field' && isNamed(ctx, c.pe.name) && !c.set.empty()) out.#addMember(c.pe, k);
      out.#addChild(c.pe, c.set.ensureNamedFieldsAreMembers(descend(ctx, c.pe), isNamed, descend), k);
    }
    return out;
  }

  /** Every member path: at each level members first, then children, each in element order (Set.Iterate). */
  paths(): Path[] {
    const out: Path[] = [];
    const walk = (s: FieldSet, prefix: PathElement[]) => {
      for (const m of sortedByPE([...s.#members.values()])) out.push([...prefix, m.pe]);
      for (const c of sortedByPE([...s.#children.values()])) walk(c.set, [...prefix, c.pe]);
    };
    walk(this, []);
    return out;
  }

  /** Number of member paths. */
  size(): number {
    let n = this.#members.size;
    for (const c of this.#children.values()) n += c.set.size();
    return n;
  }

  /** The set in FieldsV1 form (an object; `{}` for the empty set). */
  toFieldsV1(): Record<string, unknown> {
    return this.#emit(false);
  }

  #emit(includeSelf: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    // Entries with their keys (serializePE of their element), which the maps are keyed by.
    const members = sortedEntries([...this.#members]);
    const children = sortedEntries([...this.#children].filter(([, c]) => !c.set.empty()));
    if (includeSelf && (members.length > 0 || children.length > 0)) out['.'] = {};
    let mi = 0;
    let ci = 0;
    while (mi < members.length || ci < children.length) {
      const m = members[mi];
      const c = children[ci];
      const order = m && c ? comparePE(m[1].pe, c[1].pe) : m ? -1 : 1;
      if (order < 0 && m) {
        out[m[0]] = {};
        mi++;
      } else if (order > 0 && c) {
        out[c[0]] = c[1].set.#emit(false);
        ci++;
      } else if (m && c) {
        out[c[0]] = c[1].set.#emit(true);
        mi++;
        ci++;
      }
    }
    return out;
  }

  /** Reads a FieldsV1 object. Throws {@link FieldsV1Error} on malformed input. */
  static fromFieldsV1(v: unknown): FieldSet {
    if (!isObject(v as Json)) throw new FieldsV1Error('FieldsV1 must be a JSON object');
    return FieldSet.#read(v as Record<string, unknown>).children ?? new FieldSet();
  }

  /** readIterV1: a node's children (if any) and whether the node itself is a member. */
  static #read(obj: Record<string, unknown>): { children: FieldSet | undefined; isMember: boolean } {
    let children: FieldSet | undefined;
    let isMember = false;
    for (const [key, val] of Object.entries(obj)) {
      if (key === '.') {
        isMember = true;
        continue;
      }
      const pe = deserializePE(key);
      if (!pe) continue;
      if (!isObject(val as Json)) throw new FieldsV1Error(`expected an object under ${JSON.stringify(key)}`);
      const child = FieldSet.#read(val as Record<string, unknown>);
      children ??= new FieldSet();
      const k = serializePE(pe);
      if (child.isMember) children.#addMember(pe, k);
      if (child.children) {
        const existing = children.#children.get(k);
        children.#addChild(pe, existing ? existing.set.union(child.children) : child.children, k);
      }
    }
    return { children, isMember: isMember || !children };
  }
}

const EMPTY = new FieldSet();

/**
 * Inserts into `set` paths that a depth-first walk visits, keeping the nodes of the current path so
 * that each insert only descends from where the last one left off. The walk keeps `path` and `keys`
 * (serializePE of each element) as stacks and calls {@link truncate} whenever it pops them.
 */
export class FieldSetCursor {
  readonly set: FieldSet;
  /** nodes[i]: the set's node for the path's first i elements (as far as made). */
  readonly #nodes: FieldSet[];

  constructor(set: FieldSet) {
    this.set = set;
    this.#nodes = [set];
  }

  /** Adds the path (a no-op when empty). */
  insert(path: readonly PathElement[], keys: readonly string[]): void {
    const d = path.length;
    if (d === 0) return;
    const nodes = this.#nodes;
    let n = nodes.length - 1;
    while (n < d - 1) {
      nodes.push((nodes[n] as FieldSet).descendKeyed(path[n] as PathElement, keys[n] as string));
      n++;
    }
    (nodes[d - 1] as FieldSet).addMemberKeyed(path[d - 1] as PathElement, keys[d - 1] as string);
  }

  /** Forgets the nodes below a path of `length` elements (the walk went back up to it). */
  truncate(length: number): void {
    if (this.#nodes.length > length + 1) this.#nodes.length = length + 1;
  }
}

function sortedByPE<T extends { pe: PathElement }>(xs: T[]): T[] {
  return xs.sort((a, b) => comparePE(a.pe, b.pe));
}

function sortedEntries<T extends { pe: PathElement }>(xs: [string, T][]): [string, T][] {
  return xs.length < 2 ? xs : xs.sort((a, b) => comparePE(a[1].pe, b[1].pe));
}
