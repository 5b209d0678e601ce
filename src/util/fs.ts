/** File-system checks that do not block the event loop (unlike `existsSync`). */
import { access, lstat } from 'node:fs/promises';

/** Whether `path` exists, following symlinks (as `existsSync`). */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` itself exists, without following a final symlink (a dangling one counts). */
export async function lexists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
