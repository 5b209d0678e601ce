/**
 * PVC protection (kube-controller-manager's pvc-protection-controller): every claim carries the
 * `kubernetes.io/pvc-protection` finalizer, and a claim being deleted keeps it while a pod that is
 * not finished still uses the claim — so its volume (and with reclaim Delete, its data) outlives no
 * pod that needs it. Before removing the finalizer it asks the API server, not only its cache.
 */
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { PERSISTENT_VOLUME_CLAIMS, PODS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject, Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { claimsOfPod } from './claims.ts';

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
const BY_CLAIM = 'pvcprotection/byClaim';

function podIsShutDown(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

function usesClaim(pod: Pod, name: string): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === name);
}

export class PvcProtectionController implements Controller {
  readonly name = 'pvc-protection-controller';
  #ctx!: ControllerContext;
  #pvcs!: Lister;
  #pods!: Lister;

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    const pvcs = ctx.informers.informer(PERSISTENT_VOLUME_CLAIMS);
    const pods = ctx.informers.informer(PODS);
    pods.addIndexers({ [BY_CLAIM]: claimsOfPod });
    this.#pvcs = pvcs.lister();
    this.#pods = pods.lister();
    const onClaim = (o: KubeObject) => ctx.queue.add(`${o.metadata.namespace}/${o.metadata.name}`);
    pvcs.addEventHandler({ onAdd: onClaim, onUpdate: (_a, b) => onClaim(b) });
    const onPod = (o: KubeObject) => {
      for (const k of claimsOfPod(o)) ctx.queue.add(k);
    };
    pods.addEventHandler({ onAdd: onPod, onUpdate: (_a, b) => onPod(b), onDelete: onPod });
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const pvc = this.#pvcs.get(key) as unknown as PersistentVolumeClaim | undefined;
    if (!pvc) return undefined;
    const finalizers = pvc.metadata?.finalizers ?? [];
    const has = finalizers.includes(PVC_PROTECTION_FINALIZER);
    const ns = pvc.metadata?.namespace ?? '';
    const name = pvc.metadata?.name ?? '';
    if (!pvc.metadata?.deletionTimestamp) {
      if (!has) await this.#setFinalizers(pvc, [...finalizers, PVC_PROTECTION_FINALIZER]);
      return undefined;
    }
    if (!has) return undefined;
    const cached = this.#pods.byIndex(BY_CLAIM, key).some((o) => !podIsShutDown(o as unknown as Pod));
    if (cached) return undefined;
    const live = (await this.#ctx.client.list(PODS, ns)).items as unknown as Pod[];
    if (live.some((p) => usesClaim(p, name) && !podIsShutDown(p))) return { requeueAfterMs: 1000 };
    await this.#setFinalizers(
      pvc,
      finalizers.filter((f) => f !== PVC_PROTECTION_FINALIZER),
    );
    return undefined;
  }

  async #setFinalizers(pvc: PersistentVolumeClaim, finalizers: string[]): Promise<void> {
    try {
      await this.#ctx.client.update(
        PERSISTENT_VOLUME_CLAIMS,
        pvc.metadata?.namespace ?? '',
        {
          ...(pvc as unknown as KubeObject),
          metadata: { ...(pvc.metadata as KubeObject['metadata']), finalizers },
        },
        { fieldManager: this.name },
      );
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
  }
}
