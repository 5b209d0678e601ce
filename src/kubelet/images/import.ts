/**
 * Imports image archives (docker-archive or oci-archive tars) into containerd's `k8s.io` namespace,
 * where the CRI sees them, with `ctr images import`. Used at kubelet start for everything in
 * `DIR/agent/images` (air-gapped use) and by `skiff images import FILE`.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandFailedError, defaultRunner, runChecked } from '../../util/exec/index.ts';

/** The containerd namespace the CRI plugin uses. */
export const CRI_NAMESPACE = 'k8s.io';

/** Thrown when `ctr` fails to import a file (the message carries ctr's stderr). */
export class ImageImportError extends Error {
  override name = 'ImageImportError';
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`importing ${file}: ${message}`, options);
    this.file = file;
  }
}

export interface ImportOptions {
  /** The `ctr` binary (default: `ctr` on PATH). */
  ctr?: string;
  signal?: AbortSignal;
}

/** File names that look like image archives. */
const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.zst|tar\.zstd|oci|docker)$/i;

/**
 * Imports one archive and returns the image names containerd reports for it (e.g.
 * ["skiff.local/busybox:latest"]). Rejects with an ImageImportError when ctr fails, or when it
 * imported nothing. Measured with containerd 1.6.20's ctr:
 *   - docker-archive (`docker save`): named after its RepoTags (normalised: "busybox" →
 *     "docker.io/library/busybox:latest");
 *   - oci-archive whose `org.opencontainers.image.ref.name` is a full reference
 *     ("skiff.local/x:v1", as `skopeo copy … oci-archive:F:skiff.local/x:v1` writes): named by it;
 *   - oci-archive whose ref name is only a tag ("v1"): named "import-<date>:v1" (useless to pods);
 *   - oci-archive with no ref name: ctr exits 0 and imports nothing — an ImageImportError here.
 */
export async function importImageFile(
  socket: string,
  file: string,
  opts: ImportOptions = {},
): Promise<string[]> {
  const args = ['-n', CRI_NAMESPACE, '--address', socket, 'images', 'import', '--all-platforms', file];
  let stdout: string;
  try {
    stdout = await runChecked(defaultRunner(), opts.ctr ?? 'ctr', args, { signal: opts.signal });
  } catch (err) {
    const stderr = err instanceof CommandFailedError ? err.result.stderr.trim() : '';
    throw new ImageImportError(file, stderr || (err as Error).message, { cause: err });
  }
  // ctr prints "unpacking <name> (sha256:…)...done" per image.
  const names = [...stdout.matchAll(/^unpacking (\S+) \(sha256:[0-9a-f]+\)/gm)].map((m) => m[1]!);
  if (names.length === 0) {
    throw new ImageImportError(
      file,
      'ctr imported no named image (an oci-archive needs an org.opencontainers.image.ref.name annotation with a full reference; a docker-archive needs RepoTags)',
    );
  }
  return names;
}

/** Alias of {@link importImageFile} for several files, in order; returns every imported name. */
export async function importImages(socket: string, files: readonly string[], opts: ImportOptions = {}) {
  const names: string[] = [];
  for (const file of files) names.push(...(await importImageFile(socket, file, opts)));
  return names;
}

/** The image archives directly inside `dir` (sorted), or [] when the directory does not exist. */
export async function archivesIn(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files: string[] = [];
  for (const name of names.sort()) {
    if (!ARCHIVE.test(name)) continue;
    const path = join(dir, name);
    if ((await stat(path)).isFile()) files.push(path);
  }
  return files;
}
