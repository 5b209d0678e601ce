/**
 * DefaultPreemption (PostFilter): when no node fits, find nodes where evicting lower-priority pods
 * makes the pod fit, keep as few victims as possible (reprieving PDB-protected pods first), pick
 * the node that disrupts least, delete its victims and nominate the node for the preemptor.
 * Messages follow upstream: "preemption: 0/3 nodes are available: 3 No preemption victims found
 * for incoming pod.", "preemption: not eligible due to preemptionPolicy=Never.".
 */
import { ApiError } from '../../api/errors.ts';
import type { CycleState } from '../framework/cycle_state.ts';
import { FitError, newDiagnosis } from '../framework/fit_error.ts';
import type { Handle, NodeToStatus, PostFilterPlugin, PostFilterResult } from '../framework/interface.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import type { PodInfo } from '../framework/podinfo.ts';
import { Code, isSuccess, type MaybeStatus, Status } from '../framework/status.ts';
import { PODS } from '../refs.ts';
import { type Pod, type PodDisruptionBudget, podPriority } from '../types.ts';
import { rfc3339 } from '../util.ts';
import { Names } from './names.ts';
import {
  type Candidate,
  filterPodsWithPDBViolation,
  moreImportantPod,
  pickOneNodeForPreemption,
} from './preemption_select.ts';

export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS = 'No preemption victims found for incoming pod';

export interface DefaultPreemptionArgs {
  /** Dry-run at least this percentage of the potential nodes (default 10). */
  minCandidateNodesPercentage?: number;
  /** ... and at least this many (default 100). */
  minCandidateNodesAbsolute?: number;
}

type Outcome = { result?: PostFilterResult; status?: MaybeStatus };

function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

/** Terminating because the scheduler preempted it (podTerminatingByPreemption). */
function terminatingByPreemption(p: Pod): boolean {
  if (!p.metadata.deletionTimestamp) return false;
  const c = (p.status?.conditions ?? []).find((x) => x.type === 'DisruptionTarget');
  return c?.status === 'True' && c.reason === 'PreemptionByScheduler';
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = Names.DefaultPreemption;
  readonly #h: Handle;
  readonly #pct: number;
  readonly #abs: number;

  constructor(handle: Handle, args: DefaultPreemptionArgs = {}) {
    this.#h = handle;
    this.#pct = args.minCandidateNodesPercentage ?? 10;
    this.#abs = args.minCandidateNodesAbsolute ?? 100;
  }

  async postFilter(state: CycleState, pod: Pod, m: NodeToStatus): Promise<Outcome> {
    const r = await this.preempt(state, pod, m);
    const msg = r.status ? r.status.message() : '';
    if (msg) return { result: r.result, status: new Status(r.status!.code, [`preemption: ${msg}`]) };
    return r;
  }

  async preempt(state: CycleState, podIn: Pod, m: NodeToStatus): Promise<Outcome> {
    const h = this.#h;
    const ns = podIn.metadata.namespace ?? '';
    const pod = h.podLister ? h.podLister.get(`${ns}/${podIn.metadata.name}`) : podIn;
    if (!pod) return { status: Status.error(`pod "${ns}/${podIn.metadata.name}" not found`) };

    const nominated = pod.status?.nominatedNodeName ?? '';
    const notEligible = this.#notEligible(pod, nominated ? m.get(nominated) : undefined);
    if (notEligible) return { status: Status.unschedulable(notEligible) };

    const all = h.snapshot().list();
    if (all.length === 0) return { status: Status.error('no nodes available') };
    const potential = all.filter((ni) => m.get(ni.name).code === Code.Unschedulable);
    let candidates: Candidate[] = [];
    const diagnosis = newDiagnosis();
    diagnosis.nodeToStatus.absent = Status.unresolvable(NOT_HELPFUL);
    if (potential.length > 0) {
      const pdbs = h.pdbLister?.list() ?? [];
      const offset = Math.floor(h.random() * potential.length);
      const r = this.dryRun(state, pod, potential, pdbs, offset, this.numCandidates(potential.length));
      if (r.errors.length > 0 && r.candidates.length === 0) return { status: Status.error(r.errors[0]!) };
      candidates = r.candidates;
      for (const [name, s] of r.statuses) diagnosis.nodeToStatus.set(name, s);
    }
    if (candidates.length === 0) {
      const fe = new FitError({ namespace: ns, name: pod.metadata.name ?? '' }, all.length, diagnosis);
      return { result: { nominatedNodeName: '' }, status: Status.unschedulable(fe.message) };
    }
    const best = pickOneNodeForPreemption(candidates, h.clock.now());
    if (!best) return { status: Status.unschedulable('no candidate node for preemption') };
    const s = await this.prepareCandidate(best, pod);
    if (!isSuccess(s)) return { status: s };
    return { result: { nominatedNodeName: best.name } };
  }

  /** calculateNumCandidates. */
  numCandidates(numNodes: number): number {
    const n = Math.max(Math.trunc((numNodes * this.#pct) / 100), this.#abs);
    return Math.min(n, numNodes);
  }

  #notEligible(pod: Pod, nominatedStatus: Status | undefined): string | undefined {
    if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const nominated = pod.status?.nominatedNodeName;
    if (!nominated) return undefined;
    if (nominatedStatus?.code === Code.UnschedulableAndUnresolvable) return undefined;
    const ni = this.#h.snapshot().get(nominated);
    const prio = podPriority(pod);
    for (const pi of ni?.pods ?? []) {
      if (podPriority(pi.pod) < prio && terminatingByPreemption(pi.pod)) {
        return 'not eligible due to a terminating pod on the nominated node.';
      }
    }
    return undefined;
  }

  /** DryRunPreemption: simulate on nodes from `offset` until enough candidates are found. */
  dryRun(
    state: CycleState,
    pod: Pod,
    potential: readonly NodeInfo[],
    pdbs: readonly PodDisruptionBudget[],
    offset: number,
    numCandidates: number,
  ): { candidates: Candidate[]; statuses: Map<string, Status>; errors: string[] } {
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    const statuses = new Map<string, Status>();
    const errors: string[] = [];
    for (let i = 0; i < potential.length; i++) {
      const ni = potential[(offset + i) % potential.length]!.clone();
      const r = this.selectVictimsOnNode(state.clone(), pod, ni, pdbs);
      if (isSuccess(r.status) && r.victims.length > 0) {
        const c: Candidate = { name: ni.name, pods: r.victims, numPDBViolations: r.numViolating };
        (r.numViolating === 0 ? nonViolating : violating).push(c);
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= numCandidates) break;
        continue;
      }
      const s = isSuccess(r.status)
        ? Status.error(`expected at least one victim pod on node "${ni.name}"`)
        : r.status!;
      if (s.code === Code.Error) errors.push(s.message());
      statuses.set(ni.name, s);
    }
    return {
      candidates: [...nonViolating.slice(0, numCandidates), ...violating.slice(0, numCandidates)],
      statuses,
      errors,
    };
  }

  /** The fewest lower-priority pods to evict from `ni` (a copy) so the pod fits; PDB violators reprieved first. */
  selectVictimsOnNode(
    state: CycleState,
    pod: Pod,
    ni: NodeInfo,
    pdbs: readonly PodDisruptionBudget[],
  ): { victims: Pod[]; numViolating: number; status: MaybeStatus } {
    const h = this.#h;
    const now = h.clock.now();
    const prio = podPriority(pod);
    const potential = ni.pods.filter((pi) => podPriority(pi.pod) < prio);
    const remove = (pi: PodInfo): MaybeStatus => {
      ni.removePod(pi.pod);
      return h.runPreFilterExtensionRemovePod(state, pod, pi, ni);
    };
    for (const pi of potential) {
      const s = remove(pi);
      if (!isSuccess(s)) return { victims: [], numViolating: 0, status: s };
    }
    if (potential.length === 0)
      return { victims: [], numViolating: 0, status: Status.unresolvable(NO_VICTIMS) };
    const fits = h.runFilterPluginsWithNominatedPods(state, pod, ni);
    if (!isSuccess(fits)) return { victims: [], numViolating: 0, status: fits };

    potential.sort((a, b) =>
      moreImportantPod(a.pod, b.pod, now) ? -1 : moreImportantPod(b.pod, a.pod, now) ? 1 : 0,
    );
    const { violating, nonViolating } = filterPodsWithPDBViolation(potential, pdbs);
    const victims: PodInfo[] = [];
    let numViolating = 0;
    const reprieve = (pi: PodInfo): { fits: boolean; status: MaybeStatus } => {
      ni.addPodInfo(pi);
      const s = h.runPreFilterExtensionAddPod(state, pod, pi, ni);
      if (!isSuccess(s)) return { fits: false, status: s };
      const ok = isSuccess(h.runFilterPluginsWithNominatedPods(state, pod, ni));
      if (!ok) {
        const r = remove(pi);
        if (!isSuccess(r)) return { fits: false, status: r };
        victims.push(pi);
      }
      return { fits: ok, status: undefined };
    };
    for (const pi of violating) {
      const r = reprieve(pi);
      if (!isSuccess(r.status)) return { victims: [], numViolating: 0, status: r.status };
      if (!r.fits) numViolating++;
    }
    for (const pi of nonViolating) {
      const r = reprieve(pi);
      if (!isSuccess(r.status)) return { victims: [], numViolating: 0, status: r.status };
    }
    if (violating.length > 0 && nonViolating.length > 0) {
      victims.sort((a, b) =>
        moreImportantPod(a.pod, b.pod, now) ? -1 : moreImportantPod(b.pod, a.pod, now) ? 1 : 0,
      );
    }
    return { victims: victims.map((v) => v.pod), numViolating, status: undefined };
  }

  /** Evicts the victims (DisruptionTarget condition, then delete) and clears lower nominations. */
  async prepareCandidate(c: Candidate, preemptor: Pod): Promise<MaybeStatus> {
    const h = this.#h;
    for (const victim of c.pods) {
      const uid = victim.metadata.uid ?? '';
      const waiting = uid ? h.getWaitingPod(uid) : undefined;
      if (waiting) {
        waiting.reject(this.name, 'preempted');
      } else {
        if (victim.metadata.deletionTimestamp) continue;
        const ns = victim.metadata.namespace ?? '';
        const name = victim.metadata.name ?? '';
        try {
          await h.client.patch(
            PODS,
            ns,
            name,
            'strategic',
            {
              status: {
                conditions: [
                  {
                    type: 'DisruptionTarget',
                    status: 'True',
                    reason: 'PreemptionByScheduler',
                    message: `${preemptor.spec?.schedulerName ?? 'default-scheduler'}: preempting to accommodate a higher priority pod`,
                    lastTransitionTime: rfc3339(h.clock.now()),
                  },
                ],
              },
            },
            { subresource: 'status' },
          );
          await h.client.delete(PODS, ns, name, {});
        } catch (err) {
          if (!isNotFound(err)) return Status.error(err);
          continue;
        }
      }
      h.recordEvent(
        victim,
        'Normal',
        'Preempted',
        'Preempting',
        `Preempted by pod ${preemptor.metadata.uid ?? ''} on node ${c.name}`,
      );
    }
    const prio = podPriority(preemptor);
    for (const pi of h.nominator.nominatedPodsForNode(c.name)) {
      if (podPriority(pi.pod) >= prio) continue;
      h.nominator.deleteNominatedPodIfExists(pi.pod);
      try {
        await h.client.patch(
          PODS,
          pi.pod.metadata.namespace ?? '',
          pi.pod.metadata.name ?? '',
          'merge',
          {
            status: { nominatedNodeName: null },
          },
          { subresource: 'status' },
        );
      } catch (err) {
        h.logger.debug({ err }, 'clearing a nominated node name failed');
      }
    }
    return undefined;
  }
}
