/**
 * controller.BaseControllerRefManager: a controller claims the objects it manages — the ones whose
 * controller reference names it — and keeps that set in line with its selector:
 *
 * - owned and matching: kept;
 * - owned but no longer matching: released (its controller reference removed), unless the owner is
 *   being deleted;
 * - an orphan that matches, in the owner's namespace, not being deleted: adopted (a controller
 *   reference to the owner added), after `canAdopt` confirmed once — with a read from the API
 *   server, not the cache — that the owner still exists and is not being deleted;
 * - owned by another controller: ignored.
 *
 * Adoption and release are JSON patches guarded by a `test` of the object's uid (and, to release,
 * of the reference's position), so a stale cache can only make them fail, never write wrongly.
 */
import { ApiError } from '../../api/errors.ts';
import type { Selector } from '../../api/labels.ts';
import type { KubeObject, ResourceRef, RestClient } from '../../client/types.ts';
import { controllerRefOf, newControllerRef } from './pods.ts';

export interface ControllerRefManagerOptions {
  client: RestClient;
  /** The owner (from the cache). */
  owner: KubeObject;
  ownerApiVersion: string;
  ownerKind: string;
  /** Which objects the owner selects. */
  selector: Selector;
  /** The kind of the owned objects. */
  ref: ResourceRef;
  /**
   * Throws when the owner may not adopt (gone, replaced, or being deleted). Called at most once per
   * manager, before the first adoption (controller.RecheckDeletionTimestamp).
   */
  canAdopt: () => Promise<void>;
  /** The field manager of the patches. */
  fieldManager?: string;
}

export interface ClaimResult<T> {
  /** The objects the owner manages now. */
  claimed: T[];
  /** Failed adoptions and releases (their objects are not in `claimed`). Adopted objects are as the patch returned them. */
  errors: Error[];
}

export class ControllerRefManager {
  readonly #o: ControllerRefManagerOptions;
  #canAdopt: Promise<void> | null = null;

  constructor(opts: ControllerRefManagerOptions) {
    this.#o = opts;
  }

  /** ClaimObjects: the objects of `objs` the owner manages, adopting and releasing as needed. */
  async claim<T extends KubeObject>(objs: readonly T[]): Promise<ClaimResult<T>> {
    const results = await Promise.all(
      objs.map(async (obj) => {
        try {
          return { obj: (await this.#claimOne(obj)) as T | undefined };
        } catch (err) {
          return { obj: undefined, err: err instanceof Error ? err : new Error(String(err)) };
        }
      }),
    );
    return {
      claimed: results.flatMap((r) => (r.obj ? [r.obj] : [])),
      errors: results.flatMap((r) => (r.err ? [r.err] : [])),
    };
  }

  /** The object if the owner manages it (as the adoption returned it), else undefined. */
  async #claimOne(obj: KubeObject): Promise<KubeObject | undefined> {
    const owner = this.#o.owner;
    const ref = controllerRefOf(obj);
    const matches = this.#o.selector.matches(obj.metadata.labels);
    if (ref) {
      if (ref.uid !== owner.metadata.uid) return undefined;
      if (matches) return obj;
      if (owner.metadata.deletionTimestamp) return undefined;
      await ignoreNotFound(this.#release(obj));
      return undefined;
    }
    if (owner.metadata.deletionTimestamp || !matches) return undefined;
    if (obj.metadata.deletionTimestamp) return undefined;
    if (owner.metadata.namespace && owner.metadata.namespace !== obj.metadata.namespace) return undefined;
    this.#canAdopt ??= this.#o.canAdopt();
    await this.#canAdopt;
    try {
      return await this.#adopt(obj);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  /** Adds the controller reference (the object must still be the one read: uid tested). */
  async #adopt(obj: KubeObject): Promise<KubeObject> {
    const o = this.#o;
    const ref = newControllerRef(o.owner, o.ownerApiVersion, o.ownerKind);
    const patch: unknown[] = [{ op: 'test', path: '/metadata/uid', value: obj.metadata.uid }];
    if (obj.metadata.ownerReferences?.length) {
      patch.push({ op: 'add', path: '/metadata/ownerReferences/-', value: ref });
    } else {
      patch.push({ op: 'add', path: '/metadata/ownerReferences', value: [ref] });
    }
    return o.client.patch(o.ref, obj.metadata.namespace ?? '', obj.metadata.name ?? '', 'json', patch, {
      fieldManager: o.fieldManager,
    });
  }

  /** Removes the owner's reference. */
  async #release(obj: KubeObject): Promise<void> {
    const o = this.#o;
    const refs = obj.metadata.ownerReferences ?? [];
    const i = refs.findIndex((r) => r.uid === o.owner.metadata.uid);
    if (i < 0) return;
    const patch = [
      { op: 'test', path: '/metadata/uid', value: obj.metadata.uid },
      { op: 'test', path: `/metadata/ownerReferences/${i}/uid`, value: o.owner.metadata.uid },
      { op: 'remove', path: `/metadata/ownerReferences/${i}` },
    ];
    await o.client.patch(o.ref, obj.metadata.namespace ?? '', obj.metadata.name ?? '', 'json', patch, {
      fieldManager: o.fieldManager,
    });
  }
}

async function ignoreNotFound(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return;
    throw err;
  }
}

/**
 * controller.RecheckDeletionTimestamp: a `canAdopt` that reads the owner from the API server and
 * refuses when it is gone, was replaced (another uid), or is being deleted.
 */
export function recheckDeletionTimestamp(
  client: RestClient,
  ref: ResourceRef,
  owner: KubeObject,
): () => Promise<void> {
  return async () => {
    const { namespace = '', name = '', uid } = owner.metadata;
    const fresh = await client.get(ref, namespace, name);
    if (fresh.metadata.uid !== uid) {
      throw new Error(
        `original ${ref.kind} ${namespace}/${name} is gone: got uid ${fresh.metadata.uid}, wanted ${uid}`,
      );
    }
    if (fresh.metadata.deletionTimestamp) {
      throw new Error(
        `${ref.kind} ${namespace}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`,
      );
    }
  };
}
