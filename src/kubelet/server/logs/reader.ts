/**
 * Reads a container's CRI log file the way `kubectl logs` expects (the kubelet's ReadLogs): from the
 * start or the last `tailLines` lines, records older than `sinceTime` skipped, partial records joined
 * with the rest of their line, optional timestamp prefix, stopping at `limitBytes`; with `follow`, it
 * keeps reading as the file grows, follows a rotation (the file renamed and a new one opened at the
 * same path) and ends once the container is no longer running and everything was read.
 */
import { type FileHandle, open, stat } from 'node:fs/promises';
import { parseCriLine } from './cri-log.ts';

export interface LogReadOptions {
  follow?: boolean;
  /** Only the last N lines of the file (counted as the file's lines). */
  tailLines?: number;
  /** Only records at or after this time (ms since the epoch). */
  sinceTime?: number;
  /** Prefix every line with its timestamp and a space. */
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
}

export interface LogReadContext {
  /** Whether the container still runs (asked when a followed file has no more data). */
  isRunning: () => Promise<boolean>;
  signal?: AbortSignal;
  /** How long to wait between looks at a followed file (ms). Default 200. */
  pollMs?: number;
}

/** Receives output; a false return means "wait for drain" and is awaited through `drain`. */
export interface LogSink {
  write(chunk: Buffer): boolean;
  drain(): Promise<void>;
}

const READ_SIZE = 64 * 1024;

/** Byte offset where the last `n` lines of `data` start. */
export function tailOffset(data: Buffer, n: number): number {
  if (n <= 0) return data.length;
  let end = data.length;
  if (end > 0 && data[end - 1] === 0x0a) end--;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (data[i] === 0x0a) {
      count++;
      if (count === n) return i + 1;
    }
  }
  return 0;
}

async function tailStart(fh: FileHandle, n: number): Promise<number> {
  const { size } = await fh.stat();
  // Read backwards in growing windows until n newlines are inside one.
  let window = Math.min(size, READ_SIZE);
  for (;;) {
    const buf = Buffer.alloc(window);
    await fh.read(buf, 0, window, size - window);
    const off = tailOffset(buf, n);
    if (off > 0 || window === size) return size - window + off;
    window = Math.min(size, window * 4);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Reads per the options into `sink`. Resolves when done (or aborted). Rejects on I/O errors. */
export async function readCriLog(
  path: string,
  opts: LogReadOptions,
  sink: LogSink,
  ctx: LogReadContext,
): Promise<void> {
  const pollMs = ctx.pollMs ?? 200;
  let remaining = opts.limitBytes && opts.limitBytes > 0 ? opts.limitBytes : Number.POSITIVE_INFINITY;
  const pending = new Map<string, { timestamp: string; parts: Buffer[] }>();
  let fh = await open(path, 'r');
  let pos = opts.tailLines !== undefined && opts.tailLines >= 0 ? await tailStart(fh, opts.tailLines) : 0;
  let carry = Buffer.alloc(0);

  const emit = async (timestamp: string, content: Buffer): Promise<boolean> => {
    let out = opts.timestamps ? Buffer.concat([Buffer.from(`${timestamp} `), content]) : content;
    if (out.length > remaining) out = out.subarray(0, remaining);
    remaining -= out.length;
    if (out.length && !sink.write(out)) await sink.drain();
    return remaining > 0;
  };

  /** Handles complete lines; false once limitBytes is reached. */
  const handleLines = async (data: Buffer): Promise<boolean> => {
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
      const rec = parseCriLine(data.subarray(start, nl));
      start = nl + 1;
      if (!rec) continue;
      if (opts.sinceTime !== undefined && rec.time < opts.sinceTime) continue;
      const prev = pending.get(rec.stream);
      if (rec.partial) {
        if (prev) prev.parts.push(rec.content);
        else pending.set(rec.stream, { timestamp: rec.timestamp, parts: [rec.content] });
        continue;
      }
      pending.delete(rec.stream);
      const content = Buffer.concat([...(prev?.parts ?? []), rec.content, Buffer.from('\n')]);
      if (!(await emit(prev?.timestamp ?? rec.timestamp, content))) return false;
    }
    carry = Buffer.from(data.subarray(start));
    return true;
  };

  /** Reads what the open file has past `pos`; false once limitBytes is reached. */
  const drainFile = async (): Promise<{ more: boolean; read: number }> => {
    let total = 0;
    for (;;) {
      if (ctx.signal?.aborted) return { more: false, read: total };
      const buf = Buffer.alloc(READ_SIZE);
      const { bytesRead } = await fh.read(buf, 0, READ_SIZE, pos);
      if (bytesRead === 0) return { more: true, read: total };
      pos += bytesRead;
      total += bytesRead;
      const data = carry.length
        ? Buffer.concat([carry, buf.subarray(0, bytesRead)])
        : buf.subarray(0, bytesRead);
      if (!(await handleLines(data))) return { more: false, read: total };
    }
  };

  try {
    for (;;) {
      const { more, read } = await drainFile();
      if (!more || !opts.follow || ctx.signal?.aborted) return;
      if (read > 0) continue;
      // At the end of the file: was it rotated away?
      const rotated = await stat(path).then(
        async (st) => st.ino !== (await fh.stat()).ino,
        () => false,
      );
      if (rotated) {
        await drainFile();
        await fh.close();
        fh = await open(path, 'r');
        pos = 0;
        carry = Buffer.alloc(0);
        continue;
      }
      if (!(await ctx.isRunning())) {
        // One last look: the container may have written its last lines just before exiting.
        await drainFile();
        return;
      }
      await sleep(pollMs, ctx.signal);
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}
