/**
 * A minimal reader of 64-bit little-endian ELF executables: just the section table and reads at
 * virtual addresses, which is all the Go type and descriptor readers need.
 */

export interface ElfSection {
  name: string;
  /** Virtual address (0 for sections not loaded at run time). */
  addr: number;
  /** Offset in the file; meaningless for NOBITS sections such as .bss. */
  offset: number;
  size: number;
  type: number;
}

const SHT_NOBITS = 8;

export class ElfImage {
  readonly data: Buffer;
  readonly sections: readonly ElfSection[];

  constructor(data: Buffer) {
    if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
    if (data[4] !== 2 || data[5] !== 1) throw new Error('only 64-bit little-endian ELF files are supported');
    this.data = data;
    const shoff = Number(data.readBigUInt64LE(0x28));
    const shentsize = data.readUInt16LE(0x3a);
    const shnum = data.readUInt16LE(0x3c);
    const shstrndx = data.readUInt16LE(0x3e);
    const raw: (ElfSection & { nameOff: number })[] = [];
    for (let i = 0; i < shnum; i++) {
      const b = shoff + i * shentsize;
      raw.push({
        nameOff: data.readUInt32LE(b),
        type: data.readUInt32LE(b + 4),
        addr: Number(data.readBigUInt64LE(b + 0x10)),
        offset: Number(data.readBigUInt64LE(b + 0x18)),
        size: Number(data.readBigUInt64LE(b + 0x20)),
        name: '',
      });
    }
    const strtab = raw[shstrndx];
    if (!strtab) throw new Error('ELF file has no section name table');
    for (const s of raw) {
      const start = strtab.offset + s.nameOff;
      s.name = data.toString('latin1', start, data.indexOf(0, start));
    }
    this.sections = raw.map(({ nameOff: _, ...s }) => s);
  }

  section(name: string): ElfSection {
    const s = this.sections.find((x) => x.name === name);
    if (!s) throw new Error(`ELF file has no ${name} section`);
    return s;
  }

  /** The bytes of a section (empty for NOBITS). */
  sectionData(name: string): Buffer {
    const s = this.section(name);
    return s.type === SHT_NOBITS ? Buffer.alloc(0) : this.data.subarray(s.offset, s.offset + s.size);
  }

  /** The file offset of a virtual address inside a loaded, file-backed section. */
  fileOffset(addr: number): number {
    for (const s of this.sections) {
      if (s.addr !== 0 && s.type !== SHT_NOBITS && addr >= s.addr && addr < s.addr + s.size) {
        return addr - s.addr + s.offset;
      }
    }
    throw new Error(`address 0x${addr.toString(16)} is not in a file-backed section`);
  }

  u8(addr: number): number {
    return this.data[this.fileOffset(addr)]!;
  }

  u16(addr: number): number {
    return this.data.readUInt16LE(this.fileOffset(addr));
  }

  u32(addr: number): number {
    return this.data.readUInt32LE(this.fileOffset(addr));
  }

  i32(addr: number): number {
    return this.data.readInt32LE(this.fileOffset(addr));
  }

  /** A 64-bit word as a number (addresses and lengths fit 53 bits). */
  u64(addr: number): number {
    return Number(this.data.readBigUInt64LE(this.fileOffset(addr)));
  }
}
