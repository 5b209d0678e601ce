/**
 * Kubernetes' AtomicWriter (pkg/volume/util/atomic_writer.go): a volume's files are written into a
 * fresh timestamped directory `..2026_11_26_10_11_12.<random>`, the `..data` symlink is swapped to it
 * with a rename (atomic), and the user-visible names are symlinks through `..data`:
 *
 *   <dir>/key -> ..data/key        <dir>/..data -> ..2026_11_26_10_11_12.123456789
 *
 * so a container never sees half of an update. Nothing is written when the payload is unchanged.
 */
import { randomInt } from 'node:crypto';
import { constants } from 'node:fs';
import {
  chmod,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { lexists as exists } from '../../util/fs.ts';

/** One file of a payload. */
export interface FileProjection {
  data: Buffer;
  /** Permission bits, e.g. 0o644. */
  mode: number;
}

/** Relative path → file. */
export type Payload = Map<string, FileProjection>;

export const DATA_DIR = '..data';
const NEW_DATA_DIR = '..data_tmp';
const MAX_PATH = 4096;
const MAX_NAME = 255;

export class PayloadError extends Error {
  override name = 'PayloadError';
}

/** validatePath */
export function validatePath(p: string): void {
  if (p === '') throw new PayloadError(`invalid path: must not be empty: ${JSON.stringify(p)}`);
  if (posix.isAbsolute(p)) throw new PayloadError(`invalid path: must be relative path: ${p}`);
  if (p.length > MAX_PATH)
    throw new PayloadError(`invalid path: must be less than or equal to ${MAX_PATH} characters`);
  const items = p.split('/');
  for (const item of items) {
    if (item === '..') throw new PayloadError(`invalid path: must not contain '..': ${p}`);
    if (item.length > MAX_NAME)
      throw new PayloadError(`invalid path: filenames must be less than or equal to ${MAX_NAME} characters`);
  }
  if (items[0]!.startsWith('..') && items[0]!.length > 2)
    throw new PayloadError(`invalid path: must not start with '..': ${p}`);
}

/** validatePayload: validated paths, cleaned (filepath.Clean). */
function cleanPayload(payload: Payload): Payload {
  const out: Payload = new Map();
  for (const [p, f] of payload) {
    validatePath(p);
    out.set(posix.normalize(p), f);
  }
  return out;
}

/** Files (relative paths) under `dir`, recursively. */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** True when `payload` differs from what `tsDir` holds (content, modes, or the set of files). */
async function differs(payload: Payload, tsDir: string): Promise<boolean> {
  let old: string[];
  try {
    old = await listFiles(tsDir);
  } catch {
    return true;
  }
  if (old.length !== payload.size || old.some((p) => !payload.has(p))) return true;
  for (const [p, f] of payload) {
    const full = join(tsDir, p);
    const [content, st] = await Promise.all([readFile(full), stat(full)]);
    if (!content.equals(f.data) || (st.mode & 0o7777) !== f.mode) return true;
  }
  return false;
}

/** `..YYYY_MM_DD_HH_MM_SS.` as time.Now().UTC().Format("..2006_01_02_15_04_05.") */
function timestampPrefix(now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${p(now.getUTCFullYear(), 4)}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

async function newTimestampDir(target: string, now: Date): Promise<string> {
  for (;;) {
    const name = `${timestampPrefix(now)}${randomInt(1e9)}`;
    try {
      await mkdir(join(target, name), { mode: 0o755 });
      await chmod(join(target, name), 0o755);
      return name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Writes `payload` into `target` atomically. Returns true when it wrote (the content changed), false
 * when the volume already held exactly this payload. `target` must exist.
 */
export async function writeAtomically(target: string, payload: Payload, now = new Date()): Promise<boolean> {
  const clean = cleanPayload(payload);
  const dataDir = join(target, DATA_DIR);
  let oldTs = '';
  try {
    oldTs = await readlink(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const oldTsPath = oldTs ? join(target, oldTs) : '';
  // Top-level names the old payload had and the new one does not: their visible links go.
  const newTop = new Set([...clean.keys()].map((p) => p.split('/')[0]!));
  let toRemove: string[] = [];
  if (oldTs) {
    const oldFiles = await listFiles(oldTsPath).catch(() => [] as string[]);
    toRemove = [...new Set(oldFiles.map((p) => p.split('/')[0]!))].filter((t) => !newTop.has(t));
  }
  const write = !oldTs || (await differs(clean, oldTsPath));
  if (write) {
    const tsName = await newTimestampDir(target, now);
    const tsDir = join(target, tsName);
    try {
      for (const [p, f] of clean) {
        const full = join(tsDir, p);
        await mkdir(dirname(full), { recursive: true, mode: 0o755 });
        await writeFile(full, f.data, {
          mode: f.mode,
          flag: constants.O_CREAT | constants.O_WRONLY | constants.O_TRUNC,
        });
        await chmod(full, f.mode);
      }
      await rm(join(target, NEW_DATA_DIR), { force: true });
      await symlink(tsName, join(target, NEW_DATA_DIR));
      await rename(join(target, NEW_DATA_DIR), dataDir);
    } catch (err) {
      await rm(join(target, NEW_DATA_DIR), { force: true });
      await rm(tsDir, { recursive: true, force: true });
      throw err;
    }
    // The visible links, through ..data.
    for (const top of newTop) {
      const visible = join(target, top);
      try {
        await readlink(visible);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') await symlink(join(DATA_DIR, top), visible);
        else throw err;
      }
    }
  }
  for (const top of toRemove) await rm(join(target, top), { force: true });
  if (oldTs && write) await rm(oldTsPath, { recursive: true, force: true });
  return write;
}

/** Whether `p` exists (lstat). */
export { exists as pathExists };
