/** NodeName: a pod that names a node in spec.nodeName fits only that node. */
import type { CycleState } from '../framework/cycle_state.ts';
import { ActionType, type ClusterEvent, type FilterPlugin } from '../framework/interface.ts';
import type { NodeInfo } from '../framework/nodeinfo.ts';
import { type MaybeStatus, Status } from '../framework/status.ts';
import type { Pod } from '../types.ts';
import { Names } from './names.ts';

export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

export class NodeName implements FilterPlugin {
  readonly name = Names.NodeName;

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const want = pod.spec?.nodeName;
    if (!want || want === nodeInfo.name) return undefined;
    return Status.unresolvable(ERR_REASON_NODE_NAME);
  }

  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'Node', actions: ActionType.Add }];
  }
}
