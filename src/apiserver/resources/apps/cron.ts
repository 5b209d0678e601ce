/**
 * CronJob schedules as Kubernetes checks them: github.com/robfig/cron/v3's ParseStandard (five
 * fields, or a descriptor such as @hourly or "@every 1h30m", with an optional TZ=/CRON_TZ= prefix),
 * wrapped in Kubernetes' panic recovery, with the parser's own error messages; and Go's
 * time.LoadLocation for zone names (answered from the runtime's ICU zone data).
 */

/** A field's bounds and names (cron's `bounds`). */
interface Bounds {
  min: number;
  max: number;
  names?: Readonly<Record<string, number>>;
}

const SECONDS: Bounds = { min: 0, max: 59 };
const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = {
  min: 1,
  max: 12,
  names: {
    jan: 1,
    feb: 2,
    mar: 3,
    apr: 4,
    may: 5,
    jun: 6,
    jul: 7,
    aug: 8,
    sep: 9,
    oct: 10,
    nov: 11,
    dec: 12,
  },
};
const DOW: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

class CronError extends Error {}

/** Go's strconv.Quote, for the ASCII the messages here quote. */
function quote(s: string): string {
  return JSON.stringify(s);
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** strconv.Atoi, throwing its error text. */
function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new CronError(`strconv.Atoi: parsing ${quote(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > INT64_MAX || n < INT64_MIN)
    throw new CronError(`strconv.Atoi: parsing ${quote(s)}: value out of range`);
  return Number(n);
}

/** cron's mustParseInt */
function mustParseInt(expr: string): number {
  let n: number;
  try {
    n = atoi(expr);
  } catch (err) {
    throw new CronError(`failed to parse int from ${expr}: ${(err as Error).message}`);
  }
  if (n < 0) throw new CronError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, names: Bounds['names']): number {
  const named = names?.[expr.toLowerCase()];
  return named ?? mustParseInt(expr);
}

/** cron's getRange: `*` | `?` | number ["-" number] ["/" number]. */
function checkRange(expr: string, r: Bounds): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = (rangeAndStep[0] as string).split('-');
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let step: number;
  const low = lowAndHigh[0] as string;
  if (low === '*' || low === '?') {
    start = r.min;
    end = r.max;
  } else {
    start = parseIntOrName(low, r.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1] as string, r.names);
    else throw new CronError(`too many hyphens: ${expr}`);
  }
  if (rangeAndStep.length === 1) step = 1;
  else if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1] as string);
    if (singleDigit) end = r.max;
  } else throw new CronError(`too many slashes: ${expr}`);
  if (start < r.min) throw new CronError(`beginning of range (${start}) below minimum (${r.min}): ${expr}`);
  if (end > r.max) throw new CronError(`end of range (${end}) above maximum (${r.max}): ${expr}`);
  if (start > end) throw new CronError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronError(`step of range should be a positive number: ${expr}`);
}

/** cron's getField: comma-separated ranges (empty items skipped, as strings.FieldsFunc does). */
function checkField(field: string, r: Bounds): void {
  for (const expr of field.split(',')) if (expr !== '') checkRange(expr, r);
}

const UNITS = new Set(['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h']);

/** Go's time.ParseDuration (validity and messages only). */
export function checkDuration(s: string): string | undefined {
  const orig = s;
  const invalid = `time: invalid duration ${quote(orig)}`;
  if (s.startsWith('-') || s.startsWith('+')) s = s.slice(1);
  if (s === '0') return undefined;
  if (s === '') return invalid;
  while (s !== '') {
    const num = /^([0-9]*)(\.([0-9]*))?/.exec(s) as RegExpExecArray;
    const pre = (num[1] as string).length > 0;
    const post = num[3] !== undefined && num[3].length > 0;
    if (!/^[0-9.]/.test(s) || (!pre && !post)) return invalid;
    s = s.slice(num[0].length);
    const unit = /^[^0-9.]*/.exec(s)?.[0] ?? '';
    if (unit === '') return `time: missing unit in duration ${quote(orig)}`;
    if (!UNITS.has(unit)) return `time: unknown unit ${quote(unit)} in duration ${quote(orig)}`;
    s = s.slice(unit.length);
  }
  return undefined;
}

const DESCRIPTORS = new Set([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
]);

function parseDescriptor(spec: string): void {
  if (DESCRIPTORS.has(spec)) return;
  const every = '@every ';
  if (spec.startsWith(every)) {
    const err = checkDuration(spec.slice(every.length));
    if (err) throw new CronError(`failed to parse duration ${spec}: ${err}`);
    return;
  }
  throw new CronError(`unrecognized descriptor: ${spec}`);
}

/** Go's strings.Fields: split on runs of white space. */
function fields(s: string): string[] {
  return s.split(/[\t\n\v\f\r \u0085\u00a0]+/).filter((f) => f !== '');
}

/**
 * The error Kubernetes reports for a CronJob schedule (cron.ParseStandard inside
 * ParseCronScheduleWithPanicRecovery), or undefined when it parses.
 */
export function cronScheduleError(schedule: string): string | undefined {
  try {
    parseStandard(schedule);
    return undefined;
  } catch (err) {
    if (err instanceof CronError) return err.message;
    throw err;
  }
}

function parseStandard(input: string): void {
  let spec = input;
  if (spec.length === 0) throw new CronError('empty spec string');
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const i = spec.indexOf(' ');
    const eq = spec.indexOf('=');
    // Go slices spec[eq+1:i] without checking i; the panic is recovered into this message.
    if (i < 0) throw new CronError('invalid schedule format: runtime error: slice bounds out of range [:-1]');
    if (i < eq + 1)
      throw new CronError(
        `invalid schedule format: runtime error: slice bounds out of range [${eq + 1}:${i}]`,
      );
    const name = spec.slice(eq + 1, i);
    const locErr = loadLocationError(name);
    if (locErr) throw new CronError(`provided bad location ${name}: ${locErr}`);
    spec = spec.slice(i).trim();
  }
  if (spec.startsWith('@')) {
    parseDescriptor(spec);
    return;
  }
  const f = fields(spec);
  if (f.length !== 5) throw new CronError(`expected exactly 5 fields, found ${f.length}: [${f.join(' ')}]`);
  const [minute, hour, dom, month, dow] = f as [string, string, string, string, string];
  checkField('0', SECONDS);
  checkField(minute, MINUTES);
  checkField(hour, HOURS);
  checkField(dom, DOM);
  checkField(month, MONTHS);
  checkField(dow, DOW);
}

const canonicalZones = new Set(Intl.supportedValuesOf('timeZone'));

/**
 * The error of Go's time.LoadLocation(name), or undefined when the zone exists. Zone data comes
 * from ICU, which matches names case-insensitively where Go's file lookup does not; names whose
 * case differs from the zone ICU resolves them to, or with a segment starting in lower case, are
 * refused as Go would.
 */
export function loadLocationError(name: string): string | undefined {
  if (name === '' || name === 'UTC' || name === 'Local') return undefined;
  if (name.includes('..') || name.startsWith('/') || name.startsWith('\\'))
    return 'time: invalid location name';
  const unknown = `unknown time zone ${name}`;
  if (canonicalZones.has(name)) return undefined;
  if (name.split('/').some((seg) => /^[a-z]/.test(seg))) return unknown;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return unknown;
  }
  if (resolved !== name && resolved.toLowerCase() === name.toLowerCase()) return unknown;
  return undefined;
}
