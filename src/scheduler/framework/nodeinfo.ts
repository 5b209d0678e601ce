/**
 * NodeInfo: a node with the pods on it and what they add up to (framework.NodeInfo): requested and
 * allocatable resources (pod count and extended resources included), host ports in use, and the
 * images the node holds. The cache owns one per node and bumps `generation` on every change; the
 * snapshot holds copies.
 */
import { type Node, nodeName, type Pod, podKey, type Taint } from '../types.ts';
import { type PodInfo, podHostPorts, podInfoOf } from './podinfo.ts';
import {
  addAmounts,
  addResource,
  copyResourceInto,
  emptyResource,
  type Resource,
  toAmounts,
} from './resource.ts';

let generation = 0;

/** A process-wide, strictly increasing generation number. */
export function nextGeneration(): number {
  return ++generation;
}

/** What ImageLocality needs to know of an image on a node. Shared by every node holding it. */
export interface ImageStateSummary {
  size: number;
  /** How many nodes hold the image. */
  numNodes: number;
}

export const DEFAULT_BIND_ALL_HOST_IP = '0.0.0.0';

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const NO_TAINTS: readonly Taint[] = Object.freeze([]);

/** A Map that cannot be written: the shared image states of nodes that hold no image. */
class NoImageStates extends Map<string, ImageStateSummary> {
  override set(): this {
    throw new Error('NO_IMAGE_STATES is read-only');
  }
}

/** The image states of a node without images (shared; compare by identity to skip the lookup). */
export const NO_IMAGE_STATES: ReadonlyMap<string, ImageStateSummary> = new NoImageStates();

/** Host ports in use: hostIP → set of `protocol/port` (framework.HostPortInfo). */
export class HostPortInfo {
  readonly #byIP = new Map<string, Set<string>>();

  add(ip: string | undefined, protocol: string | undefined, port: number): void {
    const key = `${protocol || 'TCP'}/${port}`;
    const addr = ip || DEFAULT_BIND_ALL_HOST_IP;
    let set = this.#byIP.get(addr);
    if (!set) {
      set = new Set();
      this.#byIP.set(addr, set);
    }
    set.add(key);
  }

  remove(ip: string | undefined, protocol: string | undefined, port: number): void {
    const addr = ip || DEFAULT_BIND_ALL_HOST_IP;
    const set = this.#byIP.get(addr);
    if (!set) return;
    set.delete(`${protocol || 'TCP'}/${port}`);
    if (set.size === 0) this.#byIP.delete(addr);
  }

  /** Whether ip/protocol/port clashes with a port in use; 0.0.0.0 clashes with every address. */
  checkConflict(ip: string | undefined, protocol: string | undefined, port: number): boolean {
    if (port <= 0) return false;
    const key = `${protocol || 'TCP'}/${port}`;
    const addr = ip || DEFAULT_BIND_ALL_HOST_IP;
    if (addr === DEFAULT_BIND_ALL_HOST_IP) {
      for (const set of this.#byIP.values()) if (set.has(key)) return true;
      return false;
    }
    return (
      (this.#byIP.get(addr)?.has(key) ?? false) ||
      (this.#byIP.get(DEFAULT_BIND_ALL_HOST_IP)?.has(key) ?? false)
    );
  }

  /** No port in use. */
  get empty(): boolean {
    return this.#byIP.size === 0;
  }

  get size(): number {
    let n = 0;
    for (const s of this.#byIP.values()) n += s.size;
    return n;
  }

  clone(): HostPortInfo {
    const c = new HostPortInfo();
    for (const [ip, set] of this.#byIP) c.#byIP.set(ip, new Set(set));
    return c;
  }
}

export { podHostPorts };

export class NodeInfo {
  node: Node | null = null;
  pods: PodInfo[] = [];
  /** Pods with any (anti-)affinity term, required or preferred. */
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  usedPorts = new HostPortInfo();
  /** The sum of the pods' requests. Read-only outside NodeInfo (see the copies below). */
  requested: Resource = emptyResource();
  /** The sum with the non-zero defaults for pods that request no cpu/memory (for scoring). Read-only. */
  nonZeroRequested: Resource = emptyResource();
  /** Read-only outside NodeInfo. */
  allocatable: Resource = emptyResource();
  /**
   * Images on the node by every name they are known by; NO_IMAGE_STATES (shared) when none. Replace
   * the map rather than modify it.
   */
  imageStates: ReadonlyMap<string, ImageStateSummary> = NO_IMAGE_STATES;
  generation = nextGeneration();
  /** The node's name ('' without a node). */
  name = '';

  // Copies of what Filter and Score plugins read for every node, kept on the NodeInfo itself so a
  // pass over hundreds of nodes reads one object per node rather than a chain of them.

  /** node.metadata.labels ({} without labels or node). */
  labels: Readonly<Record<string, string>> = NO_LABELS;
  /** node.spec.unschedulable. */
  unschedulable = false;
  /** node.spec.taints ([] without). */
  taints: readonly Taint[] = NO_TAINTS;
  /** pods.length. */
  numPods = 0;
  /** allocatable.milliCPU, .memory, .ephemeralStorage, .allowedPodNumber. */
  allocatableMilliCPU = 0;
  allocatableMemory = 0;
  allocatableEphemeralStorage = 0;
  allowedPodNumber = 0;
  /** requested.milliCPU, .memory, .ephemeralStorage. */
  requestedMilliCPU = 0;
  requestedMemory = 0;
  requestedEphemeralStorage = 0;
  /** nonZeroRequested.milliCPU, .memory. */
  nonZeroRequestedMilliCPU = 0;
  nonZeroRequestedMemory = 0;

  constructor(...pods: Pod[]) {
    for (const p of pods) this.addPod(p);
  }

  setNode(node: Node): void {
    this.node = node;
    this.name = nodeName(node);
    this.allocatable = addAmounts(emptyResource(), toAmounts(node.status?.allocatable));
    this.#nodeChanged();
    this.generation = nextGeneration();
  }

  removeNode(): void {
    this.node = null;
    this.name = '';
    this.#nodeChanged();
    this.generation = nextGeneration();
  }

  #nodeChanged(): void {
    const node = this.node;
    this.labels = node?.metadata.labels ?? NO_LABELS;
    this.unschedulable = !!node?.spec?.unschedulable;
    this.taints = node?.spec?.taints ?? NO_TAINTS;
    const a = this.allocatable;
    this.allocatableMilliCPU = a.milliCPU;
    this.allocatableMemory = a.memory;
    this.allocatableEphemeralStorage = a.ephemeralStorage;
    this.allowedPodNumber = a.allowedPodNumber;
  }

  #requestsChanged(): void {
    this.numPods = this.pods.length;
    const r = this.requested;
    this.requestedMilliCPU = r.milliCPU;
    this.requestedMemory = r.memory;
    this.requestedEphemeralStorage = r.ephemeralStorage;
    const nz = this.nonZeroRequested;
    this.nonZeroRequestedMilliCPU = nz.milliCPU;
    this.nonZeroRequestedMemory = nz.memory;
  }

  addPod(pod: Pod): void {
    this.addPodInfo(podInfoOf(pod));
  }

  addPodInfo(pi: PodInfo): void {
    this.pods.push(pi);
    if (pi.hasAffinity()) this.podsWithAffinity.push(pi);
    if (pi.hasRequiredAntiAffinity()) this.podsWithRequiredAntiAffinity.push(pi);
    this.#account(pi, 1);
  }

  /** Removes the pod with this pod's key; false when absent. */
  removePod(pod: Pod): boolean {
    const key = podKey(pod);
    const i = this.pods.findIndex((p) => podKey(p.pod) === key);
    if (i < 0) return false;
    const pi = this.pods[i]!;
    this.pods.splice(i, 1);
    const drop = (list: PodInfo[]) => {
      const j = list.findIndex((p) => podKey(p.pod) === key);
      if (j >= 0) list.splice(j, 1);
    };
    if (pi.hasAffinity()) drop(this.podsWithAffinity);
    if (pi.hasRequiredAntiAffinity()) drop(this.podsWithRequiredAntiAffinity);
    this.#account(pi, -1);
    return true;
  }

  #account(pi: PodInfo, sign: 1 | -1): void {
    addResource(this.requested, pi.requests, sign);
    addResource(this.nonZeroRequested, pi.nonZeroRequests, sign);
    for (const p of pi.hostPorts) {
      if (sign > 0) this.usedPorts.add(p.hostIP, p.protocol, p.hostPort);
      else this.usedPorts.remove(p.hostIP, p.protocol, p.hostPort);
    }
    this.#requestsChanged();
    this.generation = nextGeneration();
  }

  /** A copy sharing the immutable parts (PodInfos, node object, image summaries). */
  clone(): NodeInfo {
    const c = new NodeInfo();
    c.copyFrom(this);
    return c;
  }

  /** Makes this a copy of `other`, in place (the snapshot keeps its NodeInfo objects stable). */
  copyFrom(other: NodeInfo): void {
    this.node = other.node;
    this.name = other.name;
    this.pods = other.pods.slice();
    // This NodeInfo's own lists, port set and Resources are kept where that changes nothing: an
    // empty list or port set stays empty, and the Resources are overwritten in place (nothing else
    // holds them: clone() and the snapshot give every NodeInfo its own).
    if (other.podsWithAffinity.length > 0 || this.podsWithAffinity.length > 0)
      this.podsWithAffinity = other.podsWithAffinity.slice();
    if (other.podsWithRequiredAntiAffinity.length > 0 || this.podsWithRequiredAntiAffinity.length > 0)
      this.podsWithRequiredAntiAffinity = other.podsWithRequiredAntiAffinity.slice();
    if (!other.usedPorts.empty || !this.usedPorts.empty) this.usedPorts = other.usedPorts.clone();
    copyResourceInto(this.requested, other.requested);
    copyResourceInto(this.nonZeroRequested, other.nonZeroRequested);
    copyResourceInto(this.allocatable, other.allocatable);
    this.imageStates = other.imageStates;
    this.generation = other.generation;
    this.labels = other.labels;
    this.unschedulable = other.unschedulable;
    this.taints = other.taints;
    this.numPods = other.numPods;
    this.allocatableMilliCPU = other.allocatableMilliCPU;
    this.allocatableMemory = other.allocatableMemory;
    this.allocatableEphemeralStorage = other.allocatableEphemeralStorage;
    this.allowedPodNumber = other.allowedPodNumber;
    this.requestedMilliCPU = other.requestedMilliCPU;
    this.requestedMemory = other.requestedMemory;
    this.requestedEphemeralStorage = other.requestedEphemeralStorage;
    this.nonZeroRequestedMilliCPU = other.nonZeroRequestedMilliCPU;
    this.nonZeroRequestedMemory = other.nonZeroRequestedMemory;
  }
}

/** A NodeInfo for `node` holding `pods` (for tests and what-if runs). */
export function newNodeInfo(node: Node, ...pods: Pod[]): NodeInfo {
  const ni = new NodeInfo(...pods);
  ni.setNode(node);
  return ni;
}
