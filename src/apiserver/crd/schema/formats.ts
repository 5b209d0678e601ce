/**
 * String formats (kube-openapi strfmt.Default) and which of them a CRD schema honours
 * (apiextensions-apiserver's StripUnsupportedFormatsPostProcess): a format the API server does not
 * support is ignored, never an error. int32/int64 (integers) and float/double (numbers) are kept but
 * only influence the type check.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { parseQuantity } from '../../../api/quantity.ts';

/** Go-openapi's format name normalization: dashes are dropped ("date-time" is "datetime"). */
export function normalizeFormat(format: string): string {
  return format.replaceAll('-', '');
}

const RFC1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const RFC1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HOSTNAME =
  /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z0-9\p{S}\p{L}])(-?[a-zA-Z0-9\p{S}\p{L}]){1,62})$/u;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID3 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID4 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const UUID5 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const DATE_TIME_TAIL = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/;
const MAC = [
  /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/,
  /^([0-9A-Fa-f]{2}[:-]){7}[0-9A-Fa-f]{2}$/,
  /^([0-9A-Fa-f]{2}[:-]){19}[0-9A-Fa-f]{2}$/,
  /^([0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}$/,
  /^([0-9A-Fa-f]{4}\.){3}[0-9A-Fa-f]{4}$/,
  /^([0-9A-Fa-f]{4}\.){9}[0-9A-Fa-f]{4}$/,
];
const EMAIL_ADDR =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+$|^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@\[[^\]]+\]$/;

/** time.Parse("2006-01-02", s) */
export function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const days = [
    31,
    y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  return d <= (days[mo - 1] ?? 0);
}

/** strfmt.IsDateTime: an RFC 3339 date, a `T`, and a time with an optional fraction and zone. */
export function isDateTime(s: string): boolean {
  if (s.length < 4) return false;
  const parts = s.toLowerCase().split('t');
  if (parts.length < 2 || !isDate(parts[0] ?? '')) return false;
  const m = DATE_TIME_TAIL.exec(parts[1] ?? '');
  if (!m) return false;
  return (m[1] ?? '') <= '23' && (m[2] ?? '') <= '59' && (m[3] ?? '') <= '59';
}

const UNITS: [string[], number][] = [
  [['ns', 'nano'], 1],
  [['us', 'µs', 'micro'], 1e3],
  [['ms', 'milli'], 1e6],
  [['s', 'sec'], 1e9],
  [['m', 'min'], 60e9],
  [['h', 'hr', 'hour'], 3600e9],
  [['d', 'day'], 86400e9],
  [['w', 'wk', 'week'], 604800e9],
];

/** Go's time.ParseDuration grammar: [-+]? then one or more `<decimal><unit>`. */
function isGoDuration(s: string): boolean {
  if (s === '0' || s === '+0' || s === '-0') return true;
  return /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(s);
}

/** strfmt.ParseDuration: Go durations, or the Scala-like "3 days 4 hours" form. */
export function isDuration(s: string): boolean {
  if (isGoDuration(s)) return true;
  if (!/^\s*(?:\d+\s*[A-Za-zµ]+\s*)+$/.test(s)) return false;
  let ok = false;
  for (const m of s.matchAll(/(\d+)\s*([A-Za-zµ]+)/g)) {
    const unit = (m[2] ?? '').trim().toLowerCase();
    for (const [variants] of UNITS) {
      variants.forEach((v, i) => {
        if ((i === variants.length - 1 && unit.startsWith(v)) || v === unit) ok = true;
      });
    }
  }
  return ok;
}

function isCIDR(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  const n = Number(bits);
  if (isIPv4(ip)) return n <= 32;
  return isIPv6(ip) && !ip.includes('%') && n <= 128;
}

/** url.ParseRequestURI: an absolute URI, or an absolute path. */
function isRequestURI(s: string): boolean {
  if (s.startsWith('/')) return !/[\s]/.test(s);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s)) return false;
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

/** net/mail.ParseAddress, for the usual forms: `a@b.c` and `Name <a@b.c>`. */
function isEmail(s: string): boolean {
  const angle = /^[^<>]*<([^<>]+)>\s*$/.exec(s);
  return EMAIL_ADDR.test((angle ? angle[1] : s)?.trim() ?? '');
}

function isISBN10(s: string): boolean {
  const d = s.replace(/[\s-]/g, '');
  if (!/^\d{9}[\dX]$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (i + 1) * Number(d[i]);
  sum += d[9] === 'X' ? 100 : 10 * Number(d[9]);
  return sum % 11 === 0;
}

function isISBN13(s: string): boolean {
  const d = s.replace(/[\s-]/g, '');
  if (!/^\d{13}$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(d[i]) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10 === Number(d[12]);
}

function isCreditCard(s: string): boolean {
  const d = s.replace(/[^0-9]/g, '');
  if (
    !/^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11}|6[27][0-9]{14})$/.test(
      d,
    )
  )
    return false;
  let sum = 0;
  let dbl = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let n = Number(d[i]);
    if (dbl) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

function isQuantity(s: string): boolean {
  try {
    parseQuantity(s);
    return true;
  } catch {
    return false;
  }
}

/** The string formats a CRD schema validates, by normalized name, with their checks. */
const CHECKS: Record<string, (s: string) => boolean> = {
  bsonobjectid: (s) => /^[0-9a-fA-F]{24}$/.test(s),
  uri: isRequestURI,
  email: isEmail,
  hostname: (s) =>
    HOSTNAME.test(s) && Buffer.byteLength(s) <= 255 && s.split('.').every((p) => Buffer.byteLength(p) <= 63),
  ipv4: (s) => isIPv4(s),
  ipv6: (s) => isIPv6(s) && !s.includes('%'),
  cidr: isCIDR,
  mac: (s) => MAC.some((re) => re.test(s)),
  uuid: (s) => UUID.test(s),
  uuid3: (s) => UUID3.test(s),
  uuid4: (s) => UUID4.test(s),
  uuid5: (s) => UUID5.test(s),
  isbn: (s) => isISBN10(s) || isISBN13(s),
  isbn10: isISBN10,
  isbn13: isISBN13,
  creditcard: isCreditCard,
  ssn: (s) => /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(s),
  hexcolor: (s) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(s),
  rgbcolor: (s) =>
    /^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$/.test(
      s,
    ),
  byte: (s) => BASE64.test(s),
  password: () => true,
  date: isDate,
  duration: isDuration,
  datetime: isDateTime,
  quantity: isQuantity,
  k8sshortname: (s) => s.length <= 63 && RFC1123_LABEL.test(s),
  k8slongname: (s) => s.length <= 253 && RFC1123_SUBDOMAIN.test(s),
};

/**
 * The format the validator applies for a schema node (StripUnsupportedFormatsPostProcessorForVersion):
 * `types` are the node's types as kube-openapi sees them (two for x-kubernetes-int-or-string).
 */
export function effectiveFormat(types: readonly string[], format: string | undefined): string {
  if (!format) return '';
  const type = types.length === 1 ? types[0] : '';
  switch (type) {
    case '':
    case 'string':
      return Object.hasOwn(CHECKS, normalizeFormat(format)) ? format : '';
    case 'integer':
      return format === 'int32' || format === 'int64' ? format : '';
    case 'number':
      return format === 'float' || format === 'double' ? format : '';
    default:
      return '';
  }
}

/** Whether the format is a registered string format (strfmt.Registry.ContainsName). */
export function isStringFormat(format: string): boolean {
  return Object.hasOwn(CHECKS, normalizeFormat(format));
}

/** strfmt.Registry.Validates */
export function formatValidates(format: string, value: string): boolean {
  const check = CHECKS[normalizeFormat(format)];
  return check ? check(value) : true;
}
