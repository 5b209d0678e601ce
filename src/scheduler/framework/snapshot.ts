/**
 * Snapshot: the cluster as one scheduling cycle sees it (cache.Snapshot). The cache updates it
 * incrementally before each cycle (only NodeInfos that changed are copied, in place, so the lists
 * below stay valid); nothing changes it during a cycle.
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
  get(name: string): NodeInfo | undefined;
}

export class Snapshot implements NodeInfoLister {
  nodeInfoMap = new Map<string, NodeInfo>();
  nodeInfoList: NodeInfo[] = [];
  withAffinity: NodeInfo[] = [];
  withRequiredAntiAffinity: NodeInfo[] = [];
  /** The highest cache generation copied in. */
  generation = 0;
  /** The cache's node-tree generation the list was built from. */
  treeGeneration = -1;

  list(): readonly NodeInfo[] {
    return this.nodeInfoList;
  }

  havePodsWithAffinityList(): readonly NodeInfo[] {
    return this.withAffinity;
  }

  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[] {
    return this.withRequiredAntiAffinity;
  }

  get(name: string): NodeInfo | undefined {
    return this.nodeInfoMap.get(name);
  }

  get numNodes(): number {
    return this.nodeInfoList.length;
  }

  /** Rebuilds the affinity lists from the node list. */
  rebuildAffinityLists(): void {
    this.withAffinity = [];
    this.withRequiredAntiAffinity = [];
    for (const ni of this.nodeInfoList) {
      if (ni.podsWithAffinity.length > 0) this.withAffinity.push(ni);
      if (ni.podsWithRequiredAntiAffinity.length > 0) this.withRequiredAntiAffinity.push(ni);
    }
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
