/**
 * persistentVolumeClaim volumes: claim → bound PersistentVolume → the host path it names (hostPath,
 * with its type checked — local-path volumes use DirectoryOrCreate, so their directory is made here —
 * or a `local` volume's path, which must exist).
 */
import { stat } from 'node:fs/promises';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { RestClient } from '../../client/types.ts';
import { VolumeError } from '../contracts.ts';
import { checkHostPathType } from './hostpath.ts';

/** The host path of the volume bound to claim `namespace/claimName`; VolumeError while unbound. */
export async function claimHostPath(
  client: RestClient,
  namespace: string,
  claimName: string,
): Promise<string> {
  let claim: PersistentVolumeClaim;
  try {
    claim = (await client.get(PERSISTENT_VOLUME_CLAIMS, namespace, claimName)) as PersistentVolumeClaim;
  } catch (err) {
    if (isApiError(err, 404)) throw new VolumeError(`persistentvolumeclaim "${claimName}" not found`);
    throw err;
  }
  if (claim.metadata?.deletionTimestamp)
    throw new VolumeError(`persistentvolumeclaim "${claimName}" is being deleted`);
  const pvName = claim.spec?.volumeName ?? '';
  if (claim.status?.phase !== 'Bound' || !pvName)
    throw new VolumeError(`persistentvolumeclaim "${claimName}" not bound`);
  let pv: PersistentVolume;
  try {
    pv = (await client.get(PERSISTENT_VOLUMES, '', pvName)) as PersistentVolume;
  } catch (err) {
    if (isApiError(err, 404)) throw new VolumeError(`persistentvolume "${pvName}" not found`);
    throw err;
  }
  const ref = pv.spec?.claimRef;
  if (ref?.uid && ref.uid !== claim.metadata?.uid)
    throw new VolumeError(
      `persistentvolume "${pvName}" is bound to another claim (${ref.namespace}/${ref.name})`,
    );
  if (pv.spec?.hostPath) {
    await checkHostPathType(pv.spec.hostPath.path, pv.spec.hostPath.type);
    return pv.spec.hostPath.path;
  }
  if (pv.spec?.local) {
    const path = pv.spec.local.path;
    try {
      await stat(path);
    } catch {
      throw new VolumeError(`path "${path}" does not exist`);
    }
    return path;
  }
  throw new VolumeError(
    `persistentvolume "${pvName}" has a volume source this kubelet cannot mount (only hostPath and local)`,
  );
}
