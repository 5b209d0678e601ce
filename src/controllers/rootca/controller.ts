/**
 * The root CA certificate publisher (kube-controller-manager's root-ca-cert-publisher): every
 * namespace holds the ConfigMap `kube-root-ca.crt` with the cluster CA (`ca.crt`) that in-cluster
 * clients trust the API server with — pods get it through their kube-api-access volume. Edits to its
 * data or its description annotation are put back, and a deleted one is made again.
 */

import { CONFIG_MAPS, NAMESPACES } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject, Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { isNamespaceTerminating } from '../serviceaccount/index.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
export const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface RootCaPublisherOptions {
  /** The PEM bundle to publish (kube-controller-manager --root-ca-file; else the cluster CA). */
  rootCa: string;
  /** Worker count (default 1). */
  workers?: number;
}

type ConfigMap = KubeObject & { data?: Record<string, string> };

export class RootCaCertPublisher implements Controller {
  readonly name = 'root-ca-cert-publisher';
  readonly workers: number;
  readonly #rootCa: string;
  #ctx!: ControllerContext;
  #configMaps!: Lister<ConfigMap>;

  constructor(opts: RootCaPublisherOptions) {
    this.#rootCa = opts.rootCa;
    this.workers = opts.workers ?? 1;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    const namespaces = ctx.informers.informer(NAMESPACES);
    const configMaps = ctx.informers.informer<ConfigMap>(CONFIG_MAPS);
    this.#configMaps = configMaps.lister();
    namespaces.addEventHandler({
      onAdd: (ns) => ctx.queue.add(ns.metadata.name ?? ''),
      onUpdate: (_old, ns) => {
        if (((ns as { status?: { phase?: string } }).status?.phase ?? 'Active') === 'Active')
          ctx.queue.add(ns.metadata.name ?? '');
      },
    });
    const enqueue = (cm: KubeObject) => {
      if (cm.metadata.name === ROOT_CA_CONFIGMAP) ctx.queue.add(cm.metadata.namespace ?? '');
    };
    configMaps.addEventHandler({ onUpdate: (_old, cm) => enqueue(cm), onDelete: enqueue });
  }

  async reconcile(namespace: string): Promise<ReconcileResult | undefined> {
    if (!namespace) return undefined;
    const client = this.#ctx.client;
    const cm = this.#configMaps.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    const data = { 'ca.crt': this.#rootCa };
    if (!cm) {
      try {
        await client.create<ConfigMap>(CONFIG_MAPS, namespace, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: ROOT_CA_CONFIGMAP,
            namespace,
            annotations: { [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION },
          },
          data,
        });
      } catch (err) {
        // The namespace is gone or going: nothing to publish into.
        if (isApiError(err, 404) || isNamespaceTerminating(err)) return undefined;
        throw err;
      }
      return undefined;
    }
    const current = cm.data ?? {};
    const same =
      Object.keys(current).length === 1 &&
      current['ca.crt'] === this.#rootCa &&
      !!cm.metadata.annotations?.[DESCRIPTION_ANNOTATION];
    if (same) return undefined;
    const next = structuredClone(cm);
    next.data = data;
    next.metadata.annotations = {
      ...next.metadata.annotations,
      [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION,
    };
    try {
      await client.update(CONFIG_MAPS, namespace, next);
    } catch (err) {
      if (isApiError(err, 404)) return undefined; // deleted meanwhile: the delete event queues it again
      throw err;
    }
    return undefined;
  }
}
