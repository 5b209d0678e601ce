/**
 * The CRI container log format, as containerd writes it: one record per line,
 * `<RFC3339Nano timestamp> <stdout|stderr> <F|P> <text>`. P marks a partial record: the line was cut
 * (the runtime's buffer filled) and the next record of the same stream continues it.
 */

export interface CriLogRecord {
  /** The timestamp as written (RFC 3339 with nanoseconds). */
  timestamp: string;
  /** Milliseconds since the epoch (for since filters). */
  time: number;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  /** The text, without the trailing newline. */
  content: Buffer;
}

/** Parses one line (without its newline). Returns undefined for a line that is not a CRI record. */
export function parseCriLine(line: Buffer): CriLogRecord | undefined {
  const s1 = line.indexOf(0x20);
  if (s1 <= 0) return undefined;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  const timestamp = line.toString('latin1', 0, s1);
  const stream = line.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const time = Date.parse(timestamp);
  if (Number.isNaN(time)) return undefined;
  // Tag field: "F" or "P" (older runtimes may write more tags joined with ':'; the first decides).
  const s3 = line.indexOf(0x20, s2 + 1);
  const tag = line.toString('latin1', s2 + 1, s3 < 0 ? line.length : s3);
  const content = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
  return { timestamp, time, stream, partial: tag.split(':')[0] === 'P', content };
}

/** Formats a record as the runtime writes it (used by tests and fakes). */
export function formatCriLine(r: {
  timestamp: string;
  stream: string;
  partial?: boolean;
  content: string;
}): string {
  return `${r.timestamp} ${r.stream} ${r.partial ? 'P' : 'F'} ${r.content}\n`;
}
