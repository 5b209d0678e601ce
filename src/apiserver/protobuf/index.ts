/**
 * Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), as in
 * k8s.io/apimachinery/pkg/runtime/serializer/protobuf: the magic `k8s\0`, then a runtime.Unknown
 * message {typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4} whose `raw`
 * is the object's own message.
 *
 * helm stores releases as Secrets and sends them this way, and kubectl (client-go 0.31 and later)
 * sends the objects of its typed commands (`kubectl create deployment`, `create namespace`, ...,
 * `create token`, the DeleteOptions of `drain`) this way. skiff decodes such bodies into the JSON
 * form the rest of the server works with, and can encode the same kinds (and Status) back.
 * The kinds are those skiff serves, their subresource kinds (Scale, Binding, Eviction,
 * TokenRequest), their lists, Status, DeleteOptions, PartialObjectMetadata, and the Ingress and
 * HorizontalPodAutoscaler kubectl also sends this way (see gen/build.ts ROOT_KINDS).
 */
import { decodeMessage, encodeMessage } from './codec.ts';
import { ProtobufDecodeError, UnsupportedProtobufKindError } from './errors.ts';
import { KINDS, kindDef, TypeMeta } from './schema.ts';
import { Reader, WIRE_BYTES, Writer } from './wire.ts';

export { ProtobufDecodeError, ProtobufEncodeError, UnsupportedProtobufKindError } from './errors.ts';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** The four bytes every Kubernetes protobuf body starts with. */
export const PROTOBUF_MAGIC: Uint8Array = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** The kinds {@link decodeProtobufObject} and {@link encodeProtobufObject} handle. */
export const PROTOBUF_KINDS: readonly string[] = [...new Set(KINDS.map((k) => k.kind))];

/** The same, with the apiVersion each is handled in (`*`: every apiVersion). */
export const PROTOBUF_TYPES: readonly { apiVersion: string; kind: string }[] = KINDS;

/** The group/version/kind a body lacks, as the request URL implies it (Go's default GVK). */
export interface DefaultTypeMeta {
  apiVersion: string;
  kind: string;
}

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
}

function readEnvelope(body: Uint8Array): Envelope {
  if (body.length < PROTOBUF_MAGIC.length || PROTOBUF_MAGIC.some((b, i) => body[i] !== b)) {
    throw new ProtobufDecodeError('the data does not start with the Kubernetes protobuf prefix "k8s\\x00"');
  }
  if (body.length === PROTOBUF_MAGIC.length) throw new ProtobufDecodeError('empty body');
  const env: Envelope = { apiVersion: '', kind: '', raw: new Uint8Array(0) };
  const r = new Reader(body.subarray(PROTOBUF_MAGIC.length));
  while (!r.done) {
    const [no, wt] = r.tag();
    if (no < 1 || no > 4) {
      r.skip(wt);
      continue;
    }
    if (wt !== WIRE_BYTES) throw new ProtobufDecodeError(`Unknown: wrong wire type ${wt} for field ${no}`);
    const data = r.bytes();
    if (no === 1) {
      const tm = decodeMessage(TypeMeta, data, {}, 'Unknown.typeMeta');
      env.apiVersion = (tm.apiVersion as string | undefined) ?? '';
      env.kind = (tm.kind as string | undefined) ?? '';
    } else if (no === 2) {
      env.raw = data;
    }
    // contentEncoding (3) and contentType (4) are ignored, as Kubernetes' decoder ignores them.
  }
  return env;
}

/**
 * Decodes a protobuf request body into the object's JSON form (apiVersion, kind, metadata, ...).
 * `defaults` fill in an apiVersion or kind the envelope leaves empty.
 *
 * @throws ProtobufDecodeError (400) for malformed input.
 * @throws UnsupportedProtobufKindError (415) for a kind skiff has no protobuf schema for.
 */
export function decodeProtobufObject(body: Uint8Array, defaults?: DefaultTypeMeta): Record<string, unknown> {
  const env = readEnvelope(body);
  const apiVersion = env.apiVersion || defaults?.apiVersion || '';
  const kind = env.kind || defaults?.kind || '';
  if (!kind) throw new ProtobufDecodeError("Object 'Kind' is missing in the protobuf envelope");
  if (!apiVersion) throw new ProtobufDecodeError("Object 'apiVersion' is missing in the protobuf envelope");
  const def = kindDef(apiVersion, kind);
  if (!def) throw new UnsupportedProtobufKindError(apiVersion, kind, 'decode');
  return { apiVersion, kind, ...decodeMessage(def, env.raw, {}, kind) };
}

/** Whether {@link encodeProtobufObject} can encode an object of this apiVersion and kind. */
export function canEncodeProtobuf(apiVersion: string, kind: string): boolean {
  return kindDef(apiVersion, kind) !== undefined;
}

/**
 * Encodes an object's JSON form as a protobuf body (magic + runtime.Unknown), byte for byte as
 * Kubernetes' Go serializer writes it.
 *
 * @throws UnsupportedProtobufKindError (406) for a kind skiff has no protobuf schema for: answer JSON.
 * @throws ProtobufEncodeError (500) if the object does not fit its kind's schema.
 */
export function encodeProtobufObject(obj: Record<string, unknown>): Uint8Array {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  if (!canEncodeProtobuf(apiVersion, kind))
    throw new UnsupportedProtobufKindError(apiVersion, kind, 'encode');
  const raw = encodeMessage(kindDef(apiVersion, kind)!, obj, kind);
  const w = new Writer().raw(PROTOBUF_MAGIC);
  w.tag(1, WIRE_BYTES).bytes(encodeMessage(TypeMeta, { apiVersion, kind }));
  w.tag(2, WIRE_BYTES).bytes(raw);
  w.tag(3, WIRE_BYTES).string(''); // contentEncoding
  w.tag(4, WIRE_BYTES).string(''); // contentType
  return w.finish();
}
