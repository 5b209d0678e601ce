/**
 * Serves custom resources as their CustomResourceDefinitions come and go, as
 * apiextensions-apiserver does: each served version joins the catalog (and so discovery and the
 * REST handlers), the CRD's status reports NamesAccepted and Established, and deleting a CRD deletes
 * its custom resources before the CRD itself goes (the customresourcecleanup finalizer).
 */
import { ApiError } from '../../api/errors.ts';
import type { Logger } from '../../util/log.ts';
import type { Catalog } from '../catalog.ts';
import { type KubeObject, rfc3339 } from '../object.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceDef } from '../resource.ts';
import { type Crd, type CrdTools, customResourceDef, isCrd } from './resources.ts';

export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export interface CrdManagerOptions {
  registry: Registry;
  catalog: Catalog;
  tools: CrdTools;
  log: Logger;
  now: () => number;
  /** Called after a custom resource stops being served (to drop its watch cache). */
  onRemoved?: (group: string, resource: string) => void;
}

export class CrdManager {
  readonly #o: CrdManagerOptions;
  /** CRD name → the group/resource it registered. */
  readonly #served = new Map<string, { group: string; resource: string }>();
  constructor(opts: CrdManagerOptions) {
    this.#o = opts;
  }

  get #crdDef(): ResourceDef {
    const def = this.#o.catalog.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    if (!def) throw new Error('customresourcedefinitions is not registered');
    return def;
  }

  /** Loads every CRD, then follows changes until `signal` aborts. Resolves once the initial load is done. */
  async start(signal: AbortSignal): Promise<void> {
    const list = await this.#o.registry.list(this.#crdDef, '');
    for (const crd of list.items) await this.#reconcile(crd);
    const events = this.#o.registry.watch(this.#crdDef, '', {
      resourceVersion: list.metadata.resourceVersion,
      signal,
    });
    void (async () => {
      for await (const e of events) {
        if (signal.aborted) return;
        try {
          if (e.type === 'ADDED' || e.type === 'MODIFIED') await this.#reconcile(e.object as KubeObject);
          else if (e.type === 'DELETED') this.#unserve((e.object as KubeObject).metadata.name ?? '');
          else if (e.type === 'ERROR') {
            this.#o.log.warn({ status: e.object }, 'CRD watch ended; restarting');
            if (!signal.aborted) void this.start(signal);
            return;
          }
        } catch (err) {
          this.#o.log.warn({ err, crd: (e.object as KubeObject).metadata?.name }, 'reconciling a CRD failed');
        }
      }
    })();
  }

  #unserve(name: string): void {
    const served = this.#served.get(name);
    if (!served) return;
    this.#o.catalog.remove(served.group, served.resource);
    this.#served.delete(name);
    this.#o.onRemoved?.(served.group, served.resource);
  }

  async #reconcile(obj: KubeObject): Promise<void> {
    const name = obj.metadata.name ?? '';
    if (!isCrd(obj)) return;
    if (obj.metadata.deletionTimestamp) {
      await this.#cleanup(obj);
      return;
    }
    this.#serve(obj);
    await this.#updateStatus(obj);
    void name;
  }

  #serve(crd: Crd): void {
    const name = crd.metadata.name ?? '';
    const prev = this.#served.get(name);
    if (prev) this.#o.catalog.remove(prev.group, prev.resource);
    const served = crd.spec.versions.filter((v) => v.served);
    const storage = crd.spec.versions.find((v) => v.storage);
    // The storage version first, then the others in the CRD's order.
    const ordered = [...served].sort((a, b) => Number(b === storage) - Number(a === storage));
    for (const v of ordered) {
      this.#o.catalog.add(customResourceDef(crd, v, this.#o.tools));
    }
    this.#o.catalog.setVersionOrder(crd.spec.group, kubeAwareOrder(served.map((v) => v.name)));
    this.#served.set(name, { group: crd.spec.group, resource: crd.spec.names.plural });
  }

  async #updateStatus(crd: Crd): Promise<void> {
    const status = (crd.status ?? {}) as {
      conditions?: { type: string; status: string }[];
      acceptedNames?: unknown;
      storedVersions?: string[];
    };
    const established = status.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    const storage = crd.spec.versions.find((v) => v.storage)?.name;
    const stored = new Set(status.storedVersions ?? []);
    if (established && storage && stored.has(storage)) return;
    const now = rfc3339(this.#o.now());
    const names = { ...crd.spec.names, listKind: crd.spec.names.listKind ?? `${crd.spec.names.kind}List` };
    if (!names.singular) names.singular = crd.spec.names.kind.toLowerCase();
    if (storage) stored.add(storage);
    try {
      await this.#o.registry.patch(
        this.#crdDef,
        '',
        crd.metadata.name ?? '',
        (current) => {
          if (!current)
            throw ApiError.notFound(
              { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
              '',
            );
          current.status = {
            conditions: [
              {
                type: 'NamesAccepted',
                status: 'True',
                lastTransitionTime: now,
                reason: 'NoConflicts',
                message: 'no conflicts found',
              },
              {
                type: 'Established',
                status: 'True',
                lastTransitionTime: now,
                reason: 'InitialNamesAccepted',
                message: 'the initial names have been accepted',
              },
            ],
            acceptedNames: names,
            storedVersions: [...stored],
          };
          return current;
        },
        { subresource: 'status', user: 'system:apiextensions' },
      );
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  /** Deletes every custom resource of a terminating CRD, then releases the CRD. */
  async #cleanup(crd: Crd): Promise<void> {
    const finalizers = crd.metadata.finalizers ?? [];
    if (!finalizers.includes(CLEANUP_FINALIZER)) {
      this.#unserve(crd.metadata.name ?? '');
      return;
    }
    const storage = crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0];
    if (storage) {
      const def = customResourceDef(crd, storage, this.#o.tools);
      const items = await this.#o.registry.list(def, '');
      for (const item of items.items) {
        try {
          await this.#o.registry.delete(def, item.metadata.namespace ?? '', item.metadata.name ?? '', {
            user: 'system:apiextensions',
          });
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
      const left = await this.#o.registry.list(def, '', { limit: 1 });
      if (left.items.length > 0) return; // finalizers of their own still pending; a later event retries
    }
    this.#unserve(crd.metadata.name ?? '');
    await this.#o.registry.patch(
      this.#crdDef,
      '',
      crd.metadata.name ?? '',
      (current) => {
        if (!current)
          throw ApiError.notFound(
            { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
            '',
          );
        current.metadata.finalizers = (current.metadata.finalizers ?? []).filter(
          (f) => f !== CLEANUP_FINALIZER,
        );
        return current;
      },
      { user: 'system:apiextensions' },
    );
  }
}

/**
 * Kubernetes' version priority (version.CompareKubeAwareVersionStrings): GA before beta before alpha,
 * higher numbers first, then anything else alphabetically.
 */
export function kubeAwareOrder(versions: string[]): string[] {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return { rank: 3, major: 0, minor: 0, v };
    const rank = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return { rank, major: Number(m[1]), minor: Number(m[3] ?? 0), v };
  };
  return [...versions].sort((a, b) => {
    const x = parse(a);
    const y = parse(b);
    return x.rank - y.rank || y.major - x.major || y.minor - x.minor || (x.v < y.v ? -1 : x.v > y.v ? 1 : 0);
  });
}
