import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { caHash, newJoinToken, parseJoinToken, sameSecret } from './jointoken.ts';

describe('join tokens', () => {
  test('a new token pins the CA and round-trips', () => {
    const token = newJoinToken('-----BEGIN CERTIFICATE-----\nabc\n');
    const parsed = parseJoinToken(`${token}\n`);
    assert.equal(parsed.caHash, caHash('-----BEGIN CERTIFICATE-----\nabc\n'));
    assert.equal(parsed.secret.length, 64);
    assert.ok(sameSecret(parsed.secret, parsed.secret));
    assert.ok(!sameSecret(parsed.secret, `${parsed.secret.slice(1)}x`));
  });
  test('a bare secret is accepted without a CA hash; malformed tokens are refused', () => {
    assert.deepEqual(parseJoinToken('s3cret'), { secret: 's3cret' });
    assert.throws(() => parseJoinToken('K10abc::server:x'), /malformed/);
    assert.throws(() => parseJoinToken(''), /empty/);
  });
});
