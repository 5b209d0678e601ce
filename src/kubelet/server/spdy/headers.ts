/**
 * SPDY/3 name/value header blocks. A block is `count(32)` then `len(32) name len(32) value` pairs;
 * names are lowercase, several values of one name are joined with NUL. Blocks are compressed with
 * zlib primed with the SPDY/3 dictionary, and the zlib stream is ONE per direction per connection:
 * every block continues the previous one and ends with a sync flush. So each connection owns a
 * HeaderCompressor (for what it sends) and a HeaderDecompressor (for what it receives), and blocks
 * must go through them in wire order — calls are queued internally in call order.
 */
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.ts';
import { SpdyProtocolError } from './frames.ts';

/** Header names (lowercase) → values. */
export type SpdyHeaders = Record<string, string[]>;

/** Serialises headers into an uncompressed block (names lowercased, values NUL-joined). */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const merged = new Map<string, string[]>();
  for (const [name, values] of Object.entries(headers)) {
    const key = name.toLowerCase();
    merged.set(key, [...(merged.get(key) ?? []), ...values]);
  }
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(merged.size);
  parts.push(count);
  for (const [name, values] of merged) {
    for (const s of [name, values.join('\0')]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed block. Throws SpdyProtocolError when it is malformed. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const out: SpdyHeaders = {};
  let off = 0;
  const read = (): string => {
    if (off + 4 > block.length) throw new SpdyProtocolError('truncated header block');
    const len = block.readUInt32BE(off);
    off += 4;
    if (off + len > block.length) throw new SpdyProtocolError('truncated header block');
    const s = block.toString('utf8', off, off + len);
    off += len;
    return s;
  };
  if (block.length < 4) throw new SpdyProtocolError('truncated header block');
  const n = block.readUInt32BE(0);
  off = 4;
  for (let i = 0; i < n; i++) {
    const name = read().toLowerCase();
    const value = read();
    out[name] = [...(out[name] ?? []), ...value.split('\0')];
  }
  return out;
}

/** Runs chunks through one persistent zlib stream, one at a time, each ended by a sync flush. */
class ZlibChannel {
  readonly #z: Deflate | Inflate;
  #queue: Promise<unknown> = Promise.resolve();
  #chunks: Buffer[] = [];
  #error: Error | undefined;

  constructor(z: Deflate | Inflate) {
    this.#z = z;
    z.on('data', (c: Buffer) => this.#chunks.push(c));
    z.on('error', (err: Error) => {
      this.#error = err;
    });
  }

  run(input: Buffer): Promise<Buffer> {
    const next = this.#queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.#error) return reject(this.#error);
          this.#chunks = [];
          // A corrupt block makes zlib emit 'error' and never call the flush callback.
          const fail = (err: Error) => reject(new SpdyProtocolError(`header block: ${err.message}`));
          this.#z.once('error', fail);
          this.#z.write(input);
          this.#z.flush(constants.Z_SYNC_FLUSH, () => {
            this.#z.off('error', fail);
            if (this.#error) return reject(new SpdyProtocolError(`header block: ${this.#error.message}`));
            resolve(Buffer.concat(this.#chunks));
          });
        }),
    );
    this.#queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.#z.close();
  }
}

/** Compresses outgoing header blocks (one per connection). */
export class HeaderCompressor {
  readonly #ch = new ZlibChannel(createDeflate({ dictionary: SPDY3_DICTIONARY }));
  compress(headers: SpdyHeaders): Promise<Buffer> {
    return this.#ch.run(encodeHeaderBlock(headers));
  }
  close(): void {
    this.#ch.close();
  }
}

/** Decompresses incoming header blocks (one per connection). */
export class HeaderDecompressor {
  readonly #ch = new ZlibChannel(createInflate({ dictionary: SPDY3_DICTIONARY }));
  async decompress(block: Buffer): Promise<SpdyHeaders> {
    return decodeHeaderBlock(await this.#ch.run(block));
  }
  close(): void {
    this.#ch.close();
  }
}
