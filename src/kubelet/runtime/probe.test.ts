import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CriProbeError, criVersion, decodeFields, decodeVersionResponse, encodeStrings } from './probe.ts';

test('string messages round-trip through the hand-rolled protobuf codec', () => {
  const long = 'x'.repeat(300); // a two-byte length varint
  const buf = encodeStrings({ 1: 'a', 2: long, 4: 'v1' });
  const f = decodeFields(buf);
  assert.equal(f.get(1)?.[0]?.toString(), 'a');
  assert.equal(f.get(2)?.[0]?.toString(), long);
  assert.deepEqual(decodeVersionResponse(buf), {
    version: 'a',
    runtimeName: long,
    runtimeVersion: '',
    runtimeApiVersion: 'v1',
  });
});

test('varint, fixed and repeated fields are decoded or skipped', () => {
  // field 1 varint 150, field 2 fixed64, field 3 fixed32, field 4 bytes twice
  const buf = Buffer.from([
    0x08, 0x96, 0x01, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1d, 1, 2, 3, 4, 0x22, 1, 0x41, 0x22, 1, 0x42,
  ]);
  const f = decodeFields(buf);
  assert.deepEqual(f.get(1), [150]);
  assert.deepEqual(f.get(4)?.map(String), ['A', 'B']);
  assert.throws(() => decodeFields(Buffer.from([0x0a, 5, 1])), CriProbeError);
});

test('criVersion on a socket nobody serves is a CriProbeError', async () => {
  await assert.rejects(criVersion('/nonexistent/skiff.sock', 500), CriProbeError);
});
