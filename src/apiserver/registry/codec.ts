/**
 * How objects are kept in the Store: JSON without resourceVersion (the store's modRevision is the
 * resourceVersion, filled in on the way out).
 */
import type { KeyValue } from '../../storage/store.ts';
import type { KubeObject } from '../object.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes stored for `obj` (its resourceVersion is not stored). */
export function encodeForStorage(obj: KubeObject): Uint8Array {
  // Without a resourceVersion (a new object) there is nothing to leave out: no copy.
  if (obj.metadata.resourceVersion === undefined) return encoder.encode(JSON.stringify(obj));
  const { resourceVersion: _rv, ...meta } = obj.metadata;
  return encoder.encode(JSON.stringify({ ...obj, metadata: meta }));
}

/** The object stored in `kv`, with resourceVersion set from its modRevision. Returns a fresh copy. */
export function decodeFromStorage(kv: KeyValue): KubeObject {
  const obj = JSON.parse(decoder.decode(kv.value)) as KubeObject;
  obj.metadata.resourceVersion = String(kv.modRevision);
  return obj;
}
