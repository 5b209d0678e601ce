/**
 * The PersistentVolume binder (kube-controller-manager's persistentvolume-binder-controller, the
 * parts skiff needs): binds Pending claims to matching volumes (pre-bound, or the smallest that fits;
 * for WaitForFirstConsumer classes only once a pod using the claim is on a node, on volumes that
 * node can reach), completes half-done bindings, gives claims with no class the default class
 * (retroactive default StorageClass assignment), asks a class's provisioner for a volume when none
 * matches (storage-provisioner and selected-node annotations), and keeps volume phases
 * (Available, Bound, Released; Failed when a Delete policy has no deleter here).
 *
 * Keys: `pvc:<namespace>/<name>` and `pv:<name>`.
 */
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { NODES, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, PODS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject, Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BOUND_BY_CONTROLLER,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  bindClaimAndVolume,
} from './bind.ts';
import { BY_CLAIM, claimNode, claimsOfPod, defaultClass, nodeOrStandIn, STORAGE_CLASSES } from './claims.ts';
import { claimClass, findMatchingVolume, isPreBoundTo } from './match.ts';

/** Provisioners whose Delete reclaim another controller carries out (the volume is left to them). */
export const EXTERNAL_DELETERS = new Set(['rancher.io/local-path']);

/** How often an unbound claim is looked at again (the PV controller's resync period). */
const RESYNC_MS = 15_000;

const asObj = (o: unknown) => o as KubeObject;

export class PersistentVolumeBinderController implements Controller {
  readonly name = 'persistentvolume-binder-controller';
  #ctx!: ControllerContext;
  #pvcs!: Lister;
  #pvs!: Lister;
  #classes!: Lister;
  #pods!: Lister;
  #nodes!: Lister;

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    const pvcs = ctx.informers.informer(PERSISTENT_VOLUME_CLAIMS);
    const pvs = ctx.informers.informer(PERSISTENT_VOLUMES);
    const classes = ctx.informers.informer(STORAGE_CLASSES);
    const pods = ctx.informers.informer(PODS);
    const nodes = ctx.informers.informer(NODES);
    pods.addIndexers({ [BY_CLAIM]: claimsOfPod });
    this.#pvcs = pvcs.lister();
    this.#pvs = pvs.lister();
    this.#classes = classes.lister();
    this.#pods = pods.lister();
    this.#nodes = nodes.lister();
    const q = ctx.queue;
    const onClaim = (o: KubeObject) => {
      q.add(`pvc:${o.metadata.namespace}/${o.metadata.name}`);
      const vn = (o as unknown as PersistentVolumeClaim).spec?.volumeName;
      if (vn) q.add(`pv:${vn}`);
    };
    pvcs.addEventHandler({ onAdd: onClaim, onUpdate: (_a, b) => onClaim(b), onDelete: onClaim });
    const onVolume = (o: KubeObject) => {
      q.add(`pv:${o.metadata.name}`);
      const ref = (o as unknown as PersistentVolume).spec?.claimRef;
      if (ref?.name) q.add(`pvc:${ref.namespace}/${ref.name}`);
      // A new or freed volume may suit any unbound claim.
      for (const c of this.#pvcs.list()) {
        if (!(c as unknown as PersistentVolumeClaim).spec?.volumeName)
          q.add(`pvc:${c.metadata.namespace}/${c.metadata.name}`);
      }
    };
    pvs.addEventHandler({ onAdd: onVolume, onUpdate: (_a, b) => onVolume(b), onDelete: onVolume });
    const onPod = (o: KubeObject) => {
      if (!(o as unknown as Pod).spec?.nodeName) return;
      for (const k of claimsOfPod(o)) q.add(`pvc:${k}`);
    };
    pods.addEventHandler({ onAdd: onPod, onUpdate: (_a, b) => onPod(b) });
    const onClass = () => {
      for (const c of this.#pvcs.list()) {
        if (!(c as unknown as PersistentVolumeClaim).spec?.volumeName)
          q.add(`pvc:${c.metadata.namespace}/${c.metadata.name}`);
      }
    };
    classes.addEventHandler({ onAdd: onClass, onUpdate: onClass });
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    if (key.startsWith('pvc:')) return this.#syncClaim(key.slice(4));
    if (key.startsWith('pv:')) return this.#syncVolume(key.slice(3));
    return undefined;
  }

  async #syncClaim(key: string): Promise<ReconcileResult | undefined> {
    const pvc = this.#pvcs.get(key) as unknown as PersistentVolumeClaim | undefined;
    if (!pvc || pvc.metadata?.deletionTimestamp) return undefined;
    const client = this.#ctx.client;
    const volumeName = pvc.spec?.volumeName;
    if (volumeName) {
      const pv = this.#pvs.get(volumeName) as unknown as PersistentVolume | undefined;
      if (!pv) {
        if (pvc.status?.phase === 'Bound') await this.#claimPhase(pvc, 'Lost');
        return undefined;
      }
      if (pv.spec?.claimRef && !isPreBoundTo(pv, pvc)) {
        if (pvc.status?.phase === 'Bound') await this.#claimPhase(pvc, 'Lost');
        return undefined;
      }
      await bindClaimAndVolume(client, pvc, pv, this.name);
      return undefined;
    }
    const hasClass =
      pvc.spec?.storageClassName !== undefined ||
      pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] !== undefined;
    if (!hasClass) {
      const def = defaultClass(this.#classes);
      if (def) {
        await client.update(
          PERSISTENT_VOLUME_CLAIMS,
          pvc.metadata?.namespace ?? '',
          asObj({ ...pvc, spec: { ...pvc.spec, storageClassName: def.metadata?.name } }),
          { fieldManager: this.name },
        );
        return undefined;
      }
    }
    const className = claimClass(pvc);
    const sc = className ? (this.#classes.get(className) as unknown as StorageClass | undefined) : undefined;
    const delay = sc?.volumeBindingMode === 'WaitForFirstConsumer';
    const nodeName = delay ? claimNode(pvc, this.#pods) : undefined;
    const node = nodeName ? nodeOrStandIn(this.#nodes, nodeName) : undefined;
    const pvs = this.#pvs.list() as unknown as PersistentVolume[];
    const pv = findMatchingVolume(pvc, pvs, { delayBinding: delay, node });
    if (pv) {
      await bindClaimAndVolume(client, pvc, pv, this.name);
      return undefined;
    }
    if (delay && !nodeName) return undefined; // waiting for first consumer
    const provisioner = sc?.provisioner;
    if (provisioner && provisioner !== 'kubernetes.io/no-provisioner') {
      const ann = pvc.metadata?.annotations ?? {};
      const want: Record<string, string> = {
        [ANN_STORAGE_PROVISIONER]: provisioner,
        [ANN_BETA_STORAGE_PROVISIONER]: provisioner,
      };
      if (nodeName) want[ANN_SELECTED_NODE] = nodeName;
      if (Object.entries(want).some(([k, v]) => ann[k] !== v)) {
        await client.update(
          PERSISTENT_VOLUME_CLAIMS,
          pvc.metadata?.namespace ?? '',
          asObj({ ...pvc, metadata: { ...pvc.metadata, annotations: { ...ann, ...want } } }),
          { fieldManager: this.name },
        );
      }
      return undefined;
    }
    return { requeueAfterMs: RESYNC_MS };
  }

  async #claimPhase(pvc: PersistentVolumeClaim, phase: string): Promise<void> {
    await this.#ctx.client.update(
      PERSISTENT_VOLUME_CLAIMS,
      pvc.metadata?.namespace ?? '',
      asObj({ ...pvc, status: { ...pvc.status, phase } }),
      { fieldManager: this.name, subresource: 'status' },
    );
  }

  async #volumePhase(pv: PersistentVolume, phase: string, message?: string): Promise<void> {
    if (pv.status?.phase === phase && (message === undefined || pv.status?.message === message)) return;
    const status: Record<string, unknown> = { ...pv.status, phase };
    if (message !== undefined) status.message = message;
    else delete status.message;
    await this.#ctx.client.update(PERSISTENT_VOLUMES, '', asObj({ ...pv, status }), {
      fieldManager: this.name,
      subresource: 'status',
    });
  }

  async #syncVolume(name: string): Promise<ReconcileResult | undefined> {
    const pv = this.#pvs.get(name) as unknown as PersistentVolume | undefined;
    if (!pv || pv.metadata?.deletionTimestamp) return undefined;
    const ref = pv.spec?.claimRef;
    if (!ref) {
      await this.#volumePhase(pv, 'Available');
      return undefined;
    }
    const ns = ref.namespace ?? '';
    let pvc = this.#pvcs.get(`${ns}/${ref.name}`) as unknown as PersistentVolumeClaim | undefined;
    if (!pvc || (ref.uid && pvc.metadata?.uid !== ref.uid)) {
      if (!ref.uid) {
        // Pre-bound by name to a claim that does not exist yet.
        await this.#volumePhase(pv, 'Available');
        return undefined;
      }
      // The cache may lag: ask the server before releasing anything.
      try {
        pvc = (await this.#ctx.client.get(
          PERSISTENT_VOLUME_CLAIMS,
          ns,
          ref.name ?? '',
        )) as unknown as PersistentVolumeClaim;
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
        pvc = undefined;
      }
      if (pvc && pvc.metadata?.uid === ref.uid) return { requeueAfterMs: 1000 };
      return this.#released(pv);
    }
    if (pvc.spec?.volumeName === pv.metadata?.name) {
      if (!ref.uid) await bindClaimAndVolume(this.#ctx.client, pvc, pv, this.name);
      else await this.#volumePhase(pv, 'Bound');
      return undefined;
    }
    if (!pvc.spec?.volumeName) {
      // The claim side binds it.
      this.#ctx.queue.add(`pvc:${ns}/${ref.name}`);
      if (pv.status?.phase !== 'Bound') await this.#volumePhase(pv, 'Available');
      return undefined;
    }
    // The claim is bound to another volume: undo a binding this controller made.
    if (pv.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER] === 'yes') {
      const next = structuredClone(pv);
      delete next.spec?.claimRef;
      const written = (await this.#ctx.client.update(PERSISTENT_VOLUMES, '', asObj(next), {
        fieldManager: this.name,
      })) as unknown as PersistentVolume;
      await this.#volumePhase(written, 'Available');
    }
    return undefined;
  }

  async #released(pv: PersistentVolume): Promise<ReconcileResult | undefined> {
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    const provisioner = pv.metadata?.annotations?.[ANN_PROVISIONED_BY] ?? '';
    if (policy === 'Delete' && !EXTERNAL_DELETERS.has(provisioner)) {
      await this.#volumePhase(
        pv,
        'Failed',
        `error getting deleter volume plugin for volume "${pv.metadata?.name}": no deletable volume plugin matched`,
      );
      return undefined;
    }
    await this.#volumePhase(pv, 'Released');
    return undefined;
  }
}
