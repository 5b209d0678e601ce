/**
 * The scheduler cache (internal/cache): NodeInfos built from node and pod informer events, plus
 * assumed pods.
 *
 * Assumed pods: when the scheduler picks a node it assumes the pod there at once (before the
 * binding API call), so the next cycles see the node's resources as taken and a burst never
 * overcommits a node. When the bound pod arrives from the informer the assumption is confirmed.
 * If binding fails the scheduler forgets the pod. If binding succeeded but the informer never
 * shows the pod within `assumedPodTtlMs` after binding finished, the assumption expires.
 *
 * Snapshots are updated incrementally: NodeInfos are kept in a list ordered by last change, and
 * only those changed since the snapshot's generation are copied.
 */
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/log.ts';
import { type ImageStateSummary, NO_IMAGE_STATES, NodeInfo } from './framework/nodeinfo.ts';
import { Snapshot } from './framework/snapshot.ts';
import { NodeTree } from './node_tree.ts';
import { type Node, nodeName, type Pod, podKey } from './types.ts';
import { jsonEqual } from './util.ts';

export interface CacheOptions {
  clock: Clock;
  logger?: Logger;
  /** How long a bound-but-unconfirmed assumed pod is kept (default 15 min; 0 keeps it forever). */
  assumedPodTtlMs?: number;
}

interface Item {
  info: NodeInfo;
  prev: Item | null;
  next: Item | null;
}

interface PodState {
  pod: Pod;
  bindingFinished: boolean;
  deadline: number | undefined;
}

interface ImageState {
  nodes: Set<string>;
  summary: ImageStateSummary;
}

/** Node fields the plugins read; a node update that changes none of them is not a change. */
function schedulingView(n: Node): unknown {
  return [n.metadata.labels, n.spec?.taints, n.spec?.unschedulable, n.status?.allocatable, n.status?.images];
}

export class SchedulerCache {
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #ttl: number;
  readonly #items = new Map<string, Item>();
  #head: Item | null = null;
  readonly #tree = new NodeTree();
  readonly #pods = new Map<string, PodState>();
  readonly #assumed = new Set<string>();
  readonly #images = new Map<string, ImageState>();
  #cancelTimer: (() => void) | undefined;

  constructor(o: CacheOptions) {
    this.#clock = o.clock;
    this.#logger = o.logger;
    this.#ttl = o.assumedPodTtlMs ?? 15 * 60_000;
  }

  /** Expires assumed pods every second until close(). */
  run(): void {
    const tick = () => {
      this.cleanupExpiredAssumedPods();
      this.#cancelTimer = this.#clock.setTimeout(tick, 1000);
    };
    this.#cancelTimer = this.#clock.setTimeout(tick, 1000);
  }

  close(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  // ---- the change-ordered list ----

  #item(name: string): Item {
    let it = this.#items.get(name);
    if (!it) {
      it = { info: new NodeInfo(), prev: null, next: null };
      this.#items.set(name, it);
      this.#toHead(it);
    }
    return it;
  }

  #toHead(it: Item): void {
    if (this.#head === it) return;
    this.#unlink(it);
    it.next = this.#head;
    if (this.#head) this.#head.prev = it;
    this.#head = it;
  }

  #unlink(it: Item): void {
    if (it.prev) it.prev.next = it.next;
    if (it.next) it.next.prev = it.prev;
    if (this.#head === it) this.#head = it.next;
    it.prev = null;
    it.next = null;
  }

  #dropIfEmpty(name: string, it: Item): void {
    if (!it.info.node && it.info.pods.length === 0) {
      this.#unlink(it);
      this.#items.delete(name);
    }
  }

  // ---- nodes ----

  addNode(node: Node): void {
    const name = nodeName(node);
    const it = this.#item(name);
    if (it.info.node) {
      this.#tree.update(it.info.node, node);
      this.#removeImages(name, it.info);
    } else {
      this.#tree.add(node);
    }
    this.#addImages(node, it.info);
    it.info.setNode(node);
    this.#toHead(it);
  }

  updateNode(_oldNode: Node, newNode: Node): void {
    const it = this.#items.get(nodeName(newNode));
    if (it?.info.node && jsonEqual(schedulingView(it.info.node), schedulingView(newNode))) {
      it.info.node = newNode;
      return;
    }
    this.addNode(newNode);
  }

  /** Removes the node; its NodeInfo stays (without a node) while pods still reference it. */
  removeNode(node: Node): void {
    const name = nodeName(node);
    const it = this.#items.get(name);
    if (!it?.info.node) return;
    this.#tree.remove(it.info.node);
    this.#removeImages(name, it.info);
    it.info.removeNode();
    this.#toHead(it);
    this.#dropIfEmpty(name, it);
  }

  #addImages(node: Node, info: NodeInfo): void {
    const name = nodeName(node);
    const states = new Map<string, ImageStateSummary>();
    for (const img of node.status?.images ?? []) {
      for (const n of img.names ?? []) {
        let st = this.#images.get(n);
        if (!st) {
          st = { nodes: new Set(), summary: { size: img.sizeBytes ?? 0, numNodes: 0 } };
          this.#images.set(n, st);
        }
        st.nodes.add(name);
        st.summary.numNodes = st.nodes.size;
        states.set(n, st.summary);
      }
    }
    info.imageStates = states.size > 0 ? states : NO_IMAGE_STATES;
  }

  #removeImages(name: string, info: NodeInfo): void {
    for (const n of info.imageStates.keys()) {
      const st = this.#images.get(n);
      if (!st) continue;
      st.nodes.delete(name);
      st.summary.numNodes = st.nodes.size;
      if (st.nodes.size === 0) this.#images.delete(n);
    }
    info.imageStates = NO_IMAGE_STATES;
  }

  // ---- pods ----

  #addToNode(pod: Pod): void {
    const it = this.#item(pod.spec?.nodeName ?? '');
    it.info.addPod(pod);
    this.#toHead(it);
  }

  #removeFromNode(pod: Pod): void {
    const name = pod.spec?.nodeName ?? '';
    const it = this.#items.get(name);
    if (!it) return;
    if (it.info.removePod(pod)) this.#toHead(it);
    this.#dropIfEmpty(name, it);
  }

  /** Assumes `pod` (with spec.nodeName set to the chosen node) is running there. */
  assumePod(pod: Pod): void {
    const key = podKey(pod);
    if (this.#pods.has(key)) throw new Error(`pod ${key} is in the cache, so can't be assumed`);
    this.#addToNode(pod);
    this.#pods.set(key, { pod, bindingFinished: false, deadline: undefined });
    this.#assumed.add(key);
  }

  /** The binding call returned: the assumption now expires after the TTL unless confirmed. */
  finishBinding(pod: Pod): void {
    const key = podKey(pod);
    const st = this.#pods.get(key);
    if (!st || !this.#assumed.has(key)) return;
    st.bindingFinished = true;
    st.deadline = this.#ttl > 0 ? this.#clock.now() + this.#ttl : undefined;
  }

  /** Drops an assumed pod (binding failed or was rejected). */
  forgetPod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.#pods.get(key);
    if (!st || !this.#assumed.has(key)) return;
    this.#removeFromNode(st.pod);
    this.#pods.delete(key);
    this.#assumed.delete(key);
  }

  isAssumedPod(pod: Pod): boolean {
    return this.#assumed.has(podKey(pod));
  }

  /** The cached version of the pod (assumed or confirmed). */
  getPod(pod: Pod): Pod | undefined {
    return this.#pods.get(podKey(pod))?.pod;
  }

  /** An assigned pod from the informer: confirms an assumed pod, or adds it. */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.#pods.get(key);
    if (st) {
      if (!this.#assumed.has(key)) this.#logger?.debug({ pod: key }, 'pod was already in the cache');
      this.#removeFromNode(st.pod);
      this.#assumed.delete(key);
    }
    this.#addToNode(pod);
    this.#pods.set(key, { pod, bindingFinished: true, deadline: undefined });
  }

  updatePod(oldPod: Pod, newPod: Pod): void {
    const key = podKey(newPod);
    const st = this.#pods.get(key);
    if (!st) {
      this.addPod(newPod);
      return;
    }
    this.#removeFromNode(st.pod ?? oldPod);
    this.#assumed.delete(key);
    this.#addToNode(newPod);
    this.#pods.set(key, { pod: newPod, bindingFinished: true, deadline: undefined });
  }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    const st = this.#pods.get(key);
    this.#removeFromNode(st?.pod ?? pod);
    this.#pods.delete(key);
    this.#assumed.delete(key);
  }

  /** Drops assumed pods whose binding finished more than the TTL ago without confirmation. */
  cleanupExpiredAssumedPods(): void {
    const now = this.#clock.now();
    for (const key of [...this.#assumed]) {
      const st = this.#pods.get(key);
      if (!st?.bindingFinished || st.deadline === undefined || now < st.deadline) continue;
      this.#logger?.warn({ pod: key, node: st.pod.spec?.nodeName }, 'assumed pod expired');
      this.#removeFromNode(st.pod);
      this.#pods.delete(key);
      this.#assumed.delete(key);
    }
  }

  // ---- snapshots ----

  /** Brings `s` up to date, copying only NodeInfos changed since its generation. */
  updateSnapshot(s: Snapshot): void {
    let updateAllLists = false;
    const changes: [NodeInfo, number][] = [];
    for (let it = this.#head; it && it.info.generation > s.generation; it = it.next) {
      const ni = it.info;
      if (!ni.node) continue;
      const name = nodeName(ni.node);
      let existing = s.nodeInfoMap.get(name);
      if (!existing) {
        existing = new NodeInfo();
        s.nodeInfoMap.set(name, existing);
        updateAllLists = true;
      }
      const before = Snapshot.memberships(existing);
      if (existing.labels !== ni.labels) s.labelsGeneration++;
      existing.copyFrom(ni);
      if (Snapshot.memberships(existing) !== before) changes.push([existing, before]);
    }
    if (this.#head) s.generation = Math.max(s.generation, this.#head.info.generation);
    if (s.nodeInfoMap.size > this.#tree.numNodes) {
      for (const name of [...s.nodeInfoMap.keys()]) {
        if (!this.#items.get(name)?.info.node) s.nodeInfoMap.delete(name);
      }
      updateAllLists = true;
    }
    if (updateAllLists || s.treeGeneration !== this.#tree.generation) {
      s.nodeInfoList = [];
      for (const name of this.#tree.list()) {
        const ni = s.nodeInfoMap.get(name);
        if (ni) s.nodeInfoList.push(ni);
      }
      s.treeGeneration = this.#tree.generation;
      s.labelsGeneration++;
      s.rebuildAffinityLists();
    } else if (changes.length > 0) {
      s.updateMemberships(changes);
    }
  }

  // ---- introspection ----

  nodeCount(): number {
    return this.#tree.numNodes;
  }

  podCount(): number {
    return this.#pods.size;
  }

  assumedCount(): number {
    return this.#assumed.size;
  }

  /** The live NodeInfo (do not modify). */
  nodeInfo(name: string): NodeInfo | undefined {
    return this.#items.get(name)?.info;
  }
}
