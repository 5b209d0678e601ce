/**
 * The taint eviction controller (kube-controller-manager's taint-eviction-controller, once the node
 * lifecycle controller's "taint manager"): a pod on a node with NoExecute taints it does not tolerate
 * is deleted at once; one that tolerates them all, some for a limited tolerationSeconds, is deleted
 * when the shortest of those runs out — counted from the taint's timeAdded (from when this controller
 * first saw the taint, for taints without one). Before deleting, the pod gets the DisruptionTarget
 * condition (reason DeletionByTaintManager). Deletion is graceful: the node's kubelet finishes it.
 *
 * Keys are pods (`namespace/name`). A change of a node's NoExecute taints queues the node's pods; a
 * pod bound to a node or whose tolerations change is queued; a pod to be deleted later is requeued
 * for that moment.
 */

import { NODES, PODS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { Informer, Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { EventRecorder } from './events.ts';
import { podsOnNode, usePodsByNode } from './pods.ts';
import { matchingTolerations, noExecuteTaints, parseTime, rfc3339 } from './taints.ts';
import type { Node, Pod, Taint } from './types.ts';

const RETRIES = 5;

export class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction-controller';
  readonly workers = 8;
  #ctx!: ControllerContext;
  #nodes!: Lister<Node>;
  #pods!: Informer<Pod>;
  #events!: EventRecorder;
  /** When taints without timeAdded were first seen: `node\0key\0effect` → ms. */
  readonly #firstSeen = new Map<string, number>();

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#events = new EventRecorder(ctx.client, ctx.clock, ctx.log, this.name);
    const nodes = ctx.informers.informer<Node>(NODES);
    this.#nodes = nodes.lister();
    this.#pods = ctx.informers.informer<Pod>(PODS);
    usePodsByNode(this.#pods);
    nodes.addEventHandler({
      onAdd: (n) => {
        if (noExecuteTaints(n.spec?.taints).length > 0) this.#queueNode(n);
      },
      onUpdate: (a, b) => {
        if (!sameTaints(noExecuteTaints(a.spec?.taints), noExecuteTaints(b.spec?.taints))) this.#queueNode(b);
      },
      onDelete: (n) => {
        const prefix = `${n.metadata.name ?? ''}\0`;
        for (const k of this.#firstSeen.keys()) if (k.startsWith(prefix)) this.#firstSeen.delete(k);
      },
    });
    this.#pods.addEventHandler({
      onAdd: (p) => {
        if (p.spec?.nodeName) ctx.queue.add(podKey(p));
      },
      onUpdate: (a, b) => {
        if (!b.spec?.nodeName) return;
        if (
          a.spec?.nodeName !== b.spec.nodeName ||
          JSON.stringify(a.spec?.tolerations ?? []) !== JSON.stringify(b.spec.tolerations ?? [])
        ) {
          ctx.queue.add(podKey(b));
        }
      },
    });
  }

  #queueNode(node: Node): void {
    for (const p of podsOnNode(this.#pods, node.metadata.name ?? '')) this.#ctx.queue.add(podKey(p));
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const pod = this.#pods.lister().get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName || pod.metadata.deletionTimestamp) return undefined;
    const node = this.#nodes.get(nodeName);
    if (!node) return undefined;
    const taints = noExecuteTaints(node.spec?.taints);
    if (taints.length === 0) return undefined;
    const now = this.#ctx.clock.now();
    const { allTolerated, used } = matchingTolerations(taints, pod.spec?.tolerations);
    if (!allTolerated) {
      this.#ctx.log.debug({ pod: key, node: nodeName }, 'pod does not tolerate a NoExecute taint; deleting');
      await this.#evict(pod);
      return undefined;
    }
    let deadline = Number.POSITIVE_INFINITY;
    taints.forEach((taint, i) => {
      const seconds = used[i]?.tolerationSeconds;
      if (seconds === undefined || seconds === null) return;
      const since = parseTime(taint.timeAdded) ?? this.#seen(nodeName, taint, now);
      deadline = Math.min(deadline, seconds <= 0 ? now : since + seconds * 1000);
    });
    if (!Number.isFinite(deadline)) return undefined;
    if (now < deadline) return { requeueAfterMs: deadline - now };
    this.#ctx.log.debug(
      { pod: key, node: nodeName },
      'pod tolerated a NoExecute taint long enough; deleting',
    );
    await this.#evict(pod);
    return undefined;
  }

  #seen(node: string, taint: Taint, now: number): number {
    const k = `${node}\0${taint.key}\0${taint.effect}`;
    let t = this.#firstSeen.get(k);
    if (t === undefined) {
      t = now;
      this.#firstSeen.set(k, t);
    }
    return t;
  }

  /** addConditionAndDeletePod */
  async #evict(pod: Pod): Promise<void> {
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const uid = pod.metadata.uid;
    void this.#events.event(
      { kind: 'Pod', name, namespace: ns, uid },
      'Normal',
      'TaintManagerEviction',
      `Marking for deletion Pod ${ns}/${name}`,
    );
    for (let attempt = 0; ; attempt++) {
      try {
        const current = await this.#ctx.client.get<Pod>(PODS, ns, name);
        if (uid && current.metadata.uid !== uid) return;
        if (current.metadata.deletionTimestamp) return;
        const conditions = current.status?.conditions ?? [];
        const target = conditions.find((c) => c.type === 'DisruptionTarget');
        if (target?.status !== 'True' || target.reason !== 'DeletionByTaintManager') {
          const next = structuredClone(current);
          const cond = {
            type: 'DisruptionTarget',
            status: 'True',
            reason: 'DeletionByTaintManager',
            message: 'Taint manager: deleting due to NoExecute taint',
            lastTransitionTime: rfc3339(this.#ctx.clock.now()),
          };
          next.status = {
            ...next.status,
            conditions: [...conditions.filter((c) => c.type !== 'DisruptionTarget'), cond],
          };
          await this.#ctx.client.update(PODS, ns, next, { subresource: 'status' });
        }
        await this.#ctx.client.delete(PODS, ns, name, uid ? { preconditions: { uid } } : {});
        this.#ctx.log.info(
          { pod: `${ns}/${name}`, node: pod.spec?.nodeName },
          'deleted pod for a NoExecute taint',
        );
        return;
      } catch (err) {
        if (isApiError(err, 404)) return;
        if (attempt + 1 >= RETRIES) throw err;
      }
    }
  }
}

function podKey(p: Pod): string {
  return `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
}

function sameTaints(a: Taint[], b: Taint[]): boolean {
  if (a.length !== b.length) return false;
  return a.every(
    (t, i) =>
      t.key === b[i]?.key &&
      (t.value ?? '') === (b[i]?.value ?? '') &&
      t.effect === b[i]?.effect &&
      (t.timeAdded ?? '') === (b[i]?.timeAdded ?? ''),
  );
}
