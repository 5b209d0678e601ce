/**
 * The DaemonSet controller (kube-controller-manager's daemonset-controller, pkg/controller/daemon):
 * one pod of the template on every eligible node.
 *
 * - a node is eligible when it matches the template's nodeName, nodeSelector and required node
 *   affinity and its taints are tolerated (with the daemon tolerations every pod gets); each pod is
 *   pinned to its node by a required node affinity on metadata.name, for the scheduler to bind;
 * - pods on nodes that stopped being eligible (or untolerated NoExecute taints) are deleted, as are
 *   surplus, succeeded and (with a per-node back-off) failed pods;
 * - the template is snapshotted in ControllerRevisions; pods carry controller-revision-hash and
 *   pod-template-generation labels; a RollingUpdate replaces old pods within maxUnavailable (or
 *   surges by maxSurge); OnDelete leaves them until they are deleted;
 * - status: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled, numberReady,
 *   updatedNumberScheduled, numberAvailable, numberUnavailable, observedGeneration, collisionCount.
 */
import { labelSelectorAsSelector, type Selector } from '../../api/labels.ts';
import { CONTROLLER_REVISIONS, DAEMON_SETS, NODES, PODS } from '../../client/resources.ts';
import type { Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { claimObjects } from '../job/claim.ts';
import { EventRecorder } from '../job/events.ts';
import { Expectations } from '../job/expectations.ts';
import {
  controllerRefOf,
  isConflict,
  isNotFound,
  isPodAvailable,
  isPodReady,
  isPodTerminal,
  type Node,
  newControllerRef,
  type Pod,
  slowStartBatch,
} from '../job/podutil.ts';
import {
  CONTROLLER_REVISION_HASH_LABEL,
  type ControllerRevision,
  createRevision,
  equalRevision,
  newRevision,
  nextRevisionNumber,
  ownedRevisions,
  renumberRevision,
  templatePatch,
} from '../statefulset/history.ts';
import { addDaemonTolerations, nodeShouldRunDaemonPod, pinToNode, targetNodeName } from './predicates.ts';
import { type DaemonSet, isPodUpdated, POD_TEMPLATE_GENERATION_LABEL, templateGeneration } from './types.ts';
import { compareDaemonPods, podsShouldBeOnNode, rollingUpdatePlan } from './update.ts';

/** At most this many pods created or deleted per sync (--daemonset burst replicas). */
const BURST_REPLICAS = 250;
const FAILED_POD_BACKOFF_MS = 1000;
const FAILED_POD_BACKOFF_MAX_MS = 15 * 60_000;

export interface DaemonSetControllerOptions {
  /** --concurrent-daemonset-syncs (2). */
  workers?: number;
}

export class DaemonSetController implements Controller {
  readonly name = 'daemonset-controller';
  readonly workers: number;
  #ctx!: ControllerContext;
  #sets!: Lister<DaemonSet>;
  #pods!: Lister<Pod>;
  #nodes!: Lister<Node>;
  #revisions!: Lister<ControllerRevision>;
  #expectations!: Expectations;
  #events!: EventRecorder;
  /** Failed-pod deletion back-off per DaemonSet and node: delay and when it was last used. */
  readonly #failedBackoff = new Map<string, { delay: number; at: number }>();

  constructor(opts: DaemonSetControllerOptions = {}) {
    this.workers = opts.workers ?? 2;
  }

  get events(): EventRecorder {
    return this.#events;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#expectations = new Expectations(ctx.clock);
    this.#events = new EventRecorder(ctx.client, this.name, ctx.clock, ctx.log);
    const sets = ctx.informers.informer<DaemonSet>(DAEMON_SETS);
    const pods = ctx.informers.informer<Pod>(PODS);
    const nodes = ctx.informers.informer<Node>(NODES);
    const revisions = ctx.informers.informer<ControllerRevision>(CONTROLLER_REVISIONS);
    this.#sets = sets.lister();
    this.#pods = pods.lister();
    this.#nodes = nodes.lister();
    this.#revisions = revisions.lister();
    sets.addEventHandler({
      onAdd: (ds) => ctx.queue.add(keyOf(ds)),
      onUpdate: (_old, ds) => ctx.queue.add(keyOf(ds)),
      onDelete: (ds) => {
        this.#expectations.delete(keyOf(ds));
        ctx.queue.add(keyOf(ds));
      },
    });
    pods.addEventHandler({
      onAdd: (p) => {
        const ds = this.#ownerOf(p);
        if (ds) {
          this.#expectations.creationObserved(keyOf(ds));
          ctx.queue.add(keyOf(ds));
        } else if (!controllerRefOf(p)) this.#enqueueMatching(p);
      },
      onUpdate: (old, p) => {
        if (old.metadata.resourceVersion === p.metadata.resourceVersion) return;
        const oldDs = this.#ownerOf(old);
        const ds = this.#ownerOf(p);
        if (oldDs && oldDs.metadata.uid !== ds?.metadata.uid) ctx.queue.add(keyOf(oldDs));
        if (ds) {
          if (p.metadata.deletionTimestamp && !old.metadata.deletionTimestamp)
            this.#expectations.deletionObserved(keyOf(ds));
          ctx.queue.add(keyOf(ds));
        } else if (!controllerRefOf(p)) this.#enqueueMatching(p);
      },
      onDelete: (p) => {
        const ds = this.#ownerOf(p);
        if (!ds) return;
        if (!p.metadata.deletionTimestamp) this.#expectations.deletionObserved(keyOf(ds));
        ctx.queue.add(keyOf(ds));
      },
    });
    const allSets = () => {
      for (const ds of this.#sets.list()) ctx.queue.add(keyOf(ds));
    };
    nodes.addEventHandler({
      onAdd: allSets,
      onUpdate: (old, node) => {
        if (!nodeChanged(old, node)) return;
        allSets();
      },
      onDelete: allSets,
    });
    revisions.addEventHandler({
      onAdd: (r) => this.#enqueueOwner(r),
      onDelete: (r) => this.#enqueueOwner(r),
    });
  }

  #ownerOf(obj: Pod | ControllerRevision): DaemonSet | undefined {
    const ref = controllerRefOf(obj);
    if (ref?.kind !== 'DaemonSet') return undefined;
    const ds = this.#sets.get(`${obj.metadata.namespace ?? ''}/${ref.name}`);
    return ds?.metadata.uid === ref.uid ? ds : undefined;
  }

  #enqueueOwner(obj: ControllerRevision): void {
    const ds = this.#ownerOf(obj);
    if (ds) this.#ctx.queue.add(keyOf(ds));
  }

  #enqueueMatching(pod: Pod): void {
    for (const ds of this.#sets.byIndex('namespace', pod.metadata.namespace ?? '')) {
      if (selectorOf(ds)?.matches(pod.metadata.labels)) this.#ctx.queue.add(keyOf(ds));
    }
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const cached = this.#sets.get(key);
    if (!cached) {
      this.#expectations.delete(key);
      return undefined;
    }
    const ds = structuredClone(cached);
    if (ds.metadata.deletionTimestamp) return undefined;
    const selector = selectorOf(ds);
    if (!selector) return undefined;
    if (selector.isEmpty()) {
      this.#events.event(
        DAEMON_SETS,
        ds,
        'Warning',
        'SelectingAll',
        'This daemon set is selecting all pods. A non-empty selector is required.',
      );
      return undefined;
    }
    const nodes = this.#nodes.list();
    const requeue: number[] = [];
    const { cur, old, collisionCount } = await this.#constructHistory(ds, selector);
    const hash = cur.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';
    if (!this.#expectations.satisfied(key)) {
      await this.#updateStatus(ds, selector, nodes, hash, false, collisionCount, requeue);
      return result(requeue);
    }
    const now = this.#ctx.clock.now();
    // manage: every node gets what it should have.
    let nodeToPods = await this.#nodeToDaemonPods(ds, selector);
    const create: string[] = [];
    const remove: string[] = [];
    for (const node of nodes) {
      const plan = podsShouldBeOnNode(ds, node, nodeToPods.get(node.metadata.name ?? ''), hash, now);
      create.push(...plan.nodesNeedingPods);
      remove.push(...plan.podsToDelete);
      for (const p of plan.failedPods) {
        const wait = this.#failedPodBackoff(ds, node.metadata.name ?? '', now);
        if (wait > 0) {
          requeue.push(wait);
          continue;
        }
        this.#events.event(
          DAEMON_SETS,
          ds,
          'Warning',
          'FailedDaemonPod',
          `Found failed daemon pod ${p.metadata.namespace}/${p.metadata.name} on node ${node.metadata.name}, will try to kill it`,
        );
        remove.push(p.metadata.name ?? '');
      }
    }
    // Unscheduled pods for nodes that no longer exist.
    const nodeNames = new Set(nodes.map((n) => n.metadata.name ?? ''));
    for (const [nodeName, pods] of nodeToPods) {
      if (nodeNames.has(nodeName)) continue;
      for (const p of pods)
        if (!p.spec?.nodeName && !p.metadata.deletionTimestamp) remove.push(p.metadata.name ?? '');
    }
    await this.#syncNodes(ds, key, remove, create, hash);

    if (
      this.#expectations.satisfied(key) &&
      (ds.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate'
    ) {
      nodeToPods = await this.#nodeToDaemonPods(ds, selector);
      const plan = rollingUpdatePlan(ds, nodes, nodeToPods, hash, now);
      await this.#syncNodes(ds, key, plan.podsToDelete, plan.nodesToCreate, hash);
    }
    await this.#cleanupHistory(ds, selector, old);
    await this.#updateStatus(ds, selector, nodes, hash, true, collisionCount, requeue);
    return result(requeue);
  }

  /** The claimed daemon pods by target node (without finished pods already being deleted). */
  async #nodeToDaemonPods(ds: DaemonSet, selector: Selector): Promise<Map<string, Pod[]>> {
    const candidates = this.#pods
      .byIndex('namespace', ds.metadata.namespace ?? '')
      .filter((p) => !controllerRefOf(p) || controllerRefOf(p)?.uid === ds.metadata.uid);
    const client = this.#ctx.client;
    const pods = await claimObjects(candidates, {
      client,
      ref: PODS,
      owner: ds,
      ownerRef: DAEMON_SETS,
      selector,
      canAdopt: async () => {
        const fresh = await client.get<DaemonSet>(
          DAEMON_SETS,
          ds.metadata.namespace ?? '',
          ds.metadata.name ?? '',
        );
        return fresh.metadata.uid === ds.metadata.uid && !fresh.metadata.deletionTimestamp;
      },
    });
    const out = new Map<string, Pod[]>();
    for (const p of pods) {
      if (isPodTerminal(p) && p.metadata.deletionTimestamp) continue;
      const node = targetNodeName(p);
      if (node === undefined) continue;
      out.set(node, [...(out.get(node) ?? []), p]);
    }
    return out;
  }

  #failedPodBackoff(ds: DaemonSet, node: string, now: number): number {
    const key = `${ds.metadata.uid ?? ''}/${node}`;
    const b = this.#failedBackoff.get(key);
    if (b && now < b.at + b.delay) return b.at + b.delay - now;
    // Back-off entries older than twice the cap start over.
    const delay =
      !b || now - b.at > 2 * FAILED_POD_BACKOFF_MAX_MS
        ? FAILED_POD_BACKOFF_MS
        : Math.min(2 * b.delay, FAILED_POD_BACKOFF_MAX_MS);
    this.#failedBackoff.set(key, { delay, at: now });
    return 0;
  }

  /** syncNodes: deletes pods and creates pods (pinned to nodes), within the burst, with expectations. */
  async #syncNodes(
    ds: DaemonSet,
    key: string,
    toDelete: string[],
    nodesToCreate: string[],
    hash: string,
  ): Promise<void> {
    const create = nodesToCreate.slice(0, BURST_REPLICAS);
    const del = toDelete.slice(0, BURST_REPLICAS);
    if (create.length === 0 && del.length === 0) return;
    this.#expectations.expect(key, create.length, del.length);
    const ns = ds.metadata.namespace ?? '';
    const client = this.#ctx.client;
    const template = structuredClone(ds.spec.template);
    const spec = template.spec ?? {};
    addDaemonTolerations(spec);
    const labels: Record<string, string> = {
      ...(template.metadata?.labels ?? {}),
      [CONTROLLER_REVISION_HASH_LABEL]: hash,
    };
    const generation = templateGeneration(ds);
    if (generation !== undefined) labels[POD_TEMPLATE_GENERATION_LABEL] = generation;
    let firstErr: unknown;
    const r = await slowStartBatch(create.length, 1, async (i) => {
      const pod: Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          generateName: `${ds.metadata.name ?? ''}-`,
          namespace: ns,
          labels,
          annotations: { ...(template.metadata?.annotations ?? {}) },
          finalizers: template.metadata?.finalizers,
          ownerReferences: [newControllerRef(ds, DAEMON_SETS)],
        },
        spec: { ...structuredClone(spec), affinity: pinToNode(spec.affinity, create[i] as string) },
      };
      try {
        await client.create(PODS, ns, pod);
      } catch (err) {
        this.#expectations.creationObserved(key);
        throw err;
      }
    });
    this.#expectations.creationObserved(key, create.length - r.attempted);
    if (r.error) {
      firstErr = r.error;
      this.#events.event(
        DAEMON_SETS,
        ds,
        'Warning',
        'FailedCreate',
        `Error creating: ${(r.error as Error).message}`,
      );
    } else if (r.successes > 0) {
      this.#events.event(DAEMON_SETS, ds, 'Normal', 'SuccessfulCreate', `Created ${r.successes} pod(s)`);
    }
    await Promise.all(
      del.map(async (name) => {
        try {
          await client.delete(PODS, ns, name);
          this.#events.event(DAEMON_SETS, ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
        } catch (err) {
          this.#expectations.deletionObserved(key);
          if (!isNotFound(err)) firstErr ??= err;
        }
      }),
    );
    if (firstErr) throw firstErr;
  }

  /** constructHistory: the revision of the current template (made when missing) and the others. */
  async #constructHistory(
    ds: DaemonSet,
    selector: Selector,
  ): Promise<{ cur: ControllerRevision; old: ControllerRevision[]; collisionCount?: number }> {
    const client = this.#ctx.client;
    const revisions = await ownedRevisions(client, this.#revisions, ds, DAEMON_SETS, selector);
    const data = templatePatch(ds.spec.template);
    const probe = newRevision(
      ds,
      DAEMON_SETS,
      ds.spec.template.metadata?.labels,
      data,
      0,
      ds.status?.collisionCount ?? 0,
    );
    const current = revisions.filter((r) => equalRevision(r, probe));
    const old = revisions.filter((r) => !equalRevision(r, probe));
    const next = nextRevisionNumber(old);
    if (current.length === 0) {
      const collision = { count: ds.status?.collisionCount ?? 0 };
      const created = await createRevision(client, ds, { ...probe, revision: next }, collision);
      const bumped = collision.count !== (ds.status?.collisionCount ?? 0);
      return { cur: created, old, collisionCount: bumped ? collision.count : ds.status?.collisionCount };
    }
    // Duplicates of the current revision: keep the newest.
    const keep = current[current.length - 1] as ControllerRevision;
    for (const dup of current.slice(0, -1)) {
      await client
        .delete(CONTROLLER_REVISIONS, dup.metadata.namespace ?? '', dup.metadata.name ?? '')
        .catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
    }
    const cur = keep.revision < next ? await renumberRevision(client, keep, next) : keep;
    return { cur, old, collisionCount: ds.status?.collisionCount };
  }

  /** cleanupHistory: deletes the oldest unused revisions beyond revisionHistoryLimit. */
  async #cleanupHistory(ds: DaemonSet, selector: Selector, old: ControllerRevision[]): Promise<void> {
    let toKill = old.length - (ds.spec.revisionHistoryLimit ?? 10);
    if (toKill <= 0) return;
    const live = new Set<string>();
    for (const pods of (await this.#nodeToDaemonPods(ds, selector)).values()) {
      for (const p of pods) {
        const h = p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
        if (h) live.add(h);
      }
    }
    for (const r of old) {
      if (toKill <= 0) break;
      if (live.has(r.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '')) continue;
      try {
        await this.#ctx.client.delete(
          CONTROLLER_REVISIONS,
          r.metadata.namespace ?? '',
          r.metadata.name ?? '',
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      toKill--;
    }
  }

  /** updateDaemonSetStatus */
  async #updateStatus(
    ds: DaemonSet,
    selector: Selector,
    nodes: readonly Node[],
    hash: string,
    observed: boolean,
    collisionCount: number | undefined,
    requeue: number[],
  ): Promise<void> {
    const nodeToPods = await this.#nodeToDaemonPods(ds, selector);
    const now = this.#ctx.clock.now();
    const minReady = ds.spec.minReadySeconds ?? 0;
    const generation = templateGeneration(ds);
    const st: Record<(typeof COUNTERS)[number], number> = {
      desiredNumberScheduled: 0,
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      numberReady: 0,
      updatedNumberScheduled: 0,
      numberAvailable: 0,
      numberUnavailable: 0,
    };
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds.spec.template.spec);
      const pods = nodeToPods.get(node.metadata.name ?? '') ?? [];
      if (!shouldRun) {
        if (pods.length > 0) st.numberMisscheduled++;
        continue;
      }
      st.desiredNumberScheduled++;
      if (pods.length === 0) continue;
      st.currentNumberScheduled++;
      const pod = [...pods].sort(compareDaemonPods)[0] as Pod;
      if (isPodReady(pod)) {
        st.numberReady++;
        if (isPodAvailable(pod, minReady, now)) st.numberAvailable++;
      }
      if (isPodUpdated(pod, hash, generation)) st.updatedNumberScheduled++;
    }
    st.numberUnavailable = st.desiredNumberScheduled - st.numberAvailable;
    if (minReady > 0 && st.numberReady !== st.numberAvailable) requeue.push(minReady * 1000);

    const client = this.#ctx.client;
    let target = ds;
    for (let attempt = 0; ; attempt++) {
      const cur = target.status ?? {};
      const generationSeen = observed ? (target.metadata.generation ?? 0) : (cur.observedGeneration ?? 0);
      const same =
        Object.entries(st).every(([k, v]) => (cur as Record<string, unknown>)[k] === v) &&
        (cur.observedGeneration ?? 0) >= generationSeen &&
        (collisionCount ?? 0) === (cur.collisionCount ?? 0);
      if (same) return;
      const next: DaemonSet = {
        ...target,
        status: {
          ...cur,
          ...st,
          observedGeneration: Math.max(generationSeen, cur.observedGeneration ?? 0),
          ...(collisionCount !== undefined ? { collisionCount } : {}),
        },
      };
      try {
        await client.update(DAEMON_SETS, ds.metadata.namespace ?? '', next, { subresource: 'status' });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 1) throw err;
        target = await client.get<DaemonSet>(
          DAEMON_SETS,
          ds.metadata.namespace ?? '',
          ds.metadata.name ?? '',
        );
      }
    }
  }
}

/** The status counters the controller computes. */
const COUNTERS = [
  'desiredNumberScheduled',
  'currentNumberScheduled',
  'numberMisscheduled',
  'numberReady',
  'updatedNumberScheduled',
  'numberAvailable',
  'numberUnavailable',
] as const;

function keyOf(obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

function selectorOf(ds: DaemonSet): Selector | undefined {
  try {
    return labelSelectorAsSelector(ds.spec.selector);
  } catch {
    return undefined;
  }
}

function result(requeue: number[]): ReconcileResult | undefined {
  return requeue.length ? { requeueAfterMs: Math.min(...requeue) } : undefined;
}

/** Whether a node update matters to daemon pods (not just a heartbeat). */
function nodeChanged(a: Node, b: Node): boolean {
  const view = (n: Node) =>
    JSON.stringify([
      n.metadata.labels ?? {},
      n.spec ?? {},
      (n.status?.conditions ?? []).map((c) => [c.type, c.status]),
    ]);
  return view(a) !== view(b);
}
