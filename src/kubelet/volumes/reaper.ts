/**
 * The kubelet's half of local-path volumes: directories `pvc-*` under the node's storage root that no
 * PersistentVolume names any more (its claim was deleted with reclaimPolicy Delete) are removed, as
 * k3s's local-path provisioner's helper pod does. Paths in use by pods on this node are never touched.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistentVolume } from 'kubernetes-types/core/v1.js';
import { PERSISTENT_VOLUMES } from '../../client/resources.ts';
import type { RestClient } from '../../client/types.ts';
import { type Clock, sleep, systemClock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';

export interface LocalPathReaperOptions {
  client: RestClient;
  /** The node's local-path storage root (the provisioner's). */
  storageRoot: string;
  /** Host paths in use by this node's pods (KubeletVolumeManager.persistentVolumePathsInUse). */
  inUse?: () => Set<string>;
  clock?: Clock;
  logger?: Logger;
}

/** One pass: removes orphaned `pvc-*` directories; returns their paths. */
export async function reapLocalPathDirs(opts: LocalPathReaperOptions): Promise<string[]> {
  let entries: string[];
  try {
    entries = (await readdir(opts.storageRoot, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && e.name.startsWith('pvc-'))
      .map((e) => join(opts.storageRoot, e.name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (entries.length === 0) return [];
  // Listed after reading the directory: a PV created meanwhile names a directory made after it.
  const pvs = (await opts.client.list(PERSISTENT_VOLUMES, '')).items as unknown as PersistentVolume[];
  const named = new Set<string>();
  for (const pv of pvs) {
    const p = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    if (p) named.add(p.replace(/\/+$/, ''));
  }
  const inUse = opts.inUse?.() ?? new Set<string>();
  const removed: string[] = [];
  for (const dir of entries) {
    if (named.has(dir) || inUse.has(dir)) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** Runs reapLocalPathDirs every `intervalMs` (default 60 s) until `signal` aborts; errors are logged. */
export async function runLocalPathReaper(
  opts: LocalPathReaperOptions & { intervalMs?: number },
  signal: AbortSignal,
): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? silentLogger;
  while (!signal.aborted) {
    try {
      const removed = await reapLocalPathDirs(opts);
      if (removed.length) log.info({ removed }, 'removed local-path volumes no PersistentVolume refers to');
    } catch (err) {
      log.warn({ err }, 'local-path reaper failed');
    }
    try {
      await sleep(clock, opts.intervalMs ?? 60_000, signal);
    } catch {
      return;
    }
  }
}
