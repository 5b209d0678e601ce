import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtobufDecodeError } from './errors.ts';
import { Reader, WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT, Writer } from './wire.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('protobuf wire', () => {
  it('writes varints as the format specifies', () => {
    assert.equal(hex(new Writer().varint(0).finish()), '00');
    assert.equal(hex(new Writer().varint(1).finish()), '01');
    assert.equal(hex(new Writer().varint(127).finish()), '7f');
    assert.equal(hex(new Writer().varint(128).finish()), '8001');
    assert.equal(hex(new Writer().varint(300).finish()), 'ac02');
    // Negative int32/int64 values are sign-extended to ten bytes.
    assert.equal(hex(new Writer().varint(-1).finish()), 'ffffffffffffffffff01');
    assert.equal(hex(new Writer().varint(2n ** 64n - 1n).finish()), 'ffffffffffffffffff01');
  });

  it('reads back what it writes', () => {
    const values = [0n, 1n, 127n, 128n, 300n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 64n - 1n];
    const w = new Writer();
    for (const v of values) w.varint(v);
    w.tag(7, WIRE_BYTES).string('héllo');
    const r = new Reader(w.finish());
    for (const v of values) assert.equal(r.varint64(), v);
    assert.deepEqual(r.tag(), [7, WIRE_BYTES]);
    assert.equal(r.string(), 'héllo');
    assert.ok(r.done);
  });

  it('grows its buffer for large payloads', () => {
    const big = new Uint8Array(100_000).fill(7);
    const out = new Writer().tag(1, WIRE_BYTES).bytes(big).finish();
    const r = new Reader(out);
    assert.deepEqual(r.tag(), [1, WIRE_BYTES]);
    assert.deepEqual(r.bytes(), big);
  });

  it('skips every wire type it knows', () => {
    const w = new Writer();
    w.tag(1, WIRE_VARINT).varint(5);
    w.tag(2, WIRE_FIXED64).raw(new Uint8Array(8));
    w.tag(3, WIRE_FIXED32).raw(new Uint8Array(4));
    w.tag(4, WIRE_BYTES).string('x');
    const r = new Reader(w.finish());
    while (!r.done) r.skip(r.tag()[1]);
    assert.ok(r.done);
  });

  it('fails with a typed error on malformed input', () => {
    const bad: [string, (r: Reader) => unknown][] = [
      ['80', (r) => r.varint64()], // truncated varint
      ['ffffffffffffffffffff01', (r) => r.varint64()], // eleven bytes
      ['05', (r) => r.bytes()], // length past the end
      ['0261', (r) => r.bytes()], // length past the end, by one
      ['00', (r) => r.tag()], // field number 0
      ['0b', (r) => r.skip(r.tag()[1])], // group start (wire type 3)
      ['0d0102', (r) => r.skip(r.tag()[1])], // truncated fixed32
      ['ffffffffffffffff7f', (r) => r.uint()], // length too large to be real
    ];
    for (const [input, read] of bad) {
      assert.throws(() => read(new Reader(Buffer.from(input, 'hex'))), ProtobufDecodeError, input);
    }
  });
});
