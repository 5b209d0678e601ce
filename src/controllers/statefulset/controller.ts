/**
 * The StatefulSet controller (kube-controller-manager's statefulset-controller,
 * pkg/controller/statefulset): pods with stable names, hostnames and storage, started in order and
 * stopped in reverse order (control.ts has the per-pass rules).
 *
 * Each pass claims the set's pods (selector and `<set>-<ordinal>` naming), works out the current
 * and update ControllerRevisions (creating the update revision, or renumbering an equal older one
 * on rollback), runs the pass, writes status (replicas, readyReplicas, currentReplicas,
 * updatedReplicas, availableReplicas, currentRevision, updateRevision, observedGeneration,
 * collisionCount) and trims revisions beyond revisionHistoryLimit that no pod uses.
 */
import { labelSelectorAsSelector, type Selector } from '../../api/labels.ts';
import {
  CONTROLLER_REVISIONS,
  PERSISTENT_VOLUME_CLAIMS,
  PODS,
  STATEFUL_SETS,
} from '../../client/resources.ts';
import type { Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { claimObjects } from '../job/claim.ts';
import { EventRecorder } from '../job/events.ts';
import { controllerRefOf, isConflict, isNotFound, type Pod } from '../job/podutil.ts';
import { StatefulSetControl } from './control.ts';
import {
  type ControllerRevision,
  createRevision,
  equalRevision,
  newRevision,
  nextRevisionNumber,
  ownedRevisions,
  renumberRevision,
  templatePatch,
} from './history.ts';
import {
  isMemberOf,
  type PersistentVolumeClaim,
  revisionOf,
  type StatefulSet,
  type StatefulSetStatus,
} from './identity.ts';

export interface StatefulSetControllerOptions {
  /** --concurrent-statefulset-syncs (5). */
  workers?: number;
}

export class StatefulSetController implements Controller {
  readonly name = 'statefulset-controller';
  readonly workers: number;
  #ctx!: ControllerContext;
  #sets!: Lister<StatefulSet>;
  #pods!: Lister<Pod>;
  #revisions!: Lister<ControllerRevision>;
  #events!: EventRecorder;
  #control!: StatefulSetControl;

  constructor(opts: StatefulSetControllerOptions = {}) {
    this.workers = opts.workers ?? 5;
  }

  get events(): EventRecorder {
    return this.#events;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#events = new EventRecorder(ctx.client, this.name, ctx.clock, ctx.log);
    const sets = ctx.informers.informer<StatefulSet>(STATEFUL_SETS);
    const pods = ctx.informers.informer<Pod>(PODS);
    const claims = ctx.informers.informer<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS);
    const revisions = ctx.informers.informer<ControllerRevision>(CONTROLLER_REVISIONS);
    this.#sets = sets.lister();
    this.#pods = pods.lister();
    this.#revisions = revisions.lister();
    this.#control = new StatefulSetControl({
      client: ctx.client,
      claims: claims.lister(),
      events: this.#events,
      clock: ctx.clock,
    });
    sets.addEventHandler({
      onAdd: (s) => ctx.queue.add(keyOf(s)),
      onUpdate: (_old, s) => ctx.queue.add(keyOf(s)),
      onDelete: (s) => ctx.queue.add(keyOf(s)),
    });
    const onPod = (p: Pod) => {
      const set = this.#ownerOf(p);
      if (set) ctx.queue.add(keyOf(set));
      else if (!controllerRefOf(p)) {
        for (const s of this.#sets.byIndex('namespace', p.metadata.namespace ?? '')) {
          if (selectorOf(s)?.matches(p.metadata.labels)) ctx.queue.add(keyOf(s));
        }
      }
    };
    pods.addEventHandler({
      onAdd: onPod,
      onUpdate: (old, p) => {
        if (old.metadata.resourceVersion === p.metadata.resourceVersion) return;
        const oldSet = this.#ownerOf(old);
        if (oldSet && oldSet.metadata.uid !== this.#ownerOf(p)?.metadata.uid) ctx.queue.add(keyOf(oldSet));
        onPod(p);
      },
      onDelete: onPod,
    });
  }

  #ownerOf(pod: Pod): StatefulSet | undefined {
    const ref = controllerRefOf(pod);
    if (ref?.kind !== 'StatefulSet') return undefined;
    const set = this.#sets.get(`${pod.metadata.namespace ?? ''}/${ref.name}`);
    return set?.metadata.uid === ref.uid ? set : undefined;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const cached = this.#sets.get(key);
    if (!cached) return undefined;
    const set = structuredClone(cached);
    const selector = selectorOf(set);
    if (!selector) {
      this.#events.event(STATEFUL_SETS, set, 'Warning', 'InvalidSelector', 'Error parsing selector');
      return undefined;
    }
    const client = this.#ctx.client;
    const ns = set.metadata.namespace ?? '';
    const candidates = this.#pods
      .byIndex('namespace', ns)
      .filter((p) => !controllerRefOf(p) || controllerRefOf(p)?.uid === set.metadata.uid);
    const pods = await claimObjects(candidates, {
      client,
      ref: PODS,
      owner: set,
      ownerRef: STATEFUL_SETS,
      selector,
      match: (p) => isMemberOf(set, p as Pod),
      canAdopt: async () => {
        const fresh = await client.get<StatefulSet>(STATEFUL_SETS, ns, set.metadata.name ?? '');
        return fresh.metadata.uid === set.metadata.uid && !fresh.metadata.deletionTimestamp;
      },
    });
    const revisions = await ownedRevisions(client, this.#revisions, set, STATEFUL_SETS, selector);
    const { current, update, collisionCount } = await this.#revisionsOf(set, revisions);
    let status: StatefulSetStatus;
    if (set.metadata.deletionTimestamp) {
      // Being deleted: only report.
      status = { ...(set.status ?? {}), observedGeneration: set.metadata.generation ?? 0 };
    } else {
      status = await this.#control.update(set, current, update, collisionCount, pods);
    }
    await this.#writeStatus(set, status);
    await this.#truncateHistory(set, pods, [...revisions, update], current, update);
    const minReady = set.spec.minReadySeconds ?? 0;
    if (minReady > 0 && status.readyReplicas !== status.availableReplicas)
      return { requeueAfterMs: minReady * 1000 };
    return undefined;
  }

  /** getStatefulSetRevisions: the current revision (status.currentRevision) and the update revision (the template now). */
  async #revisionsOf(
    set: StatefulSet,
    revisions: ControllerRevision[],
  ): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    const collision = { count: set.status?.collisionCount ?? 0 };
    const probe = newRevision(
      set,
      STATEFUL_SETS,
      set.spec.template.metadata?.labels,
      templatePatch(set.spec.template),
      nextRevisionNumber(revisions),
      collision.count,
    );
    const equal = revisions.filter((r) => equalRevision(r, probe));
    const last = revisions[revisions.length - 1];
    let update: ControllerRevision;
    if (equal.length > 0 && last && equalRevision(last, equal[equal.length - 1] as ControllerRevision)) {
      update = last;
    } else if (equal.length > 0) {
      // A rollback: the equal older revision becomes the newest.
      update = await renumberRevision(
        this.#ctx.client,
        equal[equal.length - 1] as ControllerRevision,
        probe.revision,
      );
    } else {
      update = await createRevision(this.#ctx.client, set, probe, collision);
    }
    const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount: collision.count };
  }

  /** updateStatefulSetStatus: writes status when it changed (retrying once on a conflict). */
  async #writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    const client = this.#ctx.client;
    let target = set;
    for (let attempt = 0; ; attempt++) {
      const cur = target.status ?? {};
      const keys = Object.keys(status) as (keyof StatefulSetStatus)[];
      if (keys.every((k) => cur[k] === status[k])) return;
      try {
        await client.update(
          STATEFUL_SETS,
          set.metadata.namespace ?? '',
          { ...target, status: { ...cur, ...status } },
          { subresource: 'status' },
        );
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= 1) throw err;
        target = await client.get<StatefulSet>(
          STATEFUL_SETS,
          set.metadata.namespace ?? '',
          set.metadata.name ?? '',
        );
      }
    }
  }

  /** truncateHistory: keeps revisionHistoryLimit revisions besides the live ones (current, update, the pods'). */
  async #truncateHistory(
    set: StatefulSet,
    pods: readonly Pod[],
    revisions: ControllerRevision[],
    current: ControllerRevision,
    update: ControllerRevision,
  ): Promise<void> {
    const live = new Set([current.metadata.name, update.metadata.name, ...pods.map(revisionOf)]);
    const seen = new Set<string>();
    const history = revisions.filter((r) => {
      const n = r.metadata.name ?? '';
      if (live.has(n) || seen.has(n)) return false;
      seen.add(n);
      return true;
    });
    const excess = history.length - (set.spec.revisionHistoryLimit ?? 10);
    for (const r of history.slice(0, Math.max(0, excess))) {
      try {
        await this.#ctx.client.delete(
          CONTROLLER_REVISIONS,
          r.metadata.namespace ?? '',
          r.metadata.name ?? '',
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}

function keyOf(obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

function selectorOf(set: StatefulSet): Selector | undefined {
  try {
    return labelSelectorAsSelector(set.spec.selector);
  } catch {
    return undefined;
  }
}
