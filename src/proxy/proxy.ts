/**
 * kube-proxy for one node: informers on Services and EndpointSlices feed a proxier, whose syncs a
 * {@link SyncLoop} serializes and rate limits (at most one every `minSyncPeriodMs`; a repair of the
 * top-level chains every `syncPeriodMs`; a full sync every `fullSyncPeriodMs`). The mode picks the
 * proxier: `iptables` ({@link Proxier}: skiff's own `SKIFF-` chains through iptables-restore) or
 * `nftables` ({@link NftProxier}: skiff's own table `ip skiff-proxy` through `nft -f`).
 *
 * Lifecycle: `start(signal)` resolves once both informers have synced and the first sync was
 * attempted; before that first sync it removes the other mode's rules (as upstream kube-proxy does
 * when the mode changes). The proxy then runs until `signal` aborts or `stop()`. Stopping leaves the
 * rules in place (a restarted proxy takes them over, as kube-proxy does); `cleanup()` removes them
 * all, both modes'.
 *
 * Runners: by default the real commands (in `netns` when given). A caller that injects a runner
 * (tests) gets only the runners it injected: the other mode's clean-up is skipped rather than run on
 * the real host.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { InformerFactory } from '../client/factory.ts';
import { ENDPOINT_SLICES, SERVICES } from '../client/resources.ts';
import type { Informer, KubeObject, RestClient } from '../client/types.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { type CleanupResult, cleanupRules } from './cleanup.ts';
import { ExecIptablesRunner, type IptablesRunner } from './iptables.ts';
import { cleanupNftables } from './nftables/cleanup.ts';
import { NftProxier } from './nftables/proxier.ts';
import { ExecNftRunner, type NftRunner } from './nftables/runner.ts';
import { Proxier } from './proxier.ts';
import { SyncLoop } from './syncloop.ts';
import type { DEFAULT_PROXY_MODE, ProxyMode, ServiceProxier, SyncResult } from './types.ts';

/** Objects kube-proxy ignores: another proxy's services, and headless ones. */
export const PROXY_LABEL_SELECTOR =
  '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless';

export interface KubeProxyOptions {
  client: RestClient;
  /** This node's name (endpoints on it are local, for the Local traffic policies). */
  nodeName: string;
  /** This node's addresses (a loadBalancerSourceRanges entry holding one lets the node in). */
  nodeIPs: string[];
  /** The pod network, e.g. 10.42.0.0/16: traffic to cluster IPs from outside it is masqueraded. */
  clusterCIDR: string;
  /** Masquerade all traffic to cluster IPs (default false). */
  masqueradeAll?: boolean;
  /** The masquerade mark bit (default 0x4000, as kube-proxy). */
  masqueradeMark?: string;
  /** Minimum time between syncs, ms (default 100). */
  minSyncPeriodMs?: number;
  /**
   * Periodic sync, ms (default 30,000): rewrites the top-level chains even when nothing changed
   * (repairing edits by others), as kube-proxy's syncPeriod.
   */
  syncPeriodMs?: number;
  /**
   * Full sync period, ms (default 3,600,000, kube-proxy's FullSyncPeriod): every chain rewritten,
   * jumps from the built-in chains checked, leftover chains deleted (nftables: the table deleted and
   * recreated). The first sync is always full.
   */
  fullSyncPeriodMs?: number;
  /**
   * How Services are programmed (default iptables; `skiff server` and `skiff agent` use
   * `--proxy-mode`, default {@link DEFAULT_PROXY_MODE}).
   */
  mode?: ProxyMode;
  /** How iptables is run; default: the real binaries, in `netns` when given (see the class doc). */
  runner?: IptablesRunner;
  /** How nft is run; default: the real binary, in `netns` when given (see the class doc). */
  nftRunner?: NftRunner;
  /** Network namespace to program (default: the process's own). Ignored for injected runners. */
  netns?: string;
  /**
   * Share informers with other components of the process (its owner starts it); default: a factory
   * of the proxy's own, started and stopped with the proxy.
   */
  informers?: InformerFactory;
  /** Called after every successful sync (metrics, tests). */
  onSync?: (result: SyncResult) => void;
  clock?: Clock;
  logger?: Logger;
}

export class KubeProxy {
  readonly #o: KubeProxyOptions;
  readonly #mode: ProxyMode;
  readonly #runner: IptablesRunner | undefined;
  readonly #nftRunner: NftRunner | undefined;
  readonly #proxier: ServiceProxier;
  readonly #loop: SyncLoop;
  readonly #clock: Clock;
  readonly #log: Logger;
  #lastFull = Number.NEGATIVE_INFINITY;
  #lastSyncAt = Number.NEGATIVE_INFINITY;
  #controller: AbortController | null = null;
  #lastSync: SyncResult | null = null;

  constructor(opts: KubeProxyOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
    this.#mode = opts.mode ?? 'iptables';
    const injected = opts.runner !== undefined || opts.nftRunner !== undefined;
    this.#runner = opts.runner ?? (injected ? undefined : new ExecIptablesRunner({ netns: opts.netns }));
    this.#nftRunner = opts.nftRunner ?? (injected ? undefined : new ExecNftRunner({ netns: opts.netns }));
    const common = {
      nodeName: opts.nodeName,
      clusterCIDR: opts.clusterCIDR,
      masqueradeAll: opts.masqueradeAll,
      masqueradeMark: opts.masqueradeMark,
      nodeIPs: opts.nodeIPs,
      clock: this.#clock,
      logger: this.#log,
    };
    if (this.#mode === 'nftables') {
      if (!this.#nftRunner)
        throw new TypeError('KubeProxy: nftables mode with an injected runner needs nftRunner');
      this.#proxier = new NftProxier({ ...common, runner: this.#nftRunner });
    } else {
      if (!this.#runner)
        throw new TypeError('KubeProxy: iptables mode with an injected nftRunner needs runner');
      this.#proxier = new Proxier({ ...common, runner: this.#runner });
    }
    const syncPeriodMs = opts.syncPeriodMs ?? 30_000;
    this.#loop = new SyncLoop(() => this.#sync(), {
      minIntervalMs: opts.minSyncPeriodMs ?? 100,
      maxIntervalMs: syncPeriodMs,
      clock: this.#clock,
      logger: this.#log,
    });
  }

  /** The proxier (to feed objects directly, in tests and benchmarks). */
  get proxier(): ServiceProxier {
    return this.#proxier;
  }

  /** The mode it programs Services in. */
  get mode(): ProxyMode {
    return this.#mode;
  }

  /** The result of the last successful sync. */
  get lastSync(): SyncResult | null {
    return this.#lastSync;
  }

  async #sync(): Promise<void> {
    const now = this.#clock.now();
    const full = now - this.#lastFull >= (this.#o.fullSyncPeriodMs ?? 3_600_000);
    if (!full && !this.#proxier.pending) {
      if (now - this.#lastSyncAt < (this.#o.syncPeriodMs ?? 30_000)) return;
      this.#proxier.invalidateTopLevel();
    }
    this.#lastSyncAt = now;
    const r = await this.#proxier.sync(full);
    if (r.full) this.#lastFull = this.#clock.now();
    this.#lastSync = r;
    this.#o.onSync?.(r);
  }

  /** Asks for a sync soon (rate limited). */
  requestSync(): void {
    this.#loop.request();
  }

  /**
   * Starts watching and syncing; resolves once the informers synced and the first sync was tried
   * (a failed first sync is logged and retried, not thrown). Runs until `signal` aborts or stop().
   */
  async start(signal: AbortSignal): Promise<void> {
    const ctl = new AbortController();
    this.#controller = ctl;
    const onAbort = () => ctl.abort();
    if (signal.aborted) return;
    signal.addEventListener('abort', onAbort, { once: true });
    ctl.signal.addEventListener('abort', () => signal.removeEventListener('abort', onAbort), { once: true });

    const factory =
      this.#o.informers ?? new InformerFactory(this.#o.client, { clock: this.#clock, logger: this.#log });
    const services = factory.informer<Service & KubeObject>(SERVICES, {
      labelSelector: PROXY_LABEL_SELECTOR,
    });
    const slices = factory.informer<EndpointSlice & KubeObject>(ENDPOINT_SLICES, {
      labelSelector: PROXY_LABEL_SELECTOR,
    });
    this.#watch(
      services,
      (s) => this.#proxier.setService(s),
      (s) => this.#proxier.deleteService(s),
    );
    this.#watch(
      slices,
      (s) => this.#proxier.setEndpointSlice(s),
      (s) => this.#proxier.deleteEndpointSlice(s),
    );
    // A shared factory is started by its owner.
    if (!this.#o.informers) factory.start(ctl.signal);
    this.#log.info(
      { node: this.#o.nodeName, nodeIPs: this.#o.nodeIPs, mode: this.#mode },
      'kube-proxy starting',
    );

    const aborted = new Promise<'aborted'>((r) =>
      ctl.signal.addEventListener('abort', () => r('aborted'), { once: true }),
    );
    if ((await Promise.race([Promise.all([services.synced(), slices.synced()]), aborted])) === 'aborted')
      return;
    await this.#cleanupOtherMode();
    try {
      await this.#sync();
    } catch (err) {
      this.#log.error({ err, mode: this.#mode }, 'first sync failed; retrying');
    }
    // Runs at once (a no-op when the first sync succeeded and nothing changed meanwhile).
    this.#loop.start(ctl.signal);
  }

  #watch<T extends KubeObject>(inf: Informer<T>, set: (o: T) => void, del: (o: T) => void): void {
    inf.addEventHandler({
      onAdd: (o) => {
        set(o);
        this.#loop.request();
      },
      onUpdate: (_old, o) => {
        set(o);
        this.#loop.request();
      },
      onDelete: (o) => {
        del(o);
        this.#loop.request();
      },
    });
  }

  /** Stops watching and syncing (waits for a sync in progress). The rules stay. */
  async stop(): Promise<void> {
    this.#controller?.abort();
    this.#controller = null;
    await this.#loop.idle();
  }

  /** Removes the rules of the mode not in use (left by an earlier run in that mode); logs failures. */
  async #cleanupOtherMode(): Promise<void> {
    try {
      if (this.#mode === 'nftables') {
        const r = this.#runner ? await cleanupRules(this.#runner) : null;
        if (r?.chains || r?.jumps) this.#log.info(r, "removed the iptables mode's chains");
      } else {
        const r = this.#nftRunner ? await cleanupNftables(this.#nftRunner) : null;
        if (r?.table) this.#log.info(r, "removed the nftables mode's table");
      }
    } catch (err) {
      this.#log.warn({ err }, "removing the other proxy mode's rules failed");
    }
  }

  /**
   * Stops, then removes every skiff rule, chain and table of both modes (the node is leaving for
   * good). `chains` counts the nftables table's chains too.
   */
  async cleanup(): Promise<CleanupResult> {
    await this.stop();
    const r: CleanupResult = this.#runner ? await cleanupRules(this.#runner) : { jumps: 0, chains: 0 };
    if (this.#nftRunner) r.chains += (await cleanupNftables(this.#nftRunner)).chains;
    return r;
  }
}
