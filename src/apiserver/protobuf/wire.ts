/**
 * The protobuf wire format, just what Kubernetes messages use: varints (wire type 0),
 * length-delimited fields (wire type 2), and the fixed64/fixed32 doubles and floats of
 * apiextensions' JSONSchemaProps (wire types 1 and 5).
 *
 * The reader never trusts its input: every read is bounds-checked and every failure is a
 * {@link ProtobufDecodeError}, so a hostile body cannot crash or hang the server.
 */
import { ProtobufDecodeError } from './errors.ts';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** A cursor over one message's bytes. Nested messages get their own reader over a subarray. */
export class Reader {
  private pos = 0;
  private readonly buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** A varint as an unsigned 64-bit BigInt (at most 10 bytes, as the format allows). */
  varint64(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtobufDecodeError('unexpected end of data in a varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  /** A varint used as a tag or a length: must fit a safe integer. */
  uint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) throw new ProtobufDecodeError('unexpected end of data in a varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new ProtobufDecodeError('length or tag varint is too large');
  }

  /** The next field's tag: [field number, wire type]. */
  tag(): [number, number] {
    const t = this.uint();
    const no = Math.floor(t / 8);
    if (no === 0) throw new ProtobufDecodeError('field number 0 is not valid');
    return [no, t % 8];
  }

  /** A length-delimited payload, as a view (no copy). */
  bytes(): Uint8Array {
    const len = this.uint();
    if (len > this.buf.length - this.pos) {
      throw new ProtobufDecodeError(`length ${len} runs past the end of the data`);
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    const b = this.bytes();
    if (b.length <= 64) {
      // Short ASCII strings (names, labels, keys) skip TextDecoder.
      let out = '';
      for (let i = 0; i < b.length; i++) {
        const c = b[i]!;
        if (c > 0x7f) return utf8.decode(b);
        out += String.fromCharCode(c);
      }
      return out;
    }
    return utf8.decode(b);
  }

  /** A fixed64 payload as a little-endian double. */
  double(): number {
    const at = this.advance(8);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 8).getFloat64(0, true);
  }

  /** A fixed32 payload as a little-endian float. */
  float(): number {
    const at = this.advance(4);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 4).getFloat32(0, true);
  }

  /** Skips a field of an unknown number, as proto2 parsers do. Groups (3, 4) are refused. */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        throw new ProtobufDecodeError(`unsupported wire type ${wireType}`);
    }
  }

  /** Moves past `n` bytes and returns where they start. */
  private advance(n: number): number {
    if (n > this.buf.length - this.pos) throw new ProtobufDecodeError('unexpected end of data');
    const at = this.pos;
    this.pos += n;
    return at;
  }
}

/** A growable output buffer. Nested messages are encoded into their own Writer and embedded. */
export class Writer {
  private buf = new Uint8Array(64);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** A varint; negative numbers are sign-extended to 64 bits (10 bytes), as int32/int64 are. */
  varint(value: number | bigint): this {
    this.reserve(10);
    if (typeof value === 'number' && value >= 0 && value <= 0x7fffffff) {
      let n = value;
      while (n >= 0x80) {
        this.buf[this.len++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      this.buf[this.len++] = n;
      return this;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
    return this;
  }

  /** A little-endian double (fixed64 payload). */
  double(value: number): this {
    this.reserve(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 8).setFloat64(0, value, true);
    this.len += 8;
    return this;
  }

  /** A little-endian float (fixed32 payload). */
  float(value: number): this {
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, value, true);
    this.len += 4;
    return this;
  }

  tag(fieldNo: number, wireType: number): this {
    return this.varint(fieldNo * 8 + wireType);
  }

  /** A length-delimited payload (without its tag). */
  bytes(data: Uint8Array): this {
    this.varint(data.length);
    this.reserve(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  raw(data: Uint8Array): this {
    this.reserve(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  string(s: string): this {
    const size = Buffer.byteLength(s, 'utf8');
    this.varint(size);
    this.reserve(size);
    if (size === s.length) {
      for (let i = 0; i < size; i++) this.buf[this.len + i] = s.charCodeAt(i);
    } else {
      utf8Encoder.encodeInto(s, this.buf.subarray(this.len, this.len + size));
    }
    this.len += size;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
