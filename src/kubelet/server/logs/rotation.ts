/**
 * Size-based rotation of container logs, as the kubelet's container log manager does it: every
 * `intervalMs` (10 s), each running container's log file that reached `maxSize` (10 Mi) is renamed to
 * `<path>.<YYYYMMDD-hhmmss>` and the runtime is asked to reopen its log (CRI ReopenContainerLog), so
 * it writes a fresh file at the same path. At most `maxFiles` (5) files per container are kept,
 * counting the live one: the oldest rotated files go first. If the runtime cannot reopen, the file is
 * renamed back and rotation is tried again next round. (The kubelet also gzips older rotated files;
 * skiff keeps them plain.)
 */
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Clock } from '../../../util/clock.ts';
import { systemClock } from '../../../util/clock.ts';
import type { Logger } from '../../../util/log.ts';
import { silentLogger } from '../../../util/log.ts';
import type { RuntimeService } from '../../cri/types.ts';

/** A running container and the absolute path of its live log file. */
export interface LoggedContainer {
  id: string;
  logPath: string;
}

/** Where the log manager learns which containers run (the pod manager provides it). */
export interface LoggedContainerSource {
  runningContainers(): LoggedContainer[] | Promise<LoggedContainer[]>;
}

export interface ContainerLogManagerOptions {
  runtime: Pick<RuntimeService, 'reopenContainerLog'>;
  containers: LoggedContainerSource;
  /** Bytes; default 10 MiB (containerLogMaxSize). */
  maxSize?: number;
  /** Files kept per container, the live one included; default 5 (containerLogMaxFiles), minimum 2. */
  maxFiles?: number;
  /** Default 10 000 (the kubelet's containerLogMonitorInterval). */
  intervalMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export const DEFAULT_LOG_MAX_SIZE = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 5;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** The kubelet's rotated-file suffix format, `20060102-150405` in UTC. */
export function rotationSuffix(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(
    d.getUTCMinutes(),
  )}${pad(d.getUTCSeconds())}`;
}

/** Rotated siblings of a live log path (`<name>.<suffix>`), oldest first. */
export async function rotatedFiles(logPath: string): Promise<string[]> {
  const dir = dirname(logPath);
  const base = basename(logPath);
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => n.startsWith(`${base}.`) && !n.endsWith('.tmp'))
    .sort()
    .map((n) => join(dir, n));
}

export class ContainerLogManager {
  readonly #opts: Required<Omit<ContainerLogManagerOptions, 'clock' | 'logger'>>;
  readonly #clock: Clock;
  readonly #log: Logger;
  #cancel: (() => void) | undefined;
  #running: Promise<void> | undefined;

  constructor(opts: ContainerLogManagerOptions) {
    this.#opts = {
      runtime: opts.runtime,
      containers: opts.containers,
      maxSize: opts.maxSize ?? DEFAULT_LOG_MAX_SIZE,
      maxFiles: Math.max(2, opts.maxFiles ?? DEFAULT_LOG_MAX_FILES),
      intervalMs: opts.intervalMs ?? 10_000,
    };
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Checks every interval until stop(). Idempotent. */
  start(): void {
    if (this.#cancel) return;
    const tick = () => {
      this.#running = this.rotateOnce()
        .catch((err: unknown) => this.#log.warn({ err }, 'container log rotation failed'))
        .finally(() => {
          if (this.#cancel) this.#cancel = this.#clock.setTimeout(tick, this.#opts.intervalMs);
        });
    };
    this.#cancel = this.#clock.setTimeout(tick, this.#opts.intervalMs);
  }

  /** Stops the periodic check and waits for a round in progress. */
  async stop(): Promise<void> {
    const cancel = this.#cancel;
    this.#cancel = undefined;
    cancel?.();
    await this.#running;
  }

  /** One round over every running container. Errors for one container do not stop the others. */
  async rotateOnce(): Promise<void> {
    const containers = await this.#opts.containers.runningContainers();
    for (const c of containers) {
      try {
        await this.#rotateIfNeeded(c);
      } catch (err) {
        this.#log.warn({ err, container: c.id }, 'rotating container log failed');
      }
    }
  }

  async #rotateIfNeeded(c: LoggedContainer): Promise<void> {
    const st = await stat(c.logPath).catch(() => undefined);
    if (!st || st.size < this.#opts.maxSize) return;
    // Make room: after this rotation, rotated files + the new live file must fit in maxFiles.
    const old = await rotatedFiles(c.logPath);
    const excess = old.length - (this.#opts.maxFiles - 2);
    for (const f of old.slice(0, Math.max(0, excess))) await unlink(f).catch(() => undefined);
    let rotated = `${c.logPath}.${rotationSuffix(this.#clock.now())}`;
    // Two rotations within one second would collide; keep names unique and ordered.
    for (
      let i = 1;
      await stat(rotated).then(
        () => true,
        () => false,
      );
      i++
    ) {
      rotated = `${c.logPath}.${rotationSuffix(this.#clock.now())}-${i}`;
    }
    await rename(c.logPath, rotated);
    try {
      await this.#opts.runtime.reopenContainerLog(c.id);
    } catch (err) {
      await rename(rotated, c.logPath).catch(() => undefined);
      throw err;
    }
    this.#log.debug({ container: c.id, rotated }, 'rotated container log');
  }
}
