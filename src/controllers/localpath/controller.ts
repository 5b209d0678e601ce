/**
 * The local-path provisioner (k3s's rancher.io/local-path, in-process): for a Pending claim of a
 * class with that provisioner whose pod is on a node, it records the node
 * (`volume.kubernetes.io/selected-node`), creates a hostPath PersistentVolume
 * `pvc-<uid>` at `<storage root>/pvc-<uid>_<namespace>_<name>` (type DirectoryOrCreate: the kubelet
 * makes the directory), pinned to that node by node affinity, sized by the request and pre-bound to
 * the claim, and binds both. When the claim is gone and the volume's reclaim policy is Delete, it
 * deletes the volume; the kubelet's reaper removes the directory.
 *
 * Keys: `pvc:<namespace>/<name>` and `pv:<name>`.
 */
import { posix } from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { NODES, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, PODS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject, Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  bindClaimAndVolume,
} from '../pvbinder/bind.ts';
import { claimNode, claimsOfPod, nodeOrStandIn, STORAGE_CLASSES } from '../pvbinder/claims.ts';
import { claimClass } from '../pvbinder/match.ts';
import { LOCAL_PATH_PROVISIONER } from './storageclass.ts';

export interface LocalPathControllerOptions {
  /**
   * Where volumes live on each node (k3s: `<data-dir>/storage`, the same on every node). A function
   * picks it per node.
   */
  storageRoot: string | ((nodeName: string) => string);
  /** The provisioner name it serves (default rancher.io/local-path). */
  provisioner?: string;
}

const asObj = (o: unknown) => o as KubeObject;
const BY_CLAIM = 'localpath/byClaim';

export class LocalPathController implements Controller {
  readonly name = 'local-path-provisioner';
  readonly #root: (node: string) => string;
  readonly #provisioner: string;
  #ctx!: ControllerContext;
  #pvcs!: Lister;
  #pvs!: Lister;
  #classes!: Lister;
  #pods!: Lister;
  #nodes!: Lister;

  constructor(opts: LocalPathControllerOptions) {
    const root = opts.storageRoot;
    this.#root = typeof root === 'string' ? () => root : root;
    this.#provisioner = opts.provisioner ?? LOCAL_PATH_PROVISIONER;
  }

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
      q.add(`pv:pvc-${o.metadata.uid}`);
    };
    pvcs.addEventHandler({ onAdd: onClaim, onUpdate: (_a, b) => onClaim(b), onDelete: onClaim });
    const onVolume = (o: KubeObject) => q.add(`pv:${o.metadata.name}`);
    pvs.addEventHandler({ onAdd: onVolume, onUpdate: (_a, b) => onVolume(b) });
    const onPod = (o: KubeObject) => {
      if (!o.spec || !(o.spec as { nodeName?: string }).nodeName) return;
      for (const k of claimsOfPod(o)) q.add(`pvc:${k}`);
    };
    pods.addEventHandler({ onAdd: onPod, onUpdate: (_a, b) => onPod(b) });
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    if (key.startsWith('pvc:')) return this.#syncClaim(key.slice(4));
    if (key.startsWith('pv:')) return this.#syncVolume(key.slice(3));
    return undefined;
  }

  async #syncClaim(key: string): Promise<ReconcileResult | undefined> {
    let pvc = this.#pvcs.get(key) as unknown as PersistentVolumeClaim | undefined;
    if (!pvc || pvc.metadata?.deletionTimestamp || pvc.spec?.volumeName) return undefined;
    const className = claimClass(pvc);
    const sc = className ? (this.#classes.get(className) as unknown as StorageClass | undefined) : undefined;
    if (!sc || sc.provisioner !== this.#provisioner) return undefined;
    const node = claimNode(pvc, this.#pods, BY_CLAIM);
    if (!node) return undefined; // waiting for a pod on a node
    const client = this.#ctx.client;
    const ns = pvc.metadata?.namespace ?? '';
    const ann = pvc.metadata?.annotations ?? {};
    const want: Record<string, string> = {
      [ANN_SELECTED_NODE]: node,
      [ANN_STORAGE_PROVISIONER]: this.#provisioner,
      [ANN_BETA_STORAGE_PROVISIONER]: this.#provisioner,
    };
    if (Object.entries(want).some(([k, v]) => ann[k] !== v)) {
      pvc = (await client.update(
        PERSISTENT_VOLUME_CLAIMS,
        ns,
        asObj({ ...pvc, metadata: { ...pvc.metadata, annotations: { ...ann, ...want } } }),
        { fieldManager: this.name },
      )) as unknown as PersistentVolumeClaim;
    }
    const pvName = `pvc-${pvc.metadata?.uid}`;
    let pv = this.#pvs.get(pvName) as unknown as PersistentVolume | undefined;
    if (!pv) {
      const wanted = this.#volumeFor(pvc, sc, node, pvName);
      try {
        pv = (await client.create(PERSISTENT_VOLUMES, '', asObj(wanted), {
          fieldManager: this.name,
        })) as unknown as PersistentVolume;
      } catch (err) {
        if (!isApiError(err, 409)) throw err;
        pv = (await client.get(PERSISTENT_VOLUMES, '', pvName)) as unknown as PersistentVolume;
      }
    }
    await bindClaimAndVolume(client, pvc, pv, this.name);
    return undefined;
  }

  #volumeFor(pvc: PersistentVolumeClaim, sc: StorageClass, node: string, pvName: string): PersistentVolume {
    const ns = pvc.metadata?.namespace ?? '';
    const name = pvc.metadata?.name ?? '';
    const hostname = nodeOrStandIn(this.#nodes, node).metadata?.labels?.['kubernetes.io/hostname'] ?? node;
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName,
        annotations: {
          [ANN_PROVISIONED_BY]: this.#provisioner,
          'local.path.provisioner/selected-node': node,
        },
      },
      spec: {
        accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
        capacity: { storage: String(pvc.spec?.resources?.requests?.storage ?? '0') },
        claimRef: {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          namespace: ns,
          name,
          uid: pvc.metadata?.uid,
          resourceVersion: pvc.metadata?.resourceVersion,
        },
        hostPath: {
          path: posix.join(this.#root(node), `${pvName}_${ns}_${name}`),
          type: 'DirectoryOrCreate',
        },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [hostname] }] },
            ],
          },
        },
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: sc.metadata?.name,
        volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
        ...(sc.mountOptions?.length ? { mountOptions: sc.mountOptions } : {}),
      },
    };
  }

  /** Deletes a volume of ours whose claim is gone, when its policy is Delete. */
  async #syncVolume(name: string): Promise<ReconcileResult | undefined> {
    const pv = this.#pvs.get(name) as unknown as PersistentVolume | undefined;
    if (!pv || pv.metadata?.deletionTimestamp) return undefined;
    if (pv.metadata?.annotations?.[ANN_PROVISIONED_BY] !== this.#provisioner) return undefined;
    if ((pv.spec?.persistentVolumeReclaimPolicy ?? 'Delete') !== 'Delete') return undefined;
    const ref = pv.spec?.claimRef;
    if (!ref?.uid) return undefined;
    const client = this.#ctx.client;
    const cached = this.#pvcs.get(`${ref.namespace}/${ref.name}`);
    if (cached && cached.metadata.uid === ref.uid) return undefined;
    try {
      const live = await client.get(PERSISTENT_VOLUME_CLAIMS, ref.namespace ?? '', ref.name ?? '');
      if (live.metadata.uid === ref.uid) return undefined;
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
    try {
      await client.delete(PERSISTENT_VOLUMES, '', name, { preconditions: { uid: pv.metadata?.uid } });
    } catch (err) {
      if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
    }
    return undefined;
  }
}
