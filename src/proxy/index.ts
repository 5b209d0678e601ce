/** kube-proxy (iptables, skiff's own SKIFF- chains) and ServiceLB. */
export { CHAIN_PREFIX } from './chains.ts';
export { type CleanupResult, cleanupRules } from './cleanup.ts';
export {
  ExecIptablesRunner,
  type ExecRunnerOptions,
  IptablesError,
  type IptablesRunner,
} from './iptables.ts';
export { Proxier, type ProxierOptions, type SyncResult } from './proxier.ts';
export { KubeProxy, type KubeProxyOptions } from './proxy.ts';
export { desiredIngress, nodeIngressIPs, ServiceLBController, type ServiceLBOptions } from './servicelb.ts';
