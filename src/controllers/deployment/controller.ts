/**
 * The Deployment controller (k8s.io/kubernetes pkg/controller/deployment): rolls a Deployment's
 * pod template out through ReplicaSets named `<deployment>-<pod-template-hash>`, one per template
 * revision, and reports the rollout in the Deployment's status the way `kubectl rollout status`
 * reads it.
 *
 * reconcile(namespace/name), as syncDeployment:
 * 1. a selector that selects everything is refused (observedGeneration only);
 * 2. ReplicaSets are claimed (adopted/released by selector, like the ReplicaSet controller's pods);
 * 3. being deleted: status only. Paused: scaling and cleanup only (Progressing is Unknown with
 *    DeploymentPaused / DeploymentResumed). A deprecated rollback annotation: roll back. A resize
 *    (desired-replicas differs): proportional scaling only;
 * 4. otherwise the strategy — RollingUpdate (rolling.ts) or Recreate (recreate.ts) — and the
 *    rollout status (progress.ts), looking again when a progress deadline could pass.
 */
import { labelSelectorAsSelector, type Selector } from '../../api/labels.ts';
import { DEPLOYMENTS, PODS, REPLICA_SETS } from '../../client/resources.ts';
import type { Lister } from '../../client/types.ts';
import type { Logger } from '../../util/log.ts';
import { type Controller, type ControllerContext, keyOf, type ReconcileResult } from '../controller.ts';
import type { ReplicaSet } from '../replicaset/types.ts';
import { REPLICA_SET_KIND } from '../replicaset/types.ts';
import { ControllerRefManager, recheckDeletionTimestamp } from '../util/controller-ref.ts';
import { EventRecorder } from '../util/events.ts';
import { controllerRefOf, type OwnerReference, type Pod } from '../util/pods.ts';
import { getCondition, newCondition, setCondition } from './conditions.ts';
import { rolloutRecreate } from './recreate.ts';
import { rollback } from './rollback.ts';
import { rolloutRolling } from './rolling.ts';
import {
  type DeploymentEnv,
  getRollbackTo,
  isScalingEvent,
  SyncPass,
  sync,
  syncStatusOnly,
  writeStatus,
} from './sync.ts';
import {
  DEPLOYMENT_API_VERSION,
  DEPLOYMENT_KIND,
  type Deployment,
  hasProgressDeadline,
  PROGRESSING,
  REASON_PAUSED,
  REASON_RESUMED,
  REASON_TIMED_OUT,
  statusOf,
  strategyType,
} from './types.ts';

export interface DeploymentControllerOptions {
  /** Workers (--concurrent-deployment-syncs, 5). */
  workers?: number;
}

export class DeploymentController implements Controller {
  readonly name = 'deployment-controller';
  readonly workers: number;
  #ctx!: ControllerContext;
  #log!: Logger;
  #dLister!: Lister<Deployment>;
  #rsLister!: Lister<ReplicaSet>;
  #podLister!: Lister<Pod>;
  #events!: EventRecorder;

  constructor(opts: DeploymentControllerOptions = {}) {
    this.workers = opts.workers ?? 5;
  }

  /** The events recorded (for tests). */
  get events(): EventRecorder {
    return this.#events;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#log = ctx.log;
    this.#events = new EventRecorder(ctx.client, this.name, ctx.clock, ctx.log);
    const dInformer = ctx.informers.informer<Deployment>(DEPLOYMENTS);
    const rsInformer = ctx.informers.informer<ReplicaSet>(REPLICA_SETS);
    const podInformer = ctx.informers.informer<Pod>(PODS);
    this.#dLister = dInformer.lister();
    this.#rsLister = rsInformer.lister();
    this.#podLister = podInformer.lister();

    dInformer.addEventHandler({
      onAdd: (d) => this.#enqueue(d),
      onUpdate: (_old, cur) => this.#enqueue(cur),
      onDelete: (d) => this.#enqueue(d),
    });
    rsInformer.addEventHandler({
      onAdd: (rs) => this.#addReplicaSet(rs),
      onUpdate: (old, cur) => this.#updateReplicaSet(old, cur),
      onDelete: (rs) => this.#deleteReplicaSet(rs),
    });
    podInformer.addEventHandler({ onDelete: (pod) => this.#deletePod(pod) });
  }

  #enqueue(d: Deployment): void {
    this.#ctx.queue.add(keyOf(d));
  }

  /** resolveControllerRef: the Deployment a controller reference names, if it is that one. */
  #resolve(namespace: string, ref: OwnerReference): Deployment | undefined {
    if (ref.kind !== DEPLOYMENT_KIND) return undefined;
    const d = this.#dLister.get(`${namespace}/${ref.name}`);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  /** getDeploymentsForReplicaSet: Deployments whose (non-empty) selector matches an orphan. */
  #deploymentsFor(rs: ReplicaSet): Deployment[] {
    if (!rs.metadata.labels || Object.keys(rs.metadata.labels).length === 0) return [];
    return this.#dLister.byIndex('namespace', rs.metadata.namespace ?? '').filter((d) => {
      const selector = safeSelector(d);
      return selector !== undefined && !selector.isEmpty() && selector.matches(rs.metadata.labels);
    });
  }

  #addReplicaSet(rs: ReplicaSet): void {
    if (rs.metadata.deletionTimestamp) {
      this.#deleteReplicaSet(rs);
      return;
    }
    const ref = controllerRefOf(rs);
    if (ref) {
      const d = this.#resolve(rs.metadata.namespace ?? '', ref);
      if (d) this.#enqueue(d);
      return;
    }
    for (const d of this.#deploymentsFor(rs)) this.#enqueue(d);
  }

  #updateReplicaSet(old: ReplicaSet, cur: ReplicaSet): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const namespace = cur.metadata.namespace ?? '';
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = JSON.stringify(curRef ?? null) !== JSON.stringify(oldRef ?? null);
    if (refChanged && oldRef) {
      const d = this.#resolve(namespace, oldRef);
      if (d) this.#enqueue(d);
    }
    if (curRef) {
      const d = this.#resolve(namespace, curRef);
      if (d) this.#enqueue(d);
      return;
    }
    const labelsChanged =
      JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(cur.metadata.labels ?? {});
    if (labelsChanged || refChanged) for (const d of this.#deploymentsFor(cur)) this.#enqueue(d);
  }

  #deleteReplicaSet(rs: ReplicaSet): void {
    const ref = controllerRefOf(rs);
    if (!ref) return;
    const d = this.#resolve(rs.metadata.namespace ?? '', ref);
    if (d) this.#enqueue(d);
  }

  /** deletePod: a Recreate rollout waits for its old pods to be gone. */
  #deletePod(pod: Pod): void {
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== REPLICA_SET_KIND) return;
    const namespace = pod.metadata.namespace ?? '';
    const rs = this.#rsLister.get(`${namespace}/${ref.name}`);
    if (!rs || rs.metadata.uid !== ref.uid) return;
    const dRef = controllerRefOf(rs);
    const d = dRef && this.#resolve(namespace, dRef);
    if (!d || strategyType(d) !== 'Recreate') return;
    // Only the last old pod matters; counting them is cheap enough.
    this.#enqueue(d);
  }

  #env(): DeploymentEnv {
    return {
      client: this.#ctx.client,
      clock: this.#ctx.clock,
      log: this.#log,
      events: this.#events,
      rsLister: this.#rsLister,
      fieldManager: this.name,
    };
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const cached = this.#dLister.get(key);
    if (!cached) return undefined;
    const d: Deployment = structuredClone(cached);
    const env = this.#env();
    const selector = safeSelector(d);
    if (!selector) {
      this.#log.warn({ key }, 'Deployment has an invalid selector; ignoring it');
      return undefined;
    }
    if (selector.isEmpty()) {
      this.#events.event(
        DEPLOYMENTS,
        d,
        'Warning',
        'SelectingAll',
        'This deployment is selecting all pods. A non-empty selector is required.',
      );
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        d.status = { ...d.status, observedGeneration: d.metadata.generation ?? 0 };
        await writeStatus(env, new SyncPass(d, []));
      }
      return undefined;
    }

    const rsList = await this.#claimReplicaSets(d, selector);
    const pass = new SyncPass(d, rsList, this.#podMap(d, selector, rsList));

    if (d.metadata.deletionTimestamp) {
      await syncStatusOnly(env, pass);
      return undefined;
    }
    await this.#checkPausedConditions(env, pass);
    if (pass.d.spec?.paused) {
      await sync(env, pass);
      return undefined;
    }
    if (getRollbackTo(pass.d) !== undefined) {
      await rollback(env, pass);
      return undefined;
    }
    if (await isScalingEvent(env, pass)) {
      await sync(env, pass);
      return undefined;
    }
    let requeueAfterMs: number | undefined;
    switch (strategyType(pass.d)) {
      case 'Recreate':
        requeueAfterMs = await rolloutRecreate(env, pass);
        break;
      case 'RollingUpdate':
        requeueAfterMs = await rolloutRolling(env, pass);
        break;
      default:
        throw new Error(`unexpected deployment strategy type: ${strategyType(pass.d)}`);
    }
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  /** getReplicaSetsForDeployment */
  async #claimReplicaSets(d: Deployment, selector: Selector): Promise<ReplicaSet[]> {
    const manager = new ControllerRefManager({
      client: this.#ctx.client,
      owner: d,
      ownerApiVersion: DEPLOYMENT_API_VERSION,
      ownerKind: DEPLOYMENT_KIND,
      selector,
      ref: REPLICA_SETS,
      canAdopt: recheckDeletionTimestamp(this.#ctx.client, DEPLOYMENTS, d),
      fieldManager: this.name,
    });
    const { claimed, errors } = await manager.claim(
      this.#rsLister.byIndex('namespace', d.metadata.namespace ?? ''),
    );
    if (errors.length) throw errors[0];
    return claimed;
  }

  /** getPodMapForDeployment: the Deployment's pods by the uid of their ReplicaSet. */
  #podMap(d: Deployment, selector: Selector, rsList: ReplicaSet[]): Map<string, Pod[]> {
    const map = new Map<string, Pod[]>(rsList.map((rs) => [rs.metadata.uid ?? '', []]));
    for (const pod of this.#podLister.byIndex('namespace', d.metadata.namespace ?? '')) {
      if (!selector.matches(pod.metadata.labels)) continue;
      const ref = controllerRefOf(pod);
      if (ref) map.get(ref.uid)?.push(pod);
    }
    return map;
  }

  /**
   * checkPausedConditions: Progressing becomes Unknown/DeploymentPaused when paused and
   * Unknown/DeploymentResumed when resumed, so a paused time never counts against the deadline.
   */
  async #checkPausedConditions(env: DeploymentEnv, pass: SyncPass): Promise<void> {
    const d = pass.d;
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, PROGRESSING);
    if (cond?.reason === REASON_TIMED_OUT) return;
    const pausedCondExists = cond?.reason === REASON_PAUSED;
    const now = this.#ctx.clock.now();
    const status = statusOf(d);
    if (d.spec?.paused && !pausedCondExists) {
      setCondition(status, newCondition(PROGRESSING, 'Unknown', REASON_PAUSED, 'Deployment is paused', now));
    } else if (!d.spec?.paused && pausedCondExists) {
      setCondition(
        status,
        newCondition(PROGRESSING, 'Unknown', REASON_RESUMED, 'Deployment is resumed', now),
      );
    } else {
      return;
    }
    await writeStatus(env, pass);
  }
}

function safeSelector(d: Deployment): Selector | undefined {
  try {
    return labelSelectorAsSelector(d.spec?.selector);
  } catch {
    return undefined;
  }
}
