/**
 * Snapshot: the cluster as one scheduling cycle sees it (cache.Snapshot). The cache updates it
 * incrementally before each cycle (only NodeInfos that changed are copied, in place, so the lists
 * below stay valid); nothing changes it during a cycle.
 *
 * Besides the node list it keeps sub-lists of the nodes some plugins walk (nodes with pods, with
 * affinity pods, ...), each in node-list order. A node joining or leaving a sub-list is applied in
 * place (binary search by list position) rather than by rescanning every node.
 */
import type { Node, Pod } from '../types.ts';
import { NodeInfo } from './nodeinfo.ts';

export interface NodeInfoLister {
  /** Every node, in the cache's zone-interleaved order. */
  list(): readonly NodeInfo[];
  /** Nodes that hold at least one pod with (anti-)affinity. */
  havePodsWithAffinityList(): readonly NodeInfo[];
  /** Nodes that hold at least one pod with required anti-affinity. */
  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[];
  /** Nodes that hold at least one pod, in list() order (skiff: the others add nothing to counts). */
  havePodsList(): readonly NodeInfo[];
  /**
   * Nodes that hold at least one pod with required affinity or preferred (anti-)affinity terms: the
   * existing pods InterPodAffinity scores an incoming pod without preferred terms against (skiff).
   */
  havePodsWithScoringAffinityList(): readonly NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /**
   * When set: changes whenever list() or the labels of a listed node change, so plugins may keep
   * what they derive from node labels while it stays the same (skiff).
   */
  readonly labelsGeneration?: number;
}

/** Membership bits of a NodeInfo in the sub-lists. */
const WITH_AFFINITY = 1;
const WITH_REQUIRED_ANTI_AFFINITY = 2;
const WITH_PODS = 4;
const WITH_SCORING_AFFINITY = 8;

/** Past this many membership changes in one update, rebuilding the sub-lists is cheaper. */
const MAX_INCREMENTAL_CHANGES = 64;

export class Snapshot implements NodeInfoLister {
  nodeInfoMap = new Map<string, NodeInfo>();
  nodeInfoList: NodeInfo[] = [];
  withAffinity: NodeInfo[] = [];
  withRequiredAntiAffinity: NodeInfo[] = [];
  withPods: NodeInfo[] = [];
  withScoringAffinity: NodeInfo[] = [];
  /** The highest cache generation copied in. */
  generation = 0;
  /** The cache's node-tree generation the list was built from. */
  treeGeneration = -1;
  /**
   * Bumped by the cache whenever it rebuilds the node list or copies in a node whose labels
   * changed. Who changes the node list or node labels of a snapshot otherwise must bump it too.
   */
  labelsGeneration = 0;
  /** Position of each NodeInfo in nodeInfoList (as of the last rebuildAffinityLists). */
  #position = new Map<NodeInfo, number>();
  /** The list #position was built for: a replaced nodeInfoList invalidates it. */
  #positionOf: NodeInfo[] | undefined;

  list(): readonly NodeInfo[] {
    return this.nodeInfoList;
  }

  havePodsWithAffinityList(): readonly NodeInfo[] {
    return this.withAffinity;
  }

  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[] {
    return this.withRequiredAntiAffinity;
  }

  havePodsList(): readonly NodeInfo[] {
    return this.withPods;
  }

  havePodsWithScoringAffinityList(): readonly NodeInfo[] {
    return this.withScoringAffinity;
  }

  get(name: string): NodeInfo | undefined {
    return this.nodeInfoMap.get(name);
  }

  get numNodes(): number {
    return this.nodeInfoList.length;
  }

  /** The sub-lists `ni` belongs in, as bits. */
  static memberships(ni: NodeInfo): number {
    let m = 0;
    if (ni.numPods > 0) m |= WITH_PODS;
    const affinity = ni.podsWithAffinity;
    if (affinity.length > 0) {
      m |= WITH_AFFINITY;
      for (let i = 0; i < affinity.length; i++) {
        if (affinity[i]!.hasScoringAffinity) {
          m |= WITH_SCORING_AFFINITY;
          break;
        }
      }
    }
    if (ni.podsWithRequiredAntiAffinity.length > 0) m |= WITH_REQUIRED_ANTI_AFFINITY;
    return m;
  }

  /** Rebuilds the sub-lists (and list positions) from the node list. */
  rebuildAffinityLists(): void {
    this.withAffinity = [];
    this.withRequiredAntiAffinity = [];
    this.withPods = [];
    this.withScoringAffinity = [];
    this.#position = new Map();
    this.#positionOf = this.nodeInfoList;
    const list = this.nodeInfoList;
    for (let i = 0; i < list.length; i++) {
      const ni = list[i]!;
      this.#position.set(ni, i);
      const m = Snapshot.memberships(ni);
      if (m === 0) continue;
      if (m & WITH_AFFINITY) this.withAffinity.push(ni);
      if (m & WITH_REQUIRED_ANTI_AFFINITY) this.withRequiredAntiAffinity.push(ni);
      if (m & WITH_PODS) this.withPods.push(ni);
      if (m & WITH_SCORING_AFFINITY) this.withScoringAffinity.push(ni);
    }
  }

  /**
   * Applies sub-list membership changes of NodeInfos already in the node list: `changes` holds
   * (NodeInfo, memberships before) pairs; their memberships now are read from the NodeInfos.
   * Falls back to rebuildAffinityLists when the list positions are stale or changes are many.
   */
  updateMemberships(changes: readonly (readonly [NodeInfo, number])[]): void {
    if (changes.length === 0) return;
    if (changes.length > MAX_INCREMENTAL_CHANGES || this.#positionOf !== this.nodeInfoList) {
      this.rebuildAffinityLists();
      return;
    }
    for (const [ni, before] of changes) {
      const pos = this.#position.get(ni);
      if (pos === undefined || this.nodeInfoList[pos] !== ni) {
        this.rebuildAffinityLists();
        return;
      }
      const after = Snapshot.memberships(ni);
      const diff = before ^ after;
      if (diff & WITH_AFFINITY) this.#toggle(this.withAffinity, ni, pos, (after & WITH_AFFINITY) !== 0);
      if (diff & WITH_REQUIRED_ANTI_AFFINITY) {
        this.#toggle(this.withRequiredAntiAffinity, ni, pos, (after & WITH_REQUIRED_ANTI_AFFINITY) !== 0);
      }
      if (diff & WITH_PODS) this.#toggle(this.withPods, ni, pos, (after & WITH_PODS) !== 0);
      if (diff & WITH_SCORING_AFFINITY) {
        this.#toggle(this.withScoringAffinity, ni, pos, (after & WITH_SCORING_AFFINITY) !== 0);
      }
    }
  }

  /** Inserts (add) or removes `ni`, at list position `pos`, in a sub-list kept in list order. */
  #toggle(sub: NodeInfo[], ni: NodeInfo, pos: number, add: boolean): void {
    let lo = 0;
    let hi = sub.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#position.get(sub[mid]!)! < pos) lo = mid + 1;
      else hi = mid;
    }
    const present = lo < sub.length && sub[lo] === ni;
    if (add && !present) sub.splice(lo, 0, ni);
    else if (!add && present) sub.splice(lo, 1);
  }

  /** A snapshot of these nodes and pods (pods go to the node named in spec.nodeName). For tests. */
  static of(nodes: readonly Node[], pods: readonly Pod[] = []): Snapshot {
    const s = new Snapshot();
    for (const n of nodes) {
      const ni = new NodeInfo();
      ni.setNode(n);
      s.nodeInfoMap.set(n.metadata.name ?? '', ni);
      s.nodeInfoList.push(ni);
    }
    for (const p of pods) s.nodeInfoMap.get(p.spec?.nodeName ?? '')?.addPod(p);
    s.rebuildAffinityLists();
    return s;
  }
}
