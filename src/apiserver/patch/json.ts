/**
 * JSON helpers shared by the patch types: the value type, decoding with Go-flavoured error text
 * (the API server's messages come from Go's encoding/json), cloning, equality and safe key writes.
 */

/** A decoded JSON value. */
export type Json = null | boolean | number | string | Json[] | JsonObject;

/** A decoded JSON object. */
export interface JsonObject {
  [key: string]: Json;
}

/** A body as it arrives: raw bytes or text. */
export type PatchBody = Uint8Array | string;

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The body as text (invalid UTF-8 becomes U+FFFD, as Go's decoder does inside strings). */
export function bodyText(body: PatchBody): string {
  return typeof body === 'string' ? body : utf8.decode(body);
}

/** Thrown by {@link parseJson}; `message` reads like Go's encoding/json syntax errors. */
export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
}

/**
 * Parses JSON. On a syntax error throws {@link JsonSyntaxError} whose message approximates Go's
 * ("unexpected end of JSON input", "invalid character 'x' looking for beginning of value").
 */
export function parseJson(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new JsonSyntaxError(goSyntaxMessage(text, err), { cause: err });
  }
}

function goSyntaxMessage(text: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (text.trim() === '' || /end of (JSON|data)/i.test(msg)) return 'unexpected end of JSON input';
  const at = /position (\d+)/.exec(msg);
  let pos = at ? Number(at[1]) : text.search(/\S/);
  if (pos < 0 || pos >= text.length) return 'unexpected end of JSON input';
  // V8 sometimes points past a token; Go names the first offending character.
  while (pos < text.length && /\s/.test(text[pos] ?? '')) pos++;
  const ch = text[pos] ?? '';
  const shown = ch === "'" ? "\\''" : ch;
  return `invalid character '${shown}' looking for beginning of value`;
}

/** A plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A deep copy of a JSON-compatible value (drops `undefined`, as encoding would). */
export function cloneJson<T extends Json>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Converts any JSON-compatible object (e.g. a stored object) to a detached {@link JsonObject}. */
export function toJsonObject(v: object): JsonObject {
  return JSON.parse(JSON.stringify(v)) as JsonObject;
}

/** Structural equality of JSON values. */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** Own-property read: never reaches Object.prototype (`constructor`, `__proto__`, ...). */
export function getOwn(o: JsonObject, key: string): Json | undefined {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Own-property write that stays a data property even for `__proto__`. */
export function setOwn(o: JsonObject, key: string, value: Json): void {
  if (key === '__proto__') {
    Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    o[key] = value;
  }
}

/** The Go type a JSON value decodes to in `interface{}` (ints as int64, as the API server keeps them). */
export function goTypeName(v: Json | undefined): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  switch (typeof v) {
    case 'object':
      return 'map[string]interface {}';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    default:
      return Number.isInteger(v) ? 'int64' : 'float64';
  }
}

/** The JSON kind Go's decoder names in "json: cannot unmarshal X into Go value of type T". */
export function jsonKind(v: Json): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}
