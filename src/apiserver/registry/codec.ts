/**
 * How objects are kept in the Store: JSON without resourceVersion (the store's modRevision is the
 * resourceVersion, filled in on the way out).
 *
 * The bytes start `{"apiVersion":…,"kind":…,"metadata":{` (the other members follow in the object's
 * own order), so a reader can find where metadata opens without parsing and splice the
 * resourceVersion in: the watch cache sends stored bytes to watchers that way, never decoding or
 * encoding the object ({@link storedHead}, {@link withResourceVersion}). Bytes of another shape
 * (written by an older skiff, or an object without a string apiVersion and kind) are still read;
 * they take the slow path (decode, set, encode).
 */
import type { KeyValue } from '../../storage/store.ts';
import type { KubeObject } from '../object.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The JSON stored for `obj`: its members without metadata.resourceVersion, apiVersion, kind and metadata first. */
export function storageJson(obj: KubeObject): string {
  if (headFirst(obj)) {
    // The usual case: one JSON.stringify of the whole object (~40% cheaper than member by member),
    // with resourceVersion hidden for that call (JSON.stringify leaves undefined members out).
    const m = obj.metadata;
    const rv = m.resourceVersion;
    if (rv === undefined) return JSON.stringify(obj);
    m.resourceVersion = undefined;
    try {
      return JSON.stringify(obj);
    } finally {
      m.resourceVersion = rv;
    }
  }
  let meta: object = obj.metadata;
  if (obj.metadata.resourceVersion !== undefined) {
    const { resourceVersion: _rv, ...rest } = obj.metadata;
    meta = rest;
  }
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof meta !== 'object' || !meta) {
    return JSON.stringify(meta === obj.metadata ? obj : { ...obj, metadata: meta });
  }
  let s = `{"apiVersion":${JSON.stringify(apiVersion)},"kind":${JSON.stringify(kind)},"metadata":${JSON.stringify(meta)}`;
  for (const k of Object.keys(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'metadata') continue;
    // As JSON.stringify does for a member: undefined, functions and symbols are left out.
    const v = JSON.stringify(obj[k]);
    if (v !== undefined) s += `,${JSON.stringify(k)}:${v}`;
  }
  return `${s}}`;
}

const HEAD_KEYS = ['apiVersion', 'kind', 'metadata'] as const;

/**
 * Whether `obj`'s own members begin apiVersion, kind, metadata (in that order), with string apiVersion
 * and kind and an object metadata: then its JSON already has the stored shape.
 */
function headFirst(obj: KubeObject): boolean {
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return false;
  const m: unknown = obj.metadata;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
  let i = 0;
  for (const k in obj) {
    if (!Object.hasOwn(obj, k) || k !== HEAD_KEYS[i]) return false;
    if (++i === HEAD_KEYS.length) return true;
  }
  return false;
}

/**
 * The bytes stored for `obj` (its resourceVersion is not stored). A Buffer from node's pool when
 * small (a third of TextEncoder's cost): the stores copy what they keep, so the pool's slab is held
 * only while the write is in flight.
 */
export function encodeForStorage(obj: KubeObject): Uint8Array {
  return Buffer.from(storageJson(obj), 'utf8');
}

/** What the registry stored for an object it wrote: the bytes and their revision. */
interface Written {
  readonly bytes: Uint8Array;
  readonly revision: number;
}

/**
 * The bytes the registry stored for the objects it has just written (weakly, by object): a create's
 * or an update's answer sends exactly the object written, so it splices the resourceVersion into
 * these bytes instead of encoding the object a second time ({@link writtenJson}).
 */
const written = new WeakMap<KubeObject, Written>();

/** Records that `obj` was stored as `bytes` at `revision` (the registry, after a write succeeded). */
export function noteWritten(obj: KubeObject, bytes: Uint8Array, revision: number): void {
  written.set(obj, { bytes, revision });
}

/**
 * The JSON of `obj` as pieces to be written one after the other, made from the bytes the registry
 * stored for it: when `obj` is an object the registry wrote and it shows the revision written; else
 * undefined (encode the object). For answers sent right after the write, by callers that know nothing
 * changed the object since, other than its resourceVersion being set to the revision written.
 */
export function writtenJson(obj: KubeObject): Uint8Array[] | undefined {
  const w = written.get(obj);
  if (!w || obj.metadata?.resourceVersion !== String(w.revision)) return undefined;
  const head = storedHead(w.bytes);
  return head ? withResourceVersion(w.bytes, head, w.revision) : undefined;
}

/** The object stored in `kv`, with resourceVersion set from its modRevision. Returns a fresh copy. */
export function decodeFromStorage(kv: KeyValue): KubeObject {
  return decodeStored(kv.value, kv.modRevision);
}

/** The object in stored bytes, with resourceVersion `rv`. Returns a fresh copy. */
export function decodeStored(bytes: Uint8Array, rv: number): KubeObject {
  const obj = JSON.parse(decoder.decode(bytes)) as KubeObject;
  obj.metadata.resourceVersion = String(rv);
  return obj;
}

/** What {@link storedHead} learns of stored bytes without parsing them. */
export interface StoredHead {
  apiVersion: string;
  /** The offset just after the `{` that opens metadata. */
  metadataAt: number;
}

const HEAD = encoder.encode('{"apiVersion":"');
const KIND = encoder.encode(',"kind":"');
const META = encoder.encode(',"metadata":{');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function matchAt(b: Uint8Array, at: number, pattern: Uint8Array): boolean {
  if (at + pattern.length > b.length) return false;
  for (let i = 0; i < pattern.length; i++) if (b[at + i] !== pattern[i]) return false;
  return true;
}

/** The index of the quote that ends a JSON string starting at `at`, or -1 if it has escapes. */
function stringEnd(b: Uint8Array, at: number): number {
  for (let i = at; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) return i;
    if (c === BACKSLASH) return -1;
  }
  return -1;
}

/**
 * The apiVersion of stored bytes and where their metadata opens, when they have the shape
 * {@link storageJson} writes (with no escapes in apiVersion and kind); else null.
 */
export function storedHead(b: Uint8Array): StoredHead | null {
  if (!matchAt(b, 0, HEAD)) return null;
  const avEnd = stringEnd(b, HEAD.length);
  if (avEnd < 0 || !matchAt(b, avEnd + 1, KIND)) return null;
  const kindEnd = stringEnd(b, avEnd + 1 + KIND.length);
  if (kindEnd < 0 || !matchAt(b, kindEnd + 1, META)) return null;
  return {
    apiVersion: decoder.decode(b.subarray(HEAD.length, avEnd)),
    metadataAt: kindEnd + 1 + META.length,
  };
}

/**
 * The pieces of the object's JSON with resourceVersion `rv` spliced into its metadata, to be written
 * one after the other: the stored bytes up to metadata, the resourceVersion member, the rest.
 */
export function withResourceVersion(b: Uint8Array, head: StoredHead, rv: number): Uint8Array[] {
  const at = head.metadataAt;
  // An empty metadata object (`{}`) takes the member without a comma after it.
  const member = b[at] === 0x7d ? `"resourceVersion":"${rv}"` : `"resourceVersion":"${rv}",`;
  return [b.subarray(0, at), Buffer.from(member, 'latin1'), b.subarray(at)];
}
