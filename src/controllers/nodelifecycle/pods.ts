/** The pods-by-node index the node controllers share on the pod informer (as kube-controller-manager's). */
import type { Informer } from '../../client/types.ts';
import { NODE_NAME_INDEX, type Pod } from './types.ts';

/** Adds the spec.nodeName index to the pod informer unless another controller added it already. */
export function usePodsByNode(pods: Informer<Pod>): void {
  try {
    pods.addIndexers({ [NODE_NAME_INDEX]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) });
  } catch (err) {
    if (!(err instanceof Error && err.message.includes('already exists'))) throw err;
  }
}

/** The pods bound to `nodeName`, from the cache. */
export function podsOnNode(pods: Informer<Pod>, nodeName: string): Pod[] {
  return pods.lister().byIndex(NODE_NAME_INDEX, nodeName);
}
