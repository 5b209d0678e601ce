/**
 * Writes the node controllers share: swapping taints on a node and marking a node's pods not ready,
 * each with Kubernetes' conflict handling (re-read and retry).
 */

import { NODES, PODS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { Lister, RestClient } from '../../client/types.ts';
import { rfc3339, swapTaints } from './taints.ts';
import type { Node, NodeCondition, Pod, Taint } from './types.ts';

const RETRIES = 5;

/** The node's condition of `type`. */
export function nodeCondition(
  node: { status?: Node['status'] } | undefined,
  type: string,
): NodeCondition | undefined {
  return node?.status?.conditions?.find((c) => c.type === type);
}

/**
 * controllerutil.SwapNodeControllerTaint: adds `add` (stamped with timeAdded `now`) and removes
 * `remove` on node `name`. Reads the node from `lister` first, then from the API after a conflict.
 * Returns false when the node is gone or every attempt failed.
 */
export async function swapNodeTaints(
  client: RestClient,
  lister: Lister<Node>,
  name: string,
  add: readonly Taint[],
  remove: readonly Taint[],
  now: number,
): Promise<boolean> {
  let node: Node | undefined = lister.get(name);
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    try {
      if (!node || attempt > 0) node = await client.get<Node>(NODES, '', name);
      const taints = swapTaints(node.spec?.taints, add, remove, rfc3339(now));
      if (!taints) return true;
      const next = structuredClone(node);
      next.spec = { ...next.spec, taints };
      if (taints.length === 0) delete next.spec.taints;
      await client.update(NODES, '', next);
      return true;
    } catch (err) {
      if (isApiError(err, 404)) return false;
      if (attempt === RETRIES - 1) throw err;
    }
  }
  return false;
}

/**
 * controllerutil.MarkPodsNotReady: sets the Ready condition of each pod on `nodeName` to False.
 * Returns the pods it changed; throws the first failure (other than a pod that is gone) after
 * trying them all.
 */
export async function markPodsNotReady(
  client: RestClient,
  pods: readonly Pod[],
  nodeName: string,
  now: number,
): Promise<Pod[]> {
  const changed: Pod[] = [];
  let failure: unknown;
  for (const p of pods) {
    if (p.spec?.nodeName !== nodeName) continue;
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
    if (!ready || ready.status === 'False') continue;
    const pod = structuredClone(p);
    for (const c of pod.status?.conditions ?? []) {
      if (c.type !== 'Ready') continue;
      c.status = 'False';
      c.lastTransitionTime = rfc3339(now);
    }
    try {
      await client.update(PODS, pod.metadata.namespace ?? '', pod, { subresource: 'status' });
      changed.push(pod);
    } catch (err) {
      if (!isApiError(err, 404)) failure ??= err;
    }
  }
  if (failure) throw failure;
  return changed;
}
