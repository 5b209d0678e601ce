/**
 * The framework runtime (framework/runtime/framework.go): builds a profile's plugins and runs them
 * per extension point, in configured order, with upstream's rules for skipping, merging and error
 * wrapping. Loops are plain and allocation-light: Filter runs once per node per cycle.
 */
import type { Lister, RestClient } from '../../client/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { Logger } from '../../util/log.ts';
import { type Namespace, type Pod, type PodDisruptionBudget, podKey, podPriority } from '../types.ts';
import type { CycleState } from './cycle_state.ts';
import type {
  BindPlugin,
  ClusterEvent,
  FilterPlugin,
  Handle,
  NodeScore,
  NodeToStatus,
  PermitPlugin,
  Plugin,
  PluginFactory,
  PodNominator,
  PostBindPlugin,
  PostFilterPlugin,
  PostFilterResult,
  PreBindPlugin,
  PreFilterPlugin,
  PreFilterResult,
  PreScorePlugin,
  ReservePlugin,
  ScorePlugin,
  WaitingPod,
} from './interface.ts';
import { ActionType, MAX_NODE_SCORE, MIN_NODE_SCORE } from './interface.ts';
import type { NodeInfo } from './nodeinfo.ts';
import type { PodInfo } from './podinfo.ts';
import { type NodeInfoLister, Snapshot } from './snapshot.ts';
import { Code, isSuccess, type MaybeStatus, Status } from './status.ts';
import { WaitingPods } from './waiting_pods.ts';

/** A plugin enabled in a profile: its registry name, its score weight and its arguments. */
export interface PluginSpec {
  name: string;
  /** Score weight; 1 when unset. */
  weight?: number;
  args?: Record<string, unknown>;
}

/** A scheduling profile (KubeSchedulerProfile). */
export interface Profile {
  schedulerName: string;
  /** Enabled plugins in order (multi-point: each plugin runs at every point it implements). */
  plugins: PluginSpec[];
  /** 0 or unset: adaptive (50% - nodes/125, at least 5%); at least 100 nodes are always tried. */
  percentageOfNodesToScore?: number;
}

export interface FrameworkOptions {
  profile: Profile;
  registry: Record<string, PluginFactory>;
  client: RestClient;
  clock: Clock;
  logger: Logger;
  nominator: PodNominator;
  podLister?: Lister<Pod>;
  namespaceLister?: Lister<Namespace>;
  pdbLister?: Lister<PodDisruptionBudget>;
  random?: () => number;
  recordEvent?: Handle['recordEvent'];
}

/** A feasible node with its weighted total score. */
export interface NodeTotalScore {
  nodeInfo: NodeInfo;
  total: number;
}

function has<K extends string>(p: Plugin, method: K): p is Plugin & Record<K, (...a: never[]) => unknown> {
  return typeof (p as unknown as Record<string, unknown>)[method] === 'function';
}

function errorOf(err: unknown): Status {
  return Status.error(err);
}

/** The plugins whose names are not in `skip`. */
function withoutSkipped<P extends Plugin>(plugins: readonly P[], skip: ReadonlySet<string>): P[] {
  return plugins.filter((pl) => !skip.has(pl.name));
}

export class Framework implements Handle {
  readonly profileName: string;
  readonly percentageOfNodesToScore: number | undefined;
  readonly client: RestClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly nominator: PodNominator;
  readonly podLister: Lister<Pod> | undefined;
  readonly namespaceLister: Lister<Namespace> | undefined;
  readonly pdbLister: Lister<PodDisruptionBudget> | undefined;
  readonly plugins: Plugin[] = [];
  readonly waitingPods: WaitingPods;
  readonly #random: () => number;
  readonly #recordEvent: Handle['recordEvent'];
  #snapshot: NodeInfoLister = new Snapshot();
  /** The Filter plugins not skipped by the cycle state last seen (see #activeFilters). */
  #filterState: CycleState | undefined;
  #filterSkip: ReadonlySet<string> | undefined;
  #filterSkipSize = 0;
  #activeFilter: FilterPlugin[] = [];
  /** Score totals, reused from cycle to cycle (scoreTotals). */
  #totals = new Float64Array(0);
  /** NodeScores, reused from cycle to cycle (scoreTotals). */
  #nodeScores: NodeScore[] = [];

  readonly preFilter: PreFilterPlugin[] = [];
  readonly filter: FilterPlugin[] = [];
  readonly postFilter: PostFilterPlugin[] = [];
  readonly preScore: PreScorePlugin[] = [];
  readonly score: { plugin: ScorePlugin; weight: number }[] = [];
  readonly reserve: ReservePlugin[] = [];
  readonly permit: PermitPlugin[] = [];
  readonly preBind: PreBindPlugin[] = [];
  readonly bind: BindPlugin[] = [];
  readonly postBind: PostBindPlugin[] = [];

  constructor(o: FrameworkOptions) {
    this.profileName = o.profile.schedulerName;
    this.percentageOfNodesToScore = o.profile.percentageOfNodesToScore;
    this.client = o.client;
    this.clock = o.clock;
    this.logger = o.logger;
    this.nominator = o.nominator;
    this.podLister = o.podLister;
    this.namespaceLister = o.namespaceLister;
    this.pdbLister = o.pdbLister;
    this.#random = o.random ?? Math.random;
    this.#recordEvent = o.recordEvent ?? (() => {});
    this.waitingPods = new WaitingPods(o.clock);
    for (const spec of o.profile.plugins) {
      const factory = o.registry[spec.name];
      if (!factory) throw new Error(`plugin "${spec.name}" is not in the registry`);
      const p = factory(spec.args, this);
      this.plugins.push(p);
      if (has(p, 'preFilter')) this.preFilter.push(p as unknown as PreFilterPlugin);
      if (has(p, 'filter')) this.filter.push(p as unknown as FilterPlugin);
      if (has(p, 'postFilter')) this.postFilter.push(p as unknown as PostFilterPlugin);
      if (has(p, 'preScore')) this.preScore.push(p as unknown as PreScorePlugin);
      if (has(p, 'score')) this.score.push({ plugin: p as unknown as ScorePlugin, weight: spec.weight ?? 1 });
      if (has(p, 'reserve')) this.reserve.push(p as unknown as ReservePlugin);
      if (has(p, 'permit')) this.permit.push(p as unknown as PermitPlugin);
      if (has(p, 'preBind')) this.preBind.push(p as unknown as PreBindPlugin);
      if (has(p, 'bind')) this.bind.push(p as unknown as BindPlugin);
      if (has(p, 'postBind')) this.postBind.push(p as unknown as PostBindPlugin);
    }
  }

  // ---- Handle ----

  snapshot(): NodeInfoLister {
    return this.#snapshot;
  }

  /** Points the framework at the snapshot of the cycle about to run. */
  setSnapshot(s: NodeInfoLister): void {
    this.#snapshot = s;
  }

  random(): number {
    return this.#random();
  }

  recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, action: string, message: string): void {
    try {
      this.#recordEvent(pod, type, reason, action, message);
    } catch (err) {
      this.logger.debug({ err }, 'recording an event failed');
    }
  }

  getWaitingPod(uid: string): WaitingPod | undefined {
    return this.waitingPods.get(uid);
  }

  /**
   * The cluster events each plugin wants to hear about, by plugin name. Plugins that can reject a pod
   * but declare nothing get every event (as upstream does).
   */
  clusterEvents(): Map<string, ClusterEvent[]> {
    const out = new Map<string, ClusterEvent[]>();
    for (const p of this.plugins) {
      if (has(p, 'eventsToRegister')) {
        out.set(p.name, (p as unknown as { eventsToRegister(): ClusterEvent[] }).eventsToRegister());
      } else if (has(p, 'filter') || has(p, 'preFilter') || has(p, 'permit') || has(p, 'reserve')) {
        out.set(p.name, [{ resource: '*', actions: ActionType.All }]);
      }
    }
    return out;
  }

  // ---- PreFilter / Filter ----

  runPreFilterPlugins(
    state: CycleState,
    pod: Pod,
    nodes: readonly NodeInfo[],
  ): { result: PreFilterResult | undefined; status: MaybeStatus; plugins: Set<string> } {
    let result: PreFilterResult | undefined;
    const restricting: string[] = [];
    const plugins = new Set<string>();
    for (const pl of this.preFilter) {
      let r: ReturnType<PreFilterPlugin['preFilter']>;
      try {
        r = pl.preFilter(state, pod, nodes);
      } catch (err) {
        r = { status: errorOf(err) };
      }
      const s = r?.status;
      if (s?.isSkip()) {
        state.skipFilterPlugins.add(pl.name);
        continue;
      }
      if (!isSuccess(s)) {
        plugins.add(pl.name);
        if (s!.isRejected()) return { result, status: s!.withPlugin(pl.name), plugins };
        return {
          result,
          status: Status.error(`running PreFilter plugin "${pl.name}": ${s!.message()}`).withPlugin(pl.name),
          plugins,
        };
      }
      if (r?.result) {
        restricting.push(pl.name);
        result = result
          ? { nodeNames: new Set([...result.nodeNames].filter((n) => r!.result!.nodeNames.has(n))) }
          : { nodeNames: new Set(r.result.nodeNames) };
        if (result.nodeNames.size === 0) {
          const msg =
            restricting.length === 1
              ? `node(s) didn't satisfy plugin ${restricting[0]}`
              : `node(s) didn't satisfy plugin(s) [${restricting.join(' ')}] simultaneously`;
          for (const n of restricting) plugins.add(n);
          return { result, status: Status.unresolvable(msg), plugins };
        }
      }
    }
    for (const n of restricting) plugins.add(n);
    return { result, status: undefined, plugins };
  }

  runPreFilterExtensionAddPod(state: CycleState, pod: Pod, add: PodInfo, nodeInfo: NodeInfo): MaybeStatus {
    return this.#runExtension(state, pod, add, nodeInfo, 'addPod');
  }

  runPreFilterExtensionRemovePod(
    state: CycleState,
    pod: Pod,
    remove: PodInfo,
    nodeInfo: NodeInfo,
  ): MaybeStatus {
    return this.#runExtension(state, pod, remove, nodeInfo, 'removePod');
  }

  #runExtension(
    state: CycleState,
    pod: Pod,
    pi: PodInfo,
    ni: NodeInfo,
    op: 'addPod' | 'removePod',
  ): MaybeStatus {
    for (const pl of this.preFilter) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      const ext = pl.preFilterExtensions?.();
      if (!ext) continue;
      let s: MaybeStatus;
      try {
        s = ext[op](state, pod, pi, ni);
      } catch (err) {
        s = errorOf(err);
      }
      if (!isSuccess(s)) {
        const what = op === 'addPod' ? 'AddPod' : 'RemovePod';
        return Status.error(`running ${what} on PreFilter plugin "${pl.name}": ${s!.message()}`).withPlugin(
          pl.name,
        );
      }
    }
    return undefined;
  }

  /**
   * The Filter plugins that run in this state's cycle: those whose PreFilter did not Skip. Filter runs
   * for many nodes with one state, so the list is kept for the state last seen (PreFilter only adds to
   * skipFilterPlugins, before any Filter runs; a cloned state has its own set).
   */
  #activeFilters(state: CycleState): readonly FilterPlugin[] {
    const skip = state.skipFilterPlugins;
    if (skip.size === 0) return this.filter;
    if (state !== this.#filterState || skip !== this.#filterSkip || skip.size !== this.#filterSkipSize) {
      // Not a closure over `skip`: that would allocate a context on every call, once per node.
      this.#activeFilter = withoutSkipped(this.filter, skip);
      this.#filterState = state;
      this.#filterSkip = skip;
      this.#filterSkipSize = skip.size;
    }
    return this.#activeFilter;
  }

  /** Runs every Filter on one node; the first rejection wins (plugin recorded on the status). */
  runFilterPlugins(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const filters = this.#activeFilters(state);
    for (let i = 0; i < filters.length; i++) {
      const pl = filters[i]!;
      let s: MaybeStatus;
      try {
        s = pl.filter(state, pod, nodeInfo);
      } catch (err) {
        s = errorOf(err);
      }
      if (s && s.code !== Code.Success) {
        if (!s.isRejected())
          return Status.error(`running "${pl.name}" filter plugin: ${s.message()}`).withPlugin(pl.name);
        return s.withPlugin(pl.name);
      }
    }
    return undefined;
  }

  /**
   * Filters with the pods nominated to this node at equal or higher priority counted as if running
   * there, then (if that passed and some were added) without them: the pod must fit both ways.
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const nominated = this.nominator.nominatedPodsForNode(nodeInfo.name);
    if (nominated.length > 0) {
      const prio = podPriority(pod);
      const key = podKey(pod);
      let stateOut: CycleState | undefined;
      let infoOut: NodeInfo | undefined;
      for (const pi of nominated) {
        if (podPriority(pi.pod) < prio || podKey(pi.pod) === key) continue;
        stateOut ??= state.clone();
        infoOut ??= nodeInfo.clone();
        infoOut.addPodInfo(pi);
        const s = this.runPreFilterExtensionAddPod(stateOut, pod, pi, infoOut);
        if (!isSuccess(s)) return s;
      }
      if (stateOut && infoOut) {
        const s = this.runFilterPlugins(stateOut, pod, infoOut);
        if (!isSuccess(s)) return s;
      }
    }
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  hasFilterPlugins(): boolean {
    return this.filter.length > 0;
  }

  hasScorePlugins(): boolean {
    return this.score.length > 0;
  }

  // ---- PostFilter ----

  async runPostFilterPlugins(
    state: CycleState,
    pod: Pod,
    statuses: NodeToStatus,
  ): Promise<{ result: PostFilterResult | undefined; status: MaybeStatus }> {
    let result: PostFilterResult | undefined;
    const reasons: string[] = [];
    let rejector = '';
    for (const pl of this.postFilter) {
      let r: { result?: PostFilterResult; status?: MaybeStatus };
      try {
        r = await pl.postFilter(state, pod, statuses);
      } catch (err) {
        r = { status: errorOf(err) };
      }
      const s = r.status;
      if (isSuccess(s)) return { result: r.result, status: s };
      if (s!.code === Code.UnschedulableAndUnresolvable)
        return { result: r.result, status: s!.withPlugin(pl.name) };
      if (!s!.isRejected())
        return { result: undefined, status: Status.error(s!.message()).withPlugin(pl.name) };
      if (r.result) result = r.result;
      reasons.push(...s!.reasons);
      if (!rejector) rejector = pl.name;
    }
    return { result, status: Status.unschedulable(...reasons).withPlugin(rejector) };
  }

  // ---- PreScore / Score ----

  runPreScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): MaybeStatus {
    for (const pl of this.preScore) {
      let s: MaybeStatus;
      try {
        s = pl.preScore(state, pod, nodes);
      } catch (err) {
        s = errorOf(err);
      }
      if (s?.isSkip()) {
        state.skipScorePlugins.add(pl.name);
        continue;
      }
      if (!isSuccess(s)) return Status.error(`running PreScore plugin "${pl.name}": ${s!.message()}`);
    }
    return undefined;
  }

  /** Scores every node with every active Score plugin; returns weighted totals, or an Error status. */
  runScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): NodeTotalScore[] | Status {
    const totals = this.scoreTotals(state, pod, nodes);
    if (totals instanceof Status) return totals;
    const out: NodeTotalScore[] = new Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) out[i] = { nodeInfo: nodes[i]!, total: totals[i]! };
    return out;
  }

  /**
   * runScorePlugins' weighted totals, index-aligned with `nodes`, or an Error status. The array is
   * the framework's own and is overwritten by the next call: read it before scoring again.
   */
  scoreTotals(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Float64Array | Status {
    const n = nodes.length;
    if (this.#totals.length < n) this.#totals = new Float64Array(Math.max(n, this.#totals.length * 2));
    const totals = this.#totals.subarray(0, n);
    totals.fill(0);
    // One NodeScore per node, reused by every plugin in turn (Score overwrites every score) and by
    // later cycles.
    let scores: NodeScore[] | undefined;
    for (const { plugin, weight } of this.score) {
      if (state.skipScorePlugins.has(plugin.name)) continue;
      if (!scores) scores = this.#scoresFor(nodes);
      try {
        if (plugin.scoreNodes) plugin.scoreNodes(state, pod, nodes, scores);
        else for (let i = 0; i < n; i++) scores[i]!.score = plugin.score(state, pod, nodes[i]!);
      } catch (err) {
        return Status.error(`running Score plugin "${plugin.name}": ${errorOf(err).message()}`);
      }
      if (plugin.normalizeScore) {
        const s = plugin.normalizeScore(state, pod, scores);
        if (!isSuccess(s)) return Status.error(`running Normalize on Score plugins: ${s!.message()}`);
      }
      for (let i = 0; i < n; i++) {
        const sc = scores[i]!.score;
        if (sc > MAX_NODE_SCORE || sc < MIN_NODE_SCORE || Number.isNaN(sc)) {
          return Status.error(
            `applying score defaultWeights on Score plugins: plugin "${plugin.name}" returns an invalid score ${sc}, it should in the range of [${MIN_NODE_SCORE}, ${MAX_NODE_SCORE}] after normalizing`,
          );
        }
        totals[i]! += sc * weight;
      }
    }
    return totals;
  }

  /** An array of NodeScores named after `nodes`, from the reused pool. */
  #scoresFor(nodes: readonly NodeInfo[]): NodeScore[] {
    const pool = this.#nodeScores;
    const n = nodes.length;
    for (let i = pool.length; i < n; i++) pool.push({ name: '', score: 0 });
    const scores = pool.length === n ? pool : pool.slice(0, n);
    for (let i = 0; i < n; i++) {
      const sc = scores[i]!;
      sc.name = nodes[i]!.name;
      sc.score = 0;
    }
    return scores;
  }

  // ---- Reserve / Permit ----

  runReservePluginsReserve(state: CycleState, pod: Pod, nodeName: string): MaybeStatus {
    for (const pl of this.reserve) {
      let s: MaybeStatus;
      try {
        s = pl.reserve(state, pod, nodeName);
      } catch (err) {
        s = errorOf(err);
      }
      if (!isSuccess(s)) {
        if (s!.isRejected()) return s!.withPlugin(pl.name);
        return Status.error(`running Reserve plugin "${pl.name}": ${s!.message()}`).withPlugin(pl.name);
      }
    }
    return undefined;
  }

  /** Unreserve in reverse order; never fails. */
  runReservePluginsUnreserve(state: CycleState, pod: Pod, nodeName: string): void {
    for (let i = this.reserve.length - 1; i >= 0; i--) {
      const pl = this.reserve[i]!;
      try {
        pl.unreserve(state, pod, nodeName);
      } catch (err) {
        this.logger.warn({ err, plugin: pl.name }, 'unreserve failed');
      }
    }
  }

  /** Success, a rejection, or Wait (the pod then waits in `waitingPods`). */
  runPermitPlugins(state: CycleState, pod: Pod, nodeName: string): MaybeStatus {
    const waits = new Map<string, number>();
    for (const pl of this.permit) {
      let r: { status?: MaybeStatus; timeoutMs?: number };
      try {
        r = pl.permit(state, pod, nodeName);
      } catch (err) {
        r = { status: errorOf(err) };
      }
      const s = r.status;
      if (isSuccess(s)) continue;
      if (s!.isRejected()) return s!.withPlugin(pl.name);
      if (s!.code === Code.Wait) {
        waits.set(pl.name, Math.min(r.timeoutMs ?? 15 * 60_000, 15 * 60_000));
        continue;
      }
      return Status.error(`running Permit plugin "${pl.name}": ${s!.message()}`).withPlugin(pl.name);
    }
    if (waits.size > 0) {
      this.waitingPods.add(pod, waits);
      return Status.wait(`one or more plugins asked to wait`);
    }
    return undefined;
  }

  waitOnPermit(pod: Pod): Promise<MaybeStatus> {
    return this.waitingPods.wait(pod);
  }

  // ---- Binding cycle ----

  async runPreBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<MaybeStatus> {
    for (const pl of this.preBind) {
      let s: MaybeStatus;
      try {
        s = await pl.preBind(state, pod, nodeName);
      } catch (err) {
        s = errorOf(err);
      }
      if (s?.isSkip()) continue;
      if (!isSuccess(s)) {
        if (s!.isRejected()) return s!.withPlugin(pl.name);
        return Status.error(`running PreBind plugin "${pl.name}": ${s!.message()}`).withPlugin(pl.name);
      }
    }
    return undefined;
  }

  /** The first Bind plugin that does not Skip decides; Skip from all of them is returned as is. */
  async runBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<MaybeStatus> {
    for (const pl of this.bind) {
      let s: MaybeStatus;
      try {
        s = await pl.bind(state, pod, nodeName);
      } catch (err) {
        s = errorOf(err);
      }
      if (s?.isSkip()) continue;
      if (!isSuccess(s)) {
        if (s!.isRejected()) return s!.withPlugin(pl.name);
        return Status.error(`running Bind plugin "${pl.name}": ${s!.message()}`).withPlugin(pl.name);
      }
      return undefined;
    }
    return Status.skip();
  }

  runPostBindPlugins(state: CycleState, pod: Pod, nodeName: string): void {
    for (const pl of this.postBind) {
      try {
        pl.postBind(state, pod, nodeName);
      } catch (err) {
        this.logger.warn({ err, plugin: pl.name }, 'postBind failed');
      }
    }
  }
}
