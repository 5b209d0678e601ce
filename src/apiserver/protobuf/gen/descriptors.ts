/**
 * The .proto descriptors a gogo-protobuf Go binary carries: every generated.pb.go registers its
 * file's FileDescriptorProto, gzip-compressed, as a byte slice. Kubernetes binaries built with
 * k8s.io/api up to 0.32 have them (later ones dropped gogo and do not); helm 3.17 and kubectl
 * 1.32 do. They serve as an independent check of the schema read from struct tags.
 */
import { inflateRawSync, constants as zlib } from 'node:zlib';
import { Reader } from '../wire.ts';

/** FieldDescriptorProto.Type values. */
export const PROTO_TYPE = {
  double: 1,
  float: 2,
  int64: 3,
  uint64: 4,
  int32: 5,
  bool: 8,
  string: 9,
  message: 11,
  bytes: 12,
  uint32: 13,
} as const;

export interface ProtoField {
  name: string;
  number: number;
  repeated: boolean;
  type: number;
  /** Fully qualified, without the leading dot: `k8s.io.api.core.v1.PodSpec`. */
  typeName: string;
  /** gogoproto.nullable; true unless the option says false. */
  nullable: boolean;
  /** gogoproto.customname / casttype, when set. */
  customName?: string;
  castType?: string;
}

export interface ProtoMessage {
  /** Fully qualified: `k8s.io.api.core.v1.Pod`; nested: `...ResourceRequirements.LimitsEntry`. */
  fullName: string;
  fields: ProtoField[];
  mapEntry: boolean;
}

export interface ProtoFile {
  name: string;
  package: string;
  messages: ProtoMessage[];
}

const GOGO_NULLABLE = 65001;
const GOGO_CUSTOMNAME = 65004;
const GOGO_CASTTYPE = 65007;

type Raw = [no: number, value: bigint | Uint8Array];

function fields(buf: Uint8Array): Raw[] {
  const r = new Reader(buf);
  const out: Raw[] = [];
  while (!r.done) {
    const [no, wt] = r.tag();
    if (wt === 0) out.push([no, r.varint64()]);
    else if (wt === 2) out.push([no, r.bytes()]);
    else r.skip(wt);
  }
  return out;
}

const text = (v: bigint | Uint8Array | undefined): string =>
  v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : '';
const num = (v: bigint | Uint8Array | undefined): number => (typeof v === 'bigint' ? Number(v) : 0);

function parseField(buf: Uint8Array): ProtoField {
  const f: ProtoField = { name: '', number: 0, repeated: false, type: 0, typeName: '', nullable: true };
  for (const [no, v] of fields(buf)) {
    if (no === 1) f.name = text(v);
    else if (no === 3) f.number = num(v);
    else if (no === 4) f.repeated = num(v) === 3;
    else if (no === 5) f.type = num(v);
    else if (no === 6) f.typeName = text(v).replace(/^\./, '');
    else if (no === 8 && v instanceof Uint8Array) {
      for (const [ono, ov] of fields(v)) {
        if (ono === GOGO_NULLABLE) f.nullable = num(ov) !== 0;
        else if (ono === GOGO_CUSTOMNAME) f.customName = text(ov);
        else if (ono === GOGO_CASTTYPE) f.castType = text(ov);
      }
    }
  }
  return f;
}

function parseMessage(buf: Uint8Array, scope: string, out: ProtoMessage[]): void {
  const raw = fields(buf);
  const name = text(raw.find(([no]) => no === 1)?.[1]);
  const fullName = `${scope}.${name}`;
  const msg: ProtoMessage = { fullName, fields: [], mapEntry: false };
  for (const [no, v] of raw) {
    if (no === 2 && v instanceof Uint8Array) msg.fields.push(parseField(v));
    else if (no === 3 && v instanceof Uint8Array) parseMessage(v, fullName, out);
    else if (no === 7 && v instanceof Uint8Array) {
      for (const [ono, ov] of fields(v)) if (ono === 7) msg.mapEntry = num(ov) !== 0;
    }
  }
  out.push(msg);
}

/** Parses one (uncompressed) FileDescriptorProto. */
export function parseFileDescriptor(buf: Uint8Array): ProtoFile {
  const file: ProtoFile = { name: '', package: '', messages: [] };
  const raw = fields(buf);
  for (const [no, v] of raw) {
    if (no === 1) file.name = text(v);
    else if (no === 2) file.package = text(v);
  }
  for (const [no, v] of raw)
    if (no === 4 && v instanceof Uint8Array) parseMessage(v, file.package, file.messages);
  return file;
}

/** Go's gzip header as gogo writes it (no name, no mtime, best compression, unknown OS). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff]);

/**
 * Every gzipped FileDescriptorProto in a binary whose file name matches `filter`, keyed by file
 * name. Candidates that do not inflate into a descriptor are skipped.
 */
export function extractDescriptors(
  binary: Buffer,
  filter: (fileName: string) => boolean,
): Map<string, ProtoFile> {
  const out = new Map<string, ProtoFile>();
  for (let i = binary.indexOf(GZIP_HEADER); i !== -1; i = binary.indexOf(GZIP_HEADER, i + 1)) {
    let inflated: Buffer;
    try {
      inflated = inflateRawSync(binary.subarray(i + 10, i + 10 + (4 << 20)), {
        finishFlush: zlib.Z_SYNC_FLUSH,
      });
    } catch {
      continue;
    }
    // A FileDescriptorProto starts with its name (field 1, a string ending in .proto).
    if (inflated[0] !== 0x0a) continue;
    const r = new Reader(inflated);
    let name: string;
    try {
      r.tag();
      name = r.string();
    } catch {
      continue;
    }
    if (!name.endsWith('.proto') || !filter(name)) continue;
    try {
      out.set(name, parseFileDescriptor(inflated));
    } catch {
      // not a descriptor after all
    }
  }
  return out;
}

/** All messages of a set of files, by full name. */
export function messagesByName(files: Iterable<ProtoFile>): Map<string, ProtoMessage> {
  const out = new Map<string, ProtoMessage>();
  for (const f of files) for (const m of f.messages) out.set(m.fullName, m);
  return out;
}
