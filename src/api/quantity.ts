/**
 * resource.Quantity (k8s.io/apimachinery/pkg/api/resource): parsing, exact arithmetic, comparison and
 * the canonical serialization Kubernetes emits.
 *
 * A quantity is held exactly as `mantissa × 10^exponent` (a BigInt and an integer), so "0.1" + "0.2"
 * is exactly "300m" and "8Ei" fits; it never passes through a float.
 *
 * Rules kept from Kubernetes:
 * - grammar `<sign><digits>[.<digits>]<suffix>`, suffix one of n u m "" k M G T P E (decimal SI),
 *   Ki Mi Gi Ti Pi Ei (binary SI) or e/E followed by a signed integer (decimal exponent);
 * - parsed values are rounded away from zero to a multiple of 1n (10^-9);
 * - BinarySI values are capped at ±(2^63-1) on parse, and a non-zero BinarySI value below 1 in
 *   magnitude is re-labelled DecimalSI;
 * - the canonical form keeps the parsed format, moves as much as possible into the suffix and never
 *   emits a fraction ("1.5" → "1500m", "1.5Gi" → "1536Mi");
 * - an input Kubernetes considers already canonical is re-emitted verbatim, even where that keeps a
 *   leading "+" or zeros ("+1", "01", "1.500"): Kubernetes caches the input string in that case.
 * Fixes from upstream that are followed (they avoid silent corruption): exponents beyond ±(2^31-1)
 * are rejected, a DecimalSI value with no SI suffix (below n or above E) and a BinarySI value past Ei
 * fall back to exponent notation ("1e21", "10e69"), and 19-digit integers above 2^63-1 parse exactly.
 */

const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);
/** The largest |exponent| accepted after an e/E suffix (an int32 whose negation also fits). */
const MAX_SUFFIX_EXPONENT = 2147483647n;
/** Arithmetic that would need to align mantissas further apart than this many digits throws. */
const MAX_ALIGN_DIGITS = 100_000;

/** The three serialization formats (resource.Format). */
export type QuantityFormat = 'DecimalExponent' | 'BinarySI' | 'DecimalSI';

/** The regular expression Kubernetes quotes in ErrFormatWrong. */
export const QUANTITY_REGEXP = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
/** resource.ErrFormatWrong */
export const ERR_FORMAT_WRONG = `quantities must match the regular expression '${QUANTITY_REGEXP}'`;
/** resource.ErrNumeric */
export const ERR_NUMERIC = 'unable to parse numeric part of quantity';
/** resource.ErrSuffix */
export const ERR_SUFFIX = "unable to parse quantity's suffix";

/** A string that is not a quantity. `message` is Kubernetes' error text for the same input. */
export class QuantityParseError extends Error {
  readonly input: string;
  constructor(input: string, message: string) {
    super(message);
    this.name = 'QuantityParseError';
    this.input = input;
  }
}

const DECIMAL_SUFFIXES = new Map<string, number>([
  ['n', -9],
  ['u', -6],
  ['m', -3],
  ['', 0],
  ['k', 3],
  ['M', 6],
  ['G', 9],
  ['T', 12],
  ['P', 15],
  ['E', 18],
]);
const DECIMAL_SUFFIX_BY_EXPONENT = new Map([...DECIMAL_SUFFIXES].map(([s, e]) => [e, s]));
const BINARY_SUFFIXES = new Map<string, number>([
  ['Ki', 10],
  ['Mi', 20],
  ['Gi', 30],
  ['Ti', 40],
  ['Pi', 50],
  ['Ei', 60],
]);
const BINARY_SUFFIX_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const SUFFIX_LETTERS = 'eEinumkKMGTP';

interface Scanned {
  positive: boolean;
  /** Integer digits without leading zeros; "0" when there are none. */
  num: string;
  denom: string;
  suffix: string;
  /** Whether any digit was written (".", "-." have none). */
  hasDigits: boolean;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Splits a quantity string the way resource.parseQuantityString does. */
function scan(str: string): Scanned {
  const end = str.length;
  let pos = 0;
  let positive = true;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') {
    pos++;
  }
  const signEnd = pos;
  while (pos < end && str[pos] === '0') pos++;
  // Only a sign and zeros (or nothing after the sign): zero.
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '', hasDigits: true };
  let hasDigits = pos > signEnd;
  let start = pos;
  while (pos < end && isDigit(str[pos])) pos++;
  const num = str.slice(start, pos) || '0';
  if (pos > start) hasDigits = true;
  if (pos >= end) return { positive, num, denom: '', suffix: '', hasDigits };
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    start = pos;
    while (pos < end && isDigit(str[pos])) pos++;
    denom = str.slice(start, pos);
    if (denom) hasDigits = true;
    if (pos >= end) return { positive, num, denom, suffix: '', hasDigits };
  }
  const suffixStart = pos;
  while (pos < end && SUFFIX_LETTERS.includes(str[pos] as string)) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) throw new QuantityParseError(str, ERR_FORMAT_WRONG);
  return { positive, num, denom, suffix: str.slice(suffixStart), hasDigits };
}

interface Suffix {
  base: 2 | 10;
  exponent: number;
  format: QuantityFormat;
}

function interpretSuffix(s: string): Suffix | undefined {
  const dec = DECIMAL_SUFFIXES.get(s);
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = BINARY_SUFFIXES.get(s);
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (s.length > 1 && (s[0] === 'e' || s[0] === 'E') && /^[+-]?[0-9]+$/.test(s.slice(1))) {
    const e = BigInt(s.slice(1));
    if (e <= MAX_SUFFIX_EXPONENT && e >= -MAX_SUFFIX_EXPONENT) {
      return { base: 10, exponent: Number(e), format: 'DecimalExponent' };
    }
  }
  return undefined;
}

function abs(m: bigint): bigint {
  return m < 0n ? -m : m;
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function digitCount(m: bigint): number {
  return abs(m).toString().length;
}

/** Removes trailing decimal zeros from the mantissa; zero is (0, 0). */
function normalize(m: bigint, e: number): [bigint, number] {
  if (m === 0n) return [0n, 0];
  const s = abs(m).toString();
  let z = 0;
  while (s.charCodeAt(s.length - 1 - z) === 48) z++;
  if (z === 0) return [m, e];
  const t = BigInt(s.slice(0, s.length - z));
  return [m < 0n ? -t : t, e + z];
}

/** Compares |a| and |b| (mantissas non-negative) without materializing large exponents. */
function compareMagnitude(ma: bigint, ea: number, mb: bigint, eb: number): number {
  if (ma === 0n || mb === 0n) return ma === mb ? 0 : ma === 0n ? -1 : 1;
  const da = digitCount(ma) + ea;
  const db = digitCount(mb) + eb;
  if (da !== db) return da < db ? -1 : 1;
  const e = Math.min(ea, eb);
  const a = ma * pow10(ea - e);
  const b = mb * pow10(eb - e);
  return a === b ? 0 : a < b ? -1 : 1;
}

/** m × 10^e divided by 10^scale, rounded away from zero to an integer. */
function roundAwayToScale(m: bigint, e: number, scale: number): bigint {
  const sign = m < 0n ? -1n : 1n;
  const d = e - scale;
  if (d >= 0) return m * pow10(d);
  const k = -d;
  if (k > digitCount(m)) return sign;
  const div = pow10(k);
  const q = abs(m) / div;
  return sign * (abs(m) % div === 0n ? q : q + 1n);
}

function clampInt64(v: bigint): bigint {
  return v > MAX_INT64 ? MAX_INT64 : v < MIN_INT64 ? MIN_INT64 : v;
}

/**
 * An immutable exact quantity. Build one with {@link Quantity.parse}, {@link parseQuantity} or the
 * static constructors; arithmetic returns new quantities.
 */
export class Quantity {
  /** The format the canonical string uses. */
  readonly format: QuantityFormat;
  readonly #m: bigint;
  readonly #e: number;
  /** The parsed string, when Kubernetes would re-emit it verbatim. */
  readonly #s: string | undefined;

  private constructor(m: bigint, e: number, format: QuantityFormat, s?: string) {
    [this.#m, this.#e] = normalize(m, e);
    this.format = format;
    this.#s = s;
  }

  /** Parses a quantity string exactly as resource.ParseQuantity does; throws QuantityParseError. */
  static parse(str: string): Quantity {
    if (str.length === 0) throw new QuantityParseError(str, ERR_FORMAT_WRONG);
    if (str === '0') return new Quantity(0n, 0, 'DecimalSI', str);
    const sc = scan(str);
    const suffix = interpretSuffix(sc.suffix);
    if (!suffix) throw new QuantityParseError(str, ERR_SUFFIX);
    const sign = sc.positive ? 1n : -1n;
    const shifted = sc.num + sc.denom;

    // Kubernetes' int64 fast path. Its values are exact either way; it only decides whether the
    // input string is kept as the canonical form.
    if (suffix.base === 10) {
      const scale = suffix.exponent - sc.denom.length;
      if (shifted.length <= 19 && scale >= -9) {
        const v = BigInt(shifted);
        if (v <= MAX_INT64) {
          const keep = scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
          return new Quantity(sign * v, scale, suffix.format, keep ? str : undefined);
        }
      }
    } else if (sc.denom.length === 0) {
      const precision = 15 - sc.num.length - Math.trunc((suffix.exponent * 3) / 10) - 1;
      if (precision >= 0) {
        const v = BigInt(sc.num);
        const r = v << BigInt(suffix.exponent);
        if (r <= MAX_INT64) return new Quantity(sign * r, 0, 'BinarySI', (v & 7n) !== 0n ? str : undefined);
      }
    }

    if (!sc.hasDigits) throw new QuantityParseError(str, ERR_NUMERIC);
    let m = sign * BigInt(shifted);
    let e = -sc.denom.length;
    if (suffix.base === 10) e += suffix.exponent;
    else m <<= BigInt(suffix.exponent);
    [m, e] = normalize(m, e);
    // Round away from zero to 1n: asking for a tiny amount of a resource still gets some.
    if (m !== 0n && e < -9) [m, e] = [roundAwayToScale(m, e, -9), -9];
    let format = suffix.format;
    if (format === 'BinarySI' && m !== 0n) {
      if (compareMagnitude(abs(m), e, MAX_INT64, 0) > 0) [m, e] = [sign * MAX_INT64, 0];
      if (digitCount(m) + e <= 0) format = 'DecimalSI';
    }
    return new Quantity(m, e, format);
  }

  /** `value` in the given format (resource.NewQuantity). */
  static fromInt(value: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(value), 0, format);
  }

  /** `value / 1000` in the given format (resource.NewMilliQuantity). */
  static fromMilli(value: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(toBigInt(value), -3, format);
  }

  /** `value × 10^scale`, DecimalSI (resource.NewScaledQuantity). */
  static fromScaled(value: bigint | number, scale: number): Quantity {
    if (!Number.isSafeInteger(scale)) throw new RangeError(`invalid scale ${scale}`);
    return new Quantity(toBigInt(value), scale, 'DecimalSI');
  }

  /** Zero in the given format. */
  static zero(format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(0n, 0, format);
  }

  /** -1, 0 or 1. */
  sign(): -1 | 0 | 1 {
    return this.#m === 0n ? 0 : this.#m < 0n ? -1 : 1;
  }

  isZero(): boolean {
    return this.#m === 0n;
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than `y` (formats are ignored). */
  cmp(y: Quantity): -1 | 0 | 1 {
    const a = this.sign();
    const b = y.sign();
    if (a !== b) return a < b ? -1 : 1;
    if (a === 0) return 0;
    const c = compareMagnitude(abs(this.#m), this.#e, abs(y.#m), y.#e);
    return (a < 0 ? -c : c) as -1 | 0 | 1;
  }

  /** Same value, whatever the formats. */
  equals(y: Quantity): boolean {
    return this.cmp(y) === 0;
  }

  /** this + y, in this quantity's format, or in y's when this is zero (as Quantity.Add). */
  add(y: Quantity): Quantity {
    return this.#combine(y, 1n);
  }

  /** this - y, in this quantity's format, or in y's when this is zero (as Quantity.Sub). */
  sub(y: Quantity): Quantity {
    return this.#combine(y, -1n);
  }

  #combine(y: Quantity, ySign: bigint): Quantity {
    const format = this.#m === 0n ? y.format : this.format;
    if (y.#m === 0n) return new Quantity(this.#m, this.#e, format);
    if (this.#m === 0n) return new Quantity(ySign * y.#m, y.#e, format);
    const e = Math.min(this.#e, y.#e);
    if (Math.max(this.#e, y.#e) - e > MAX_ALIGN_DIGITS) {
      throw new RangeError('quantity arithmetic out of range: the operands are too far apart in magnitude');
    }
    return new Quantity(this.#m * pow10(this.#e - e) + ySign * y.#m * pow10(y.#e - e), e, format);
  }

  /** -this, same format. */
  neg(): Quantity {
    return new Quantity(-this.#m, this.#e, this.format);
  }

  /** this × n for an integer n, same format (as Quantity.Mul). */
  mul(n: bigint | number): Quantity {
    return new Quantity(this.#m * toBigInt(n), this.#e, this.format);
  }

  /**
   * ceil(|this| / 10^scale) with this quantity's sign, i.e. rounded away from zero, saturated to the
   * int64 range (Quantity.ScaledValue). `scale` is a power of ten: -3 for milli, -9 for nano.
   */
  scaledValue(scale: number): bigint {
    if (this.#m === 0n) return 0n;
    // Beyond 20 digits the result saturates; do not build it.
    if (digitCount(this.#m) + this.#e - scale > 20) return this.#m < 0n ? MIN_INT64 : MAX_INT64;
    return clampInt64(roundAwayToScale(this.#m, this.#e, scale));
  }

  /** The value rounded away from zero to an integer, saturated to int64 (Quantity.Value). */
  value(): bigint {
    return this.scaledValue(0);
  }

  /** ceil(this × 1000) away from zero, saturated to int64 (Quantity.MilliValue). */
  milliValue(): bigint {
    return this.scaledValue(-3);
  }

  /** The nearest float64, or ±Infinity beyond its range (Quantity.AsApproximateFloat64). */
  toNumber(): number {
    return Number.parseFloat(`${this.#m}e${this.#e}`);
  }

  /** The canonical string Kubernetes serializes (Quantity.String). */
  toString(): string {
    if (this.#s !== undefined) return this.#s;
    const m = this.#m;
    const e = this.#e;
    if (m === 0n) return '0';
    let format = this.format;
    if (format === 'BinarySI') {
      if (compareMagnitude(abs(m), e, 1024n, 0) < 0 || e < 0) {
        // Small or fractional binary values are shown as DecimalSI, without rounding.
        format = 'DecimalSI';
      } else {
        const binary = e < 70 ? binaryString(m * pow10(e)) : undefined;
        if (binary !== undefined) return binary;
        format = 'DecimalExponent';
      }
    }
    const e3 = Math.floor(e / 3) * 3;
    const mantissa = m * pow10(e - e3);
    let suffix = e3 === 0 ? '' : `e${e3}`;
    if (format === 'DecimalSI') suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(e3) ?? suffix;
    return `${mantissa}${suffix}`;
  }

  /** JSON form: the canonical string. */
  toJSON(): string {
    return this.toString();
  }
}

/** An integer as `<number>Ki..Ei`, or undefined past Ei. */
function binaryString(n: bigint): string | undefined {
  let power = 0;
  while (n % 1024n === 0n) {
    if (power === 6) return undefined;
    n /= 1024n;
    power++;
  }
  return `${n}${BINARY_SUFFIX_BY_POWER[power]}`;
}

function toBigInt(v: bigint | number): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isSafeInteger(v)) throw new RangeError(`not a safe integer: ${v}`);
  return BigInt(v);
}

/**
 * Strings {@link parseQuantity} has parsed, with their (immutable) quantities: the same few values
 * ("100m", "128Mi") come with every pod. Bounded: cleared when full. Failures are not kept.
 */
const parsed = new Map<string, Quantity>();
const PARSED_MAX = 4096;

/**
 * Parses a quantity as it appears in JSON or YAML (Quantity.UnmarshalJSON): a string, trimmed of
 * surrounding whitespace, or a number. A JS number has lost its spelling, so `1e3` in a JSON
 * document reads as 1000 and is emitted "1k" (Kubernetes, which sees the raw text, emits "1e3").
 * Throws QuantityParseError.
 */
export function parseQuantity(s: string | number): Quantity {
  if (typeof s === 'number') {
    if (!Number.isFinite(s)) throw new QuantityParseError(String(s), ERR_FORMAT_WRONG);
    // JSON would have written 1e21, not JS's 1e+21.
    return Quantity.parse(String(s).replace('e+', 'e'));
  }
  const hit = parsed.get(s);
  if (hit !== undefined) return hit;
  const q = Quantity.parse(s.trim());
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(s, q);
  return q;
}
