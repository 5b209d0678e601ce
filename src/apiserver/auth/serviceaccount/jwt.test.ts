/** Compact JWS signing and verification with node:crypto. */
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { decodeJwt, keyIdOf, signJwt, verifyJwtSignature } from './jwt.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

test('RS256: signs, decodes and verifies with the public key only', () => {
  const kid = keyIdOf(rsa.publicKey);
  const token = signJwt({ sub: 'x', n: 1 }, rsa.privateKey, kid);
  const jwt = decodeJwt(token);
  assert.ok(jwt);
  assert.deepEqual(jwt.header, { alg: 'RS256', kid });
  assert.deepEqual(jwt.payload, { sub: 'x', n: 1 });
  assert.equal(verifyJwtSignature(jwt, [rsa.publicKey]), true);
  assert.equal(verifyJwtSignature(jwt, [other.publicKey]), false);
  assert.equal(verifyJwtSignature(jwt, [other.publicKey, rsa.publicKey]), true, 'any of the keys');
  // The kid is base64url(sha256(SPKI DER)), 43 characters.
  assert.match(kid, /^[A-Za-z0-9_-]{43}$/);
  const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  assert.equal(keyIdOf(createPublicKey(pem)), kid);
});

test('a changed payload, a foreign signature or alg none do not verify', () => {
  const token = signJwt({ sub: 'x' }, rsa.privateKey);
  const [h, , s] = token.split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url')}.${s}`;
  assert.equal(verifyJwtSignature(decodeJwt(forged)!, [rsa.publicKey]), false);
  const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${token.split('.')[1]}.`;
  assert.equal(verifyJwtSignature(decodeJwt(none)!, [rsa.publicKey]), false);
  const hs = `${Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url')}.${token.split('.')[1]}.${s}`;
  assert.equal(verifyJwtSignature(decodeJwt(hs)!, [rsa.publicKey]), false);
  // An RSA signature claimed as ES256 is refused (algorithm must fit the key type).
  const es = `${Buffer.from(JSON.stringify({ alg: 'ES256' })).toString('base64url')}.${token.split('.')[1]}.${s}`;
  assert.equal(verifyJwtSignature(decodeJwt(es)!, [rsa.publicKey]), false);
});

test('ES256 keys sign and verify too', () => {
  const token = signJwt({ a: 'b' }, ec.privateKey, 'k');
  const jwt = decodeJwt(token)!;
  assert.equal(jwt.header.alg, 'ES256');
  assert.equal(verifyJwtSignature(jwt, [ec.publicKey]), true);
  assert.equal(verifyJwtSignature(jwt, [rsa.publicKey]), false);
});

test('a kid naming one of the keys picks it', () => {
  const token = signJwt({ a: 1 }, rsa.privateKey, 'second');
  const jwt = decodeJwt(token)!;
  assert.equal(verifyJwtSignature(jwt, [other.publicKey, rsa.publicKey], ['first', 'second']), true);
  assert.equal(verifyJwtSignature(jwt, [other.publicKey, rsa.publicKey], ['second', 'first']), false);
});

test('malformed tokens decode to null', () => {
  for (const t of [
    '',
    'a.b',
    'a.b.c.d',
    '!!.e30.x',
    'e30.e30.x',
    `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.bm90IGpzb24.x`,
  ])
    assert.equal(decodeJwt(t), null, t);
});
