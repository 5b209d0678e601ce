/**
 * Informer events → cache and queue (eventhandlers.go):
 * - assigned pods (spec.nodeName set) feed the cache; their add/update/delete may make parked pods
 *   schedulable (AssignedPod events);
 * - unassigned pods whose schedulerName the scheduler serves are queued, updated, or removed;
 *   an unassigned pod the cache has assumed (binding in flight) is left alone;
 * - Succeeded/Failed pods count as deleted (kube-scheduler's pod informer excludes them);
 * - nodes feed the cache; node add/delete and scheduling-relevant updates move parked pods;
 * - namespace label changes move parked pods (namespaceSelector in pod affinity).
 */
import type { SchedulerCache } from './cache.ts';
import { ActionType, type ClusterEvent } from './framework/interface.ts';
import type { WaitingPods } from './framework/waiting_pods.ts';
import type { PriorityResolver } from './priority.ts';
import type { SchedulingQueue } from './queue.ts';
import type { SchedulerInformers } from './scheduler.ts';
import { type Node, type Pod, podKey } from './types.ts';
import { jsonEqual } from './util.ts';

export const EVENT = {
  nodeAdd: { resource: 'Node', actions: ActionType.Add, label: 'NodeAdd' },
  nodeDelete: { resource: 'Node', actions: ActionType.Delete, label: 'NodeDelete' },
  podAdd: { resource: 'AssignedPod', actions: ActionType.Add, label: 'AssignedPodAdd' },
  podUpdate: { resource: 'AssignedPod', actions: ActionType.UpdatePodLabel, label: 'AssignedPodUpdate' },
  podDelete: { resource: 'AssignedPod', actions: ActionType.Delete, label: 'AssignedPodDelete' },
  nsAdd: { resource: 'Namespace', actions: ActionType.Add, label: 'NamespaceAdd' },
  nsUpdate: { resource: 'Namespace', actions: ActionType.Update, label: 'NamespaceUpdate' },
} satisfies Record<string, ClusterEvent>;

export const assigned = (p: Pod): boolean => !!p.spec?.nodeName;

/** Succeeded and Failed pods hold no resources. */
export const terminal = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** Which scheduling-relevant parts of a node changed (as ActionType bits; 0 for none). */
export function nodeUpdateActions(a: Node, b: Node): number {
  let actions = 0;
  if (!jsonEqual(a.status?.allocatable, b.status?.allocatable)) actions |= ActionType.UpdateNodeAllocatable;
  if (!jsonEqual(a.metadata.labels, b.metadata.labels)) actions |= ActionType.UpdateNodeLabel;
  if (!jsonEqual(a.spec?.taints, b.spec?.taints) || !!a.spec?.unschedulable !== !!b.spec?.unschedulable) {
    actions |= ActionType.UpdateNodeTaint;
  }
  const cond = (n: Node) => (n.status?.conditions ?? []).map((c) => [c.type, c.status]);
  if (!jsonEqual(cond(a), cond(b))) actions |= ActionType.UpdateNodeCondition;
  return actions;
}

/** What the handlers update. */
export interface HandlerTarget {
  cache: SchedulerCache;
  queue: SchedulingQueue;
  priorities: PriorityResolver;
  /** Whether a profile serves this pod's schedulerName. */
  responsible(pod: Pod): boolean;
  waitingPods(): Iterable<WaitingPods>;
}

export function addEventHandlers(inf: SchedulerInformers, t: HandlerTarget): void {
  const norm = (p: Pod) => t.priorities.withPriority(p);
  const move = (e: ClusterEvent) => t.queue.moveAllToActiveOrBackoffQueue(e);

  const podAdded = (pod: Pod) => {
    if (assigned(pod)) {
      t.cache.addPod(pod);
      move(EVENT.podAdd);
    } else if (t.responsible(pod)) {
      t.queue.add(pod);
    }
  };
  const podUpdated = (oldPod: Pod, pod: Pod) => {
    if (assigned(oldPod)) {
      t.cache.updatePod(oldPod, pod);
      if (!jsonEqual(oldPod.metadata.labels, pod.metadata.labels)) move(EVENT.podUpdate);
    } else if (assigned(pod)) {
      // Just bound: confirms our assumed pod, or someone else bound it.
      t.cache.addPod(pod);
      t.queue.delete(pod);
      move(EVENT.podAdd);
    } else if (t.responsible(pod) && !t.cache.isAssumedPod(pod)) {
      t.queue.update(oldPod, pod);
    }
  };
  const podDeleted = (pod: Pod) => {
    if (assigned(pod)) {
      t.cache.removePod(pod);
      move(EVENT.podDelete);
      return;
    }
    t.queue.delete(pod);
    for (const w of t.waitingPods()) w.reject(podKey(pod), '', 'pod was deleted');
  };

  inf.pods.addEventHandler({
    onAdd: (raw) => {
      if (!terminal(raw)) podAdded(norm(raw));
    },
    onUpdate: (rawOld, rawNew) => {
      if (terminal(rawNew)) {
        if (!terminal(rawOld)) podDeleted(norm(rawNew));
        return;
      }
      podUpdated(norm(rawOld), norm(rawNew));
    },
    onDelete: (raw) => podDeleted(norm(raw)),
  });
  inf.nodes.addEventHandler({
    onAdd: (node) => {
      t.cache.addNode(node);
      move(EVENT.nodeAdd);
    },
    onUpdate: (oldNode, node) => {
      t.cache.updateNode(oldNode, node);
      const actions = nodeUpdateActions(oldNode, node);
      if (actions) move({ resource: 'Node', actions, label: 'NodeUpdate' });
    },
    onDelete: (node) => {
      t.cache.removeNode(node);
      move(EVENT.nodeDelete);
    },
  });
  inf.namespaces?.addEventHandler({
    onAdd: () => move(EVENT.nsAdd),
    onUpdate: (a, b) => {
      if (!jsonEqual(a.metadata.labels, b.metadata.labels)) move(EVENT.nsUpdate);
    },
  });
}
