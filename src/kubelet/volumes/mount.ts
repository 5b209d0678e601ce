/**
 * tmpfs mounts for memory-backed volumes (emptyDir medium Memory, secret and projected volumes), with
 * mount(8)/umount(8) — no native addon — run through the shared command runner (which forks from a
 * small shell, not from the kubelet's process), and the mount table read from /proc/self/mountinfo.
 */
import { readFile } from 'node:fs/promises';
import { defaultRunner } from '../../util/exec/index.ts';

/** Runs a command; resolves with its exit status and stderr. */
async function run(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return defaultRunner().run(file, args, { timeoutMs: 60_000 });
}

export class MountError extends Error {
  override name = 'MountError';
}

/** Decodes mountinfo's octal escapes (`\040` for a space). */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** Mount points, in the order the kernel lists them (parents before children). */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => unescapeOctal(line.split(' ')[4] ?? ''));
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountPoints()).includes(path);
}

/** Mount points at or under `dir`, deepest first (the order to unmount them in). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const all = await mountPoints();
  return [...new Set(all.filter((m) => m === dir || m.startsWith(prefix)))].sort(
    (a, b) => b.length - a.length,
  );
}

/** Mounts a tmpfs at `dir` (which must exist) unless one is there already; `sizeBytes` caps it. */
export async function mountTmpfs(dir: string, sizeBytes?: number, mode = 0o777): Promise<void> {
  if (await isMountPoint(dir)) return;
  const opts = [`mode=${mode.toString(8)}`];
  if (sizeBytes !== undefined && sizeBytes > 0) opts.push(`size=${sizeBytes}`);
  const r = await run('mount', ['-t', 'tmpfs', '-o', opts.join(','), 'tmpfs', dir]);
  if (r.code !== 0)
    throw new MountError(`mount tmpfs at ${dir} failed: ${r.stderr.trim() || `status ${r.code}`}`);
}

/** Unmounts `dir`, every mount stacked there (one umount per layer). Idempotent. */
export async function unmount(dir: string): Promise<void> {
  while (await isMountPoint(dir)) {
    const r = await run('umount', [dir]);
    if (r.code !== 0) throw new MountError(`umount ${dir} failed: ${r.stderr.trim() || `status ${r.code}`}`);
  }
}
