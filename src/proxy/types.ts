/**
 * What kube-proxy needs from a proxier, whichever way it programs the kernel: the iptables one
 * ({@link Proxier}, skiff's SKIFF- chains) or the nftables one ({@link NftProxier}, skiff's own
 * table), picked by {@link ProxyMode}.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

/** How Services are programmed: `--proxy-mode`, as kube-proxy's. */
export type ProxyMode = 'iptables' | 'nftables';

export const PROXY_MODES: readonly ProxyMode[] = ['iptables', 'nftables'];

/** The mode `skiff server` and `skiff agent` run kube-proxy in unless told otherwise. */
export const DEFAULT_PROXY_MODE: ProxyMode = 'nftables';

/** A `--proxy-mode` value that is not one of {@link PROXY_MODES}. */
export class InvalidProxyModeError extends Error {
  constructor(value: string) {
    super(`--proxy-mode must be one of ${PROXY_MODES.join(', ')}; got ${JSON.stringify(value)}`);
    this.name = 'InvalidProxyModeError';
  }
}

/** `text` as a proxy mode; throws {@link InvalidProxyModeError} for anything else. */
export function parseProxyMode(text: string): ProxyMode {
  const mode = PROXY_MODES.find((m) => m === text);
  if (!mode) throw new InvalidProxyModeError(text);
  return mode;
}

/** What one sync did. */
export interface SyncResult {
  full: boolean;
  /** Services whose rules were regenerated. */
  servicesChanged: number;
  /** Own chains written (created or rewritten). */
  chainsWritten: number;
  /** Own chains deleted (nftables on kernels before 6.2: by a sync after the one flushing them). */
  chainsDeleted: number;
  /** Bytes of iptables-restore / nft input. */
  inputBytes: number;
  /** ms spent generating, in iptables-restore / nft, and in total. */
  generateMs: number;
  restoreMs: number;
  totalMs: number;
}

/**
 * A proxier: told about Services and EndpointSlices, it writes the rules on {@link sync}. Syncs are
 * not safe to run concurrently: the caller serializes them.
 */
export interface ServiceProxier {
  /** Records a Service added or updated. */
  setService(svc: Service): void;
  deleteService(svc: Service): void;
  /** Records an EndpointSlice added or updated. Slices without the service-name label are ignored. */
  setEndpointSlice(slice: EndpointSlice): void;
  deleteEndpointSlice(slice: EndpointSlice): void;
  /** Whether a sync would change something (services changed, or a full sync is due). */
  readonly pending: boolean;
  /**
   * Makes the next sync repair what other programs may have changed even if nothing of skiff's
   * changed (the periodic sync).
   */
  invalidateTopLevel(): void;
  /** Makes the next sync a full one. */
  requestFullSync(): void;
  /**
   * Writes the rules; `full` forces a full sync. On failure the error propagates, the changes stay
   * pending and the next sync is a full one.
   */
  sync(full?: boolean): Promise<SyncResult>;
}
