import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, sleep, systemClock } from '../../util/clock.ts';

/** A mounted hierarchy. */
export interface Hierarchy {
  /** Mount point, e.g. /sys/fs/cgroup/memory or /sys/fs/cgroup (v2). */
  mount: string;
  /** v1 controllers ("cpu", "cpuacct", "name=systemd"…); for cgroup2, the available controllers. */
  controllers: string[];
  version: 1 | 2;
}

export interface CgroupLayout {
  /** v2 when the unified hierarchy alone is mounted at the cgroup root, else v1 (maybe hybrid). */
  mode: 'v1' | 'v2';
  hierarchies: Hierarchy[];
}

/** A cgroup write or removal that failed. */
export class CgroupError extends Error {
  override name = 'CgroupError';
  readonly path: string;
  readonly code: string | undefined;
  constructor(message: string, path: string, code?: string) {
    super(message);
    this.path = path;
    this.code = code;
  }
}

/**
 * Reads the mounted hierarchies from mountinfo: the first mount of each v1 hierarchy (by its
 * controller set) under `root`, and the cgroup2 mount. Pure v2 is detected by
 * `<root>/cgroup.controllers`, as runc and the kubelet do.
 */
export async function detectCgroups(
  root = '/sys/fs/cgroup',
  mountinfo = '/proc/self/mountinfo',
): Promise<CgroupLayout> {
  if (await exists(join(root, 'cgroup.controllers'))) {
    const controllers = (await readFile(join(root, 'cgroup.controllers'), 'utf8'))
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    return { mode: 'v2', hierarchies: [{ mount: root, controllers, version: 2 }] };
  }
  const text = await readFile(mountinfo, 'utf8');
  const seen = new Set<string>();
  const hierarchies: Hierarchy[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const mount = unescapeMount(left[4] ?? '');
    if (mount !== root && !mount.startsWith(`${root}/`)) continue;
    if (fstype === 'cgroup') {
      const controllers = superOpts.split(',').filter((o) => o !== 'rw' && o !== 'ro' && !isMountOption(o));
      const key = [...controllers].sort().join(',');
      if (controllers.length === 0 || seen.has(key)) continue;
      seen.add(key);
      hierarchies.push({ mount, controllers, version: 1 });
    } else if (fstype === 'cgroup2' && !seen.has('<unified>')) {
      seen.add('<unified>');
      let controllers: string[] = [];
      try {
        controllers = (await readFile(join(mount, 'cgroup.controllers'), 'utf8'))
          .trim()
          .split(/\s+/)
          .filter(Boolean);
      } catch {
        // an old kernel's unified mount may lack the file
      }
      hierarchies.push({ mount, controllers, version: 2 });
    }
  }
  return { mode: 'v1', hierarchies };
}

const MOUNT_OPTION =
  /^(nosuid|nodev|noexec|relatime|noatime|nsdelegate|memory_recursiveprot|clone_children|noprefix|xattr|release_agent=.*|cpuset_v2_mode|favordynmods)$/;
function isMountOption(o: string): boolean {
  return MOUNT_OPTION.test(o);
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

import { exists } from '../../util/fs.ts';

/** Whether `h` carries `controller`. */
export function has(h: Hierarchy, controller: string): boolean {
  return h.controllers.includes(controller);
}

/** Creates `dir` (and its parents). In a v1 cpuset hierarchy, fills each new level's cpus/mems from
 * its parent, as runc does, so tasks can join it. */
export async function makeCgroup(h: Hierarchy, rel: string): Promise<void> {
  const parts = rel.split('/').filter(Boolean);
  let cur = h.mount;
  for (const p of parts) {
    const parent = cur;
    cur = join(cur, p);
    if (await exists(cur)) continue;
    try {
      await mkdir(cur);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CgroupError(
          `creating cgroup ${cur}: ${(err as Error).message}`,
          cur,
          (err as NodeJS.ErrnoException).code,
        );
      }
    }
    if (h.version === 1 && has(h, 'cpuset')) {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const own = (await readFile(join(cur, f), 'utf8').catch(() => '')).trim();
        if (own) continue;
        const inherited = (await readFile(join(parent, f), 'utf8').catch(() => '')).trim();
        if (inherited) await writeFile(join(cur, f), inherited).catch(() => undefined);
      }
    }
  }
}

/** Writes one setting; returns false when the file does not exist (controller not present or
 * not enabled); other errors throw a CgroupError. */
export async function writeSetting(dir: string, file: string, value: string): Promise<boolean> {
  const path = join(dir, file);
  try {
    await writeFile(path, value);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // cgroupfs refuses to create files: a missing interface file shows up as ENOENT or EACCES.
    if (code === 'ENOENT' || (code === 'EACCES' && !(await exists(path)))) return false;
    throw new CgroupError(`writing ${value} to ${path}: ${(err as Error).message}`, path, code);
  }
}

export async function readSetting(dir: string, file: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, file), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Sub-directories (child cgroups) of `dir`; empty when `dir` is missing. */
export async function children(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

/** Every process in `dir` and below. */
export async function processesIn(dir: string): Promise<number[]> {
  const pids = new Set<number>();
  const walk = async (d: string) => {
    const procs = await readSetting(d, 'cgroup.procs');
    for (const line of (procs ?? '').split('\n')) {
      const pid = Number.parseInt(line, 10);
      if (pid > 0) pids.add(pid);
    }
    for (const c of await children(d)) await walk(join(d, c));
  };
  await walk(dir);
  return [...pids];
}

export interface RemoveOptions {
  clock?: Clock;
  /** How long to keep retrying EBUSY (processes still exiting), ms. Default 2000. */
  busyTimeoutMs?: number;
}

/**
 * Removes `dir` and every cgroup below it, deepest first. Processes still inside are sent SIGKILL
 * first (the kubelet's tryKillingCgroupProcesses); EBUSY is retried every 50 ms until
 * `busyTimeoutMs`. A missing `dir` is success.
 */
export async function removeTree(dir: string, opts: RemoveOptions = {}): Promise<void> {
  if (!(await exists(dir))) return;
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now() + (opts.busyTimeoutMs ?? 2000);
  for (const pid of await processesIn(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const rm = async (d: string): Promise<void> => {
    for (const c of await children(d)) await rm(join(d, c));
    for (;;) {
      try {
        await rmdir(d);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code === 'EBUSY' && clock.now() < deadline) {
          for (const pid of await processesIn(d)) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
          await sleep(clock, 50);
          continue;
        }
        throw new CgroupError(`removing cgroup ${d}: ${(err as Error).message}`, d, code);
      }
    }
  };
  await rm(dir);
}
