/** Key rules shared by every Store implementation: validation, ordering, prefixes, continue tokens. */
import { InvalidArgumentError, MAX_KEY_BYTES, MAX_VALUE_BYTES } from './store.ts';

const encoder = new TextEncoder();

/** Throws {@link InvalidArgumentError} unless `key` is a non-empty, well-formed string of at most
 * {@link MAX_KEY_BYTES} UTF-8 bytes. Returns its UTF-8 encoding. */
export function checkKey(key: string): Uint8Array {
  if (typeof key !== 'string' || key.length === 0)
    throw new InvalidArgumentError('key must be a non-empty string');
  if (!key.isWellFormed()) throw new InvalidArgumentError('key must be well-formed Unicode');
  const bytes = encoder.encode(key);
  if (bytes.length > MAX_KEY_BYTES) {
    throw new InvalidArgumentError(`key is ${bytes.length} bytes; the limit is ${MAX_KEY_BYTES}`);
  }
  return bytes;
}

/** Throws {@link InvalidArgumentError} unless `prefix` is a well-formed string (it may be empty). */
export function checkPrefix(prefix: string): Uint8Array {
  if (typeof prefix !== 'string' || !prefix.isWellFormed()) {
    throw new InvalidArgumentError('prefix must be a well-formed string');
  }
  return encoder.encode(prefix);
}

/** Throws {@link InvalidArgumentError} unless `value` is a Uint8Array within {@link MAX_VALUE_BYTES}. */
export function checkValue(value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) throw new InvalidArgumentError('value must be a Uint8Array');
  if (value.length > MAX_VALUE_BYTES) {
    throw new InvalidArgumentError(`value is ${value.length} bytes; the limit is ${MAX_VALUE_BYTES}`);
  }
}

/** Throws {@link InvalidArgumentError} unless `ttlSeconds` is absent or a positive finite number. */
export function checkTtl(ttlSeconds: number | undefined): void {
  if (ttlSeconds === undefined) return;
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new InvalidArgumentError(`ttlSeconds must be a positive number, got ${String(ttlSeconds)}`);
  }
}

/** Throws {@link InvalidArgumentError} unless `revision` is absent or a non-negative safe integer. */
export function checkRevision(revision: number | undefined, what = 'revision'): void {
  if (revision === undefined) return;
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new InvalidArgumentError(`${what} must be a non-negative integer, got ${String(revision)}`);
  }
}

/** Orders keys by their UTF-8 bytes (which is code point order), as SQLite and etcd do. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca - cb;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}

/**
 * The smallest byte string greater than every byte string starting with `prefix`, or null when
 * there is none (empty prefix or all 0xff): the exclusive end of a prefix range, as etcd computes it.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | null {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return null;
}

/** What a continue token holds: the revision the listing is pinned to and the last key returned. */
export interface ContinueState {
  readonly revision: number;
  readonly after: string;
  readonly prefix: string;
}

/** Encodes a continue token (opaque to callers; base64url JSON). */
export function encodeContinue(state: ContinueState): string {
  return Buffer.from(JSON.stringify({ r: state.revision, a: state.after, p: state.prefix })).toString(
    'base64url',
  );
}

/** Decodes a continue token for a listing of `prefix`; {@link InvalidArgumentError} when malformed
 * or made for another prefix. */
export function decodeContinue(token: string, prefix: string): ContinueState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidArgumentError('continue token is malformed');
  }
  const p = parsed as { r?: unknown; a?: unknown; p?: unknown } | null;
  if (
    !p ||
    typeof p !== 'object' ||
    !Number.isSafeInteger(p.r) ||
    (p.r as number) <= 0 ||
    typeof p.a !== 'string' ||
    typeof p.p !== 'string'
  ) {
    throw new InvalidArgumentError('continue token is malformed');
  }
  if (p.p !== prefix) throw new InvalidArgumentError('continue token was issued for another listing');
  return { revision: p.r as number, after: p.a, prefix: p.p };
}
