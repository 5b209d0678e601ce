/**
 * Reads the run-time type information a Go (1.20 or later, amd64, ELF) executable carries for
 * package reflect: named types with their package paths, and struct fields with their types and
 * tags. Kubernetes API types carry their protobuf field numbers in those tags
 * (`protobuf:"bytes,1,opt,name=metadata"`), written by go-to-protobuf: the same source the
 * generated marshalers come from. Binaries built with k8s.io/api 0.33 or later no longer embed the
 * .proto descriptors, but they still carry these tags.
 *
 * Layouts follow internal/abi (Type, StructType, PtrType, SliceType, ArrayType, MapType) and the
 * `name` encoding of internal/abi/type.go. Types are read lazily and cached by address.
 */
import { ElfImage } from './elf.ts';

export type GoKind =
  | 'invalid'
  | 'bool'
  | 'int'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'uintptr'
  | 'float32'
  | 'float64'
  | 'complex64'
  | 'complex128'
  | 'array'
  | 'chan'
  | 'func'
  | 'interface'
  | 'map'
  | 'ptr'
  | 'slice'
  | 'string'
  | 'struct'
  | 'unsafe.Pointer';

const KINDS: readonly GoKind[] = [
  'invalid',
  'bool',
  'int',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'uintptr',
  'float32',
  'float64',
  'complex64',
  'complex128',
  'array',
  'chan',
  'func',
  'interface',
  'map',
  'ptr',
  'slice',
  'string',
  'struct',
  'unsafe.Pointer',
];

const TFLAG_UNCOMMON = 1;
const TFLAG_EXTRA_STAR = 2;
const TFLAG_NAMED = 4;

const NAME_HAS_TAG = 2;
const NAME_EMBEDDED = 8;

/** Size of abi.Type on 64-bit targets. */
const TYPE_SIZE = 48;

export interface GoStructField {
  name: string;
  embedded: boolean;
  /** The raw struct tag, e.g. `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`. */
  tag: string;
  type: GoType;
}

export interface GoType {
  readonly addr: number;
  readonly kind: GoKind;
  /** The type's string as reflect prints it: `v1.Pod`, `*v1.Pod`, `[]string`, `map[string]string`. */
  readonly str: string;
  readonly named: boolean;
  /** The defining package of a named type (`k8s.io/api/core/v1`); empty for predeclared and unnamed types. */
  readonly pkgPath: string;
  /** `pkgPath.Name` for named types (`k8s.io/api/core/v1.Pod`), else the type's string. */
  readonly fullName: string;
  /** Element type of pointers, slices, arrays and maps. */
  readonly elem: GoType | undefined;
  /** Key type of maps. */
  readonly key: GoType | undefined;
  readonly fields: readonly GoStructField[];
}

/** One module a binary was built with, from its build info. */
export interface GoModule {
  path: string;
  version: string;
  sum: string;
}

export interface GoBuildInfo {
  goVersion: string;
  /** The main module's path (`helm.sh/helm/v4`, `k8s.io/kubectl`...). */
  path: string;
  deps: GoModule[];
}

function readUvarint(buf: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let mul = 1;
  let pos = at;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated varint');
    value += (b & 0x7f) * mul;
    if (b < 0x80) return [value, pos];
    mul *= 128;
  }
}

export class GoBinary {
  readonly elf: ElfImage;
  readonly buildInfo: GoBuildInfo;
  private readonly typesBase: number;
  private readonly mapUncommonOffset: number;
  private readonly cache = new Map<number, GoType>();
  private named: Map<string, GoType> | undefined;

  constructor(data: Buffer) {
    this.elf = new ElfImage(data);
    this.buildInfo = readBuildInfo(this.elf);
    const minor = Number(/^go1\.(\d+)/.exec(this.buildInfo.goVersion)?.[1] ?? 0);
    if (minor < 20)
      throw new Error(`unsupported Go version ${this.buildInfo.goVersion} (need go1.20 or later)`);
    // abi.SwissMapType (Go 1.24+) has Group, Hasher, GroupSize, SlotSize, ElemOff and Flags after
    // Key and Elem; the older abi.MapType has Bucket, Hasher, four small sizes and Flags.
    this.mapUncommonOffset = minor >= 24 ? TYPE_SIZE + 64 : TYPE_SIZE + 40;
    // moduledata.types is the start of .rodata: the linker places runtime.types first there.
    this.typesBase = this.elf.section('.rodata').addr;
    const typelinks = this.typelinkAddrs();
    if (typelinks.length === 0) throw new Error('the binary has no type links');
    const first = this.type(typelinks[0]!);
    if (!/^[\x20-\x7e]+$/.test(first.str)) throw new Error('the type data does not start where expected');
  }

  /** The addresses of the types listed in .typelink (unnamed composite types: pointers, slices...). */
  private typelinkAddrs(): number[] {
    const tl = this.elf.sectionData('.typelink');
    const out: number[] = [];
    for (let i = 0; i + 4 <= tl.length; i += 4) out.push(this.typesBase + tl.readInt32LE(i));
    return out;
  }

  /** The concrete types of every itab (T implementing some interface). */
  private itabTypeAddrs(): number[] {
    const il = this.elf.sectionData('.itablink');
    const out: number[] = [];
    for (let i = 0; i + 8 <= il.length; i += 8) {
      const itab = Number(il.readBigUInt64LE(i));
      out.push(this.elf.u64(itab + 8));
    }
    return out;
  }

  /** A named type by its full name (`k8s.io/api/core/v1.Pod`), or undefined if the binary has none. */
  namedType(fullName: string): GoType | undefined {
    if (!this.named) {
      this.named = new Map();
      for (const addr of [...this.typelinkAddrs(), ...this.itabTypeAddrs()]) {
        let t: GoType | undefined = this.type(addr);
        // Unwrap pointers, slices, arrays and maps down to a named type.
        for (let depth = 0; t && !t.named && depth < 4; depth++) {
          if (t.kind === 'map') {
            const k = t.key;
            if (k?.named) this.named.set(k.fullName, k);
          }
          t =
            t.kind === 'ptr' || t.kind === 'slice' || t.kind === 'array' || t.kind === 'map'
              ? t.elem
              : undefined;
        }
        if (t?.named) this.named.set(t.fullName, t);
      }
    }
    const direct = this.named.get(fullName);
    if (direct) return direct;
    // A type reachable only through another named struct's fields.
    for (const t of [...this.named.values()]) {
      const found = findInFields(t, fullName, new Set());
      if (found) {
        this.named.set(fullName, found);
        return found;
      }
    }
    return undefined;
  }

  /** The type at a virtual address. */
  type(addr: number): GoType {
    const cached = this.cache.get(addr);
    if (cached) return cached;
    const elf = this.elf;
    const tflag = elf.u8(addr + 20);
    const kind = KINDS[elf.u8(addr + 23) & 0x1f] ?? 'invalid';
    let str = this.readName(this.typesBase + elf.i32(addr + 40)).name;
    if (tflag & TFLAG_EXTRA_STAR) str = str.slice(1);
    const named = (tflag & TFLAG_NAMED) !== 0;
    let pkgPath = '';
    if (named && tflag & TFLAG_UNCOMMON) {
      const off = this.uncommonOffset(kind);
      const pkgOff = elf.i32(addr + off);
      if (pkgOff !== 0) pkgPath = this.readName(this.typesBase + pkgOff).name;
    }
    const shortName = named ? str.slice(str.lastIndexOf('.') + 1) : '';
    const fullName = named && pkgPath ? `${pkgPath}.${shortName}` : str;
    const self = this;
    let elem: GoType | undefined | null = null;
    let key: GoType | undefined | null = null;
    let fields: GoStructField[] | null = null;
    const t: GoType = {
      addr,
      kind,
      str,
      named,
      pkgPath,
      fullName,
      get elem() {
        if (elem === null) {
          elem =
            kind === 'ptr' || kind === 'slice' || kind === 'array'
              ? self.type(elf.u64(addr + TYPE_SIZE))
              : kind === 'map'
                ? self.type(elf.u64(addr + TYPE_SIZE + 8))
                : undefined;
        }
        return elem;
      },
      get key() {
        if (key === null) key = kind === 'map' ? self.type(elf.u64(addr + TYPE_SIZE)) : undefined;
        return key;
      },
      get fields() {
        if (fields === null) fields = kind === 'struct' ? self.readFields(addr) : [];
        return fields;
      },
    };
    this.cache.set(addr, t);
    return t;
  }

  private uncommonOffset(kind: GoKind): number {
    switch (kind) {
      case 'struct':
      case 'interface':
        return TYPE_SIZE + 32; // PkgPath name + a slice header
      case 'ptr':
      case 'slice':
      case 'func':
        return TYPE_SIZE + 8;
      case 'chan':
        return TYPE_SIZE + 16;
      case 'array':
        return TYPE_SIZE + 24;
      case 'map':
        return this.mapUncommonOffset;
      default:
        return TYPE_SIZE;
    }
  }

  private readFields(addr: number): GoStructField[] {
    const elf = this.elf;
    const ptr = elf.u64(addr + TYPE_SIZE + 8);
    const len = elf.u64(addr + TYPE_SIZE + 16);
    const out: GoStructField[] = [];
    for (let i = 0; i < len; i++) {
      const f = ptr + i * 24;
      const name = this.readName(elf.u64(f));
      out.push({ name: name.name, embedded: name.embedded, tag: name.tag, type: this.type(elf.u64(f + 8)) });
    }
    return out;
  }

  /** Decodes an abi.Name: flags, uvarint length, bytes, then (if flagged) uvarint tag length and tag. */
  private readName(addr: number): { name: string; tag: string; embedded: boolean } {
    const buf = this.elf.data;
    const at = this.elf.fileOffset(addr);
    const flags = buf[at]!;
    const [len, start] = readUvarint(buf, at + 1);
    const name = buf.toString('utf8', start, start + len);
    let tag = '';
    if (flags & NAME_HAS_TAG) {
      const [tlen, tstart] = readUvarint(buf, start + len);
      tag = buf.toString('utf8', tstart, tstart + tlen);
    }
    return { name, tag, embedded: (flags & NAME_EMBEDDED) !== 0 };
  }
}

function findInFields(t: GoType, fullName: string, seen: Set<number>): GoType | undefined {
  if (seen.has(t.addr)) return undefined;
  seen.add(t.addr);
  if (t.named && t.fullName === fullName) return t;
  const next: GoType[] = [];
  if (t.kind === 'struct') for (const f of t.fields) next.push(f.type);
  if (t.elem) next.push(t.elem);
  if (t.key) next.push(t.key);
  for (const n of next) {
    const found = findInFields(n, fullName, seen);
    if (found) return found;
  }
  return undefined;
}

/** The Go version and module list from the .go.buildinfo section (Go 1.18+ inline format). */
export function readBuildInfo(elf: ElfImage): GoBuildInfo {
  const data = elf.sectionData('.go.buildinfo');
  if (data.toString('latin1', 0, 14) !== '\xff Go buildinf:') throw new Error('no Go build info');
  if (!(data[15]! & 2)) throw new Error('Go build info predates Go 1.18');
  const [vlen, vstart] = readUvarint(data, 32);
  const goVersion = data.toString('utf8', vstart, vstart + vlen);
  const [mlen, mstart] = readUvarint(data, vstart + vlen);
  // The module info is framed by two 16-byte sentinels.
  const modinfo = data.toString('utf8', mstart + 16, mstart + mlen - 16);
  let path = '';
  const deps: GoModule[] = [];
  for (const line of modinfo.split('\n')) {
    const parts = line.split('\t');
    if (parts[0] === 'path') path = parts[1] ?? '';
    if (parts[0] === 'dep') deps.push({ path: parts[1] ?? '', version: parts[2] ?? '', sum: parts[3] ?? '' });
  }
  return { goVersion, path, deps };
}
