/**
 * Go's time.Duration text form, as metav1.Duration shows it in JSON: Duration.String() and
 * time.ParseDuration, on int64 nanoseconds.
 */

const UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_INT64 = (1n << 63n) - 1n;

/** The fraction v / 10^prec as ".123" with trailing zeros (and the point) left out; and v / 10^prec. */
function frac(v: bigint, prec: number): [string, bigint] {
  let digits = '';
  let printed = false;
  for (let i = 0; i < prec; i++) {
    const d = v % 10n;
    printed ||= d !== 0n;
    if (printed) digits = d.toString() + digits;
    v /= 10n;
  }
  return [printed ? `.${digits}` : '', v];
}

/** Duration.String(): "1h2m3.5s", "1.5ms", "0s". */
export function formatGoDuration(nanos: bigint): string {
  const neg = nanos < 0n;
  let u = neg ? -nanos : nanos;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u === 0n) return '0s';
    const [prec, unit] = u < 1_000n ? [0, 'ns'] : u < 1_000_000n ? [3, 'µs'] : [6, 'ms'];
    const [f, whole] = frac(u, prec);
    out = `${whole}${f}${unit}`;
  } else {
    const [f, secs] = frac(u, 9);
    u = secs;
    out = `${u % 60n}${f}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** time.ParseDuration; undefined where Go would return an error. */
export function parseGoDuration(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?([^\d.]+)/.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    // The unit is the whole run of letters up to the next number, and must be one Go knows.
    const unit = Object.hasOwn(UNITS, m[3]!) ? UNITS[m[3]!] : undefined;
    if (unit === undefined) return undefined;
    s = s.slice(m[0].length);
    let v = BigInt(m[1] || '0') * unit;
    const fraction = m[2] ?? '';
    if (fraction !== '') v += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    total += v;
    if (total > MAX_INT64 + (neg ? 1n : 0n)) return undefined;
  }
  return neg ? -total : total;
}
