/**
 * FitError: why a pod fits no node (framework.FitError), with kube-scheduler's exact message:
 *   "0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint {k: v}. preemption: ..."
 * Reasons are counted over nodes, rendered "<count> <reason>" and sorted as strings.
 */
import { NodeToStatus } from './interface.ts';
import { Status } from './status.ts';

export const NO_NODE_AVAILABLE = (n: number) => `0/${n} nodes are available`;

export interface Diagnosis {
  nodeToStatus: NodeToStatus;
  /** Plugins that rejected the pod on some node or in PreFilter. */
  unschedulablePlugins: Set<string>;
  /** Set when PreFilter rejected the pod: the message replaces the per-node histogram. */
  preFilterMsg: string;
  /** The PostFilter (preemption) message, appended as is. */
  postFilterMsg: string;
}

export function newDiagnosis(): Diagnosis {
  return {
    nodeToStatus: new NodeToStatus(Status.unresolvable()),
    unschedulablePlugins: new Set(),
    preFilterMsg: '',
    postFilterMsg: '',
  };
}

/** Go's sort.Strings order (bytewise; equal to UTF-16 order for the ASCII messages used). */
function goCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class FitError extends Error {
  readonly pod: { namespace: string; name: string };
  readonly numAllNodes: number;
  readonly diagnosis: Diagnosis;

  constructor(pod: { namespace: string; name: string }, numAllNodes: number, diagnosis: Diagnosis) {
    super(fitErrorMessage(numAllNodes, diagnosis));
    this.name = 'FitError';
    this.pod = pod;
    this.numAllNodes = numAllNodes;
    this.diagnosis = diagnosis;
  }

  /** Records the PostFilter message and re-renders `message`. */
  setPostFilterMsg(msg: string): void {
    this.diagnosis.postFilterMsg = msg;
    this.message = fitErrorMessage(this.numAllNodes, this.diagnosis);
  }
}

/** FitError.Error(). */
export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `${NO_NODE_AVAILABLE(numAllNodes)}:`;
  if (d.preFilterMsg !== '') {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const s of d.nodeToStatus.map.values()) {
      for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    const absent = numAllNodes - d.nodeToStatus.map.size;
    if (absent > 0) {
      for (const r of d.nodeToStatus.absent.reasons) counts.set(r, (counts.get(r) ?? 0) + absent);
    }
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort(goCompare);
    if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  }
  if (d.postFilterMsg !== '') msg += ` ${d.postFilterMsg}`;
  return msg;
}
