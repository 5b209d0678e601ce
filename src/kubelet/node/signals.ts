/**
 * The eviction signals observed on the host (the kubelet's makeSignalObservations over its stats
 * summary), each as `available` and `capacity`:
 *
 * - memory.available = MemTotal − working set, where the working set is the kubelet's: the root
 *   memory cgroup's usage minus its inactive file pages (cgroup v1: memory.usage_in_bytes −
 *   total_inactive_file). Where the root cgroup has no usage file (pure cgroup v2) it falls back to
 *   /proc/meminfo: working set = MemTotal − MemAvailable;
 * - nodefs.available / nodefs.inodesFree: statfs of the kubelet's root dir;
 * - imagefs.available / imagefs.inodesFree: statfs of the runtime's image store (the same as
 *   nodefs when not given, or on the same device);
 * - pid.available = min(pid_max, threads-max) − tasks (the total in /proc/loadavg's 4th field).
 */
import type { FsStats, HostReader } from './host.ts';
import { readMeminfo } from './host.ts';

export interface NodeSignals {
  memory?: { availableBytes: number; workingSetBytes: number };
  nodefs?: FsStats;
  imagefs?: FsStats;
  pid?: { maxPids: number; processes: number };
  /** Whether the image store is on its own filesystem (changes ranking and reclaim, as upstream). */
  dedicatedImageFs: boolean;
}

/** Observes the node; rejects only when nothing could be read. */
export type SignalSource = () => Promise<NodeSignals>;

export interface HostSignalOptions {
  host: HostReader;
  /** The kubelet's data dir (nodefs). */
  rootDir: string;
  /** The runtime's image store (imagefs), e.g. containerd's root. Default: rootDir. */
  imageFsDir?: string;
  /** Root memory cgroup (v1). Default /sys/fs/cgroup/memory. */
  memoryCgroup?: string;
}

export function hostSignals(o: HostSignalOptions): SignalSource {
  const memCg = o.memoryCgroup ?? '/sys/fs/cgroup/memory';
  return async () => {
    const out: NodeSignals = { dedicatedImageFs: false };
    try {
      const info = await readMeminfo(o.host);
      const total = info.get('MemTotal') ?? 0;
      let workingSet: number | undefined;
      try {
        const usage = Number((await o.host.readFile(`${memCg}/memory.usage_in_bytes`)).trim());
        const stat = await o.host.readFile(`${memCg}/memory.stat`);
        const inactive = Number(/^total_inactive_file (\d+)$/m.exec(stat)?.[1] ?? 0);
        if (Number.isFinite(usage)) workingSet = Math.max(0, usage - inactive);
      } catch {
        workingSet = total - (info.get('MemAvailable') ?? 0);
      }
      if (workingSet !== undefined && total > 0) {
        out.memory = { availableBytes: Math.max(0, total - workingSet), workingSetBytes: workingSet };
      }
    } catch {
      // no memory signal this round
    }
    try {
      out.nodefs = await o.host.statfs(o.rootDir);
    } catch {
      // no nodefs signal
    }
    const imageDir = o.imageFsDir ?? o.rootDir;
    try {
      out.imagefs = await o.host.statfs(imageDir);
      out.dedicatedImageFs =
        imageDir !== o.rootDir && (await o.host.device(imageDir)) !== (await o.host.device(o.rootDir));
    } catch {
      out.imagefs = out.nodefs;
    }
    try {
      let max = Number.POSITIVE_INFINITY;
      for (const f of ['/proc/sys/kernel/pid_max', '/proc/sys/kernel/threads-max']) {
        max = Math.min(max, Number((await o.host.readFile(f)).trim()));
      }
      const tasks = Number((await o.host.readFile('/proc/loadavg')).split(/\s+/)[3]?.split('/')[1]);
      if (Number.isFinite(max) && Number.isFinite(tasks)) out.pid = { maxPids: max, processes: tasks };
    } catch {
      // no pid signal
    }
    return out;
  };
}
