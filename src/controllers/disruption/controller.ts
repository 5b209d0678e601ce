/**
 * The disruption controller (kube-controller-manager's disruption-controller): keeps each
 * PodDisruptionBudget's status current —
 * - expectedPods: the pods there should be: the number selected for an integer minAvailable, else
 *   the sum of the scales of the selected pods' controllers (ReplicaSets count through their
 *   Deployment; other kinds through their spec.replicas when discovery is given);
 * - desiredHealthy: minAvailable (an integer, or a percentage of expectedPods rounded up), or
 *   expectedPods less maxUnavailable (likewise);
 * - currentHealthy: selected pods that are Ready, not being deleted, and not recently disrupted;
 * - disruptionsAllowed: currentHealthy − desiredHealthy (0 when negative or nothing is expected);
 * - disruptedPods: pods evicted but not yet deleted, dropped after 2 minutes;
 * - observedGeneration and the DisruptionAllowed condition (SufficientPods / InsufficientPods /
 *   SyncFailed).
 * It also clears a pod's DisruptionTarget condition when the pod was not deleted within 2 minutes.
 */

import { type LabelSelector, labelSelectorAsSelector, type Selector } from '../../api/labels.ts';
import {
  DEPLOYMENTS,
  POD_DISRUPTION_BUDGETS,
  PODS,
  REPLICA_SETS,
  STATEFUL_SETS,
} from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject, Lister, ResourceRef } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { keyOf, splitKey } from '../controller.ts';
import { isPodReady, type Pod } from '../endpoints/pods.ts';
import { type Discovery, KindMapper } from '../garbagecollector/discovery.ts';

/** How long an evicted pod may take to be deleted before it counts as healthy again (DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60_000;
/** How long a DisruptionTarget condition may stand on a pod that is not deleted. */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60_000;

export const REPLICATION_CONTROLLERS: ResourceRef = {
  group: '',
  version: 'v1',
  resource: 'replicationcontrollers',
  kind: 'ReplicationController',
  namespaced: true,
};

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface PodDisruptionBudget extends KubeObject {
  spec?: {
    selector?: LabelSelector | null;
    minAvailable?: number | string;
    maxUnavailable?: number | string;
  };
  status?: {
    observedGeneration?: number;
    disruptedPods?: Record<string, string> | null;
    disruptionsAllowed?: number;
    currentHealthy?: number;
    desiredHealthy?: number;
    expectedPods?: number;
    conditions?: Condition[];
  };
}

interface Scalable extends KubeObject {
  spec?: { replicas?: number };
}

export interface DisruptionControllerOptions {
  /** For the scale of controllers of other kinds than ReplicaSet, Deployment, StatefulSet and ReplicationController. */
  discovery?: Discovery;
  workers?: number;
}

const STALE_PREFIX = 'pod:';

export class DisruptionController implements Controller {
  readonly name = 'disruption-controller';
  readonly workers: number;
  readonly #discovery: Discovery | undefined;
  readonly #mapper = new KindMapper();
  #ctx!: ControllerContext;
  #pdbs!: Lister<PodDisruptionBudget>;
  #pods!: Lister<Pod>;
  #listers!: Record<'rs' | 'deploy' | 'sts', Lister<Scalable>>;

  constructor(opts: DisruptionControllerOptions = {}) {
    this.#discovery = opts.discovery;
    this.workers = opts.workers ?? 2;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    const pdbs = ctx.informers.informer<PodDisruptionBudget>(POD_DISRUPTION_BUDGETS);
    const pods = ctx.informers.informer<Pod>(PODS);
    this.#pdbs = pdbs.lister();
    this.#pods = pods.lister();
    this.#listers = {
      rs: ctx.informers.informer<Scalable>(REPLICA_SETS).lister(),
      deploy: ctx.informers.informer<Scalable>(DEPLOYMENTS).lister(),
      sts: ctx.informers.informer<Scalable>(STATEFUL_SETS).lister(),
    };
    const enqueue = (pdb: KubeObject) => ctx.queue.add(keyOf(pdb));
    pdbs.addEventHandler({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p), onDelete: enqueue });
    const onPod = (pod: Pod, old?: Pod) => {
      for (const pdb of this.#pdbsFor(pod)) enqueue(pdb);
      if (old && old.metadata.labels !== pod.metadata.labels)
        for (const pdb of this.#pdbsFor(old)) enqueue(pdb);
      this.#watchStaleDisruption(pod);
    };
    pods.addEventHandler({
      onAdd: (p) => onPod(p),
      onUpdate: (old, p) => onPod(p, old),
      onDelete: (p) => {
        for (const pdb of this.#pdbsFor(p)) enqueue(pdb);
      },
    });
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    if (key.startsWith(STALE_PREFIX)) return this.#syncStalePodDisruption(key.slice(STALE_PREFIX.length));
    const pdb = this.#pdbs.get(key);
    if (!pdb) return undefined;
    try {
      return await this.#trySync(pdb);
    } catch (err) {
      if (isApiError(err, 409)) throw err;
      this.#ctx.log.warn({ err, pdb: key }, 'failed to sync a PodDisruptionBudget');
      await this.#failSafe(pdb, err as Error);
      throw err;
    }
  }

  #pdbsFor(pod: Pod): PodDisruptionBudget[] {
    return this.#pdbs.byIndex('namespace', pod.metadata.namespace ?? '').filter((pdb) => {
      try {
        return labelSelectorAsSelector(pdb.spec?.selector).matches(pod.metadata.labels ?? {});
      } catch {
        return false;
      }
    });
  }

  async #trySync(pdb: PodDisruptionBudget): Promise<ReconcileResult | undefined> {
    const selector: Selector = labelSelectorAsSelector(pdb.spec?.selector);
    const pods = this.#pods
      .byIndex('namespace', pdb.metadata.namespace ?? '')
      .filter((p) => selector.matches(p.metadata.labels ?? {}));
    const { expectedCount, desiredHealthy } = await this.#expectedPodCount(pdb, pods);
    const now = this.#ctx.clock.now();
    const { disrupted, recheckAt } = buildDisruptedPodMap(pods, pdb, now);
    const currentHealthy = countHealthyPods(pods, disrupted, now);
    await this.#updateStatus(pdb, currentHealthy, desiredHealthy, expectedCount, disrupted);
    return recheckAt === undefined ? undefined : { requeueAfterMs: Math.max(0, recheckAt - now) };
  }

  async #expectedPodCount(
    pdb: PodDisruptionBudget,
    pods: Pod[],
  ): Promise<{ expectedCount: number; desiredHealthy: number }> {
    const { maxUnavailable, minAvailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined && maxUnavailable !== null) {
      const expectedCount = await this.#expectedScale(pdb, pods);
      const max = scaledValue(maxUnavailable, expectedCount);
      return { expectedCount, desiredHealthy: Math.max(0, expectedCount - max) };
    }
    if (minAvailable !== undefined && minAvailable !== null) {
      if (typeof minAvailable === 'number')
        return { expectedCount: pods.length, desiredHealthy: minAvailable };
      const expectedCount = await this.#expectedScale(pdb, pods);
      return { expectedCount, desiredHealthy: scaledValue(minAvailable, expectedCount) };
    }
    return { expectedCount: 0, desiredHealthy: 0 };
  }

  /** The sum of the scales of the pods' controllers (pods without one are ignored). */
  async #expectedScale(pdb: PodDisruptionBudget, pods: Pod[]): Promise<number> {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = (pod.metadata.ownerReferences ?? []).find((o) => o.controller);
      if (!ref) {
        unmanaged.push(pod.metadata.name ?? '');
        continue;
      }
      if (scales.has(ref.uid)) continue;
      const found = await this.#controllerScale(ref, pod.metadata.namespace ?? '');
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
      scales.set(found.uid, found.scale);
    }
    if (unmanaged.length > 0) {
      this.#ctx.log.debug(
        { pdb: keyOf(pdb), pods: unmanaged },
        'pods selected by the PodDisruptionBudget have no controller; they are not counted',
      );
    }
    let sum = 0;
    for (const s of scales.values()) sum += s;
    return sum;
  }

  async #controllerScale(
    ref: { apiVersion: string; kind: string; name: string; uid: string },
    namespace: string,
  ): Promise<{ uid: string; scale: number } | undefined> {
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    const fromLister = (lister: Lister<Scalable>, name: string, uid: string) => {
      const obj = lister.get(`${namespace}/${name}`);
      return obj && obj.metadata.uid === uid ? obj : undefined;
    };
    if (group === '' && ref.kind === 'ReplicationController') {
      // Read, not watched: an informer on a resource the server does not serve would never sync.
      const rc = await this.#read(REPLICATION_CONTROLLERS, namespace, ref.name);
      return rc && rc.metadata.uid === ref.uid ? { uid: ref.uid, scale: rc.spec?.replicas ?? 1 } : undefined;
    }
    if (group === 'apps' && ref.kind === 'ReplicaSet') {
      const rs = fromLister(this.#listers.rs, ref.name, ref.uid);
      if (!rs) return undefined;
      const owner = (rs.metadata.ownerReferences ?? []).find((o) => o.controller);
      if (owner && owner.kind === 'Deployment' && owner.apiVersion.startsWith('apps/')) {
        const d = fromLister(this.#listers.deploy, owner.name, owner.uid);
        if (d) return { uid: owner.uid, scale: d.spec?.replicas ?? 1 };
      }
      return { uid: ref.uid, scale: rs.spec?.replicas ?? 1 };
    }
    if (group === 'apps' && ref.kind === 'StatefulSet') {
      const sts = fromLister(this.#listers.sts, ref.name, ref.uid);
      return sts ? { uid: ref.uid, scale: sts.spec?.replicas ?? 1 } : undefined;
    }
    if (!this.#discovery) return undefined;
    let mapped = this.#mapper.lookup(ref.apiVersion, ref.kind);
    if (!mapped) {
      this.#mapper.update((await this.#discovery.preferredResources()).resources);
      mapped = this.#mapper.lookup(ref.apiVersion, ref.kind);
    }
    if (!mapped) return undefined;
    const obj = await this.#read(mapped, mapped.namespaced ? namespace : '', ref.name);
    if (!obj || obj.metadata.uid !== ref.uid || typeof obj.spec?.replicas !== 'number') return undefined;
    return { uid: ref.uid, scale: obj.spec.replicas };
  }

  async #read(ref: ResourceRef, namespace: string, name: string): Promise<Scalable | undefined> {
    try {
      return await this.#ctx.client.get<Scalable>(ref, namespace, name);
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }

  async #updateStatus(
    pdb: PodDisruptionBudget,
    currentHealthy: number,
    desiredHealthy: number,
    expectedCount: number,
    disrupted: Record<string, string>,
  ): Promise<void> {
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    if (expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const s = pdb.status ?? {};
    const generation = pdb.metadata.generation ?? 0;
    if (
      s.currentHealthy === currentHealthy &&
      s.desiredHealthy === desiredHealthy &&
      s.expectedPods === expectedCount &&
      s.disruptionsAllowed === disruptionsAllowed &&
      sameMap(s.disruptedPods ?? {}, disrupted) &&
      s.observedGeneration === generation &&
      conditionUpToDate(pdb, disruptionsAllowed)
    ) {
      return;
    }
    const status: NonNullable<PodDisruptionBudget['status']> = {
      ...s,
      currentHealthy,
      desiredHealthy,
      expectedPods: expectedCount,
      disruptionsAllowed,
      disruptedPods: Object.keys(disrupted).length > 0 ? disrupted : null,
      observedGeneration: generation,
    };
    status.conditions = setCondition(
      s.conditions ?? [],
      {
        type: 'DisruptionAllowed',
        status: disruptionsAllowed > 0 ? 'True' : 'False',
        reason: disruptionsAllowed > 0 ? 'SufficientPods' : 'InsufficientPods',
        message: '',
        observedGeneration: generation,
      },
      this.#now(),
    );
    await this.#ctx.client.update(
      POD_DISRUPTION_BUDGETS,
      pdb.metadata.namespace ?? '',
      { ...pdb, status },
      { subresource: 'status' },
    );
  }

  /** After a failed sync: no disruptions allowed, condition SyncFailed. */
  async #failSafe(pdb: PodDisruptionBudget, err: Error): Promise<void> {
    const s = pdb.status ?? {};
    const status = {
      ...s,
      disruptionsAllowed: 0,
      conditions: setCondition(
        s.conditions ?? [],
        {
          type: 'DisruptionAllowed',
          status: 'False',
          reason: 'SyncFailed',
          message: err.message,
          observedGeneration: s.observedGeneration,
        },
        this.#now(),
      ),
    };
    try {
      await this.#ctx.client.update(
        POD_DISRUPTION_BUDGETS,
        pdb.metadata.namespace ?? '',
        { ...pdb, status },
        { subresource: 'status' },
      );
    } catch (e) {
      this.#ctx.log.warn({ err: e, pdb: keyOf(pdb) }, 'failed to mark a PodDisruptionBudget as not synced');
    }
  }

  #now(): string {
    return new Date(this.#ctx.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
  }

  // ---- stale DisruptionTarget conditions ----

  #watchStaleDisruption(pod: Pod): void {
    const since = staleDisruptionSince(pod);
    if (since === undefined) return;
    const wait = since + STALE_POD_DISRUPTION_TIMEOUT_MS - this.#ctx.clock.now();
    this.#ctx.queue.addAfter(`${STALE_PREFIX}${keyOf(pod)}`, Math.max(0, wait));
  }

  async #syncStalePodDisruption(podKey: string): Promise<ReconcileResult | undefined> {
    const pod = this.#pods.get(podKey);
    if (!pod) return undefined;
    const since = staleDisruptionSince(pod);
    if (since === undefined) return undefined;
    const wait = since + STALE_POD_DISRUPTION_TIMEOUT_MS - this.#ctx.clock.now();
    if (wait > 0) {
      this.#ctx.queue.addAfter(`${STALE_PREFIX}${podKey}`, wait);
      return undefined;
    }
    const { namespace, name } = splitKey(podKey);
    const conditions = (pod.status?.conditions ?? []).map((c) =>
      c.type === 'DisruptionTarget' ? { ...c, status: 'False', lastTransitionTime: this.#now() } : c,
    );
    try {
      await this.#ctx.client.patch(
        PODS,
        namespace,
        name,
        'merge',
        { metadata: { resourceVersion: pod.metadata.resourceVersion }, status: { conditions } },
        { subresource: 'status' },
      );
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
    return undefined;
  }
}

/** When a pod not being deleted got a DisruptionTarget=True condition (ms), if it has one. */
function staleDisruptionSince(pod: Pod): number | undefined {
  if (pod.metadata.deletionTimestamp) return undefined;
  const c = (pod.status?.conditions ?? []).find((x) => x.type === 'DisruptionTarget' && x.status === 'True');
  if (!c) return undefined;
  const t = Date.parse(c.lastTransitionTime ?? '');
  return Number.isNaN(t) ? 0 : t;
}

/**
 * An int-or-percent against `total`: a number as is, "N%" as N% of total rounded up. Throws for
 * other strings.
 */
export function scaledValue(v: number | string, total: number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage: "${v}"`);
  return Math.ceil((Number(m[1]) * total) / 100);
}

/** The disrupted pods still expected to be deleted, and when the first of them expires. */
export function buildDisruptedPodMap(
  pods: Pod[],
  pdb: PodDisruptionBudget,
  now: number,
): { disrupted: Record<string, string>; recheckAt?: number } {
  const recorded = pdb.status?.disruptedPods ?? {};
  const disrupted: Record<string, string> = {};
  let recheckAt: number | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const name = pod.metadata.name ?? '';
    const at = recorded[name];
    if (at === undefined) continue;
    const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (Number.isNaN(expires) || expires < now) continue;
    if (recheckAt === undefined || expires < recheckAt) recheckAt = expires;
    disrupted[name] = at;
  }
  return { disrupted, recheckAt };
}

/** Ready pods that are neither being deleted nor recently disrupted. */
export function countHealthyPods(pods: Pod[], disrupted: Record<string, string>, now: number): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disrupted[pod.metadata.name ?? ''];
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > now) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

function conditionUpToDate(pdb: PodDisruptionBudget, disruptionsAllowed: number): boolean {
  const c = pdb.status?.conditions?.find((x) => x.type === 'DisruptionAllowed');
  if (!c) return false;
  if (pdb.status?.observedGeneration !== (pdb.metadata.generation ?? 0)) return false;
  return disruptionsAllowed > 0
    ? c.status === 'True' && c.reason === 'SufficientPods'
    : c.status === 'False' && c.reason === 'InsufficientPods';
}

/** meta.SetStatusCondition: replaces the condition of that type; the transition time moves only on a status change. */
function setCondition(conditions: Condition[], c: Condition, now: string): Condition[] {
  const old = conditions.find((x) => x.type === c.type);
  const next: Condition = {
    ...c,
    lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now,
  };
  if (next.observedGeneration === undefined) delete next.observedGeneration;
  return [...conditions.filter((x) => x.type !== c.type), next];
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
