/**
 * Pods nominated to nodes (the queue's podNominator): a pod that preempted others waits for its
 * nominated node, and lower-or-equal priority pods must leave room for it there.
 */
import type { PodNominator } from './framework/interface.ts';
import { type PodInfo, podInfoOf } from './framework/podinfo.ts';
import { type Pod, podKey } from './types.ts';

/** What nominatedPodsForNode returns for a node without nominated pods (shared, never modified). */
const NONE: readonly PodInfo[] = Object.freeze([]);

export class Nominator implements PodNominator {
  readonly #byNode = new Map<string, PodInfo[]>();
  readonly #nodeOf = new Map<string, string>();

  /** Filter asks for every node it checks: no lookup and no allocation while nothing is nominated. */
  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    if (this.#byNode.size === 0) return NONE;
    return this.#byNode.get(nodeName) ?? NONE;
  }

  /** Nominates `pi` to `nodeName`, or to its status.nominatedNodeName when omitted; '' clears. */
  addNominatedPod(pi: PodInfo, nodeName?: string): void {
    this.deleteNominatedPodIfExists(pi.pod);
    const node = nodeName ?? pi.pod.status?.nominatedNodeName ?? '';
    if (!node) return;
    const key = podKey(pi.pod);
    this.#nodeOf.set(key, node);
    let list = this.#byNode.get(node);
    if (!list) {
      list = [];
      this.#byNode.set(node, list);
    }
    list.push(pi);
  }

  deleteNominatedPodIfExists(pod: Pod): void {
    const key = podKey(pod);
    const node = this.#nodeOf.get(key);
    if (node === undefined) return;
    this.#nodeOf.delete(key);
    const list = this.#byNode.get(node);
    if (!list) return;
    const rest = list.filter((p) => podKey(p.pod) !== key);
    if (rest.length === 0) this.#byNode.delete(node);
    else this.#byNode.set(node, rest);
  }

  /**
   * Keeps a nomination across an update unless the new pod names another node (or the scheduler
   * cleared it): status.nominatedNodeName wins when set.
   */
  updateNominatedPod(oldPod: Pod, newPod: Pod): void {
    const key = podKey(oldPod);
    const prev = this.#nodeOf.get(key);
    const next = newPod.status?.nominatedNodeName || (oldPod.status?.nominatedNodeName ? '' : prev) || '';
    this.deleteNominatedPodIfExists(oldPod);
    if (next) this.addNominatedPod(podInfoOf(newPod), next);
  }

  nominatedNodeOf(pod: Pod): string | undefined {
    return this.#nodeOf.get(podKey(pod));
  }
}
