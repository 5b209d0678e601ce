/**
 * The node's CNI network config: a conflist in containerd's CNI conf_dir with the bridge plugin
 * (a Linux bridge, the node's podCIDR(s) through host-local IPAM, a default route, masquerade to
 * the outside, hairpin so a pod reaches itself through a Service) followed by portmap (hostPort).
 *
 * The bridge plugin's own masquerade (`ipMasq`) NATs everything leaving the node's pod subnet, pod →
 * pod on another node included. With the pod network across nodes (src/network) it is off: that
 * masquerades only traffic leaving the cluster CIDR, as flannel does.
 *
 * containerd's CRI watches conf_dir (fsnotify) and reloads the network config by itself: the node's
 * NetworkReady condition turns true once the file is there, without a restart. The file is written
 * atomically (temp file with a name CNI ignores, then rename) so containerd never reads half of it.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CniConfigOptions {
  /** The pod CIDR(s) of this node (Node.spec.podCIDRs), IPv4 and/or IPv6. */
  podCIDRs: readonly string[];
  /** The CNI network name (also names host-local's lease dir); default "skiff". */
  networkName?: string;
  /** The Linux bridge; default "cni0". */
  bridge?: string;
  /** MTU for the bridge and veths; default: the plugin's (the bridge's) default. */
  mtu?: number;
  /** host-local's lease directory; default /var/lib/cni/networks (per network name). */
  ipamDataDir?: string;
  /**
   * The bridge plugin masquerades traffic from the pods to anything outside the node's pod subnet
   * (default true). False when src/network masquerades by the cluster CIDR instead.
   */
  ipMasq?: boolean;
}

/** A bad pod CIDR. */
export class CniConfigError extends Error {
  override name = 'CniConfigError';
}

/** The file name of the conflist ("10-" so it sorts before others a user might add). */
export const CNI_CONFLIST_NAME = '10-skiff.conflist';

const CIDR_V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function isV6(cidr: string): boolean {
  return cidr.includes(':');
}

function validate(cidr: string): void {
  const v4 = CIDR_V4.exec(cidr);
  if (v4) {
    const octets = v4.slice(1, 5).map(Number);
    if (octets.every((o) => o <= 255) && Number(v4[5]) <= 32) return;
  } else if (isV6(cidr)) {
    const [addr, bits] = cidr.split('/');
    if (
      addr &&
      /^[0-9a-fA-F:.]+$/.test(addr) &&
      bits !== undefined &&
      /^\d+$/.test(bits) &&
      Number(bits) <= 128
    )
      return;
  }
  throw new CniConfigError(`invalid pod CIDR ${JSON.stringify(cidr)}`);
}

/** The conflist object for `opts` (exported for tests). */
export function cniConflist(opts: CniConfigOptions): Record<string, unknown> {
  if (opts.podCIDRs.length === 0) throw new CniConfigError('no pod CIDR');
  for (const cidr of opts.podCIDRs) validate(cidr);
  const hasV4 = opts.podCIDRs.some((c) => !isV6(c));
  const hasV6 = opts.podCIDRs.some(isV6);
  const routes = [...(hasV4 ? [{ dst: '0.0.0.0/0' }] : []), ...(hasV6 ? [{ dst: '::/0' }] : [])];
  const ipam: Record<string, unknown> = {
    type: 'host-local',
    ranges: opts.podCIDRs.map((subnet) => [{ subnet }]),
    routes,
  };
  if (opts.ipamDataDir) ipam.dataDir = opts.ipamDataDir;
  const bridge: Record<string, unknown> = {
    type: 'bridge',
    bridge: opts.bridge ?? 'cni0',
    isGateway: true,
    ipMasq: opts.ipMasq ?? true,
    hairpinMode: true,
    ipam,
  };
  if (opts.mtu) bridge.mtu = opts.mtu;
  return {
    cniVersion: '1.0.0',
    name: opts.networkName ?? 'skiff',
    plugins: [bridge, { type: 'portmap', capabilities: { portMappings: true }, snat: true }],
  };
}

/** Writes the conflist into `confDir` atomically; returns its path. Idempotent. */
export async function writeCniConfig(confDir: string, opts: CniConfigOptions): Promise<string> {
  const body = `${JSON.stringify(cniConflist(opts), null, 2)}\n`;
  await mkdir(confDir, { recursive: true });
  const file = join(confDir, CNI_CONFLIST_NAME);
  // CNI only loads *.conf, *.conflist and *.json, so the temp name is never picked up.
  const tmp = join(confDir, `.${CNI_CONFLIST_NAME}.${process.pid}.tmp`);
  await writeFile(tmp, body);
  await rename(tmp, file);
  return file;
}

/** Removes the conflist from `confDir` (no error when it is not there). */
export async function removeCniConfig(confDir: string): Promise<void> {
  await rm(join(confDir, CNI_CONFLIST_NAME), { force: true });
}
