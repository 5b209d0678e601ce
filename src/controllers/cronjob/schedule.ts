/**
 * Cron schedules with github.com/robfig/cron/v3 semantics, as the CronJob controller parses them
 * (cron.ParseStandard): five fields (minute hour day-of-month month day-of-week) with `*`, `?`,
 * ranges, steps, lists and month/day names; descriptors @yearly/@annually, @monthly, @weekly,
 * @daily/@midnight, @hourly and `@every <duration>`; an optional `TZ=zone ` / `CRON_TZ=zone `
 * prefix. next() follows SpecSchedule.Next: the first whole second after t whose fields match, in
 * the schedule's zone (day of month and day of week OR-ed unless either is `*`), giving up after
 * five years.
 */
import { dateIn, fieldsAt, isKnownZone } from './zone.ts';

export interface Schedule {
  /** The first activation strictly after `t` (ms), or 0 when there is none within five years. */
  next(t: number): number;
}

export class CronParseError extends Error {}

/** Set on a field given as `*` or `?` (cron's starBit). */
const STAR = 1n << 63n;

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

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

function bits(min: number, max: number, step: number): bigint {
  let b = 0n;
  for (let i = min; i <= max; i += step) b |= 1n << BigInt(i);
  return b;
}

const all = (r: Bounds) => bits(r.min, r.max, 1) | STAR;

function parseNumber(expr: string, r: Bounds): number {
  const named = r.names?.[expr.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^[+-]?\d+$/.test(expr)) throw new CronParseError(`failed to parse int from ${expr}`);
  const n = Number(expr);
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

/** cron's getRange: `*` | `?` | n[-m][/step]. */
function parseRange(expr: string, r: Bounds): bigint {
  const [range = '', stepText, ...rest] = expr.split('/');
  if (rest.length) throw new CronParseError(`too many slashes: ${expr}`);
  const lowHigh = range.split('-');
  let start: number;
  let end: number;
  let extra = 0n;
  if (lowHigh[0] === '*' || lowHigh[0] === '?') {
    start = r.min;
    end = r.max;
    extra = STAR;
  } else {
    start = parseNumber(lowHigh[0] ?? '', r);
    if (lowHigh.length === 1) end = start;
    else if (lowHigh.length === 2) end = parseNumber(lowHigh[1] ?? '', r);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (stepText !== undefined) {
    step = parseNumber(stepText, { min: 0, max: 0 });
    // "N/step" means N through the maximum.
    if (lowHigh.length === 1 && extra === 0n) end = r.max;
    if (step > 1) extra = 0n;
  }
  if (start < r.min)
    throw new CronParseError(`beginning of range (${start}) below minimum (${r.min}): ${expr}`);
  if (end > r.max) throw new CronParseError(`end of range (${end}) above maximum (${r.max}): ${expr}`);
  if (start > end)
    throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  return bits(start, end, step) | extra;
}

function parseField(field: string, r: Bounds): bigint {
  let b = 0n;
  for (const expr of field.split(',')) if (expr !== '') b |= parseRange(expr, r);
  return b;
}

class SpecSchedule implements Schedule {
  readonly minute: bigint;
  readonly hour: bigint;
  readonly dom: bigint;
  readonly month: bigint;
  readonly dow: bigint;
  readonly zone: string;

  constructor(minute: bigint, hour: bigint, dom: bigint, month: bigint, dow: bigint, zone: string) {
    this.minute = minute;
    this.hour = hour;
    this.dom = dom;
    this.month = month;
    this.dow = dow;
    this.zone = zone;
  }

  #dayMatches(day: number, weekday: number): boolean {
    const domMatch = (this.dom & (1n << BigInt(day))) > 0n;
    const dowMatch = (this.dow & (1n << BigInt(weekday))) > 0n;
    if ((this.dom & STAR) > 0n || (this.dow & STAR) > 0n) return domMatch && dowMatch;
    return domMatch || dowMatch;
  }

  next(from: number): number {
    const z = this.zone;
    const has = (set: bigint, v: number) => (set & (1n << BigInt(v))) > 0n;
    // The upcoming whole second.
    let t = Math.floor(from / 1000) * 1000 + 1000;
    let added = false;
    const yearLimit = fieldsAt(t, z).year + 5;
    wrap: for (;;) {
      let f = fieldsAt(t, z);
      if (f.year > yearLimit) return 0;
      while (!has(this.month, f.month)) {
        if (!added) {
          added = true;
          t = dateIn(f.year, f.month, 1, 0, 0, 0, z);
          f = fieldsAt(t, z);
        }
        t = dateIn(f.year, f.month + 1, f.day, f.hour, f.minute, f.second, z);
        f = fieldsAt(t, z);
        if (f.month === 1) continue wrap;
      }
      while (!this.#dayMatches(f.day, f.weekday)) {
        if (!added) {
          added = true;
          t = dateIn(f.year, f.month, f.day, 0, 0, 0, z);
          f = fieldsAt(t, z);
        }
        t = dateIn(f.year, f.month, f.day + 1, f.hour, f.minute, f.second, z);
        f = fieldsAt(t, z);
        // Midnight may not exist on a DST change day.
        if (f.hour !== 0) {
          t += (f.hour > 12 ? 24 - f.hour : -f.hour) * 3_600_000;
          f = fieldsAt(t, z);
        }
        if (f.day === 1) continue wrap;
      }
      while (!has(this.hour, f.hour)) {
        if (!added) {
          added = true;
          t = dateIn(f.year, f.month, f.day, f.hour, 0, 0, z);
        }
        t += 3_600_000;
        f = fieldsAt(t, z);
        if (f.hour === 0) continue wrap;
      }
      while (!has(this.minute, f.minute)) {
        if (!added) {
          added = true;
          t = Math.floor(t / 60_000) * 60_000;
        }
        t += 60_000;
        f = fieldsAt(t, z);
        if (f.minute === 0) continue wrap;
      }
      while (f.second !== 0) {
        if (!added) added = true;
        t += 1000;
        f = fieldsAt(t, z);
        if (f.second === 0) continue wrap;
      }
      return t;
    }
  }
}

/** `@every d`: d after t (rounded down to whole seconds, at least 1 s). */
class ConstantDelaySchedule implements Schedule {
  readonly delayMs: number;

  constructor(delayMs: number) {
    this.delayMs = Math.max(1000, Math.floor(delayMs / 1000) * 1000);
  }

  next(t: number): number {
    return Math.floor(t / 1000) * 1000 + this.delayMs;
  }
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, in ms. */
export function parseDuration(s: string): number {
  const orig = s;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new CronParseError(`time: invalid duration "${orig}"`);
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?([^\d.]*)/.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === ''))
      throw new CronParseError(`time: invalid duration "${orig}"`);
    const unit = m[3] ?? '';
    if (unit === '') throw new CronParseError(`time: missing unit in duration "${orig}"`);
    const ms = UNIT_MS[unit];
    if (ms === undefined) throw new CronParseError(`time: unknown unit "${unit}" in duration "${orig}"`);
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * ms;
    s = s.slice(m[0].length);
  }
  return sign * total;
}

function descriptor(spec: string, zone: string): Schedule {
  const z = (minute: bigint, hour: bigint, dom: bigint, month: bigint, dow: bigint) =>
    new SpecSchedule(minute, hour, dom, month, dow, zone);
  switch (spec) {
    case '@yearly':
    case '@annually':
      return z(1n, 1n, 1n << 1n, 1n << 1n, all(DOW));
    case '@monthly':
      return z(1n, 1n, 1n << 1n, all(MONTHS), all(DOW));
    case '@weekly':
      return z(1n, 1n, all(DOM), all(MONTHS), 1n);
    case '@daily':
    case '@midnight':
      return z(1n, 1n, all(DOM), all(MONTHS), all(DOW));
    case '@hourly':
      return z(1n, all(HOURS), all(DOM), all(MONTHS), all(DOW));
  }
  if (spec.startsWith('@every ')) {
    const text = spec.slice('@every '.length);
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch (err) {
      throw new CronParseError(`failed to parse duration ${spec}: ${(err as Error).message}`);
    }
    return new ConstantDelaySchedule(ms);
  }
  throw new CronParseError(`unrecognized descriptor: ${spec}`);
}

/**
 * cron.ParseStandard. `defaultZone` stands for Go's time.Local (schedules without TZ=). Throws
 * CronParseError.
 */
export function parseSchedule(input: string, defaultZone = 'UTC'): Schedule {
  let spec = input;
  if (spec === '') throw new CronParseError('empty spec string');
  let zone = defaultZone;
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const i = spec.indexOf(' ');
    const eq = spec.indexOf('=');
    if (i < 0 || i < eq + 1) throw new CronParseError('invalid schedule format');
    zone = spec.slice(eq + 1, i);
    if (zone === 'Local') zone = defaultZone;
    if (!isKnownZone(zone))
      throw new CronParseError(`provided bad location ${zone}: unknown time zone ${zone}`);
    spec = spec.slice(i).trim();
  }
  if (spec.startsWith('@')) return descriptor(spec, zone);
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) {
    throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  }
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  return new SpecSchedule(
    parseField(minute, MINUTES),
    parseField(hour, HOURS),
    parseField(dom, DOM),
    parseField(month, MONTHS),
    parseField(dow, DOW),
    zone,
  );
}
