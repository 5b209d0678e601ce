/**
 * The pod-template-hash (controller.ComputeHash): FNV-1a (32 bit) of the pod template — here its
 * canonical JSON, keys sorted, where Kubernetes prints the Go struct — then, when the Deployment has
 * a collisionCount, its 4 bytes little-endian padded to 8; the decimal sum encoded with
 * rand.SafeEncodeString's alphabet (no vowels, no look-alikes), e.g. "7d4b9c8f5".
 *
 * Equal templates hash equally in every process; a bumped collisionCount yields a new name when
 * another ReplicaSet already holds `<deployment>-<hash>`.
 */

import { canonicalJson } from '../util/json.ts';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bit, over bytes, continuing from `hash`. */
export function fnv32a(bytes: Uint8Array, hash = 0x811c9dc5): number {
  let h = hash >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString: each character mapped into the safe alphabet. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** ComputeHash(template, collisionCount) */
export function computeHash(template: unknown, collisionCount?: number | null): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJson(template ?? {})));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}
