/**
 * PodCgroups for the cgroupfs driver, laid out like the kubelet's `kubepods` tree:
 *
 *   /<root>                       node allocatable (Guaranteed pods directly below)
 *   /<root>/pod<uid>              a Guaranteed pod
 *   /<root>/burstable/pod<uid>    a Burstable pod   (burstable: cpu.shares = Σ burstable requests)
 *   /<root>/besteffort/pod<uid>   a BestEffort pod  (besteffort: cpu.shares = 2)
 *
 * The cgroupParent handed to containerd (cgroupfs driver) is that path; runc then creates each
 * container's cgroup as `<cgroupParent>/<containerId>` in every hierarchy. The pod cgroup is created
 * in every mounted hierarchy (cgroup v1, hybrid included) or in the unified tree (pure v2, with the
 * controllers enabled down the path), and removed from all of them.
 */

import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { type Clock, systemClock } from '../../util/clock.ts';
import { exists } from '../../util/fs.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import type { PodCgroups } from '../contracts.ts';
import {
  type CgroupLayout,
  children,
  detectCgroups,
  type Hierarchy,
  has,
  makeCgroup,
  readSetting,
  removeTree,
  writeSetting as write,
} from './cgroupfs.ts';
import { qosClass } from './qos.ts';
import {
  MIN_SHARES,
  milliCpuToShares,
  type PodResourceConfig,
  podCpuRequestMilli,
  type ResourceConfigOptions,
  resourceConfigForPod,
  sharesToWeight,
} from './resources.ts';

export interface CgroupfsPodCgroupsOptions extends ResourceConfigOptions {
  /** Name of the kubelet's root cgroup (the kubelet's `kubepods`). Default `skiff`. */
  rootName?: string;
  /** Where cgroup hierarchies are mounted. Default /sys/fs/cgroup. */
  cgroupRoot?: string;
  /** Default /proc/self/mountinfo. */
  mountinfo?: string;
  /** The layout, when already known (tests). */
  layout?: CgroupLayout;
  /**
   * Node allocatable enforced on the root (the kubelet's enforce-node-allocatable=pods): cpu in
   * millicores (→ cpu.shares) and memory in bytes (→ memory limit). Unset: left unlimited.
   */
  nodeAllocatable?: { cpuMilli?: number; memoryBytes?: number };
  clock?: Clock;
  log?: Logger;
}

export interface PodCgroupUsage {
  /** memory usage minus inactive file pages (the kubelet's working set), bytes. */
  memoryWorkingSetBytes?: number;
  /** Processes (tasks) in the pod cgroup. */
  processes?: number;
}

const POD_PREFIX = 'pod';
const QOS_DIRS = ['burstable', 'besteffort'] as const;

export class CgroupfsPodCgroups implements PodCgroups {
  readonly #o: CgroupfsPodCgroupsOptions;
  readonly #root: string;
  readonly #log: Logger;
  #layout: CgroupLayout | undefined;
  #initialized: Promise<void> | undefined;
  /** Burstable pods' cpu requests (millicores), by uid, for the burstable cgroup's shares. */
  readonly #burstable = new Map<string, number>();

  constructor(opts: CgroupfsPodCgroupsOptions = {}) {
    this.#o = opts;
    this.#root = (opts.rootName ?? 'skiff').replace(/^\/+|\/+$/g, '');
    this.#log = opts.log ?? silentLogger;
    this.#layout = opts.layout;
  }

  /** The hierarchies in use (detected on first use). */
  async layout(): Promise<CgroupLayout> {
    this.#layout ??= await detectCgroups(this.#o.cgroupRoot, this.#o.mountinfo);
    return this.#layout;
  }

  /** Creates the root and the QoS cgroups; called by ensure() too. Idempotent. */
  init(): Promise<void> {
    this.#initialized ??= this.#init().catch((err) => {
      this.#initialized = undefined;
      throw err;
    });
    return this.#initialized;
  }

  async #init(): Promise<void> {
    const layout = await this.layout();
    for (const h of layout.hierarchies) {
      if (layout.mode === 'v2') await enableControllers(h, this.#root);
      await makeCgroup(h, this.#root);
      for (const q of QOS_DIRS) {
        if (layout.mode === 'v2') await enableControllers(h, join(this.#root, q));
        await makeCgroup(h, join(this.#root, q));
      }
    }
    const alloc = this.#o.nodeAllocatable;
    await this.#apply(this.#root, {
      cpuShares: alloc?.cpuMilli !== undefined ? milliCpuToShares(alloc.cpuMilli) : undefined,
      memoryLimitBytes: alloc?.memoryBytes,
    });
    await this.#apply(join(this.#root, 'besteffort'), { cpuShares: MIN_SHARES });
    await this.#updateBurstableShares();
  }

  /** The cgroupParent for `pod` (cgroupfs form, leading slash), without touching the filesystem. */
  cgroupParent(pod: Pod): string {
    return `/${this.#relPath(pod)}`;
  }

  #relPath(pod: Pod): string {
    const uid = pod.metadata?.uid ?? '';
    if (!uid) throw new TypeError('pod has no metadata.uid');
    switch (qosClass(pod)) {
      case 'Guaranteed':
        return join(this.#root, `${POD_PREFIX}${uid}`);
      case 'Burstable':
        return join(this.#root, 'burstable', `${POD_PREFIX}${uid}`);
      default:
        return join(this.#root, 'besteffort', `${POD_PREFIX}${uid}`);
    }
  }

  async ensure(pod: Pod): Promise<string> {
    await this.init();
    const rel = this.#relPath(pod);
    const layout = await this.layout();
    for (const h of layout.hierarchies) {
      if (layout.mode === 'v2') await enableControllers(h, rel);
      await makeCgroup(h, rel);
    }
    await this.#apply(rel, resourceConfigForPod(pod, this.#o));
    const uid = pod.metadata?.uid ?? '';
    if (qosClass(pod) === 'Burstable') {
      const milli = podCpuRequestMilli(pod);
      if (this.#burstable.get(uid) !== milli) {
        this.#burstable.set(uid, milli);
        await this.#updateBurstableShares();
      }
    }
    return `/${rel}`;
  }

  async remove(podUid: string): Promise<void> {
    const layout = await this.layout();
    for (const h of layout.hierarchies) {
      for (const rel of this.#candidates(podUid)) {
        await removeTree(join(h.mount, rel), { clock: this.#o.clock ?? systemClock });
      }
    }
    if (this.#burstable.delete(podUid)) await this.#updateBurstableShares().catch(() => undefined);
  }

  async list(): Promise<string[]> {
    const layout = await this.layout();
    const uids = new Set<string>();
    for (const h of layout.hierarchies) {
      for (const dir of [this.#root, join(this.#root, 'burstable'), join(this.#root, 'besteffort')]) {
        for (const name of await children(join(h.mount, dir))) {
          if (name.startsWith(POD_PREFIX) && name.length > POD_PREFIX.length)
            uids.add(name.slice(POD_PREFIX.length));
        }
      }
    }
    return [...uids].sort();
  }

  /** Memory working set and process count of a pod's cgroup, when it has one. */
  async usage(podUid: string): Promise<PodCgroupUsage | undefined> {
    const layout = await this.layout();
    for (const rel of this.#candidates(podUid)) {
      const mem = layout.hierarchies.find((h) => (layout.mode === 'v2' ? true : has(h, 'memory')));
      const pids = layout.hierarchies.find((h) => (layout.mode === 'v2' ? true : has(h, 'pids')));
      if (!mem || !(await exists(join(mem.mount, rel)))) continue;
      const out: PodCgroupUsage = {};
      const dir = join(mem.mount, rel);
      const stat = parseStat((await readSetting(dir, 'memory.stat')) ?? '');
      if (layout.mode === 'v2') {
        const usage = Number((await readSetting(dir, 'memory.current')) ?? Number.NaN);
        if (Number.isFinite(usage))
          out.memoryWorkingSetBytes = Math.max(0, usage - (stat.get('inactive_file') ?? 0));
      } else {
        const usage = Number((await readSetting(dir, 'memory.usage_in_bytes')) ?? Number.NaN);
        if (Number.isFinite(usage)) {
          out.memoryWorkingSetBytes = Math.max(0, usage - (stat.get('total_inactive_file') ?? 0));
        }
      }
      if (pids) {
        const n = Number((await readSetting(join(pids.mount, rel), 'pids.current')) ?? Number.NaN);
        if (Number.isFinite(n)) out.processes = n;
      }
      return out;
    }
    return undefined;
  }

  #candidates(uid: string): string[] {
    const name = `${POD_PREFIX}${uid}`;
    return [
      join(this.#root, name),
      join(this.#root, 'burstable', name),
      join(this.#root, 'besteffort', name),
    ];
  }

  async #updateBurstableShares(): Promise<void> {
    let milli = 0;
    for (const m of this.#burstable.values()) milli += m;
    await this.#apply(join(this.#root, 'burstable'), { cpuShares: milliCpuToShares(milli) });
  }

  /** Writes `cfg` to `rel` in the hierarchies carrying each controller; warns about a limit that
   * no hierarchy could take (its controller is missing). */
  async #apply(rel: string, cfg: Partial<PodResourceConfig>): Promise<void> {
    const layout = await this.layout();
    const applied = new Set<string>();
    const set = async (dir: string, file: string, value: string) => {
      if (await write(dir, file, value)) applied.add(file.split('.')[0] as string);
    };
    for (const h of layout.hierarchies) {
      const dir = join(h.mount, rel);
      if (layout.mode === 'v2') {
        if (cfg.cpuShares !== undefined) await set(dir, 'cpu.weight', String(sharesToWeight(cfg.cpuShares)));
        if (cfg.cpuPeriod !== undefined && cfg.cpuQuota !== undefined) {
          const quota = cfg.cpuQuota > 0 ? String(cfg.cpuQuota) : 'max';
          await set(dir, 'cpu.max', `${quota} ${cfg.cpuPeriod}`);
        }
        if (cfg.memoryLimitBytes !== undefined) {
          await set(dir, 'memory.max', cfg.memoryLimitBytes > 0 ? String(cfg.memoryLimitBytes) : 'max');
        }
        if (cfg.pidsLimit !== undefined) await set(dir, 'pids.max', String(cfg.pidsLimit));
        continue;
      }
      if (h.version !== 1) continue;
      if (has(h, 'cpu')) {
        if (cfg.cpuShares !== undefined) await set(dir, 'cpu.shares', String(cfg.cpuShares));
        if (cfg.cpuPeriod !== undefined && cfg.cpuQuota !== undefined) {
          await set(dir, 'cpu.cfs_period_us', String(cfg.cpuPeriod));
          await set(dir, 'cpu.cfs_quota_us', String(cfg.cpuQuota > 0 ? cfg.cpuQuota : -1));
        }
      }
      if (has(h, 'memory') && cfg.memoryLimitBytes !== undefined) {
        await set(dir, 'memory.limit_in_bytes', String(cfg.memoryLimitBytes > 0 ? cfg.memoryLimitBytes : -1));
      }
      if (has(h, 'pids') && cfg.pidsLimit !== undefined) await set(dir, 'pids.max', String(cfg.pidsLimit));
    }
    const missing = [
      cfg.cpuQuota !== undefined && cfg.cpuQuota > 0 && !applied.has('cpu') ? 'cpu' : '',
      cfg.memoryLimitBytes !== undefined && cfg.memoryLimitBytes > 0 && !applied.has('memory')
        ? 'memory'
        : '',
      cfg.pidsLimit !== undefined && !applied.has('pids') ? 'pids' : '',
    ].filter(Boolean);
    if (missing.length > 0)
      this.#log.warn({ cgroup: rel, missing }, 'cgroup controllers missing: limits not enforced');
    this.#log.debug({ cgroup: rel, cfg }, 'cgroup settings applied');
  }
}

/** cgroup v2: enables the parent's available controllers for its children, down to `rel`'s parent. */
async function enableControllers(h: Hierarchy, rel: string): Promise<void> {
  const parts = rel.split('/').filter(Boolean);
  let cur = h.mount;
  for (let i = 0; i < parts.length; i++) {
    const available = ((await readSetting(cur, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean);
    const enabled = new Set(
      ((await readSetting(cur, 'cgroup.subtree_control')) ?? '').split(/\s+/).filter(Boolean),
    );
    const want = ['cpu', 'cpuset', 'memory', 'pids', 'io', 'hugetlb'].filter(
      (c) => available.includes(c) && !enabled.has(c),
    );
    for (const c of want) await write(cur, 'cgroup.subtree_control', `+${c}`).catch(() => false);
    cur = join(cur, parts[i] as string);
  }
}

function parseStat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v) out.set(k, Number(v));
  }
  return out;
}
