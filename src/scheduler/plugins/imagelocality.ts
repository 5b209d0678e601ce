/**
 * ImageLocality: favours nodes that already hold the pod's images, weighted by image size and by
 * how widely the image is spread (an image on every node gives no advantage).
 */
import type { CycleState } from '../framework/cycle_state.ts';
import { type Handle, MAX_NODE_SCORE, type NodeScore, type ScorePlugin } from '../framework/interface.ts';
import { NO_IMAGE_STATES, type NodeInfo } from '../framework/nodeinfo.ts';
import type { Pod } from '../types.ts';
import { Names } from './names.ts';

const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** Appends ":latest" when the image has no tag (normalizedImageName). */
export function normalizedImageName(name: string): string {
  if (name.lastIndexOf(':') <= name.lastIndexOf('/')) return `${name}:latest`;
  return name;
}

/** calculatePriority: the summed image score scaled between the thresholds into [0, 100]. */
export function imageScore(sum: number, numContainers: number): number {
  const maxThreshold = MAX_CONTAINER_THRESHOLD * numContainers;
  let s = sum;
  if (s < MIN_THRESHOLD) s = MIN_THRESHOLD;
  else if (s > maxThreshold) s = maxThreshold;
  return Math.trunc((MAX_NODE_SCORE * (s - MIN_THRESHOLD)) / (maxThreshold - MIN_THRESHOLD));
}

const imagesMemo = new WeakMap<Pod, { images: string[]; containers: number }>();

/** The pod's normalized image names (init containers first) and its container count, memoized. */
function podImages(pod: Pod): { images: string[]; containers: number } {
  let r = imagesMemo.get(pod);
  if (!r) {
    const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    r = {
      images: all.filter((c) => c.image).map((c) => normalizedImageName(c.image!)),
      containers: all.length,
    };
    imagesMemo.set(pod, r);
  }
  return r;
}

export class ImageLocality implements ScorePlugin {
  readonly name = Names.ImageLocality;
  readonly #handle: Handle;
  /** podImages of the pod scored last (Score runs for one pod over many nodes). */
  #lastPod: Pod | undefined;
  #lastImages: { images: string[]; containers: number } = { images: [], containers: 0 };

  constructor(handle: Handle) {
    this.#handle = handle;
  }

  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    if (pod !== this.#lastPod) {
      this.#lastImages = podImages(pod);
      this.#lastPod = pod;
    }
    const { images, containers } = this.#lastImages;
    if (containers === 0) return 0;
    let sum = 0;
    // Most nodes hold no image at all: NO_IMAGE_STATES, told by identity without reading the map.
    const states = nodeInfo.imageStates;
    if (states !== NO_IMAGE_STATES && states.size > 0) {
      const total = this.#handle.snapshot().list().length;
      if (total > 0) {
        for (const image of images) {
          const st = states.get(image);
          if (st) sum += Math.trunc(st.size * (st.numNodes / total));
        }
      }
    }
    return imageScore(sum, containers);
  }

  scoreNodes(state: CycleState, pod: Pod, nodes: readonly NodeInfo[], scores: NodeScore[]): void {
    const n = nodes.length;
    if (podImages(pod).containers === 0) {
      for (let i = 0; i < n; i++) scores[i]!.score = 0;
      return;
    }
    // Nodes holding no image all score imageScore(0, containers): computed once.
    let none = -1;
    for (let i = 0; i < n; i++) {
      const ni = nodes[i]!;
      const states = ni.imageStates;
      if (states === NO_IMAGE_STATES || states.size === 0) {
        if (none < 0) none = this.score(state, pod, ni);
        scores[i]!.score = none;
      } else {
        scores[i]!.score = this.score(state, pod, ni);
      }
    }
  }
}
