/**
 * Pod usage for the eviction manager, from what the kubelet can measure: CRI container stats
 * (working set and writable-layer bytes / inodes per container, matched by the pod-uid label) and,
 * when given, the pod cgroup (pod working set and process count, which also count the sandbox and
 * anything the containers forked). Pod ephemeral storage = writable layers + `extraDiskBytes`
 * (logs and emptyDirs, when the caller can measure them).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from '../contracts.ts';
import type { ContainerStats } from '../cri/types.ts';
import type { PodUsage } from './rank.ts';

export interface PodStatsSources {
  listContainerStats: () => Promise<ContainerStats[]>;
  /** The pod cgroup's usage (PodCgroups.usage of the cgroupfs implementation). */
  podCgroupUsage?: (
    podUid: string,
  ) => Promise<{ memoryWorkingSetBytes?: number; processes?: number } | undefined>;
  /** Logs + emptyDir bytes of a pod, when measured. */
  extraDiskBytes?: (pod: Pod) => Promise<number | undefined>;
}

export function podStatsFrom(src: PodStatsSources): (pods: Pod[]) => Promise<Map<string, PodUsage>> {
  return async (pods) => {
    const all = await src.listContainerStats().catch(() => [] as ContainerStats[]);
    const byPod = new Map<string, ContainerStats[]>();
    for (const s of all) {
      const uid = s.attributes.labels[LABEL_POD_UID];
      if (!uid) continue;
      const list = byPod.get(uid) ?? [];
      list.push(s);
      byPod.set(uid, list);
    }
    const out = new Map<string, PodUsage>();
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      const stats = byPod.get(uid) ?? [];
      const cg = await src.podCgroupUsage?.(uid).catch(() => undefined);
      if (stats.length === 0 && !cg) continue;
      const containers = stats.map((s) => ({
        name: s.attributes.labels[LABEL_CONTAINER_NAME] ?? s.attributes.metadata.name,
        memoryWorkingSetBytes: s.memory?.workingSetBytes?.value,
        rootfsBytes: s.writableLayer?.usedBytes?.value,
        logsBytes: 0,
      }));
      const sum = (f: (s: ContainerStats) => number | undefined) =>
        stats.reduce((n, s) => n + (f(s) ?? 0), 0);
      const extra = (await src.extraDiskBytes?.(pod).catch(() => undefined)) ?? 0;
      out.set(uid, {
        memoryWorkingSetBytes: cg?.memoryWorkingSetBytes ?? sum((s) => s.memory?.workingSetBytes?.value),
        ephemeralStorageBytes: sum((s) => s.writableLayer?.usedBytes?.value) + extra,
        writableLayerBytes: sum((s) => s.writableLayer?.usedBytes?.value),
        inodesUsed: sum((s) => s.writableLayer?.inodesUsed?.value),
        ...(cg?.processes !== undefined ? { processes: cg.processes } : {}),
        containers,
      });
    }
    return out;
  };
}
