/**
 * A schema-driven codec between the JSON form of Kubernetes objects and their protobuf messages.
 *
 * A {@link MessageDef} lists a message's fields with their upstream numbers and how each maps to
 * JSON. Encoding follows the rules of Kubernetes' generated (gogo) marshalers, so the bytes match
 * what a Go client or apiserver writes: fields in ascending number order; a field backed by a Go
 * value (not a pointer) is always written, even when empty; map entries sorted by key.
 * Decoding follows Go's proto2 unmarshal, then JSON's `omitempty`: unknown fields are skipped, a
 * zero value of an always-written field is left out of the JSON.
 */
import { ProtobufDecodeError, ProtobufEncodeError } from './errors.ts';
import { Reader, WIRE_BYTES, WIRE_VARINT, Writer } from './wire.ts';

export type FieldType =
  | 'string'
  | 'int64'
  | 'int32'
  | 'bool'
  /** metav1.Time {seconds=1, nanos=2}; RFC 3339 (seconds precision, UTC) in JSON. */
  | 'time'
  /** metav1.FieldsV1 {Raw=1}; Raw is JSON text, embedded as a JSON value. */
  | 'fieldsV1'
  /** map<string, string>: repeated {key=1, value=2} entries; a JSON object. */
  | 'stringMap'
  /** map<string, bytes>: as stringMap, values base64 in JSON. */
  | 'bytesMap'
  | MessageDef;

export interface FieldDef {
  no: number;
  json: string;
  type: FieldType;
  repeated?: boolean;
  /**
   * The Go field is a value, not a pointer: it is written even when empty, and its zero value is
   * omitted from JSON (`omitempty`). Pointer fields (the default here) are written only when set
   * and keep their value in JSON, zero or not.
   */
  always?: boolean;
  /** JSON keeps the zero value (no `omitempty`), e.g. OwnerReference.name, a list's `items`. */
  keepZero?: boolean;
}

export interface MessageDef {
  name: string;
  /** Sorted by field number. */
  fields: readonly FieldDef[];
  byNo: ReadonlyMap<number, FieldDef>;
}

/** Defines a message; fields may be given in any order. */
export function message(name: string, fields: FieldDef[]): MessageDef {
  const sorted = [...fields].sort((a, b) => a.no - b.no);
  return { name, fields: sorted, byNo: new Map(sorted.map((f) => [f.no, f])) };
}

type Json = Record<string, unknown>;

/** Sets an own property, even for keys like `__proto__` that plain assignment would not. */
function setOwn(obj: Json, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

function wireTypeOf(type: FieldType): number {
  return type === 'int64' || type === 'int32' || type === 'bool' ? WIRE_VARINT : WIRE_BYTES;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** The zero instant of Go's time.Time (0001-01-01T00:00:00Z): Go treats it as "no time". */
const GO_ZERO_TIME_SECONDS = -62135596800n;
const MAX_RFC3339_SECONDS = 253402300799n; // 9999-12-31T23:59:59Z

function decodeTime(data: Uint8Array, where: string): string | null {
  let seconds = 0n;
  const r = new Reader(data);
  while (!r.done) {
    const [no, wt] = r.tag();
    if (no !== 1 && no !== 2) {
      r.skip(wt);
      continue;
    }
    if (wt !== WIRE_VARINT) throw new ProtobufDecodeError(`${where}: wrong wire type ${wt} for a Time field`);
    const v = r.varint64();
    if (no === 1) seconds = BigInt.asIntN(64, v); // nanos are dropped, as Kubernetes does
  }
  if (data.length === 0 || seconds === GO_ZERO_TIME_SECONDS) return null;
  if (seconds < GO_ZERO_TIME_SECONDS || seconds > MAX_RFC3339_SECONDS) {
    throw new ProtobufDecodeError(`${where}: time ${seconds}s is outside the years 1 to 9999`);
  }
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

function decodeFieldsV1(data: Uint8Array, where: string): unknown {
  let raw: Uint8Array | undefined;
  const r = new Reader(data);
  while (!r.done) {
    const [no, wt] = r.tag();
    if (no !== 1) {
      r.skip(wt);
      continue;
    }
    if (wt !== WIRE_BYTES) throw new ProtobufDecodeError(`${where}: wrong wire type ${wt} for FieldsV1.Raw`);
    raw = r.bytes();
  }
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw new ProtobufDecodeError(`${where}: FieldsV1 is not valid JSON`);
  }
}

function decodeMapEntry(data: Uint8Array, bytesValue: boolean, where: string): [string, string] {
  let key = '';
  let value = '';
  const r = new Reader(data);
  while (!r.done) {
    const [no, wt] = r.tag();
    if (no !== 1 && no !== 2) {
      r.skip(wt);
      continue;
    }
    if (wt !== WIRE_BYTES) throw new ProtobufDecodeError(`${where}: wrong wire type ${wt} in a map entry`);
    if (no === 1) key = r.string();
    else value = bytesValue ? Buffer.from(r.bytes()).toString('base64') : r.string();
  }
  return [key, value];
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false || v === null;
}

/** Decodes one message into its JSON form. `into` receives the fields (proto merge semantics). */
export function decodeMessage(def: MessageDef, data: Uint8Array, into: Json = {}, where = def.name): Json {
  const r = new Reader(data);
  while (!r.done) {
    const [no, wt] = r.tag();
    const f = def.byNo.get(no);
    if (!f) {
      r.skip(wt);
      continue;
    }
    const path = `${where}.${f.json}`;
    if (wt !== wireTypeOf(f.type)) {
      throw new ProtobufDecodeError(`${path}: wrong wire type ${wt} for field ${no}`);
    }
    let value: unknown;
    switch (f.type) {
      case 'string':
        value = r.string();
        break;
      case 'int64':
        value = Number(BigInt.asIntN(64, r.varint64()));
        break;
      case 'int32':
        value = Number(BigInt.asIntN(32, r.varint64()));
        break;
      case 'bool':
        value = r.varint64() !== 0n;
        break;
      case 'time':
        value = decodeTime(r.bytes(), path);
        break;
      case 'fieldsV1':
        value = decodeFieldsV1(r.bytes(), path);
        if (value === undefined) continue;
        break;
      case 'stringMap':
      case 'bytesMap': {
        const [k, v] = decodeMapEntry(r.bytes(), f.type === 'bytesMap', path);
        let map = into[f.json] as Json | undefined;
        if (map === undefined) {
          map = {};
          setOwn(into, f.json, map);
        }
        setOwn(map, k, v);
        continue;
      }
      default: {
        const sub = r.bytes();
        if (f.repeated) {
          value = decodeMessage(f.type, sub, {}, path);
        } else {
          const existing = into[f.json];
          const target = existing && typeof existing === 'object' ? (existing as Json) : {};
          value = decodeMessage(f.type, sub, target, path);
        }
      }
    }
    if (f.repeated) {
      let list = into[f.json] as unknown[] | undefined;
      if (list === undefined) {
        list = [];
        setOwn(into, f.json, list);
      }
      list.push(value);
    } else {
      setOwn(into, f.json, value);
    }
  }
  for (const f of def.fields) {
    const v = into[f.json];
    if (v === undefined) {
      if (f.keepZero && f.repeated) setOwn(into, f.json, []);
      else if (f.keepZero && f.type === 'string') setOwn(into, f.json, '');
    } else if (v === null || (f.always && !f.keepZero && isZero(v))) {
      delete into[f.json];
    }
  }
  return into;
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

function asObject(v: unknown, path: string): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : fail(path, 'an object', v);
}

/** Byte-wise UTF-8 order, as Go's sort.Strings orders map keys. */
function compareKeys(a: string, b: string): number {
  // UTF-16 order equals UTF-8 byte order unless a surrogate pair meets U+E000..U+FFFF.
  if (/[\ud800-\uffff]/.test(a + b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

function encodeTime(v: unknown, path: string): Uint8Array {
  const w = new Writer();
  if (v === undefined || v === null) return w.finish(); // Go's zero time: an empty message
  const ms = Date.parse(asString(v, path));
  if (Number.isNaN(ms))
    throw new ProtobufEncodeError(`${path}: ${JSON.stringify(v)} is not an RFC 3339 time`);
  w.tag(1, WIRE_VARINT).varint(Math.floor(ms / 1000));
  w.tag(2, WIRE_VARINT).varint(0);
  return w.finish();
}

function encodeValue(w: Writer, f: FieldDef, v: unknown, path: string): void {
  switch (f.type) {
    case 'string':
      w.tag(f.no, WIRE_BYTES).string(asString(v ?? '', path));
      return;
    case 'int64':
    case 'int32':
      w.tag(f.no, WIRE_VARINT).varint(asInteger(v ?? 0, path));
      return;
    case 'bool':
      if (typeof (v ?? false) !== 'boolean') fail(path, 'a boolean', v);
      w.tag(f.no, WIRE_VARINT).varint(v ? 1 : 0);
      return;
    case 'time':
      w.tag(f.no, WIRE_BYTES).bytes(encodeTime(v, path));
      return;
    case 'fieldsV1': {
      const inner = new Writer();
      if (v !== undefined) inner.tag(1, WIRE_BYTES).bytes(utf8.encode(JSON.stringify(v)));
      w.tag(f.no, WIRE_BYTES).bytes(inner.finish());
      return;
    }
    case 'stringMap':
    case 'bytesMap': {
      if (v === undefined || v === null) return;
      const map = asObject(v, path);
      for (const key of Object.keys(map).sort(compareKeys)) {
        const entry = new Writer().tag(1, WIRE_BYTES).string(key);
        const value = map[key];
        if (f.type === 'bytesMap') {
          entry.tag(2, WIRE_BYTES).bytes(Buffer.from(asString(value, `${path}[${key}]`), 'base64'));
        } else {
          entry.tag(2, WIRE_BYTES).string(asString(value, `${path}[${key}]`));
        }
        w.tag(f.no, WIRE_BYTES).bytes(entry.finish());
      }
      return;
    }
    default:
      w.tag(f.no, WIRE_BYTES).bytes(encodeMessage(f.type, v ?? {}, path));
  }
}

/** Encodes the JSON form of a message. Keys the schema does not know are ignored. */
export function encodeMessage(def: MessageDef, value: unknown, where = def.name): Uint8Array {
  const obj = asObject(value, where);
  const w = new Writer();
  for (const f of def.fields) {
    const path = `${where}.${f.json}`;
    const v = obj[f.json];
    if (f.repeated) {
      if (v === undefined || v === null) continue;
      if (!Array.isArray(v)) fail(path, 'an array', v);
      v.forEach((item, i) => {
        encodeValue(w, f, item, `${path}[${i}]`);
      });
    } else if (v !== undefined && v !== null) {
      encodeValue(w, f, v, path);
    } else if (f.always) {
      encodeValue(w, f, undefined, path);
    }
  }
  return w.finish();
}
