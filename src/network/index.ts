/** The pod network across nodes (flannel host-gw: routes to every node's podCIDR, masquerade out). */
export {
  type CommandRunner,
  cleanupPodNetwork,
  type NetworkCleanupResult,
  type NetworkRecord,
  networkRecordPath,
  PodNetwork,
  type PodNetworkOptions,
  type RouteSyncResult,
  readNetworkRecord,
} from './hostgw.ts';
export { NET_CHAIN_PREFIX, netChains, ROUTE_PROTO } from './rules.ts';
