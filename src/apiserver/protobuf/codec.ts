/**
 * A schema-driven codec between the JSON form of Kubernetes objects and their protobuf messages.
 *
 * A {@link MessageDef} lists a message's fields with their upstream numbers and how each maps to
 * JSON. Encoding follows the rules of Kubernetes' generated marshalers, so the bytes match what a
 * Go client or apiserver writes: fields in ascending number order; a field backed by a Go value
 * (not a pointer) is always written, even when empty; map entries sorted by key.
 * Decoding follows Go's proto2 unmarshal, then encoding/json: unknown fields are skipped; a zero
 * value is left out of the JSON where the json tag says omitempty, and shown where it does not;
 * the types Kubernetes marshals by hand (Time, Quantity, IntOrString, RawExtension...) take
 * their JSON forms.
 */
import { Quantity } from '../../api/quantity.ts';
import { ProtobufDecodeError, ProtobufEncodeError } from './errors.ts';
import type { ScalarType, SpecialType } from './gen/table.ts';
import { formatGoDuration, parseGoDuration } from './goduration.ts';
import { Reader, WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT, Writer } from './wire.ts';

export type { ScalarType, SpecialType } from './gen/table.ts';

export type FieldType = ScalarType | SpecialType | MessageDef;

export interface FieldDef {
  no: number;
  /** The JSON key; unused for inline fields. */
  json: string;
  /** The field's type; a map's value type. */
  type: FieldType;
  /** A Go slice: repeated, a JSON array. */
  repeated?: boolean;
  /** A Go map with string keys: repeated {key=1, value=2} entries, a JSON object. */
  map?: boolean;
  /**
   * The Go field is a value, not a pointer, slice or map: it is written even when empty, and its
   * zero value shows in JSON unless `omitempty`. Pointer fields are written only when set and keep
   * their value in JSON, zero or not.
   */
  always?: boolean;
  /** The json tag has omitempty: a zero value (or an empty slice) is left out of the JSON. */
  omitempty?: boolean;
  /** The json tag has omitzero: a zero struct is left out (taken as: one whose JSON is `{}`). */
  omitzero?: boolean;
  /** An embedded `json:",inline"` struct: a nested message whose fields JSON shows in the parent. */
  inline?: boolean;
}

/** A message whose JSON form is not an object of its fields (the apiextensions unions). */
export interface JsonAdapter {
  /** From the decoded fields (keyed by their json names) to the JSON value. */
  toJson(fields: Json, where: string): unknown;
  /** From the JSON value to the fields to encode. */
  fromJson(value: unknown, where: string): Json;
}

export interface MessageDef {
  name: string;
  /** Sorted by field number. */
  fields: readonly FieldDef[];
  byNo: ReadonlyMap<number, FieldDef>;
  adapter?: JsonAdapter;
}

/** Defines a message; fields may be given in any order. */
export function message(name: string, fields: FieldDef[], adapter?: JsonAdapter): MessageDef {
  const sorted = [...fields].sort((a, b) => a.no - b.no);
  const def: MessageDef = { name, fields: sorted, byNo: new Map(sorted.map((f) => [f.no, f])) };
  if (adapter) def.adapter = adapter;
  return def;
}

export type Json = Record<string, unknown>;

/** Sets an own property, even for keys like `__proto__` that plain assignment would not. */
function setOwn(obj: Json, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

function wireTypeOf(type: FieldType): number {
  switch (type) {
    case 'bool':
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64':
      return WIRE_VARINT;
    case 'double':
      return WIRE_FIXED64;
    case 'float':
      return WIRE_FIXED32;
    default:
      return WIRE_BYTES;
  }
}

const SCALARS = new Set<unknown>([
  'string',
  'bool',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'double',
  'float',
  'bytes',
]);

/** The JSON zero of a scalar type. */
function scalarZero(type: FieldType): unknown {
  switch (type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** The zero instant of Go's time.Time (0001-01-01T00:00:00Z): Go treats it as "no time". */
const GO_ZERO_TIME_SECONDS = -62135596800n;
const MAX_RFC3339_SECONDS = 253402300799n; // 9999-12-31T23:59:59Z

/** Reads a message of varint fields only, by number (Time, MicroTime, Duration, IntOrString's ints). */
function readTimestamp(data: Uint8Array, where: string): { seconds: bigint; nanos: number } {
  let seconds = 0n;
  let nanos = 0;
  const r = new Reader(data);
  while (!r.done) {
    const [no, wt] = r.tag();
    if (no !== 1 && no !== 2) {
      r.skip(wt);
      continue;
    }
    if (wt !== WIRE_VARINT) throw new ProtobufDecodeError(`${where}: wrong wire type ${wt} for a time field`);
    const v = r.varint64();
    if (no === 1) seconds = BigInt.asIntN(64, v);
    else nanos = Number(BigInt.asIntN(32, v));
  }
  return { seconds, nanos };
}

/** metav1.Time (seconds precision) or MicroTime (microseconds) in RFC 3339, UTC; null for Go's zero time. */
function decodeTime(data: Uint8Array, micro: boolean, where: string): string | null {
  const { seconds, nanos } = readTimestamp(data, where);
  if (seconds === GO_ZERO_TIME_SECONDS && nanos === 0) return null;
  if (data.length === 0) return null;
  if (seconds < GO_ZERO_TIME_SECONDS || seconds > MAX_RFC3339_SECONDS || nanos < 0 || nanos > 999_999_999) {
    throw new ProtobufDecodeError(`${where}: time ${seconds}s ${nanos}ns is outside the years 1 to 9999`);
  }
  const iso = new Date(Number(seconds) * 1000).toISOString(); // 1970-01-01T00:00:00.000Z
  const base = iso.slice(0, 19);
  if (!micro) return `${base}Z`;
  return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

function decodeDuration(data: Uint8Array, where: string): string {
  let nanos = 0n;
  const r = new Reader(data);
  while (!r.done) {
    const [no, wt] = r.tag();
    if (no !== 1) {
      r.skip(wt);
      continue;
    }
    if (wt !== WIRE_VARINT) throw new ProtobufDecodeError(`${where}: wrong wire type ${wt} for Duration`);
    nanos = BigInt.asIntN(64, r.varint64());
  }
  return formatGoDuration(nanos);
}

/** The bytes of field 1 of a {raw=1}-style message, or undefined when absent. */
function readRaw(data: Uint8Array, where: string): Uint8Array | undefined {
  let raw: Uint8Array | undefined;
  const r = new Reader(data);
  while (!r.done) {
    const [no, wt] = r.tag();
    if (no !== 1) {
      r.skip(wt);
      continue;
    }
    if (wt !== WIRE_BYTES) throw new ProtobufDecodeError(`${where}: wrong wire type ${wt} for field 1`);
    raw = r.bytes();
  }
  return raw;
}

const utf8Decoder = new TextDecoder('utf-8');

/** Embedded JSON text (RawExtension, apiextensions JSON, FieldsV1) as a JSON value; null when empty. */
function decodeEmbeddedJson(data: Uint8Array, where: string): unknown {
  const raw = readRaw(data, where);
  if (raw === undefined || raw.length === 0) return null;
  try {
    return JSON.parse(utf8Decoder.decode(raw));
  } catch {
    throw new ProtobufDecodeError(`${where}: the embedded object is not valid JSON`);
  }
}

function decodeQuantity(data: Uint8Array, where: string): string {
  let text: string | undefined;
  const r = new Reader(data);
  while (!r.done) {
    const [no, wt] = r.tag();
    if (no !== 1) {
      r.skip(wt);
      continue;
    }
    if (wt !== WIRE_BYTES) throw new ProtobufDecodeError(`${where}: wrong wire type ${wt} for Quantity`);
    text = r.string();
  }
  if (text === undefined) return '0';
  try {
    return Quantity.parse(text).toString();
  } catch (err) {
    throw new ProtobufDecodeError(`${where}: ${(err as Error).message}`);
  }
}

function decodeIntOrString(data: Uint8Array, where: string): number | string {
  let type = 0n;
  let intVal = 0;
  let strVal = '';
  const r = new Reader(data);
  while (!r.done) {
    const [no, wt] = r.tag();
    if (no < 1 || no > 3) {
      r.skip(wt);
      continue;
    }
    const want = no === 3 ? WIRE_BYTES : WIRE_VARINT;
    if (wt !== want)
      throw new ProtobufDecodeError(`${where}: wrong wire type ${wt} for IntOrString field ${no}`);
    if (no === 1) type = BigInt.asIntN(64, r.varint64());
    else if (no === 2) intVal = Number(BigInt.asIntN(32, r.varint64()));
    else strVal = r.string();
  }
  if (type === 0n) return intVal;
  if (type === 1n) return strVal;
  throw new ProtobufDecodeError(`${where}: IntOrString type ${type} is neither 0 (int) nor 1 (string)`);
}

/** One value of a non-message type whose tag has just been read with the right wire type. */
function decodeScalarOrSpecial(type: ScalarType | SpecialType, r: Reader, where: string): unknown {
  switch (type) {
    case 'string':
      return r.string();
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
    case 'bool':
      return r.varint64() !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint64()));
    case 'int64':
      return Number(BigInt.asIntN(64, r.varint64()));
    case 'uint32':
      return Number(BigInt.asUintN(32, r.varint64()));
    case 'uint64':
      return Number(r.varint64());
    case 'double':
      return r.double();
    case 'float':
      return r.float();
    case 'time':
      return decodeTime(r.bytes(), false, where);
    case 'microtime':
      return decodeTime(r.bytes(), true, where);
    case 'duration':
      return decodeDuration(r.bytes(), where);
    case 'quantity':
      return decodeQuantity(r.bytes(), where);
    case 'intOrString':
      return decodeIntOrString(r.bytes(), where);
    case 'rawExtension':
    case 'json':
    case 'fieldsV1':
      return decodeEmbeddedJson(r.bytes(), where);
  }
}

/** One value of any type; `merge` is an object to merge a message into (proto2 semantics). */
function decodeValue(type: FieldType, r: Reader, where: string, merge?: unknown): unknown {
  if (typeof type === 'string') return decodeScalarOrSpecial(type, r, where);
  const data = r.bytes();
  if (type.adapter) return type.adapter.toJson(decodeMessage(type, data, {}, where), where);
  const target = merge !== null && typeof merge === 'object' && !Array.isArray(merge) ? (merge as Json) : {};
  return decodeMessage(type, data, target, where);
}

/** The value a message or special type decodes to from no bytes at all (a map entry with no value). */
function zeroValue(type: FieldType, where: string): unknown {
  if (typeof type === 'string' && SCALARS.has(type)) return scalarZero(type);
  const r = new Reader(new Writer().bytes(new Uint8Array(0)).finish());
  return decodeValue(type, r, where);
}

function decodeMapEntry(f: FieldDef, data: Uint8Array, where: string): [string, unknown] {
  let key = '';
  let value: unknown;
  const r = new Reader(data);
  while (!r.done) {
    const [no, wt] = r.tag();
    if (no !== 1 && no !== 2) {
      r.skip(wt);
      continue;
    }
    const want = no === 1 ? WIRE_BYTES : wireTypeOf(f.type);
    if (wt !== want) throw new ProtobufDecodeError(`${where}: wrong wire type ${wt} in a map entry`);
    if (no === 1) key = r.string();
    else value = decodeValue(f.type, r, `${where}[${key}]`);
  }
  return [key, value === undefined ? zeroValue(f.type, `${where}[${key}]`) : value];
}

function isEmptyObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

/**
 * Applies encoding/json's view of zero values once a message's fields are decoded: null (Go's
 * zero Time, an empty RawExtension) is left out; a zero Go value is left out if omitempty and
 * shown if not; a nil slice without omitempty shows as [] (Go would print null).
 */
function finishJson(def: MessageDef, obj: Json): void {
  for (const f of def.fields) {
    if (f.inline) {
      finishJson(f.type as MessageDef, obj);
      continue;
    }
    const v = obj[f.json];
    if (v === null) {
      delete obj[f.json];
    } else if (f.repeated) {
      if (v === undefined && !f.omitempty) setOwn(obj, f.json, []);
    } else if (f.map) {
      // a nil map: left out (Go prints null without omitempty)
    } else if (f.omitzero && typeof f.type === 'object' && isEmptyObject(v)) {
      delete obj[f.json];
    } else if (f.type === 'bytes') {
      if (v === '' && f.omitempty) delete obj[f.json];
    } else if (f.always && SCALARS.has(f.type)) {
      if (v === undefined) {
        if (!f.omitempty) setOwn(obj, f.json, scalarZero(f.type));
      } else if (f.omitempty && isZero(v)) {
        delete obj[f.json];
      }
    }
  }
}

/**
 * Decodes one message into its JSON form. `into` receives the fields (proto merge semantics).
 * Inline fields decode into the same object.
 */
export function decodeMessage(def: MessageDef, data: Uint8Array, into: Json = {}, where = def.name): Json {
  if (++depth > MAX_DEPTH) {
    depth = 0;
    throw new ProtobufDecodeError(`${def.name}: messages nested more than ${MAX_DEPTH} deep`);
  }
  try {
    decodeFields(def, data, into, where);
  } finally {
    depth = Math.max(0, depth - 1);
  }
  finishJson(def, into);
  return into;
}

/**
 * How deep messages may nest (JSONSchemaProps can nest without end): a hostile body must get a
 * 400, not exhaust the stack. Real objects stay far below (a Pod is about 10 deep).
 */
const MAX_DEPTH = 256;
let depth = 0;

function decodeFields(def: MessageDef, data: Uint8Array, into: Json, where: string): void {
  const r = new Reader(data);
  while (!r.done) {
    const [no, wt] = r.tag();
    const f = def.byNo.get(no);
    if (!f) {
      r.skip(wt);
      continue;
    }
    const path = f.inline ? where : `${where}.${f.json}`;
    if (f.map) {
      if (wt !== WIRE_BYTES) throw new ProtobufDecodeError(`${path}: wrong wire type ${wt} for field ${no}`);
      const [k, v] = decodeMapEntry(f, r.bytes(), path);
      let map = into[f.json] as Json | undefined;
      if (map === undefined || map === null || typeof map !== 'object') {
        map = {};
        setOwn(into, f.json, map);
      }
      setOwn(map, k, v);
      continue;
    }
    if (f.inline) {
      if (wt !== WIRE_BYTES) throw new ProtobufDecodeError(`${path}: wrong wire type ${wt} for field ${no}`);
      decodeFields(f.type as MessageDef, r.bytes(), into, path);
      continue;
    }
    const want = wireTypeOf(f.type);
    if (f.repeated) {
      let list = into[f.json] as unknown[] | undefined;
      if (!Array.isArray(list)) {
        list = [];
        setOwn(into, f.json, list);
      }
      if (wt === WIRE_BYTES && want !== WIRE_BYTES) {
        // A packed repeated scalar: proto parsers accept it whatever the .proto says.
        const packed = new Reader(r.bytes());
        while (!packed.done) list.push(decodeValue(f.type, packed, path));
        continue;
      }
      if (wt !== want) throw new ProtobufDecodeError(`${path}: wrong wire type ${wt} for field ${no}`);
      list.push(decodeValue(f.type, r, `${path}[${list.length}]`));
      continue;
    }
    if (wt !== want) throw new ProtobufDecodeError(`${path}: wrong wire type ${wt} for field ${no}`);
    setOwn(into, f.json, decodeValue(f.type, r, path, into[f.json]));
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

const utf8 = new TextEncoder();

function fail(path: string, want: string, got: unknown): never {
  const shown = got === null ? 'null' : Array.isArray(got) ? 'array' : typeof got;
  throw new ProtobufEncodeError(`${path}: expected ${want}, got ${shown}`);
}

function asString(v: unknown, path: string): string {
  return typeof v === 'string' ? v : fail(path, 'a string', v);
}

function asInteger(v: unknown, path: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return fail(path, 'an integer', v);
}

function asNumber(v: unknown, path: string): number {
  return typeof v === 'number' ? v : fail(path, 'a number', v);
}

function asObject(v: unknown, path: string): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : fail(path, 'an object', v);
}

/** Byte-wise UTF-8 order, as Go's sort.Strings orders map keys. */
function compareKeys(a: string, b: string): number {
  // UTF-16 order equals UTF-8 byte order unless a surrogate pair meets U+E000..U+FFFF.
  if (/[\ud800-\uffff]/.test(a + b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** Time and MicroTime: {seconds=1, nanos=2}, or nothing for Go's zero time. */
function encodeTime(v: unknown, path: string): Uint8Array {
  const w = new Writer();
  if (v === undefined || v === null) return w.finish();
  const text = asString(v, path);
  const m = RFC3339.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : Number.NaN;
  if (Number.isNaN(ms))
    throw new ProtobufEncodeError(`${path}: ${JSON.stringify(v)} is not an RFC 3339 time`);
  const seconds = Math.floor(ms / 1000);
  if (BigInt(seconds) === GO_ZERO_TIME_SECONDS && !m?.[2]) return w.finish();
  w.tag(1, WIRE_VARINT).varint(seconds);
  w.tag(2, WIRE_VARINT).varint(Number((m?.[2] ?? '').padEnd(9, '0')));
  return w.finish();
}

function encodeDuration(v: unknown, path: string): Uint8Array {
  const nanos = v === undefined || v === null ? 0n : parseGoDuration(asString(v, path));
  if (nanos === undefined) throw new ProtobufEncodeError(`${path}: ${JSON.stringify(v)} is not a duration`);
  return new Writer().tag(1, WIRE_VARINT).varint(nanos).finish();
}

function encodeQuantity(v: unknown, path: string): Uint8Array {
  let text = '0';
  if (v !== undefined && v !== null) {
    if (typeof v !== 'string' && typeof v !== 'number') fail(path, 'a quantity', v);
    try {
      text = Quantity.parse(String(v)).toString();
    } catch (err) {
      throw new ProtobufEncodeError(`${path}: ${(err as Error).message}`);
    }
  }
  return new Writer().tag(1, WIRE_BYTES).string(text).finish();
}

function encodeIntOrString(v: unknown, path: string): Uint8Array {
  const w = new Writer();
  if (typeof v === 'string')
    return w
      .tag(1, WIRE_VARINT)
      .varint(1)
      .tag(2, WIRE_VARINT)
      .varint(0)
      .tag(3, WIRE_BYTES)
      .string(v)
      .finish();
  const n = v === undefined || v === null ? 0n : asInteger(v, path);
  return w.tag(1, WIRE_VARINT).varint(0).tag(2, WIRE_VARINT).varint(n).tag(3, WIRE_BYTES).string('').finish();
}

/** {raw=1} holding JSON text; nothing for null (Go's nil Raw). */
function encodeEmbeddedJson(v: unknown): Uint8Array {
  const w = new Writer();
  if (v !== undefined && v !== null) w.tag(1, WIRE_BYTES).bytes(utf8.encode(JSON.stringify(v)));
  return w.finish();
}

/** One value (with its tag) of a field; `v` undefined means the Go zero value. */
function encodeValue(w: Writer, no: number, type: FieldType, v: unknown, path: string): void {
  switch (type) {
    case 'string':
      w.tag(no, WIRE_BYTES).string(asString(v ?? '', path));
      return;
    case 'bytes':
      w.tag(no, WIRE_BYTES).bytes(Buffer.from(asString(v ?? '', path), 'base64'));
      return;
    case 'bool':
      if (typeof (v ?? false) !== 'boolean') fail(path, 'a boolean', v);
      w.tag(no, WIRE_VARINT).varint(v ? 1 : 0);
      return;
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64':
      w.tag(no, WIRE_VARINT).varint(asInteger(v ?? 0, path));
      return;
    case 'double':
      w.tag(no, WIRE_FIXED64).double(asNumber(v ?? 0, path));
      return;
    case 'float':
      w.tag(no, WIRE_FIXED32).float(asNumber(v ?? 0, path));
      return;
    case 'time':
    case 'microtime':
      w.tag(no, WIRE_BYTES).bytes(encodeTime(v, path));
      return;
    case 'duration':
      w.tag(no, WIRE_BYTES).bytes(encodeDuration(v, path));
      return;
    case 'quantity':
      w.tag(no, WIRE_BYTES).bytes(encodeQuantity(v, path));
      return;
    case 'intOrString':
      w.tag(no, WIRE_BYTES).bytes(encodeIntOrString(v, path));
      return;
    case 'rawExtension':
    case 'json':
    case 'fieldsV1':
      w.tag(no, WIRE_BYTES).bytes(encodeEmbeddedJson(v));
      return;
    default:
      w.tag(no, WIRE_BYTES).bytes(encodeMessage(type, v ?? (type.adapter ? undefined : {}), path));
  }
}

function encodeFields(w: Writer, def: MessageDef, obj: Json, where: string): void {
  for (const f of def.fields) {
    if (f.inline) {
      const inner = new Writer();
      encodeFields(inner, f.type as MessageDef, obj, where);
      w.tag(f.no, WIRE_BYTES).bytes(inner.finish());
      continue;
    }
    const v = obj[f.json];
    // Nothing to write: an unset pointer, slice or map.
    if ((v === undefined || v === null) && !(f.always && !f.map && !f.repeated)) continue;
    const path = `${where}.${f.json}`;
    if (f.map) {
      const map = asObject(v, path);
      for (const key of Object.keys(map).sort(compareKeys)) {
        const value = map[key];
        const entry = new Writer().tag(1, WIRE_BYTES).string(key);
        // Go writes a nil []byte value as no value at all; everything else is always written.
        if (!(f.type === 'bytes' && value === null)) encodeValue(entry, 2, f.type, value, `${path}[${key}]`);
        w.tag(f.no, WIRE_BYTES).bytes(entry.finish());
      }
    } else if (f.repeated) {
      if (!Array.isArray(v)) fail(path, 'an array', v);
      v.forEach((item, i) => {
        if (item === null && typeof f.type === 'string' && SCALARS.has(f.type))
          fail(`${path}[${i}]`, f.type, item);
        encodeValue(w, f.no, f.type, item, `${path}[${i}]`);
      });
    } else if (v !== undefined && v !== null) {
      encodeValue(w, f.no, f.type, v, path);
    } else if (f.always) {
      encodeValue(w, f.no, f.type, undefined, path);
    }
  }
}

/** Encodes the JSON form of a message. Keys the schema does not know are ignored. */
export function encodeMessage(def: MessageDef, value: unknown, where = def.name): Uint8Array {
  const obj = def.adapter ? def.adapter.fromJson(value, where) : asObject(value, where);
  const w = new Writer();
  encodeFields(w, def, obj, where);
  return w.finish();
}
