/**
 * hostPath type checks (pkg/volume/hostpath checkType): DirectoryOrCreate and FileOrCreate make
 * what is missing (0755 directories, 0644 files); the other types only check; "" checks nothing.
 */
import type { Stats } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { VolumeError } from '../contracts.ts';

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

/** Checks (and for the *OrCreate types, makes) `path`; rejects with Kubernetes' VolumeError. */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  if (type === undefined || type === '') return;
  let st = await statOrNull(path);
  const fail = (what: string) => new VolumeError(`hostPath type check failed: ${path} is not ${what}`);
  const isDir = () => st?.isDirectory() ?? false;
  const isFile = () => st?.isFile() ?? false;
  switch (type) {
    case 'DirectoryOrCreate':
      if (!st) {
        await mkdir(path, { recursive: true, mode: 0o755 });
        st = await statOrNull(path);
      }
      if (!isDir()) throw fail('a directory');
      return;
    case 'Directory':
      if (!isDir()) throw fail('a directory');
      return;
    case 'FileOrCreate':
      if (!st) {
        try {
          await (await open(path, 'a', 0o644)).close();
        } catch (err) {
          // MakeFile: a missing parent directory is the user's to fix.
          throw new VolumeError((err as Error).message);
        }
        st = await statOrNull(path);
      }
      if (!isFile()) throw fail('a file');
      return;
    case 'File':
      if (!isFile()) throw fail('a file');
      return;
    case 'Socket':
      if (!st?.isSocket()) throw fail('a socket file');
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) throw fail('a character device');
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) throw fail('a block device');
      return;
    default:
      throw new VolumeError(`${type} is an invalid volume type`);
  }
}
