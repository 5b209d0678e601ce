/**
 * Small helpers shared by the schema package: JSON shape tests, safe own-property access (user data
 * may carry keys like `__proto__` or `constructor`), Go-like deep equality and Go's `%v` of a float64.
 */

export type JsonObject = Record<string, unknown>;
type Primitive = string | number | boolean | bigint | symbol | null | undefined;

export function isObject<T>(v: T): v is Exclude<T, Primitive | readonly unknown[]> & JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The own property `k` of `o`, never one inherited from Object.prototype. */
export function own<T>(o: Record<string, T> | undefined, k: string): T | undefined {
  return o !== undefined && Object.hasOwn(o, k) ? o[k] : undefined;
}

/** Sets an own data property, even for the key `__proto__`. */
export function setOwn(o: JsonObject, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/** A JSON value's deep copy (runtime.DeepCopyJSONValue). */
export function deepCopy<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** Deep equality of decoded JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Go's `%v` of a float64: shortest digits, exponent form below 1e-4 and from 1e+06 (`1e+06`). */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa = '0', e = '0'] = n.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 6)
    return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

/** A JSON number as Go's decoder holds it: an int64 when integral, else a float64. */
export function isJsonInteger(n: number): boolean {
  return Number.isInteger(n);
}
