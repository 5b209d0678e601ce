/** Cluster DNS: the server, its record index, and the kube-dns Service that routes to it. */
export { answerCluster, answerReverse, DNS_SCHEMA_VERSION } from './cluster.ts';
export { ForwardError, Forwarder } from './forward.ts';
export { DnsMetrics } from './metrics.ts';
export { ClusterRecords } from './records.ts';
export { hostUpstreams, parseResolvConf, parseUpstream, type Upstream } from './resolvconf.ts';
export { DnsListenError, DnsServer, type DnsServerOptions } from './server.ts';
export {
  DEFAULT_DNS_PORT,
  DEFAULT_METRICS_PORT,
  DNS_NAMESPACE,
  DNS_SERVICE_NAME,
  DnsServiceError,
  dnsServiceIp,
  dnsServiceIpFromApi,
  ensureDnsService,
} from './service.ts';
