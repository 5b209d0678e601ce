import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBase64 } from './base64.ts';

test('base64 as Go decodes []byte fields', () => {
  assert.deepEqual(decodeBase64('aGVsbG8='), { bytes: Buffer.from('hello') });
  assert.deepEqual(decodeBase64('aGVs\nbG8='), { bytes: Buffer.from('hello') });
  assert.deepEqual(decodeBase64(''), { bytes: Buffer.alloc(0) });
  assert.deepEqual(decodeBase64('aGVsbG8'), { error: 'illegal base64 data at input byte 4' });
  assert.deepEqual(decodeBase64('aGV$bG8='), { error: 'illegal base64 data at input byte 3' });
  assert.deepEqual(decodeBase64('aG=sbG8='), { error: 'illegal base64 data at input byte 3' });
});
