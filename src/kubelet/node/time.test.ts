import assert from 'node:assert/strict';
import { test } from 'node:test';
import { microTime, rfc3339 } from './time.ts';

test('rfc3339 and microTime print what Date#toISOString gives, without it', () => {
  const samples = [
    0, 1, 999, 1000, 1_767_225_599_999, 1_767_225_600_000, 951_782_400_123, 253_402_300_799_999,
  ];
  for (let i = 0; i < 1000; i++) samples.push(Math.floor(Math.random() * 253_402_300_800_000));
  for (const ms of samples) {
    const iso = new Date(ms).toISOString();
    assert.equal(rfc3339(ms), `${iso.slice(0, 19)}Z`, String(ms));
    assert.equal(microTime(ms), `${iso.slice(0, 23)}000Z`, String(ms));
  }
  assert.equal(rfc3339(1_767_225_600_999), '2026-01-01T00:00:00Z');
  assert.equal(microTime(1_767_225_600_042), '2026-01-01T00:00:00.042000Z');
  assert.throws(() => rfc3339(Number.NaN), RangeError);
  assert.throws(() => microTime(Number.NaN), RangeError);
});
