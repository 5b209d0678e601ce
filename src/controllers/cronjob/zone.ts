/**
 * Wall-clock time in an IANA time zone, as Go's time package does it for the cron schedule: the
 * fields of an instant in a zone, an instant from (possibly overflowing) fields with time.Date's
 * normalisation and its choice in DST gaps and overlaps, and RFC 3339 with the zone's offset.
 * Zone data comes from the runtime's ICU (Intl).
 */

export interface Fields {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function format(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
      era: 'short',
    });
    formats.set(zone, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Whether the runtime knows `zone` ('UTC' and 'Local' always). */
export function isKnownZone(zone: string): boolean {
  if (zone === 'UTC' || zone === 'Local' || zone === '') return true;
  try {
    format(zone);
    return true;
  } catch {
    return false;
  }
}

/** The process's own zone (Go's time.Local). */
export function localZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The fields of instant `ms` (whole seconds) in `zone`. */
export function fieldsAt(ms: number, zone: string): Fields {
  if (zone === 'UTC') {
    const d = new Date(ms);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
    };
  }
  const parts: Record<string, string> = {};
  for (const p of format(zone).formatToParts(ms)) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  return {
    year,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? 'Sun'] ?? 0,
  };
}

/** The zone's offset from UTC at instant `ms`, in ms. */
export function offsetAt(ms: number, zone: string): number {
  if (zone === 'UTC') return 0;
  const s = Math.floor(ms / 1000) * 1000;
  const f = fieldsAt(s, zone);
  return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - s;
}

/**
 * time.Date(year, month, day, hour, min, sec, 0, zone): fields may overflow (month 13, day 0 ...)
 * and are normalised; in a DST gap or overlap the offset is chosen as Go does (the offset in force
 * just before, unless that instant falls outside it).
 */
export function dateIn(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  zone: string,
): number {
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  if (zone === 'UTC') return local;
  const guess = offsetAt(local, zone);
  const utc = local - guess;
  const actual = offsetAt(utc, zone);
  return actual === guess ? utc : local - actual;
}

/** Time.Format(time.RFC3339) of `ms` in `zone`: "2026-03-01T11:00:00+01:00" ("Z" for UTC). */
export function rfc3339In(ms: number, zone: string): string {
  const f = fieldsAt(ms, zone);
  const off = Math.round(offsetAt(ms, zone) / 60_000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const tz =
    off === 0
      ? 'Z'
      : `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}${tz}`;
}
