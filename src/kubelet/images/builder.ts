/**
 * Offline image builder: small one-layer images made from static binaries already on the host, so
 * nothing is fetched from the internet.
 *
 *   - busybox: /bin/busybox plus a symlink for every applet (`busybox --list-full`), /tmp, /root,
 *     /etc/passwd and /etc/group with root and nobody. Default command `sh`.
 *   - pause:   /catatonit with entrypoint `["/catatonit", "-P"]` (catatonit's pause mode).
 *
 * Archives are docker-archive tars, cached in `cacheDir` under a name derived from their inputs
 * (the binary's content, the applet list, the ref), so a repeated build is a hash and a stat.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildDockerArchive, type ImageRunConfig } from './archive.ts';
import type { TarEntry } from './tar.ts';

const run = promisify(execFile);

/** The pause image skiff's containerd uses by default. */
export const DEFAULT_PAUSE_IMAGE = 'skiff.local/pause:3.10';
/** The general-purpose test image. */
export const DEFAULT_BUSYBOX_IMAGE = 'skiff.local/busybox:latest';

export const DEFAULT_BUSYBOX_PATH = '/bin/busybox';
export const DEFAULT_CATATONIT_PATH = '/usr/bin/catatonit';

/** A built image archive on disk. */
export interface BuiltImage {
  /** The reference the archive tags its image with. */
  ref: string;
  /** Path of the docker-archive tar. */
  file: string;
}

/** Thrown when a host binary the builder needs is missing. */
export class ImageBuildError extends Error {
  override name = 'ImageBuildError';
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function readBinary(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ImageBuildError(`cannot read ${what} at ${path} (install the Debian package)`, { cause: err });
  }
}

/** Writes `build()`'s output to `cacheDir/<name>-<key>.tar` unless that file already exists. */
async function cached(cacheDir: string, name: string, key: string, build: () => Buffer): Promise<string> {
  const file = join(cacheDir, `${name}-${key.slice(0, 16)}.tar`);
  try {
    if ((await stat(file)).isFile()) return file;
  } catch {
    // not built yet
  }
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, build());
  await rename(tmp, file);
  return file;
}

function imageFiles(binaryPath: string, binary: Buffer, links: readonly string[]): TarEntry[] {
  const dirs = new Set<string>(['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'root', 'home']);
  for (const dir of ['proc', 'sys', 'dev', 'var', 'run']) dirs.add(dir);
  const entries: TarEntry[] = [...dirs].sort().map((path) => ({ type: 'dir', path }));
  entries.push({ type: 'dir', path: 'tmp', mode: 0o1777 });
  entries.push({ type: 'file', path: binaryPath, data: binary, mode: 0o755 });
  for (const link of links) {
    if (link === binaryPath) continue;
    entries.push({ type: 'symlink', path: link, target: `/${binaryPath}` });
  }
  entries.push({
    type: 'file',
    path: 'etc/passwd',
    data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n'),
  });
  entries.push({ type: 'file', path: 'etc/group', data: Buffer.from('root:x:0:\nnobody:x:65534:\n') });
  return entries;
}

/** The applets of a busybox binary, as paths relative to / (e.g. "bin/sh", "usr/bin/wget"). */
export async function busyboxApplets(busybox: string): Promise<string[]> {
  const { stdout } = await run(busybox, ['--list-full']);
  return stdout
    .split('\n')
    .map((l) => l.trim().replace(/^\/+/, ''))
    .filter((l) => l.length > 0 && !l.includes('..'))
    .sort();
}

export interface BuildOptions {
  /** Where built archives are kept. */
  cacheDir: string;
  /** Image reference to tag with. */
  ref?: string;
  /** Host binary to put in the image. */
  binary?: string;
}

/** Builds (or finds in the cache) the busybox image: every applet, /bin/sh, /tmp, passwd and group. */
export async function buildBusyboxImage(opts: BuildOptions): Promise<BuiltImage> {
  const ref = opts.ref ?? DEFAULT_BUSYBOX_IMAGE;
  const path = opts.binary ?? DEFAULT_BUSYBOX_PATH;
  const binary = await readBinary(path, 'busybox (busybox-static)');
  let applets: string[];
  try {
    applets = await busyboxApplets(path);
  } catch (err) {
    throw new ImageBuildError(`${path} --list-full failed (is it busybox-static?)`, { cause: err });
  }
  if (!applets.includes('bin/sh')) applets.push('bin/sh');
  const config: ImageRunConfig = { Cmd: ['sh'], Env: [PATH_ENV] };
  const key = createHash('sha256').update(binary).update(applets.join('\n')).update(ref).digest('hex');
  const file = await cached(opts.cacheDir, 'busybox', key, () => {
    return buildDockerArchive({ ref, files: imageFiles('bin/busybox', binary, applets), config }).archive;
  });
  return { ref, file };
}

/** Builds (or finds in the cache) the pause image: catatonit in pause mode (`/catatonit -P`). */
export async function buildPauseImage(opts: BuildOptions): Promise<BuiltImage> {
  const ref = opts.ref ?? DEFAULT_PAUSE_IMAGE;
  const path = opts.binary ?? DEFAULT_CATATONIT_PATH;
  const binary = await readBinary(path, 'catatonit');
  const key = createHash('sha256').update(binary).update(ref).digest('hex');
  const config: ImageRunConfig = { Entrypoint: ['/catatonit', '-P'], Env: [PATH_ENV], User: '65534:65534' };
  const file = await cached(opts.cacheDir, 'pause', key, () => {
    const files: TarEntry[] = [
      { type: 'dir', path: 'dev' },
      { type: 'dir', path: 'etc' },
      { type: 'dir', path: 'proc' },
      { type: 'dir', path: 'sys' },
      { type: 'file', path: 'catatonit', data: binary, mode: 0o755 },
    ];
    return buildDockerArchive({ ref, files, config }).archive;
  });
  return { ref, file };
}
