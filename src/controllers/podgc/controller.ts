/**
 * The pod garbage collector (kube-controller-manager's pod-garbage-collector). Every check period:
 * - terminated pods (Succeeded/Failed) beyond --terminated-pod-gc-threshold are deleted, evicted
 *   ones first, then oldest first (a threshold of 0 or less disables this);
 * - pods bound to a node that no longer exists — confirmed with the API after a quarantine, so a
 *   node that is merely not in the cache yet is not mistaken for a deleted one — are marked Failed
 *   (condition DisruptionTarget, reason DeletionByPodGC) and force-deleted, terminating or not;
 * - terminating pods on a NotReady node with the node.kubernetes.io/out-of-service taint, and
 *   terminating pods never scheduled, are force-deleted.
 */

import { NODES, PODS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject, Lister } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import type { Pod, PodCondition } from '../endpoints/pods.ts';

export const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service';
const KEY = 'gc';

export interface PodGcControllerOptions {
  /** How often the checks run, ms (gcCheckPeriod, 20 s). */
  checkPeriodMs?: number;
  /** How long a node must be missing from the cache before the API is asked, ms (quarantineTime, 40 s). */
  quarantineMs?: number;
  /** Deletions in flight at once (20). */
  concurrency?: number;
}

interface Node extends KubeObject {
  spec?: { taints?: { key: string; effect?: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

export class PodGcController implements Controller {
  readonly name = 'pod-garbage-collector';
  readonly workers = 1;
  readonly #checkMs: number;
  readonly #quarantineMs: number;
  readonly #concurrency: number;
  #ctx!: ControllerContext;
  #pods!: Lister<Pod>;
  #nodes!: Lister<Node>;
  /** Node name → when pods bound to it were first seen with no such node in the cache. */
  readonly #missingSince = new Map<string, number>();

  constructor(opts: PodGcControllerOptions = {}) {
    this.#checkMs = opts.checkPeriodMs ?? 20_000;
    this.#quarantineMs = opts.quarantineMs ?? 40_000;
    this.#concurrency = opts.concurrency ?? 20;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#pods = ctx.informers.informer<Pod>(PODS).lister();
    this.#nodes = ctx.informers.informer<Node>(NODES).lister();
    ctx.queue.add(KEY);
  }

  async reconcile(): Promise<ReconcileResult | undefined> {
    const pods = this.#pods.list();
    const threshold = this.#ctx.options.terminatedPodGcThreshold;
    if (threshold > 0) await this.#gcTerminated(pods, threshold);
    await this.#gcTerminating(pods);
    const nextCheck = await this.#gcOrphaned(pods);
    await this.#gcUnscheduledTerminating(pods);
    return { requeueAfterMs: Math.min(this.#checkMs, nextCheck) };
  }

  async #gcTerminated(pods: Pod[], threshold: number): Promise<void> {
    const terminated = pods.filter((p) => {
      const phase = p.status?.phase;
      return phase !== undefined && phase !== 'Pending' && phase !== 'Running' && phase !== 'Unknown';
    });
    const count = terminated.length - threshold;
    if (count <= 0) return;
    terminated.sort(byEvictionAndCreation);
    this.#ctx.log.info({ count, threshold }, 'garbage collecting terminated pods');
    await this.#each(terminated.slice(0, count), (p) => this.#markFailedAndDelete(p));
  }

  /** Terminating pods on NotReady nodes taken out of service. */
  async #gcTerminating(pods: Pod[]): Promise<void> {
    const outOfService = new Set(
      this.#nodes
        .list()
        .filter(
          (n) =>
            !isNodeReady(n) &&
            (n.spec?.taints ?? []).some((t) => t.key === OUT_OF_SERVICE_TAINT && t.effect === 'NoExecute'),
        )
        .map((n) => n.metadata.name ?? ''),
    );
    if (outOfService.size === 0) return;
    const victims = pods.filter(
      (p) => p.metadata.deletionTimestamp && outOfService.has(p.spec?.nodeName ?? ''),
    );
    await this.#each(victims, (p) => this.#markFailedAndDelete(p));
  }

  /** Pods bound to nodes that are gone. Returns ms until the next quarantine ends (Infinity: none). */
  async #gcOrphaned(pods: Pod[]): Promise<number> {
    const now = this.#ctx.clock.now();
    const missing = new Set<string>();
    for (const p of pods) {
      const node = p.spec?.nodeName;
      if (node && !this.#nodes.get(node)) missing.add(node);
    }
    for (const name of this.#missingSince.keys()) if (!missing.has(name)) this.#missingSince.delete(name);
    let next = Number.POSITIVE_INFINITY;
    const deleted = new Set<string>();
    for (const name of missing) {
      const since = this.#missingSince.get(name);
      if (since === undefined) {
        this.#missingSince.set(name, now);
        next = Math.min(next, this.#quarantineMs);
        continue;
      }
      if (now - since < this.#quarantineMs) {
        next = Math.min(next, this.#quarantineMs - (now - since));
        continue;
      }
      // Quarantine over: ask the API, not the cache.
      try {
        await this.#ctx.client.get(NODES, '', name);
        this.#missingSince.delete(name);
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
        deleted.add(name);
      }
    }
    if (deleted.size === 0) return next;
    const orphans = pods.filter((p) => deleted.has(p.spec?.nodeName ?? ''));
    this.#ctx.log.info({ nodes: [...deleted], pods: orphans.length }, 'deleting pods of deleted nodes');
    await this.#each(orphans, (p) =>
      this.#markFailedAndDelete(p, {
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'DeletionByPodGC',
        message: 'PodGC: node no longer exists',
      }),
    );
    return next;
  }

  async #gcUnscheduledTerminating(pods: Pod[]): Promise<void> {
    const victims = pods.filter((p) => p.metadata.deletionTimestamp && !p.spec?.nodeName);
    await this.#each(victims, (p) => this.#markFailedAndDelete(p));
  }

  /** Marks a pod that is not finished Failed (with `condition`), then deletes it at once. */
  async #markFailedAndDelete(pod: Pod, condition?: PodCondition): Promise<void> {
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const phase = pod.status?.phase;
    try {
      if (phase !== 'Succeeded' && phase !== 'Failed') {
        const status: Record<string, unknown> = { phase: 'Failed' };
        if (condition) {
          const now = new Date(this.#ctx.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
          status.conditions = [
            ...(pod.status?.conditions ?? []).filter((c) => c.type !== condition.type),
            { ...condition, lastTransitionTime: now },
          ];
        }
        await this.#ctx.client.patch(PODS, ns, name, 'merge', { status }, { subresource: 'status' });
      }
      await this.#ctx.client.delete(PODS, ns, name, {
        gracePeriodSeconds: 0,
        preconditions: pod.metadata.uid ? { uid: pod.metadata.uid } : undefined,
      });
    } catch (err) {
      if (isApiError(err, 404) || isApiError(err, 409)) return;
      throw err;
    }
  }

  /** Runs `fn` over `items`, a few at a time; throws the first failure after all ran. */
  async #each<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
    const errors: unknown[] = [];
    for (let i = 0; i < items.length; i += this.#concurrency) {
      await Promise.all(items.slice(i, i + this.#concurrency).map((x) => fn(x).catch((e) => errors.push(e))));
    }
    if (errors.length > 0) throw errors[0];
  }
}

function isNodeReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function byEvictionAndCreation(a: Pod, b: Pod): number {
  const ea = isEvicted(a);
  const eb = isEvicted(b);
  if (ea !== eb) return ea ? -1 : 1;
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = a.metadata.name ?? '';
  const nb = b.metadata.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function isEvicted(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' && pod.status.reason === 'Evicted';
}
