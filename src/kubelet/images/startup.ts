/**
 * Images at kubelet start: the pause image (built offline from catatonit) is always imported, and so
 * is every archive in DIR/agent/images (air-gapped use). Built archives are cached under
 * DIR/agent/cache/images so a restart only re-imports them (ctr skips content it already has).
 */
import { join } from 'node:path';
import { type Clock, systemClock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import { type BuiltImage, buildBusyboxImage, buildPauseImage, DEFAULT_PAUSE_IMAGE } from './builder.ts';
import { archivesIn, importImageFile } from './import.ts';

export interface StartupImagesOptions {
  /** containerd's socket. */
  socket: string;
  /** skiff's data dir (DIR). */
  dataDir: string;
  /** The pause image ref containerd's config names (default skiff.local/pause:3.10). */
  pauseImage?: string;
  /**
   * Also build the host's busybox-static into an image and import it — under this ref when a
   * string, else skiff.local/busybox:latest. Skipped with a log line when busybox-static is missing.
   */
  busybox?: boolean | string;
  /** Where built archives are cached (default DIR/agent/cache/images). */
  cacheDir?: string;
  logger?: Logger;
  clock?: Clock;
  signal?: AbortSignal;
}

export interface StartupImagesResult {
  /** Image names imported, in order. */
  imported: string[];
  /** Archives in DIR/agent/images that failed to import, with the reason. */
  failed: { file: string; error: string }[];
}

/**
 * Imports the pause image (failure rejects: no pod can start without it), optionally busybox, and
 * every archive in DIR/agent/images (a bad archive is logged and reported, not fatal), all at once.
 * `imported` lists the built images first, then the archives in directory order.
 */
export async function importStartupImages(opts: StartupImagesOptions): Promise<StartupImagesResult> {
  const log = opts.logger ?? silentLogger;
  const clock = opts.clock ?? systemClock;
  const began = clock.now();
  const cacheDir = opts.cacheDir ?? join(opts.dataDir, 'agent', 'cache', 'images');
  const built: Promise<BuiltImage | undefined>[] = [
    buildPauseImage({ cacheDir, ref: opts.pauseImage ?? DEFAULT_PAUSE_IMAGE }),
  ];
  const result: StartupImagesResult = { imported: [], failed: [] };
  if (opts.busybox) {
    const ref = typeof opts.busybox === 'string' ? opts.busybox : undefined;
    built.push(
      buildBusyboxImage({ cacheDir, ...(ref ? { ref } : {}) }).catch((err: unknown) => {
        log.info({ err: (err as Error).message }, 'no busybox image (install busybox-static to get one)');
        return undefined;
      }),
    );
  }
  // Every import runs at once: each `ctr` call spends most of its time starting up and waiting on
  // containerd, so in turn they took ~1.2 s at start-up and together about the time of the slowest.
  const importBuilt = built.map(async (b) => {
    const image = await b;
    return image ? importImageFile(opts.socket, image.file, { signal: opts.signal }) : [];
  });
  const importArchives = (await archivesIn(join(opts.dataDir, 'agent', 'images'))).map(async (file) => {
    try {
      return await importImageFile(opts.socket, file, { signal: opts.signal });
    } catch (err) {
      const error = (err as Error).message;
      log.warn({ file, err: error }, 'cannot import image archive');
      result.failed.push({ file, error });
      return [];
    }
  });
  const archives = Promise.all(importArchives);
  // The built images first (a pause image failure rejects), then the archives, in directory order.
  for (const names of await Promise.all(importBuilt)) result.imported.push(...names);
  for (const names of await archives) result.imported.push(...names);
  log.info({ ms: clock.now() - began, images: result.imported.length }, 'images imported');
  return result;
}
