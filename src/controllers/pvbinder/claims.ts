/** Shared by the volume controllers: the StorageClass resource, pods by claim, a claim's node. */
import type { Node, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { KubeObject, Lister, ResourceRef } from '../../client/types.ts';
import { ANN_DEFAULT_CLASS, ANN_SELECTED_NODE } from './bind.ts';

/** storage.k8s.io/v1 StorageClasses (not among src/client/resources.ts's refs yet). */
export const STORAGE_CLASSES: ResourceRef = {
  group: 'storage.k8s.io',
  version: 'v1',
  resource: 'storageclasses',
  kind: 'StorageClass',
  namespaced: false,
};

/**
 * Index of pods by the claims they use (`namespace/claimName`), per controller: shared informers
 * refuse a second indexer of the same name.
 */
export const BY_CLAIM = 'pvbinder/byClaim';

export function claimsOfPod(obj: KubeObject): string[] {
  const pod = obj as unknown as Pod;
  const ns = pod.metadata?.namespace ?? '';
  return (pod.spec?.volumes ?? [])
    .filter((v) => v.persistentVolumeClaim)
    .map((v) => `${ns}/${v.persistentVolumeClaim?.claimName}`);
}

/**
 * The node a claim is for: its selected-node annotation, else the node of a pod that uses it and is
 * bound to a node but not finished (what the scheduler's VolumeBinding plugin would select).
 */
export function claimNode(pvc: PersistentVolumeClaim, pods: Lister, index = BY_CLAIM): string | undefined {
  const selected = pvc.metadata?.annotations?.[ANN_SELECTED_NODE];
  if (selected) return selected;
  const key = `${pvc.metadata?.namespace}/${pvc.metadata?.name}`;
  for (const o of pods.byIndex(index, key)) {
    const pod = o as unknown as Pod;
    const phase = pod.status?.phase;
    if (pod.spec?.nodeName && !pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed')
      return pod.spec.nodeName;
  }
  return undefined;
}

/** The node object, or a stand-in carrying the usual hostname label when the cache has none. */
export function nodeOrStandIn(nodes: Lister, name: string): Node {
  return (
    (nodes.get(name) as unknown as Node | undefined) ?? {
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    }
  );
}

/** The default StorageClass: annotated is-default-class "true"; the newest when several are. */
export function defaultClass(classes: Lister): StorageClass | undefined {
  const all = (classes.list() as unknown as StorageClass[]).filter(
    (c) => c.metadata?.annotations?.[ANN_DEFAULT_CLASS] === 'true',
  );
  all.sort(
    (a, b) =>
      (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? '') ||
      (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  );
  return all[0];
}
