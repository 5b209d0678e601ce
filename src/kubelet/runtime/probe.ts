/**
 * A one-call CRI probe: `runtime.v1.RuntimeService/Version` over a unix socket, with a hand-rolled
 * (de)serialiser for its four string fields, so the supervisor can tell "containerd's CRI answers"
 * without depending on the full CRI client.
 */
import { GrpcChannel } from '../../util/grpc.ts';

export interface CriVersion {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

/** Thrown when the CRI did not answer (socket missing, refused, plugin not loaded, deadline). */
export class CriProbeError extends Error {
  override name = 'CriProbeError';
}

/** Reads a protobuf varint at `pos`; returns [value, next position]. */
function varint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new CriProbeError('truncated varint');
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, pos];
    shift += 7;
  }
}

/** A decoded protobuf field value: bytes for length-delimited fields, a number otherwise. */
export type ProtoValue = Buffer | number;

/** Decodes one protobuf message into its fields (by number, repeated values in order). */
export function decodeFields(buf: Buffer): Map<number, ProtoValue[]> {
  const out = new Map<number, ProtoValue[]>();
  const add = (field: number, v: ProtoValue) => {
    const list = out.get(field);
    if (list) list.push(v);
    else out.set(field, [v]);
  };
  let pos = 0;
  while (pos < buf.length) {
    let key: number;
    [key, pos] = varint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 2) {
      let len: number;
      [len, pos] = varint(buf, pos);
      if (pos + len > buf.length) throw new CriProbeError('truncated field');
      add(field, buf.subarray(pos, pos + len));
      pos += len;
    } else if (wire === 0) {
      let v: number;
      [v, pos] = varint(buf, pos);
      add(field, v);
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new CriProbeError(`unexpected wire type ${wire}`);
    }
  }
  return out;
}

const text = (v: ProtoValue | undefined): string => (Buffer.isBuffer(v) ? v.toString('utf8') : '');

/** Encodes a message made only of string fields (field number → value). */
export function encodeStrings(fields: Record<number, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [num, value] of Object.entries(fields)) {
    const data = Buffer.from(value, 'utf8');
    parts.push(encodeVarint(Number(num) * 8 + 2), encodeVarint(data.length), data);
  }
  return Buffer.concat(parts);
}

function encodeVarint(n: number): Buffer {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/** Decodes a VersionResponse (fields 1–4, all strings). */
export function decodeVersionResponse(buf: Buffer): CriVersion {
  const f = decodeFields(buf);
  return {
    version: text(f.get(1)?.[0]),
    runtimeName: text(f.get(2)?.[0]),
    runtimeVersion: text(f.get(3)?.[0]),
    runtimeApiVersion: text(f.get(4)?.[0]),
  };
}

/** One unary call with raw protobuf bodies; rejects with CriProbeError on any failure. */
export function criRawCall(
  socket: string,
  method: string,
  request: Buffer,
  timeoutMs = 2000,
): Promise<Buffer> {
  const channel = new GrpcChannel({ socketPath: socket });
  return channel
    .unary(method, request, { deadlineMs: timeoutMs })
    .catch((err: unknown) => {
      throw new CriProbeError(`${method} on ${socket}: ${err instanceof Error ? err.message : String(err)}`);
    })
    .finally(() => channel.close());
}

/** CRI runtime conditions (RuntimeReady, NetworkReady) by type → status. */
export async function criConditions(socket: string, timeoutMs = 2000): Promise<Map<string, boolean>> {
  const res = await criRawCall(socket, '/runtime.v1.RuntimeService/Status', Buffer.alloc(0), timeoutMs);
  const status = decodeFields(res).get(1)?.[0];
  const out = new Map<string, boolean>();
  if (!Buffer.isBuffer(status)) return out;
  for (const cond of decodeFields(status).get(1) ?? []) {
    if (!Buffer.isBuffer(cond)) continue;
    const c = decodeFields(cond);
    out.set(text(c.get(1)?.[0]), c.get(2)?.[0] === 1);
  }
  return out;
}

/** Calls CRI Version on `socket` with a deadline; rejects with CriProbeError on any failure. */
export async function criVersion(socket: string, timeoutMs = 2000): Promise<CriVersion> {
  // VersionRequest{} (its optional `version` field left empty) encodes as zero bytes.
  const res = await criRawCall(socket, '/runtime.v1.RuntimeService/Version', Buffer.alloc(0), timeoutMs);
  return decodeVersionResponse(res);
}
