/**
 * InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, and the required
 * anti-affinity of pods already running against the incoming pod (Filter); preferred terms of
 * both, and existing pods' required affinity (hardPodAffinityWeight), score by topology domain.
 * Terms select pods by label in the pod's namespace, the listed namespaces, or those matching
 * namespaceSelector.
 */
import { type CycleState, StateReader } from '../framework/cycle_state.ts';
import {
  ActionType,
  type ClusterEvent,
  type FilterPlugin,
  type Handle,
  type PreFilterExtensions,
  type PreFilterPlugin,
  type PreFilterReturn,
} from '../framework/interface.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import { matchesAllTerms, podInfoOf } from '../framework/podinfo.ts';
import { type MaybeStatus, Status } from '../framework/status.ts';
import type { Pod } from '../types.ts';
import { type InterPodAffinityArgs, InterPodAffinityScoring } from './interpodaffinity_scoring.ts';
import { mergeTermNamespaces, namespaceLabels, ownLabel, PreFilterState } from './interpodaffinity_state.ts';
import { Names } from './names.ts';

export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
const PRE_FILTER_KEY = `PreFilter${Names.InterPodAffinity}`;

export class InterPodAffinity extends InterPodAffinityScoring implements PreFilterPlugin, FilterPlugin {
  readonly name = Names.InterPodAffinity;
  readonly #preFilterState = new StateReader<PreFilterState>(PRE_FILTER_KEY);

  constructor(handle: Handle, args: InterPodAffinityArgs = {}) {
    super(handle, args);
  }

  preFilter(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): PreFilterReturn | undefined {
    const pi = podInfoOf(pod);
    if (pi.parseError) return { status: Status.unresolvable(`parsing pod: ${pi.parseError}`) };
    const h = this.handle;
    const s = new PreFilterState();
    s.pod = pod;
    s.affinityTerms = pi.requiredAffinityTerms.map((t) => mergeTermNamespaces(t, h.namespaceLister));
    s.antiAffinityTerms = pi.requiredAntiAffinityTerms.map((t) => mergeTermNamespaces(t, h.namespaceLister));
    s.namespaceLabels = namespaceLabels(h.namespaceLister, pod.metadata.namespace ?? '');

    const snap = h.snapshot();
    const hasTerms = s.affinityTerms.length > 0 || s.antiAffinityTerms.length > 0;
    if (hasTerms && nodes === snap.list()) {
      // One pass over the nodes with pods (nodes without pods count nothing). The nodes with
      // required anti-affinity pods are among them, in the same order, so every count map is
      // filled exactly as by the two passes below.
      for (const ni of snap.havePodsList()) {
        if (!ni.node) continue;
        if (ni.podsWithRequiredAntiAffinity.length > 0) s.countExistingAntiAffinity(ni);
        s.countIncomingTerms(ni);
      }
    } else {
      for (const ni of snap.havePodsWithRequiredAntiAffinityList()) {
        if (ni.node) s.countExistingAntiAffinity(ni);
      }
      if (hasTerms) {
        for (const ni of nodes) if (ni.numPods > 0 && ni.node) s.countIncomingTerms(ni);
      }
    }
    if (
      s.existingAntiAffinityCounts.size === 0 &&
      s.affinityTerms.length === 0 &&
      s.antiAffinityTerms.length === 0
    ) {
      return { status: Status.skip() };
    }
    state.write(PRE_FILTER_KEY, s);
    return undefined;
  }

  preFilterExtensions(): PreFilterExtensions {
    return {
      addPod: (state, _pod, pi, ni) => {
        state.read<PreFilterState>(PRE_FILTER_KEY)?.updateWithPod(pi, ni.node, 1);
        return undefined;
      },
      removePod: (state, _pod, pi, ni) => {
        state.read<PreFilterState>(PRE_FILTER_KEY)?.updateWithPod(pi, ni.node, -1);
        return undefined;
      },
    };
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const s = this.#preFilterState.read(state);
    if (!s) return undefined;
    const labels = nodeInfo.labels;
    if (s.affinityTerms.length > 0 && !satisfyPodAffinity(s, labels)) {
      return Status.unresolvable(ERR_REASON_AFFINITY);
    }
    if (s.antiAffinityCounts.size > 0) {
      for (const t of s.antiAffinityTerms) {
        const v = ownLabel(labels, t.topologyKey);
        if (v !== undefined && s.antiAffinityCounts.get(t.topologyKey, v) > 0) {
          return Status.unschedulable(ERR_REASON_ANTI_AFFINITY);
        }
      }
    }
    // Upstream walks the node's labels looking each (key, value) up; looking up only the counted
    // topology keys on the node gives the same answer.
    if (s.existingAntiAffinityCounts.size > 0 && s.existingAntiAffinityCounts.anyPositive(labels)) {
      return Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
    }
    return undefined;
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', actions: ActionType.All },
      { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeLabel },
      { resource: 'Namespace', actions: ActionType.Add | ActionType.Update },
    ];
  }
}

/**
 * Every required affinity term's topology key is on the node and some matching pod runs in that
 * domain; or no pod anywhere matches and the pod matches its own terms (the first of a group).
 */
function satisfyPodAffinity(s: PreFilterState, labels: Readonly<Record<string, string>>): boolean {
  let podsExist = true;
  for (const t of s.affinityTerms) {
    const v = ownLabel(labels, t.topologyKey);
    if (v === undefined) return false;
    if (s.affinityCounts.get(t.topologyKey, v) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  return s.affinityCounts.size === 0 && matchesAllTerms(s.affinityTerms, s.pod);
}
