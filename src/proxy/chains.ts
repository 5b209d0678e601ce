/**
 * The chains skiff's proxy owns. Every name starts with `SKIFF-`, so skiff's rules never collide with
 * a real kube-proxy's `KUBE-` chains on the same host, and cleanup can find all of them by prefix.
 * Per-service chain names are kube-proxy's: a prefix and the first 16 base32 characters of a SHA-256
 * of the service port name and protocol (and, for endpoint chains, the endpoint), at most 26
 * characters — within iptables' 28.
 */
import { hash } from 'node:crypto';

/** Prefix of every chain skiff creates. */
export const CHAIN_PREFIX = 'SKIFF-';

/** nat and filter: the entry point of service traffic (cluster IPs, external IPs, LB IPs). */
export const SERVICES_CHAIN = 'SKIFF-SERVICES';
/** filter: rejects/drops traffic to external destinations of services without (local) endpoints. */
export const EXTERNAL_SERVICES_CHAIN = 'SKIFF-EXTERNAL-SERVICES';
/** nat: node ports (the last rule of SKIFF-SERVICES jumps here for local destinations). */
export const NODEPORTS_CHAIN = 'SKIFF-NODEPORTS';
/** nat: masquerades packets carrying the masquerade mark. */
export const POSTROUTING_CHAIN = 'SKIFF-POSTROUTING';
/** nat: sets the masquerade mark. */
export const MARK_MASQ_CHAIN = 'SKIFF-MARK-MASQ';
/** filter: accepts forwarded service traffic even when FORWARD's policy is DROP. */
export const FORWARD_CHAIN = 'SKIFF-FORWARD';
/** filter: drops LoadBalancer traffic not allowed by loadBalancerSourceRanges. */
export const PROXY_FIREWALL_CHAIN = 'SKIFF-PROXY-FIREWALL';

const SVC_PREFIX = 'SKIFF-SVC-';
const SVL_PREFIX = 'SKIFF-SVL-';
const EXT_PREFIX = 'SKIFF-EXT-';
const FW_PREFIX = 'SKIFF-FW-';
const SEP_PREFIX = 'SKIFF-SEP-';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first 16 characters of RFC 4648 base32 of SHA-256(`s`), as kube-proxy's portProtoHash. */
export function hash16(s: string): string {
  const digest = hash('sha256', s, 'buffer');
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
      if (out.length === 16) return out;
    }
  }
  return out;
}

/** Chains of one service port. `protocol` is lower case ('tcp'). */
export interface ServicePortChains {
  /** Endpoints for Cluster traffic policy. */
  cluster: string;
  /** Node-local endpoints for Local traffic policy. */
  local: string;
  /** External destinations (node ports, external IPs, LB IPs). */
  external: string;
  /** loadBalancerSourceRanges filtering. */
  firewall: string;
}

export function servicePortChains(servicePortName: string, protocol: string): ServicePortChains {
  const h = hash16(servicePortName + protocol);
  return {
    cluster: SVC_PREFIX + h,
    local: SVL_PREFIX + h,
    external: EXT_PREFIX + h,
    firewall: FW_PREFIX + h,
  };
}

const sepNames = new Map<string, string>();

/** The chain of one endpoint (`ip:port`) of a service port (memoized: hashing is most of the cost). */
export function endpointChain(servicePortName: string, protocol: string, endpoint: string): string {
  const key = servicePortName + protocol + endpoint;
  let name = sepNames.get(key);
  if (name === undefined) {
    if (sepNames.size >= 200_000) sepNames.clear();
    name = SEP_PREFIX + hash16(key);
    sepNames.set(key, name);
  }
  return name;
}

/** True for the per-service chains (SVC, SVL, EXT, FW, SEP), which syncs create and delete. */
export function isServiceChain(name: string): boolean {
  return [SVC_PREFIX, SVL_PREFIX, EXT_PREFIX, FW_PREFIX, SEP_PREFIX].some((p) => name.startsWith(p));
}
