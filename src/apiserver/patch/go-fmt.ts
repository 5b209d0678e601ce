/**
 * Go's fmt rendering of decoded JSON (`%v` and `%s` of an `interface{}`), so error messages read
 * exactly like the API server's, e.g. `map: map[image:nginx] does not contain declared merge key: name`.
 */
import type { Json } from './json.ts';

/** `fmt.Sprintf("%v", v)`: maps as `map[k:v ...]` with sorted keys, slices as `[a b]`, nil as `<nil>`. */
export function goV(v: Json | undefined): string {
  return render(v, 'v');
}

/** `fmt.Sprintf("%s", v)`: like %v for strings, but `%!s(int64=1)` for numbers, bools and nil. */
export function goS(v: Json | undefined): string {
  return render(v, 's');
}

function render(v: Json | undefined, verb: 'v' | 's'): string {
  if (v === null || v === undefined) return verb === 'v' ? '<nil>' : '%!s(<nil>)';
  if (Array.isArray(v)) return `[${v.map((x) => render(x, verb)).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${keys.map((k) => `${k}:${render(v[k], verb)}`).join(' ')}]`;
  }
  if (typeof v === 'string') return v;
  const plain = typeof v === 'boolean' ? String(v) : goNumber(v);
  if (verb === 'v') return plain;
  const type = typeof v === 'boolean' ? 'bool' : Number.isSafeInteger(v) ? 'int64' : 'float64';
  return `%!s(${type}=${plain})`;
}

/** An int64 as decimal; a float64 the way `%v` prints it (shortest digits, exponent past 1e+06). */
export function goNumber(n: number): string {
  if (Number.isSafeInteger(n)) return String(n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  const [mantissa = '0', e = '0'] = n.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 6) {
    return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(n);
}
