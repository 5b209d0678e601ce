/**
 * ImageGC: image garbage collection by disk thresholds, as the kubelet's realImageGCManager does it
 * (pkg/kubelet/images/image_gc_manager.go).
 *
 *   - `detectImages()` lists images and containers, remembering when each image was first seen and
 *     last used (used = some container, running or not, was created from it).
 *   - `garbageCollect()`: when the image filesystem's usage is at or above `highThresholdPercent`
 *     (default 85), frees `capacity × (100 − lowThresholdPercent)/100 − available` bytes (down to
 *     `lowThresholdPercent`, default 80) by removing images not in use, least recently used first
 *     (then oldest first seen), never the pause image, pinned images, or images first seen less than
 *     `minAgeMs` ago. Rejects with an ImageGCError when it cannot free enough.
 *   - `start()` runs detect + collect every `periodMs` (default 5 min) until the signal aborts.
 *   - CRI RemoveImage by id removes every tag of the image (containerd: all references to it).
 */
import { statfs } from 'node:fs/promises';
import { type Clock, sleep, systemClock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import { normalizeImageRef } from '../cri/ref.ts';
import type { ImageService, RuntimeService } from '../cri/types.ts';

/** Capacity and free space of the image filesystem, in bytes. */
export interface FsStats {
  capacityBytes: number;
  availableBytes: number;
}

export interface ImageGCOptions {
  runtime: Pick<RuntimeService, 'listContainers'> &
    Pick<ImageService, 'listImages' | 'removeImage' | 'imageFsInfo'>;
  /** The sandbox image, never removed. */
  pauseImage: string;
  highThresholdPercent?: number;
  lowThresholdPercent?: number;
  /** Images first seen less than this long ago are kept (the kubelet's ImageMinimumGCAge, 2 min). */
  minAgeMs?: number;
  periodMs?: number;
  /** The image filesystem's size; default: statfs of the mountpoint imageFsInfo reports. */
  fsStats?: () => Promise<FsStats>;
  clock?: Clock;
  logger?: Logger;
}

/** Not enough could be freed to get below the low threshold. */
export class ImageGCError extends Error {
  override name = 'ImageGCError';
}

interface ImageRecord {
  firstDetected: number;
  lastUsed: number;
  size: number;
  tags: string[];
  pinned: boolean;
}

export interface GCResult {
  /** Usage before, in percent. */
  usagePercent: number;
  /** Bytes to free (0 when under the high threshold). */
  bytesToFree: number;
  freedBytes: number;
  /** Ids of the removed images. */
  removed: string[];
}

export class ImageGC {
  readonly #opts: ImageGCOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #records = new Map<string, ImageRecord>();
  readonly #high: number;
  readonly #low: number;
  readonly #pause: string;

  constructor(opts: ImageGCOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
    this.#high = opts.highThresholdPercent ?? 85;
    this.#low = opts.lowThresholdPercent ?? 80;
    if (!(this.#low >= 0 && this.#low <= this.#high && this.#high <= 100)) {
      throw new RangeError(
        `image GC thresholds: need 0 <= low (${this.#low}) <= high (${this.#high}) <= 100`,
      );
    }
    this.#pause = normalizeImageRef(opts.pauseImage);
  }

  /** Refreshes first-seen and last-used times; returns the ids of images in use. */
  async detectImages(signal?: AbortSignal): Promise<Set<string>> {
    const now = this.#clock.now();
    const [images, containers] = await Promise.all([
      this.#opts.runtime.listImages({ signal }),
      this.#opts.runtime.listContainers(undefined, { signal }),
    ]);
    const byRef = new Map<string, string>();
    for (const img of images) {
      byRef.set(img.id, img.id);
      for (const tag of img.repoTags) byRef.set(tag, img.id);
    }
    const inUse = new Set<string>();
    for (const c of containers) {
      const id = byRef.get(c.imageRef) ?? byRef.get(c.image.image) ?? byRef.get(safeNormalize(c.image.image));
      if (id) inUse.add(id);
    }
    const seen = new Set<string>();
    for (const img of images) {
      seen.add(img.id);
      const rec = this.#records.get(img.id);
      if (rec) {
        rec.size = img.size;
        rec.tags = img.repoTags;
        rec.pinned = img.pinned;
      } else {
        this.#records.set(img.id, {
          firstDetected: now,
          lastUsed: 0,
          size: img.size,
          tags: img.repoTags,
          pinned: img.pinned,
        });
      }
      if (inUse.has(img.id)) this.#records.get(img.id)!.lastUsed = now;
    }
    for (const id of this.#records.keys()) if (!seen.has(id)) this.#records.delete(id);
    return inUse;
  }

  /** One GC pass (see the file comment). */
  async garbageCollect(signal?: AbortSignal): Promise<GCResult> {
    const { capacityBytes, availableBytes } = await this.#fsStats(signal);
    if (capacityBytes <= 0) return { usagePercent: 0, bytesToFree: 0, freedBytes: 0, removed: [] };
    const available = Math.min(availableBytes, capacityBytes);
    const usagePercent = 100 - Math.floor((available * 100) / capacityBytes);
    if (usagePercent < this.#high) return { usagePercent, bytesToFree: 0, freedBytes: 0, removed: [] };
    const bytesToFree = Math.floor((capacityBytes * (100 - this.#low)) / 100) - available;
    this.#log.info(
      { usagePercent, high: this.#high, bytesToFree },
      'image filesystem over the high threshold; removing unused images',
    );
    const { freed, removed } = await this.#freeSpace(bytesToFree, signal);
    if (freed < bytesToFree) {
      throw new ImageGCError(
        `Failed to garbage collect required amount of images. Attempted to free ${bytesToFree} bytes, but only found ${freed} bytes eligible to free.`,
      );
    }
    return { usagePercent, bytesToFree, freedBytes: freed, removed };
  }

  /** Runs detect + collect every period until `signal` aborts; errors are logged, not thrown. */
  async start(signal: AbortSignal): Promise<void> {
    const period = this.#opts.periodMs ?? 5 * 60_000;
    while (!signal.aborted) {
      try {
        // Detect every period, not only when freeing space, so last-used times stay meaningful.
        await this.detectImages(signal);
        await this.garbageCollect(signal);
      } catch (err) {
        if (signal.aborted) return;
        this.#log.warn({ err }, 'image garbage collection failed');
      }
      await sleep(this.#clock, period, signal).catch(() => {});
    }
  }

  async #freeSpace(bytesToFree: number, signal?: AbortSignal): Promise<{ freed: number; removed: string[] }> {
    const inUse = await this.detectImages(signal);
    const now = this.#clock.now();
    const minAge = this.#opts.minAgeMs ?? 2 * 60_000;
    const candidates = [...this.#records.entries()]
      .filter(
        ([id, rec]) =>
          !inUse.has(id) && !rec.pinned && !this.#isPause(rec) && now - rec.firstDetected >= minAge,
      )
      .sort(([, a], [, b]) => a.lastUsed - b.lastUsed || a.firstDetected - b.firstDetected);
    let freed = 0;
    const removed: string[] = [];
    for (const [id, rec] of candidates) {
      if (freed >= bytesToFree) break;
      try {
        await this.#opts.runtime.removeImage(id, { signal });
      } catch (err) {
        this.#log.warn({ err, image: id }, 'cannot remove image');
        continue;
      }
      this.#records.delete(id);
      removed.push(id);
      freed += rec.size;
      this.#log.info({ image: rec.tags[0] ?? id, size: rec.size }, 'removed unused image');
    }
    return { freed, removed };
  }

  #isPause(rec: ImageRecord): boolean {
    return rec.tags.some((t) => t === this.#pause || safeNormalize(t) === this.#pause);
  }

  async #fsStats(signal?: AbortSignal): Promise<FsStats> {
    if (this.#opts.fsStats) return this.#opts.fsStats();
    const fs = await this.#opts.runtime.imageFsInfo({ signal });
    const mountpoint = fs[0]?.fsId?.mountpoint;
    if (!mountpoint) throw new ImageGCError('the runtime reported no image filesystem');
    const s = await statfs(mountpoint);
    return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
  }
}

function safeNormalize(ref: string): string {
  try {
    return normalizeImageRef(ref);
  } catch {
    return ref;
  }
}
