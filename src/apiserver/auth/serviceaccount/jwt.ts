/**
 * Compact JWS (RFC 7515) with JSON claims, signed and verified with node:crypto: RS256/384/512 for
 * RSA keys and ES256/384/512 for EC keys, as kube-apiserver's service account token signer and
 * verifier (k8s.io/kubernetes/pkg/serviceaccount/jwt.go) accept them.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

export interface JwtHeader {
  alg: string;
  kid?: string;
  typ?: string;
}

/** A token split into its parts, before its signature is checked. */
export interface DecodedJwt {
  header: JwtHeader;
  payload: Record<string, unknown>;
  /** `header.payload`, what the signature covers. */
  signingInput: string;
  signature: Buffer;
}

const HASHES: Record<string, { hash: string; type: 'rsa' | 'ec'; curve?: string }> = {
  RS256: { hash: 'sha256', type: 'rsa' },
  RS384: { hash: 'sha384', type: 'rsa' },
  RS512: { hash: 'sha512', type: 'rsa' },
  ES256: { hash: 'sha256', type: 'ec', curve: 'prime256v1' },
  ES384: { hash: 'sha384', type: 'ec', curve: 'secp384r1' },
  ES512: { hash: 'sha512', type: 'ec', curve: 'secp521r1' },
};

const B64URL = /^[A-Za-z0-9_-]*$/;

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A private key from PEM (PKCS#1 or PKCS#8, RSA or EC). */
export function privateKeyOf(pem: string | KeyObject): KeyObject {
  return typeof pem === 'string' ? createPrivateKey(pem) : pem;
}

/** A public key from PEM (SPKI, PKCS#1, or a certificate), or derived from a private key. */
export function publicKeyOf(pem: string | KeyObject): KeyObject {
  if (typeof pem !== 'string') return pem.type === 'private' ? createPublicKey(pem) : pem;
  return createPublicKey(pem);
}

/**
 * The `kid` Kubernetes puts in the header: base64url (no padding) of the SHA-256 of the public key's
 * DER (PKIX) encoding (keyIDFromPublicKey).
 */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url');
}

/** The JWS algorithm for a key: RS256 for RSA, ES256/384/512 by curve for EC. */
export function algorithmFor(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const alg = Object.entries(HASHES).find(([, h]) => h.curve === curve)?.[0];
    if (alg) return alg;
  }
  throw new Error(`unsupported service account signing key type ${key.asymmetricKeyType ?? 'unknown'}`);
}

/** Signs `claims` into a compact JWS. */
export function signJwt(claims: Record<string, unknown>, key: KeyObject, kid?: string): string {
  const alg = algorithmFor(key);
  const header: JwtHeader = kid ? { alg, kid } : { alg };
  const input = `${b64url(header)}.${b64url(claims)}`;
  const h = HASHES[alg]!;
  const signature = sign(h.hash, Buffer.from(input), {
    key,
    ...(h.type === 'ec' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
  });
  return `${input}.${signature.toString('base64url')}`;
}

/** Splits and parses a compact JWS; null when it is not one (wrong shape, bad base64url or JSON). */
export function decodeJwt(token: string): DecodedJwt | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)) || !parts[0] || !parts[1]) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (!isObject(header) || typeof header.alg !== 'string' || !isObject(payload)) return null;
    return {
      header: header as unknown as JwtHeader,
      payload,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return null;
  }
}

/**
 * Whether one of `keys` made the signature of `jwt`. The header's algorithm must fit the key type
 * (no "none", no HMAC); a `kid` in the header, when it names one of the keys, selects that key.
 */
export function verifyJwtSignature(
  jwt: DecodedJwt,
  keys: readonly KeyObject[],
  kids?: readonly string[],
): boolean {
  const h = HASHES[jwt.header.alg];
  if (!h) return false;
  let candidates = keys.map((k, i) => ({ key: k, kid: kids?.[i] }));
  if (jwt.header.kid && candidates.some((c) => c.kid === jwt.header.kid))
    candidates = candidates.filter((c) => c.kid === jwt.header.kid);
  for (const { key } of candidates) {
    if (key.asymmetricKeyType !== h.type) continue;
    if (h.type === 'ec' && key.asymmetricKeyDetails?.namedCurve !== h.curve) continue;
    try {
      const ok = verify(
        h.hash,
        Buffer.from(jwt.signingInput),
        {
          key,
          ...(h.type === 'ec' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
        },
        jwt.signature,
      );
      if (ok) return true;
    } catch {
      // a malformed signature for this key: try the next
    }
  }
  return false;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
