/**
 * The ReplicaSet controller (k8s.io/kubernetes pkg/controller/replicaset/replica_set.go): keeps
 * `spec.replicas` active pods for every ReplicaSet and reports them in its status.
 *
 * reconcile(namespace/name):
 * 1. claims pods — owned ones matching the selector are kept, owned ones that no longer match are
 *    released, matching orphans adopted (controller reference, blockOwnerDeletion);
 * 2. unless earlier creations/deletions are still unobserved by the pod informer (expectations),
 *    creates the missing pods in slow-start batches of 1, 2, 4, … (at most 500 per pass) or deletes
 *    the surplus, cheapest first (see pod-ranking.ts);
 * 3. writes status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
 *    observedGeneration, the ReplicaFailure condition) when it changed;
 * 4. looks again after minReadySeconds while ready pods wait to become available.
 */
import { type LabelSelector, labelSelectorAsSelector, type Selector } from '../../api/labels.ts';
import { PODS, REPLICA_SETS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { Informer, KubeObject, Lister } from '../../client/types.ts';
import type { Logger } from '../../util/log.ts';
import {
  type Controller,
  type ControllerContext,
  keyOf,
  type ReconcileResult,
  splitKey,
} from '../controller.ts';
import { ControllerRefManager, recheckDeletionTimestamp } from '../util/controller-ref.ts';
import { EventRecorder } from '../util/events.ts';
import { ControllerExpectations } from '../util/expectations.ts';
import {
  controllerRefOf,
  filterActivePods,
  isPodReady,
  newControllerRef,
  type OwnerReference,
  type Pod,
  type PodTemplateSpec,
  podFromTemplate,
  podKey,
} from '../util/pods.ts';
import { SLOW_START_INITIAL_BATCH_SIZE, slowStartBatch } from '../util/slow-start.ts';
import { getPodsToDelete } from './pod-ranking.ts';
import { calculateStatus, statusUnchanged } from './status.ts';
import { REPLICA_SET_API_VERSION, REPLICA_SET_KIND, type ReplicaSet, specReplicas } from './types.ts';

/** Index of ReplicaSets by the uid of their controller (a Deployment). */
export const RS_CONTROLLER_UID_INDEX = 'replicaset-controller/controllerUID';

/** How many status writes are retried after a conflict (statusUpdateRetries). */
const STATUS_UPDATE_RETRIES = 1;

export interface ReplicaSetControllerOptions {
  /** Most pods created or deleted in one pass (--replicaset burst, 500). */
  burstReplicas?: number;
  /** Workers (--concurrent-replicaset-syncs, 5). */
  workers?: number;
}

/** Adds indexers to a shared informer unless another controller already did. */
export function ensureIndexers<T extends KubeObject>(
  informer: Informer<T>,
  indexers: Record<string, (obj: T) => string[]>,
): void {
  for (const [name, fn] of Object.entries(indexers)) {
    try {
      informer.addIndexers({ [name]: fn });
    } catch {
      // Already there (the informer is shared).
    }
  }
}

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset-controller';
  readonly workers: number;
  readonly #burstReplicas: number;
  #ctx!: ControllerContext;
  #log!: Logger;
  #rsLister!: Lister<ReplicaSet>;
  #podLister!: Lister<Pod>;
  #expectations!: ControllerExpectations;
  #events!: EventRecorder;

  constructor(opts: ReplicaSetControllerOptions = {}) {
    this.workers = opts.workers ?? 5;
    this.#burstReplicas = opts.burstReplicas ?? 500;
  }

  /** The expectations (for tests). */
  get expectations(): ControllerExpectations {
    return this.#expectations;
  }

  /** The events recorded (for tests). */
  get events(): EventRecorder {
    return this.#events;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#log = ctx.log;
    this.#expectations = new ControllerExpectations(ctx.clock);
    this.#events = new EventRecorder(ctx.client, this.name, ctx.clock, ctx.log);
    const rsInformer = ctx.informers.informer<ReplicaSet>(REPLICA_SETS);
    const podInformer = ctx.informers.informer<Pod>(PODS);
    ensureIndexers(rsInformer, {
      [RS_CONTROLLER_UID_INDEX]: (rs) => {
        const ref = controllerRefOf(rs);
        return ref ? [ref.uid] : [];
      },
    });
    this.#rsLister = rsInformer.lister();
    this.#podLister = podInformer.lister();

    rsInformer.addEventHandler({
      onAdd: (rs) => this.#enqueue(rs),
      onUpdate: (old, cur) => {
        if (old.metadata.uid !== cur.metadata.uid) this.#deleteRS(old);
        this.#enqueue(cur);
      },
      onDelete: (rs) => this.#deleteRS(rs),
    });
    podInformer.addEventHandler({
      onAdd: (pod) => this.#addPod(pod),
      onUpdate: (old, cur) => this.#updatePod(old, cur),
      onDelete: (pod) => this.#deletePod(pod),
    });
  }

  #enqueue(rs: KubeObject): void {
    this.#ctx.queue.add(keyOf(rs));
  }

  #deleteRS(rs: ReplicaSet): void {
    const key = keyOf(rs);
    this.#expectations.delete(key);
    this.#ctx.queue.add(key);
  }

  /** resolveControllerRef: the ReplicaSet a controller reference names, if it is that one. */
  #resolve(namespace: string, ref: OwnerReference): ReplicaSet | undefined {
    if (ref.kind !== REPLICA_SET_KIND) return undefined;
    const rs = this.#rsLister.get(`${namespace}/${ref.name}`);
    return rs && rs.metadata.uid === ref.uid ? rs : undefined;
  }

  /** GetPodReplicaSets: the ReplicaSets whose selector matches an orphan's labels. */
  #podReplicaSets(pod: Pod): ReplicaSet[] {
    if (!pod.metadata.labels || Object.keys(pod.metadata.labels).length === 0) return [];
    return this.#rsLister.byIndex('namespace', pod.metadata.namespace ?? '').filter((rs) => {
      const selector = safeSelector(rs.spec?.selector);
      return selector !== undefined && !selector.isEmpty() && selector.matches(pod.metadata.labels);
    });
  }

  #addPod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) {
      // Already being deleted (seen after a restart): not a creation we waited for.
      this.#deletePod(pod);
      return;
    }
    const ref = controllerRefOf(pod);
    if (ref) {
      const rs = this.#resolve(pod.metadata.namespace ?? '', ref);
      if (!rs) return;
      const key = keyOf(rs);
      this.#expectations.creationObserved(key);
      this.#ctx.queue.add(key);
      return;
    }
    for (const rs of this.#podReplicaSets(pod)) this.#enqueue(rs);
  }

  #updatePod(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const labelChanged = !sameStringMap(old.metadata.labels, cur.metadata.labels);
    if (cur.metadata.deletionTimestamp) {
      // A graceful deletion started: replace the pod now, not when the kubelet is done with it.
      this.#deletePod(cur);
      if (labelChanged) this.#deletePod(old);
      return;
    }
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = JSON.stringify(curRef ?? null) !== JSON.stringify(oldRef ?? null);
    const namespace = cur.metadata.namespace ?? '';
    if (refChanged && oldRef) {
      const rs = this.#resolve(namespace, oldRef);
      if (rs) this.#enqueue(rs);
    }
    if (curRef) {
      const rs = this.#resolve(namespace, curRef);
      if (!rs) return;
      this.#enqueue(rs);
      const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && minReadySeconds > 0) {
        // Look again once the pod has been ready long enough to count as available.
        this.#ctx.queue.addAfter(keyOf(rs), minReadySeconds * 1000 + 1000);
      }
      return;
    }
    if (labelChanged || refChanged) for (const rs of this.#podReplicaSets(cur)) this.#enqueue(rs);
  }

  #deletePod(pod: Pod): void {
    const ref = controllerRefOf(pod);
    if (!ref) return;
    const rs = this.#resolve(pod.metadata.namespace ?? '', ref);
    if (!rs) return;
    const key = keyOf(rs);
    this.#expectations.deletionObserved(key, podKey(pod));
    this.#ctx.queue.add(key);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const rs = this.#rsLister.get(key);
    if (!rs) {
      this.#expectations.delete(key);
      return undefined;
    }
    const needsSync = this.#expectations.satisfied(key);
    const selector = safeSelector(rs.spec?.selector);
    if (!selector) {
      this.#log.warn({ key }, 'ReplicaSet has an invalid selector; ignoring it');
      return undefined;
    }
    const { namespace } = splitKey(key);
    // Every active pod of the namespace: those that match, and those that still point at us.
    const active = filterActivePods(this.#podLister.byIndex('namespace', namespace));
    const pods = await this.#claimPods(rs, selector, active);

    let manageError: Error | undefined;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      try {
        await this.#manageReplicas(key, pods, rs);
      } catch (err) {
        manageError = err instanceof Error ? err : new Error(String(err));
      }
    }
    const status = calculateStatus(rs, pods, manageError, this.#ctx.clock.now());
    const updated = await this.#updateStatus(rs, status);
    if (manageError) throw manageError;
    const replicas = specReplicas(updated);
    const minReadySeconds = updated.spec?.minReadySeconds ?? 0;
    if (
      minReadySeconds > 0 &&
      (updated.status?.readyReplicas ?? 0) === replicas &&
      (updated.status?.availableReplicas ?? 0) !== replicas
    ) {
      return { requeueAfterMs: minReadySeconds * 1000 };
    }
    return undefined;
  }

  async #claimPods(rs: ReplicaSet, selector: Selector, pods: Pod[]): Promise<Pod[]> {
    const manager = new ControllerRefManager({
      client: this.#ctx.client,
      owner: rs,
      ownerApiVersion: REPLICA_SET_API_VERSION,
      ownerKind: REPLICA_SET_KIND,
      selector,
      ref: PODS,
      canAdopt: recheckDeletionTimestamp(this.#ctx.client, REPLICA_SETS, rs),
      fieldManager: this.name,
    });
    const { claimed, errors } = await manager.claim(pods);
    if (errors.length) throw errors[0];
    return claimed;
  }

  /** manageReplicas: creates or deletes pods so that `spec.replicas` are active. */
  async #manageReplicas(key: string, pods: Pod[], rs: ReplicaSet): Promise<void> {
    let diff = pods.length - specReplicas(rs);
    if (diff < 0) {
      diff = Math.min(-diff, this.#burstReplicas);
      this.#expectations.expectCreations(key, diff);
      this.#log.debug({ key, need: specReplicas(rs), creating: diff }, 'too few replicas');
      const ref = newControllerRef(rs, REPLICA_SET_API_VERSION, REPLICA_SET_KIND);
      const template = rs.spec?.template ?? {};
      const { successes, error } = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH_SIZE, async () => {
        try {
          await this.#createPod(rs, template, ref);
        } catch (err) {
          // A terminating namespace refuses every create: nothing to do, and nothing to report.
          if (isNamespaceTerminating(err)) return;
          throw err;
        }
      });
      // Creations never attempted (or failed) will not be observed.
      for (let i = successes; i < diff; i++) this.#expectations.creationObserved(key);
      if (error) throw error;
      return;
    }
    if (diff > 0) {
      diff = Math.min(diff, this.#burstReplicas);
      this.#log.debug({ key, need: specReplicas(rs), deleting: diff }, 'too many replicas');
      const victims = getPodsToDelete(pods, this.#relatedPods(rs), diff, this.#ctx.clock.now());
      this.#expectations.expectDeletions(key, victims.map(podKey));
      const errors: unknown[] = [];
      await Promise.all(
        victims.map(async (pod) => {
          try {
            await this.#deletePodOf(rs, pod);
          } catch (err) {
            // The informer will not observe this deletion.
            this.#expectations.deletionObserved(key, podKey(pod));
            if (!isApiError(err, 404)) errors.push(err);
          }
        }),
      );
      if (errors.length) throw errors[0];
    }
  }

  async #createPod(rs: ReplicaSet, template: PodTemplateSpec, ref: OwnerReference): Promise<void> {
    const pod = podFromTemplate(template, rs, ref);
    if (Object.keys(pod.metadata.labels ?? {}).length === 0) {
      throw new Error('unable to create pods, no labels');
    }
    try {
      const created = await this.#ctx.client.create(PODS, rs.metadata.namespace ?? '', pod, {
        fieldManager: this.name,
      });
      this.#events.event(
        REPLICA_SETS,
        rs,
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${created.metadata.name ?? ''}`,
      );
    } catch (err) {
      this.#events.event(REPLICA_SETS, rs, 'Warning', 'FailedCreate', `Error creating: ${errorText(err)}`);
      throw err;
    }
  }

  async #deletePodOf(rs: ReplicaSet, pod: Pod): Promise<void> {
    const name = pod.metadata.name ?? '';
    try {
      await this.#ctx.client.delete(PODS, pod.metadata.namespace ?? '', name);
      this.#events.event(REPLICA_SETS, rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (err) {
      if (!isApiError(err, 404)) {
        this.#events.event(REPLICA_SETS, rs, 'Warning', 'FailedDelete', `Error deleting: ${errorText(err)}`);
      }
      throw err;
    }
  }

  /** getIndirectlyRelatedPods: the pods of every ReplicaSet with the same controller. */
  #relatedPods(rs: ReplicaSet): Pod[] {
    const ref = controllerRefOf(rs);
    if (!ref) return [];
    const namespace = rs.metadata.namespace ?? '';
    const seen = new Set<string>();
    const out: Pod[] = [];
    const inNamespace = this.#podLister.byIndex('namespace', namespace);
    for (const related of this.#rsLister.byIndex(RS_CONTROLLER_UID_INDEX, ref.uid)) {
      if (related.metadata.namespace !== namespace) continue;
      const selector = safeSelector(related.spec?.selector);
      if (!selector) continue;
      for (const pod of inNamespace) {
        const uid = pod.metadata.uid ?? '';
        if (seen.has(uid) || !selector.matches(pod.metadata.labels)) continue;
        seen.add(uid);
        out.push(pod);
      }
    }
    return out;
  }

  /** updateReplicaSetStatus: writes the status unless nothing changed; retries once after a conflict. */
  async #updateStatus(rs: ReplicaSet, status: NonNullable<ReplicaSet['status']>): Promise<ReplicaSet> {
    if (statusUnchanged(rs, status)) return rs;
    const next = { ...status, observedGeneration: rs.metadata.generation ?? 0 };
    let current: ReplicaSet = rs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#ctx.client.update<ReplicaSet>(
          REPLICA_SETS,
          current.metadata.namespace ?? '',
          { ...current, status: next },
          { subresource: 'status', fieldManager: this.name },
        );
      } catch (err) {
        if (attempt >= STATUS_UPDATE_RETRIES) throw err;
        current = await this.#ctx.client.get<ReplicaSet>(
          REPLICA_SETS,
          current.metadata.namespace ?? '',
          current.metadata.name ?? '',
        );
      }
    }
  }
}

function safeSelector(s: LabelSelector | null | undefined): Selector | undefined {
  try {
    return labelSelectorAsSelector(s);
  } catch {
    return undefined;
  }
}

function sameStringMap(
  a: Record<string, string> | undefined,
  b: Record<string, string> | undefined,
): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a?.[k] === b?.[k]);
}

function isNamespaceTerminating(err: unknown): boolean {
  return isApiError(err) && (err.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
