/** NodePorts: a pod's hostPorts must be free on the node (same protocol and port, overlapping IP). */
import { type CycleState, type StateData, StateReader } from '../framework/cycle_state.ts';
import {
  ActionType,
  type ClusterEvent,
  type FilterPlugin,
  type PreFilterPlugin,
  type PreFilterReturn,
} from '../framework/interface.ts';
import { type NodeInfo, podHostPorts } from '../framework/nodeinfo.ts';
import { type MaybeStatus, Status } from '../framework/status.ts';
import type { Pod } from '../types.ts';
import { Names } from './names.ts';

export const ERR_REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
const KEY = `PreFilter${Names.NodePorts}`;

class PortsState implements StateData {
  readonly ports: ReturnType<typeof podHostPorts>;
  constructor(ports: ReturnType<typeof podHostPorts>) {
    this.ports = ports;
  }
  clone(): StateData {
    return this;
  }
}

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  readonly name = Names.NodePorts;
  readonly #state = new StateReader<PortsState>(KEY);

  preFilter(state: CycleState, pod: Pod): PreFilterReturn | undefined {
    const ports = podHostPorts(pod);
    if (ports.length === 0) return { status: Status.skip() };
    state.write(KEY, new PortsState(ports));
    return undefined;
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): MaybeStatus {
    const ports = this.#state.read(state)?.ports ?? podHostPorts(pod);
    if (nodeInfo.usedPorts.size === 0) return undefined;
    for (const p of ports) {
      if (nodeInfo.usedPorts.checkConflict(p.hostIP, p.protocol, p.hostPort))
        return Status.unschedulable(ERR_REASON_PORTS);
    }
    return undefined;
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'AssignedPod', actions: ActionType.Delete },
      { resource: 'Node', actions: ActionType.Add },
    ];
  }
}
