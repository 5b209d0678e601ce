/** Helpers for the loopback sockets' tests. */
import type { Duplex } from 'node:stream';

/** Resolves on a later turn of the event loop. */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Everything `s` reads until its end (without destroying it, unlike a for-await loop). */
export function readAll(s: Duplex): Promise<string> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    s.once('end', () => resolve(Buffer.concat(chunks).toString()));
    s.once('error', reject);
  });
}
