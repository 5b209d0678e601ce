/**
 * A minimal ustar writer: regular files, directories and symlinks, in memory. Enough to build the
 * one-layer images skiff's tests and pause image need, with byte-identical output for identical
 * input (fixed mtime, uid/gid 0, no user/group names) so archives can be cached by content.
 */

/** One entry of an archive. Paths are relative (no leading "/"); directories need no trailing "/". */
export type TarEntry =
  | { type: 'file'; path: string; data: Buffer; mode?: number }
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string };

/** Thrown for an entry ustar cannot represent (a name or link target too long). */
export class TarError extends Error {
  override name = 'TarError';
}

const BLOCK = 512;
/** A fixed modification time (2000-01-01) keeps archives reproducible. */
const MTIME = 946684800;

function octal(value: number, width: number): string {
  // width includes the terminating NUL.
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** Splits a path into ustar's prefix (≤155) and name (≤100) fields. */
function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) {
      return { name, prefix };
    }
  }
  throw new TarError(`path too long for ustar: ${path}`);
}

function header(entry: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const path = entry.type === 'dir' ? `${entry.path.replace(/\/+$/, '')}/` : entry.path;
  const { name, prefix } = splitName(path);
  const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  const typeflag = entry.type === 'file' ? '0' : entry.type === 'dir' ? '5' : '2';
  h.write(name, 0, 100);
  h.write(octal(mode, 8), 100, 8);
  h.write(octal(0, 8), 108, 8); // uid
  h.write(octal(0, 8), 116, 8); // gid
  h.write(octal(size, 12), 124, 12);
  h.write(octal(MTIME, 12), 136, 12);
  h.write('        ', 148, 8); // checksum placeholder: spaces
  h.write(typeflag, 156, 1);
  if (entry.type === 'symlink') {
    if (Buffer.byteLength(entry.target) > 100) throw new TarError(`link target too long: ${entry.target}`);
    h.write(entry.target, 157, 100);
  }
  h.write('ustar\0', 257, 6);
  h.write('00', 263, 2);
  h.write(prefix, 345, 155);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

/** Serialises `entries`, in the given order, into a complete tar archive (with its two end blocks). */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.type === 'file' ? entry.data : Buffer.alloc(0);
    parts.push(header(entry, data.length));
    if (data.length > 0) {
      parts.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
