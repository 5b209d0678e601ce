/**
 * Sets of completion indexes as ordered, merged intervals and their text form ("1,3-5,7"), as
 * status.completedIndexes and status.failedIndexes carry them (indexed_job_utils.go).
 */

export interface Interval {
  first: number;
  last: number;
}

export class OrderedIntervals {
  readonly intervals: readonly Interval[];

  constructor(intervals: readonly Interval[] = []) {
    this.intervals = intervals;
  }

  /**
   * Parses "1,3-5": ends clipped to `completions`, corrupt parts skipped, adjacent parts merged.
   */
  static parse(s: string | null | undefined, completions: number): OrderedIntervals {
    if (!s) return new OrderedIntervals();
    const out: Interval[] = [];
    for (const part of s.split(',')) {
      const limits = part.split('-');
      const first = toInt(limits[0]);
      if (first === undefined) continue;
      if (first >= completions) break;
      let last = first;
      if (limits.length > 1) {
        const l = toInt(limits[1]);
        if (l === undefined) continue;
        last = Math.min(l, completions - 1);
      }
      const prev = out.at(-1);
      if (prev && prev.last === first - 1) prev.last = last;
      else out.push({ first, last });
    }
    return new OrderedIntervals(out);
  }

  /** A new set with `indexes` (ascending) added. */
  withIndexes(indexes: readonly number[]): OrderedIntervals {
    return this.merge(new OrderedIntervals(indexes.map((i) => ({ first: i, last: i }))));
  }

  merge(other: OrderedIntervals): OrderedIntervals {
    const all = [...this.intervals, ...other.intervals].sort((a, b) => a.first - b.first);
    const out: Interval[] = [];
    for (const iv of all) {
      const prev = out.at(-1);
      if (!prev || iv.first > prev.last + 1) out.push({ ...iv });
      else if (prev.last < iv.last) prev.last = iv.last;
    }
    return new OrderedIntervals(out);
  }

  total(): number {
    return this.intervals.reduce((n, iv) => n + iv.last - iv.first + 1, 0);
  }

  has(ix: number): boolean {
    return this.intervals.some((iv) => iv.first <= ix && ix <= iv.last);
  }

  toString(): string {
    return this.intervals
      .map((iv) =>
        iv.last === iv.first
          ? String(iv.first)
          : `${iv.first}${iv.last === iv.first + 1 ? ',' : '-'}${iv.last}`,
      )
      .join(',');
  }
}

function toInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^[+-]?\d+$/.test(s)) return undefined;
  return Number(s);
}

/**
 * firstPendingIndexes: the first `count` indexes below `completions` that are in none of the
 * `taken` sets.
 */
export function firstPendingIndexes(taken: OrderedIntervals, count: number, completions: number): number[] {
  const out: number[] = [];
  let candidate = 0;
  for (const iv of taken.intervals) {
    for (; candidate < completions && out.length < count && candidate < iv.first; candidate++)
      out.push(candidate);
    if (candidate < iv.last + 1) candidate = iv.last + 1;
  }
  for (; candidate < completions && out.length < count; candidate++) out.push(candidate);
  return out;
}
