/**
 * The nftables proxier: Services and EndpointSlices turned into skiff's nftables table
 * (`ip skiff-proxy`, see rules.ts) by {@link NftProxier.sync}, as kube-proxy's nftables Proxier does.
 *
 * A full sync (the first one, after a failure, or when asked) deletes and recreates the whole table
 * in one transaction: whatever an earlier run or anyone else left in it is gone, and nothing outside
 * it is touched. A partial sync regenerates only the services that changed and writes only what
 * differs (see state.ts), in one transaction. With no chain per endpoint (see rules.ts), an
 * endpoint change is a change of map and set elements, plus the service chain's rules when the
 * number of endpoints changes; chains come and go with services, with a service's first or last
 * endpoint, and with ClientIP affinity's endpoint chains. Chains no longer needed are deleted in
 * that transaction on kernels from 6.2; before 6.2 the kernel notices only a moment after a map
 * element went that the chain it pointed to is unreferenced, so there they are flushed, and deleted
 * by the first sync once `staleChainDelayMs` has passed (upstream does the same, in a transaction of
 * its own: here it joins the sync's, one nft run per sync, as every run costs a fixed amount: nft
 * reads every chain and set of the table into its cache first).
 *
 * ClientIP affinity lives in the affinity sets' elements; a full sync recreates them empty.
 *
 * Not safe for concurrent syncs: the caller serializes them (see {@link KubeProxy}).
 */
import { release } from 'node:os';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { type Clock, systemClock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import { staleConntrackArgs } from '../conntrack.ts';
import { endpointsFor, type ServicePortInfo, servicePorts } from '../model.ts';
import { ChangeTracker } from '../tracker.ts';
import type { ServiceProxier, SyncResult } from '../types.ts';
import { type NftRuleConfig, type ServicePortObjects, servicePortObjects, tableSkeleton } from './rules.ts';
import type { NftRunner } from './runner.ts';
import { elementId, emptyWants, type ServiceWants, TableState } from './state.ts';

export interface NftProxierOptions extends Partial<NftRuleConfig> {
  runner: NftRunner;
  /** This node's name: endpoints whose nodeName is this are local. */
  nodeName: string;
  /**
   * Delete chains no longer needed in the transaction that stops using them (default: when the
   * kernel is 6.2 or later, see {@link kernelDeletesChainsAtOnce}); otherwise they are flushed, and
   * deleted `staleChainDelayMs` later.
   */
  deleteChainsAtOnce?: boolean;
  /** How long a flushed chain waits before it is deleted, ms (default 1,000). */
  staleChainDelayMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Whether kernel `rel` (default: the running one, as `uname -r`) frees a chain at once when the map
 * element pointing to it is deleted in the same transaction: 6.2 and later.
 */
export function kernelDeletesChainsAtOnce(rel = release()): boolean {
  const [major = 0, minor = 0] = rel.split(/[.-]/).map(Number);
  return major > 6 || (major === 6 && minor >= 2);
}

interface ServiceState {
  ports: ServicePortInfo[];
  objects: ServicePortObjects[];
}

export class NftProxier implements ServiceProxier {
  readonly #runner: NftRunner;
  readonly #nodeName: string;
  readonly #cfg: NftRuleConfig;
  readonly #staleDelay: number;
  readonly #deleteAtOnce: boolean;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #tracker = new ChangeTracker();
  /** service key → generated state (for every service currently known). */
  readonly #services = new Map<string, ServiceState>();
  readonly #table = new TableState();
  #needFull = true;
  #repairTop = false;

  constructor(opts: NftProxierOptions) {
    this.#runner = opts.runner;
    this.#nodeName = opts.nodeName;
    this.#cfg = {
      clusterCIDR: opts.clusterCIDR ?? '',
      masqueradeAll: opts.masqueradeAll ?? false,
      masqueradeMark: opts.masqueradeMark ?? '0x4000',
      nodeIPs: opts.nodeIPs ?? [],
    };
    this.#staleDelay = opts.staleChainDelayMs ?? 1000;
    this.#deleteAtOnce = opts.deleteChainsAtOnce ?? kernelDeletesChainsAtOnce();
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
  }

  setService(svc: Service): void {
    this.#tracker.setService(svc);
  }

  deleteService(svc: Service): void {
    this.#tracker.deleteService(svc);
  }

  setEndpointSlice(slice: EndpointSlice): void {
    this.#tracker.setEndpointSlice(slice);
  }

  deleteEndpointSlice(slice: EndpointSlice): void {
    this.#tracker.deleteEndpointSlice(slice);
  }

  /** Also true when flushed chains are due for deletion. */
  get pending(): boolean {
    return this.#needFull || this.#tracker.hasChanges || this.#staleDue().length > 0;
  }

  /**
   * Makes the next partial sync rewrite the fixed chains too (repairing edits by others); if the
   * table is gone, that sync fails and the next one is full.
   */
  invalidateTopLevel(): void {
    this.#repairTop = true;
  }

  requestFullSync(): void {
    this.#needFull = true;
  }

  /** Chains flushed by earlier syncs and not deleted yet (tests). */
  get staleChains(): string[] {
    return this.#table.staleChains;
  }

  async sync(full = false): Promise<SyncResult> {
    const t0 = this.#clock.now();
    const doFull = full || this.#needFull;
    const changed = this.#tracker.takeChanged();
    const dirty = doFull
      ? new Set([...this.#services.keys(), ...this.#tracker.serviceKeys(), ...changed])
      : changed;
    try {
      return await this.#sync(doFull, dirty, t0);
    } catch (err) {
      this.#tracker.markChanged(dirty);
      this.#needFull = true;
      throw err;
    }
  }

  #staleDue(): string[] {
    return this.#table.staleSince(this.#clock.now() - this.#staleDelay);
  }

  async #sync(full: boolean, dirty: Set<string>, t0: number): Promise<SyncResult> {
    const tGen = this.#clock.now();

    const oldStates = new Map<string, ServiceState | undefined>();
    const wants = new Map<string, ServiceWants>();
    for (const key of dirty) {
      oldStates.set(key, this.#services.get(key));
      const want = emptyWants();
      wants.set(key, want);
      const svc = this.#tracker.service(key);
      if (!svc) {
        this.#services.delete(key);
        continue;
      }
      const slices = this.#tracker.slicesOf(key);
      const ports = servicePorts(svc);
      const state: ServiceState = { ports, objects: [] };
      for (const sp of ports) {
        const objs = servicePortObjects(sp, endpointsFor(sp, slices, this.#nodeName), this.#cfg);
        state.objects.push(objs);
        for (const [c, rules] of objs.chains) want.chains.set(c, rules);
        for (const [s, d] of objs.sets) want.sets.set(s, d);
        for (const e of objs.elements) want.elements.set(elementId(e), e);
      }
      this.#services.set(key, state);
    }

    const skeleton = tableSkeleton(this.#cfg);
    const plan = full
      ? this.#table.full(wants, skeleton)
      : this.#table.partial(wants, {
          repair: this.#repairTop ? skeleton : null,
          deleteAtOnce: this.#deleteAtOnce,
          dueStale: this.#staleDue(),
        });
    const input = plan.script.text();
    const tApply = this.#clock.now();
    if (input) await this.#runner.apply(input);
    const tDone = this.#clock.now();
    plan.commit(tDone);
    this.#needFull = false;
    this.#repairTop = false;

    await this.#cleanConntrack(oldStates);

    const result: SyncResult = {
      full,
      servicesChanged: dirty.size,
      chainsWritten: plan.chainsWritten,
      chainsDeleted: plan.deleted.length,
      inputBytes: input.length,
      generateMs: tApply - tGen,
      restoreMs: tDone - tApply,
      totalMs: this.#clock.now() - t0,
    };
    this.#log.debug(result, 'synced nftables rules');
    return result;
  }

  async #cleanConntrack(oldStates: Map<string, ServiceState | undefined>): Promise<void> {
    for (const [key, old] of oldStates) {
      const now = this.#services.get(key);
      if (!now) continue;
      for (const [i, sp] of now.ports.entries()) {
        const j = old?.ports.findIndex((p) => p.name === sp.name && p.protocol === sp.protocol) ?? -1;
        const before = j >= 0 ? old!.objects[j]!.reachable : undefined;
        for (const args of staleConntrackArgs(sp, before, now.objects[i]!.reachable)) {
          try {
            await this.#runner.deleteConntrack(args);
          } catch (err) {
            this.#log.warn({ err, args }, 'conntrack cleanup failed');
          }
        }
      }
    }
  }
}
