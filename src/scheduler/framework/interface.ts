/**
 * The scheduling framework's extension points (framework/interface.go). A plugin is an object with
 * a `name` and any of the methods below; the framework calls them in the configured order.
 *
 * One scheduling cycle, for one pod, runs synchronously against one Snapshot:
 *   PreFilter → Filter (per node) → [PostFilter if no node fits] → PreScore → Score (per node) →
 *   NormalizeScore → Reserve → Permit
 * then the binding cycle runs asynchronously: WaitOnPermit → PreBind → Bind → PostBind. A failure
 * after Reserve runs Unreserve on every Reserve plugin, in reverse order.
 */

import type { Lister, RestClient } from '../../client/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { Logger } from '../../util/log.ts';
import type { Namespace, Pod, PodDisruptionBudget } from '../types.ts';
import type { CycleState } from './cycle_state.ts';
import type { NodeInfo } from './nodeinfo.ts';
import type { PodInfo } from './podinfo.ts';
import type { NodeInfoLister } from './snapshot.ts';
import type { MaybeStatus, Status } from './status.ts';

/** The highest score a Score plugin may return after NormalizeScore. */
export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

export interface Plugin {
  readonly name: string;
}

/**
 * What PreFilter may say about which nodes can fit: only these names (intersected across plugins).
 * Nodes left out are reported as "node(s) didn't satisfy plugin(s) [...]".
 */
export interface PreFilterResult {
  nodeNames: Set<string>;
}

export interface PreFilterReturn {
  result?: PreFilterResult;
  status?: MaybeStatus;
}

/**
 * PreFilter runs once per cycle before any Filter. It precomputes into CycleState. Unschedulable
 * rejects the pod on every node (its message becomes the whole FitError); Skip disables the
 * plugin's Filter for this cycle.
 */
export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PreFilterReturn | undefined;
  /** Incremental updates of the PreFilter state, used by preemption and nominated pods. */
  preFilterExtensions?(): PreFilterExtensions | undefined;
}

/** Keep the PreFilter state right when a pod is (hypothetically) added to or removed from a node. */
export interface PreFilterExtensions {
  addPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): MaybeStatus;
  removePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): MaybeStatus;
}

/**
 * Filter decides whether the pod can run on one node. It must not modify `nodeInfo` and must be
 * cheap: it runs for up to every node in every cycle. Return undefined when the node fits, else an
 * Unschedulable (preemption may help) or UnschedulableAndUnresolvable status with the reasons the
 * FitError counts ("Insufficient cpu").
 */
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus;
}

/** Per-node filter results of a failed cycle; nodes not listed have `absent`. */
export class NodeToStatus {
  readonly map = new Map<string, Status>();
  absent: Status;

  constructor(absent: Status) {
    this.absent = absent;
  }

  get(name: string): Status {
    return this.map.get(name) ?? this.absent;
  }

  set(name: string, s: Status): void {
    this.map.set(name, s);
  }
}

export interface PostFilterResult {
  /** '' clears a previous nomination; undefined leaves it. */
  nominatedNodeName?: string;
}

/**
 * PostFilter runs when no node fits (typically preemption). Success with a nominated node means
 * room is being made there; Unschedulable carries a message appended to the FitError.
 */
export interface PostFilterPlugin extends Plugin {
  postFilter(
    state: CycleState,
    pod: Pod,
    statuses: NodeToStatus,
  ): Promise<{ result?: PostFilterResult; status?: MaybeStatus }>;
}

/** PreScore runs once with the feasible nodes. Skip disables the plugin's Score for this cycle. */
export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): MaybeStatus;
}

export interface NodeScore {
  name: string;
  score: number;
}

/**
 * Score ranks one feasible node (higher is better). Scores must end in [0, 100] after
 * NormalizeScore; the framework multiplies them by the plugin's weight and sums them. Throwing
 * aborts the cycle with an Error status.
 */
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number;
  /**
   * Optional: sets `scores[i].score` to what score() gives for `nodes[i]`, for every node, in one
   * call (the framework uses it when present: one dispatch and one state read per cycle instead of
   * one per node). Must give exactly score()'s numbers.
   */
  scoreNodes?(state: CycleState, pod: Pod, nodes: readonly NodeInfo[], scores: NodeScore[]): void;
  /** Rescales all the plugin's scores in place, after every node is scored. */
  normalizeScore?(state: CycleState, pod: Pod, scores: NodeScore[]): MaybeStatus;
}

/**
 * Reserve runs once the node is chosen, before the pod is assumed in the cache. Unreserve undoes
 * it if any later step fails; it must be idempotent and must not fail.
 */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): MaybeStatus;
  unreserve(state: CycleState, pod: Pod, nodeName: string): void;
}

/**
 * Permit allows the binding (Success), rejects it, or delays it (Wait, with a timeout): a waiting
 * pod is bound when every waiting plugin allows it and rejected at the first reject or timeout.
 */
export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: Pod, nodeName: string): { status?: MaybeStatus; timeoutMs?: number };
}

/** PreBind prepares what the pod needs before binding (e.g. volumes). Failure unreserves the pod. */
export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string): Promise<MaybeStatus>;
}

/** Bind writes the binding. Skip passes the pod to the next Bind plugin; the first other answer wins. */
export interface BindPlugin extends Plugin {
  bind(state: CycleState, pod: Pod, nodeName: string): Promise<MaybeStatus>;
}

/** PostBind is told of a successful binding. It cannot fail. */
export interface PostBindPlugin extends Plugin {
  postBind(state: CycleState, pod: Pod, nodeName: string): void;
}

/** Kinds of cluster change, for moving unschedulable pods back to the active queue. */
export type EventResource =
  | 'Node'
  | 'AssignedPod'
  | 'UnscheduledPod'
  | 'Namespace'
  | 'PodDisruptionBudget'
  | '*';

export const ActionType = {
  Add: 1,
  Delete: 2,
  UpdateNodeAllocatable: 4,
  UpdateNodeLabel: 8,
  UpdateNodeTaint: 16,
  UpdateNodeCondition: 32,
  UpdatePodLabel: 64,
  /** Any other update. */
  UpdateOther: 128,
  Update: 4 | 8 | 16 | 32 | 64 | 128,
  All: 1 | 2 | 4 | 8 | 16 | 32 | 64 | 128,
} as const;

export interface ClusterEvent {
  resource: EventResource;
  /** A bit set of ActionType values. */
  actions: number;
  /** A name for logs ("NodeAdd", "AssignedPodDelete"). */
  label?: string;
}

/** Plugins that can reject pods say which cluster events may make those pods schedulable. */
export interface EnqueueExtensions {
  eventsToRegister(): ClusterEvent[];
}

/** Pods nominated to nodes by preemption, and placed there in what-if filtering. */
export interface PodNominator {
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
  addNominatedPod(pi: PodInfo, nodeName: string): void;
  deleteNominatedPodIfExists(pod: Pod): void;
}

/** A pod waiting at Permit. */
export interface WaitingPod {
  readonly pod: Pod;
  allow(plugin: string): void;
  reject(plugin: string, message: string): void;
}

/** What the framework gives plugins (framework.Handle). Listers are absent when not configured. */
export interface Handle {
  readonly profileName: string;
  readonly client: RestClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The snapshot of the cycle in progress. */
  snapshot(): NodeInfoLister;
  readonly nominator: PodNominator;
  readonly podLister: Lister<Pod> | undefined;
  readonly namespaceLister: Lister<Namespace> | undefined;
  readonly pdbLister: Lister<PodDisruptionBudget> | undefined;
  /** A number in [0, 1), for tie-breaks (injectable for tests). */
  random(): number;
  /** Records an Event on `pod`. Never throws. */
  recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, action: string, message: string): void;
  getWaitingPod(uid: string): WaitingPod | undefined;
  /** Filter runners for what-if evaluation (preemption). */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus;
  runPreFilterExtensionAddPod(state: CycleState, pod: Pod, add: PodInfo, nodeInfo: NodeInfo): MaybeStatus;
  runPreFilterExtensionRemovePod(
    state: CycleState,
    pod: Pod,
    remove: PodInfo,
    nodeInfo: NodeInfo,
  ): MaybeStatus;
}

/** Builds a plugin from its arguments (from the profile config) and the framework handle. */
export type PluginFactory = (args: Record<string, unknown> | undefined, handle: Handle) => Plugin;
