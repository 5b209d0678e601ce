/**
 * Binding a claim and a volume, as the PV controller's bind() does, in this order so that a crash at
 * any point leaves something the next pass completes: the volume's claimRef, the volume's phase
 * Bound, the claim's volumeName (with the bind-completed annotations), the claim's status (Bound,
 * capacity and access modes). Each step is skipped when already done; writes are conditional.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES } from '../../client/resources.ts';
import type { KubeObject, RestClient } from '../../client/types.ts';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const ANN_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';

const asObj = (o: unknown) => o as KubeObject;

/** Binds `pvc` and `pv`; returns both as written. */
export async function bindClaimAndVolume(
  client: RestClient,
  pvcIn: PersistentVolumeClaim,
  pvIn: PersistentVolume,
  fieldManager: string,
): Promise<{ pvc: PersistentVolumeClaim; pv: PersistentVolume }> {
  let pv = pvIn;
  let pvc = pvcIn;
  const ns = pvc.metadata?.namespace ?? '';
  const opts = { fieldManager };
  const ref = pv.spec?.claimRef;
  if (!ref || ref.uid !== pvc.metadata?.uid || ref.name !== pvc.metadata?.name || ref.namespace !== ns) {
    const next = structuredClone(pv);
    next.spec = {
      ...next.spec,
      claimRef: {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        namespace: ns,
        name: pvc.metadata?.name,
        uid: pvc.metadata?.uid,
        resourceVersion: pvc.metadata?.resourceVersion,
      },
    };
    if (!ref)
      next.metadata = {
        ...next.metadata,
        annotations: { ...next.metadata?.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' },
      };
    pv = (await client.update(PERSISTENT_VOLUMES, '', asObj(next), opts)) as unknown as PersistentVolume;
  }
  if (pv.status?.phase !== 'Bound') {
    pv = (await client.update(
      PERSISTENT_VOLUMES,
      '',
      asObj({ ...pv, status: { ...pv.status, phase: 'Bound' } }),
      { ...opts, subresource: 'status' },
    )) as unknown as PersistentVolume;
  }
  const pvName = pv.metadata?.name ?? '';
  const ann = pvc.metadata?.annotations ?? {};
  if (pvc.spec?.volumeName !== pvName || ann[ANN_BIND_COMPLETED] !== 'yes') {
    const next = structuredClone(pvc);
    const annotations: Record<string, string> = { ...ann, [ANN_BIND_COMPLETED]: 'yes' };
    if (pvc.spec?.volumeName !== pvName) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
    next.metadata = { ...next.metadata, annotations };
    next.spec = { ...next.spec, volumeName: pvName };
    pvc = (await client.update(
      PERSISTENT_VOLUME_CLAIMS,
      ns,
      asObj(next),
      opts,
    )) as unknown as PersistentVolumeClaim;
  }
  const capacity = pv.spec?.capacity ?? {};
  const modes = pv.spec?.accessModes ?? [];
  const st = pvc.status ?? {};
  if (
    st.phase !== 'Bound' ||
    JSON.stringify(st.capacity ?? {}) !== JSON.stringify(capacity) ||
    JSON.stringify(st.accessModes ?? []) !== JSON.stringify(modes)
  ) {
    pvc = (await client.update(
      PERSISTENT_VOLUME_CLAIMS,
      ns,
      asObj({ ...pvc, status: { ...st, phase: 'Bound', capacity, accessModes: modes } }),
      { ...opts, subresource: 'status' },
    )) as unknown as PersistentVolumeClaim;
  }
  return { pvc, pv };
}
