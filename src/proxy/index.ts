/** kube-proxy (iptables: skiff's own SKIFF- chains; nftables: skiff's own table) and ServiceLB. */
export { CHAIN_PREFIX } from './chains.ts';
export { type CleanupResult, cleanupRules } from './cleanup.ts';
export {
  ExecIptablesRunner,
  type ExecRunnerOptions,
  IptablesError,
  type IptablesRunner,
} from './iptables.ts';
export {
  cleanupNftables,
  ExecNftRunner,
  type NftCleanupResult,
  NftError,
  NftProxier,
  type NftRunner,
} from './nftables/index.ts';
export { Proxier, type ProxierOptions } from './proxier.ts';
export { KubeProxy, type KubeProxyOptions } from './proxy.ts';
export { desiredIngress, nodeIngressIPs, ServiceLBController, type ServiceLBOptions } from './servicelb.ts';
export {
  DEFAULT_PROXY_MODE,
  InvalidProxyModeError,
  PROXY_MODES,
  type ProxyMode,
  parseProxyMode,
  type ServiceProxier,
  type SyncResult,
} from './types.ts';
