/**
 * ControllerRefManager.ClaimPods (pkg/controller/controller_ref_manager.go): of the objects a
 * controller sees, the ones it owns — keeping those it controls that still match its selector,
 * adopting orphans that match (unless it is being deleted), releasing those that stopped matching.
 * Adoption and release are JSON patches guarded by a `test` of the object's current state.
 */
import type { Selector } from '../../api/labels.ts';
import type { KubeObject, ResourceRef, RestClient } from '../../client/types.ts';
import { controllerRefOf, isNotFound, newControllerRef, type OwnerReference } from './podutil.ts';

export interface ClaimOptions {
  client: RestClient;
  /** The kind of the objects claimed (e.g. PODS). */
  ref: ResourceRef;
  owner: KubeObject;
  /** The owner's kind. */
  ownerRef: ResourceRef;
  selector: Selector;
  /** Extra condition for a match (e.g. a StatefulSet's pod naming). */
  match?: (obj: KubeObject) => boolean;
  /** Asked once before the first adoption: may the owner adopt (is it not being deleted)? */
  canAdopt?: () => Promise<boolean>;
  /** A finalizer to add when adopting (the job tracking finalizer). */
  adoptFinalizer?: string;
}

/** Returns the owned objects (adopted ones as patched); throws the first failed adoption or release. */
export async function claimObjects<T extends KubeObject>(objs: readonly T[], o: ClaimOptions): Promise<T[]> {
  const uid = o.owner.metadata.uid;
  const matches = (obj: KubeObject) => o.selector.matches(obj.metadata.labels) && (o.match?.(obj) ?? true);
  const ownerDeleting = !!o.owner.metadata.deletionTimestamp;
  const claimed: T[] = [];
  let adoptOk: boolean | undefined;
  let firstErr: unknown;
  for (const obj of objs) {
    const ref = controllerRefOf(obj);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches(obj)) {
        claimed.push(obj);
        continue;
      }
      if (ownerDeleting || obj.metadata.deletionTimestamp) continue;
      try {
        await release(o, obj);
      } catch (err) {
        if (!isNotFound(err)) firstErr ??= err;
      }
      continue;
    }
    if (ownerDeleting || obj.metadata.deletionTimestamp || !matches(obj)) continue;
    adoptOk ??= o.canAdopt ? await o.canAdopt() : true;
    if (!adoptOk) continue;
    try {
      claimed.push(await adopt(o, obj));
    } catch (err) {
      if (!isNotFound(err)) firstErr ??= err;
    }
  }
  if (firstErr) throw firstErr;
  return claimed;
}

async function adopt<T extends KubeObject>(o: ClaimOptions, obj: T): Promise<T> {
  const owners = (obj.metadata.ownerReferences ?? []) as OwnerReference[];
  const ops: unknown[] = [
    { op: 'test', path: '/metadata/uid', value: obj.metadata.uid },
    { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion },
    {
      op: 'add',
      path: '/metadata/ownerReferences',
      value: [...owners, newControllerRef(o.owner, o.ownerRef)],
    },
  ];
  const finalizers = obj.metadata.finalizers ?? [];
  if (o.adoptFinalizer && !finalizers.includes(o.adoptFinalizer)) {
    ops.push({ op: 'add', path: '/metadata/finalizers', value: [...finalizers, o.adoptFinalizer] });
  }
  return o.client.patch<T>(o.ref, obj.metadata.namespace ?? '', obj.metadata.name ?? '', 'json', ops);
}

async function release(o: ClaimOptions, obj: KubeObject): Promise<void> {
  const owners = (obj.metadata.ownerReferences ?? []) as OwnerReference[];
  const i = owners.findIndex((r) => r.uid === o.owner.metadata.uid);
  if (i < 0) return;
  await o.client.patch(o.ref, obj.metadata.namespace ?? '', obj.metadata.name ?? '', 'json', [
    { op: 'test', path: `/metadata/ownerReferences/${i}/uid`, value: o.owner.metadata.uid },
    { op: 'remove', path: `/metadata/ownerReferences/${i}` },
  ]);
}
