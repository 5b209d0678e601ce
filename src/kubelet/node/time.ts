/**
 * metav1.Time (seconds) and metav1.MicroTime (microseconds) in RFC 3339, as the API prints them.
 *
 * Not through Date#toISOString: V8 formats every date string (toISOString and toJSON included) by
 * way of the local time zone's ICU display name, which pages in ~1 MB of ICU time-zone data that an
 * idle node touches for nothing else. The UTC getters need none of it.
 */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `YYYY-MM-DDTHH:MM:SS` in UTC; throws a RangeError for an invalid time, as toISOString does. */
function utcSeconds(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RangeError('Invalid time value');
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `2026-01-01T00:00:00Z`: whole seconds (rounded down), as metav1.Time marshals. */
export function rfc3339(ms: number): string {
  return `${utcSeconds(new Date(Math.floor(ms / 1000) * 1000))}Z`;
}

/** `2026-01-01T00:00:00.123000Z`: microseconds (the clock's milliseconds, then 000), as metav1.MicroTime. */
export function microTime(ms: number): string {
  const d = new Date(ms);
  return `${utcSeconds(d)}.${pad(d.getUTCMilliseconds(), 3)}000Z`;
}
