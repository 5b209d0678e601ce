/**
 * NodeUnschedulable: keeps pods off nodes with spec.unschedulable (cordoned), unless the pod
 * tolerates the node.kubernetes.io/unschedulable:NoSchedule taint.
 */
import type { CycleState } from '../framework/cycle_state.ts';
import { ActionType, type ClusterEvent, type FilterPlugin } from '../framework/interface.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import { type MaybeStatus, Status } from '../framework/status.ts';
import { type Pod, TAINT_NODE_UNSCHEDULABLE } from '../types.ts';
import { tolerationsTolerateTaint } from './helpers.ts';
import { Names } from './names.ts';

export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const ERR_REASON_UNKNOWN_NODE = 'node(s) had unknown conditions';

export class NodeUnschedulable implements FilterPlugin {
  readonly name = Names.NodeUnschedulable;

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    if (!nodeInfo.node) return Status.unresolvable(ERR_REASON_UNKNOWN_NODE);
    if (!nodeInfo.unschedulable) return undefined;
    const tolerates = tolerationsTolerateTaint(pod.spec?.tolerations, {
      key: TAINT_NODE_UNSCHEDULABLE,
      effect: 'NoSchedule',
    });
    return tolerates ? undefined : Status.unresolvable(ERR_REASON_UNSCHEDULABLE);
  }

  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeTaint }];
  }
}
