/**
 * The service account controller (kube-controller-manager's serviceaccount-controller): every active
 * namespace has a `default` ServiceAccount; one that is deleted is made again.
 */

import { NAMESPACES, SERVICE_ACCOUNTS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject, Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';

export interface ServiceAccountControllerOptions {
  /** The accounts every namespace gets (default ['default']). */
  serviceAccounts?: string[];
  /** Worker count (default 2). */
  workers?: number;
}

export class ServiceAccountController implements Controller {
  readonly name = 'serviceaccount-controller';
  readonly workers: number;
  readonly #accounts: string[];
  #ctx!: ControllerContext;
  #namespaces!: Lister;
  #accountsLister!: Lister;

  constructor(opts: ServiceAccountControllerOptions = {}) {
    this.#accounts = opts.serviceAccounts ?? ['default'];
    this.workers = opts.workers ?? 2;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    const namespaces = ctx.informers.informer(NAMESPACES);
    const accounts = ctx.informers.informer(SERVICE_ACCOUNTS);
    this.#namespaces = namespaces.lister();
    this.#accountsLister = accounts.lister();
    const enqueueNamespace = (ns: KubeObject) => ctx.queue.add(ns.metadata.name ?? '');
    namespaces.addEventHandler({ onAdd: enqueueNamespace, onUpdate: (_old, ns) => enqueueNamespace(ns) });
    accounts.addEventHandler({
      onDelete: (sa) => {
        if (this.#accounts.includes(sa.metadata.name ?? '')) ctx.queue.add(sa.metadata.namespace ?? '');
      },
    });
  }

  async reconcile(namespace: string): Promise<ReconcileResult | undefined> {
    const ns = this.#namespaces.get(namespace) as (KubeObject & { status?: { phase?: string } }) | undefined;
    if (!ns || ns.metadata.deletionTimestamp) return undefined;
    if ((ns.status?.phase ?? 'Active') !== 'Active') return undefined;
    for (const name of this.#accounts) {
      if (this.#accountsLister.get(`${namespace}/${name}`)) continue;
      try {
        await this.#ctx.client.create(SERVICE_ACCOUNTS, namespace, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name, namespace },
        });
      } catch (err) {
        if (isApiError(err, 409)) continue;
        // The namespace went away or started terminating meanwhile: nothing to do.
        if (isApiError(err, 404) || isNamespaceTerminating(err)) return undefined;
        throw err;
      }
    }
    return undefined;
  }
}

/** A 403 whose cause is NamespaceTerminating (creates into a namespace being deleted). */
export function isNamespaceTerminating(err: unknown): boolean {
  return isApiError(err, 403) && (err.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}
