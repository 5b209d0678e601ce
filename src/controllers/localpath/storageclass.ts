/** The `local-path` StorageClass k3s ships, made default. */
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject, RestClient } from '../../client/types.ts';
import { ANN_DEFAULT_CLASS } from '../pvbinder/bind.ts';
import { STORAGE_CLASSES } from '../pvbinder/claims.ts';

export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
export const LOCAL_PATH_CLASS = 'local-path';

/** The StorageClass: default class, WaitForFirstConsumer, reclaimPolicy Delete. */
export function localPathStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS, annotations: { [ANN_DEFAULT_CLASS]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/**
 * Creates the `local-path` StorageClass when there is none (an existing one, possibly edited by the
 * user, is left alone). Returns true when it created it. Idempotent; call at server start.
 */
export async function ensureLocalPathStorageClass(client: RestClient): Promise<boolean> {
  try {
    await client.get(STORAGE_CLASSES, '', LOCAL_PATH_CLASS);
    return false;
  } catch (err) {
    if (!isApiError(err, 404)) throw err;
  }
  try {
    await client.create(STORAGE_CLASSES, '', localPathStorageClass() as unknown as KubeObject);
    return true;
  } catch (err) {
    if (isApiError(err, 409)) return false;
    throw err;
  }
}
