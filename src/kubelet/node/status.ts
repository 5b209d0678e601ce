/**
 * Pieces of the node status the kubelet derives from the runtime: the Ready errors from CRI
 * Status, node.status.images from the image list, and nodeStatusHasChanged.
 */
import type { ContainerImage, NodeStatus } from 'kubernetes-types/core/v1.js';
import type { Image, RuntimeCondition } from '../cri/types.ts';
import { conditionsChanged } from './conditions.ts';

/** node.status.images holds at most this many images (the kubelet's nodeStatusMaxImages). */
export const MAX_IMAGES_IN_NODE_STATUS = 50;
/** …with at most this many names each (MaxNamesPerImageInNodeStatus). */
export const MAX_NAMES_PER_IMAGE = 5;

function showCondition(c: RuntimeCondition | undefined, type: string): string {
  // kubecontainer.RuntimeCondition.String(); a missing condition prints as <nil>.
  if (!c) return '<nil>';
  return `${type}=${c.status} reason:${c.reason} message:${c.message}`;
}

/**
 * The Ready errors from a CRI Status answer (the kubelet's updateRuntimeUp + runtimeState):
 * "container runtime not ready: RuntimeReady=false reason:… message:…",
 * "container runtime network not ready: NetworkReady=false reason:… message:…",
 * or "container runtime is down" when the runtime could not be asked.
 */
export function runtimeErrors(status: readonly RuntimeCondition[] | Error): string[] {
  if (status instanceof Error) return ['container runtime is down'];
  const runtime = status.find((c) => c.type === 'RuntimeReady');
  if (!runtime?.status) return [`container runtime not ready: ${showCondition(runtime, 'RuntimeReady')}`];
  const network = status.find((c) => c.type === 'NetworkReady');
  if (!network?.status)
    return [`container runtime network not ready: ${showCondition(network, 'NetworkReady')}`];
  return [];
}

/** node.status.images: the largest images first (ties by id, descending), 50 of them, ≤ 5 names each
 * (digests first, then tags). */
export function nodeImages(images: readonly Image[], max = MAX_IMAGES_IN_NODE_STATUS): ContainerImage[] {
  const sorted = [...images].sort((a, b) =>
    a.size === b.size ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : b.size - a.size,
  );
  const limited = max > -1 ? sorted.slice(0, max) : sorted;
  return limited.map((img) => ({
    names: [...img.repoDigests, ...img.repoTags].slice(0, MAX_NAMES_PER_IMAGE),
    sizeBytes: img.size,
  }));
}

/** nodeStatusHasChanged: conditions compared without heartbeats, everything else exactly. */
export function statusHasChanged(a: NodeStatus | undefined, b: NodeStatus | undefined): boolean {
  if (!a && !b) return false;
  if (!a || !b) return true;
  if (conditionsChanged(a.conditions, b.conditions)) return true;
  const { conditions: _a, ...restA } = a;
  const { conditions: _b, ...restB } = b;
  return stableJson(restA) !== stableJson(restB);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
