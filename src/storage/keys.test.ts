import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareKeys, decodeContinue, encodeContinue, prefixEnd } from './keys.ts';
import { InvalidArgumentError } from './store.ts';

test('compareKeys orders by UTF-8 bytes (code points), not UTF-16 units', () => {
  const keys = ['\u{1F600}', '\uFF21', 'b', 'a', 'é', 'ab', ''];
  const sorted = [...keys].sort(compareKeys);
  const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual(sorted, byBytes);
  assert.deepEqual(sorted, ['', 'a', 'ab', 'b', 'é', '\uFF21', '\u{1F600}']);
});

test('prefixEnd is the exclusive end of the prefix range', () => {
  assert.deepEqual(prefixEnd(Uint8Array.from([0x61, 0x62])), Uint8Array.from([0x61, 0x63]));
  assert.deepEqual(prefixEnd(Uint8Array.from([0x61, 0xff])), Uint8Array.from([0x62]));
  assert.equal(prefixEnd(Uint8Array.from([0xff, 0xff])), null);
  assert.equal(prefixEnd(new Uint8Array(0)), null);
});

test('continue tokens round-trip and are bound to their listing', () => {
  const token = encodeContinue({ revision: 42, after: '/registry/pods/ns/a', prefix: '/registry/pods/' });
  assert.deepEqual(decodeContinue(token, '/registry/pods/'), {
    revision: 42,
    after: '/registry/pods/ns/a',
    prefix: '/registry/pods/',
  });
  assert.throws(() => decodeContinue(token, '/registry/services/'), InvalidArgumentError);
  assert.throws(() => decodeContinue('%%%', '/registry/pods/'), InvalidArgumentError);
  assert.throws(
    () => decodeContinue(Buffer.from('{"r":-1,"a":"x","p":""}').toString('base64url'), ''),
    InvalidArgumentError,
  );
});
