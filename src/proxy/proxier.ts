/**
 * The proxier: the Services and EndpointSlices it was told about, turned into skiff's iptables
 * chains by {@link Proxier.sync}, as kube-proxy's iptables Proxier does.
 *
 * Syncs are incremental: only services that changed since the last successful sync (a Service or
 * one of its slices was added, updated or deleted) get their SVC/SVL/EXT/FW/SEP chains regenerated,
 * and of those only chains whose rules differ from what was last written are in the restore input;
 * chains a changed service no longer has are flushed and deleted in the same transaction. The
 * top-level chains (SKIFF-SERVICES, SKIFF-NODEPORTS, ...) are assembled from every service's cached
 * lines and rewritten when they differ from what was last written (kube-proxy rewrites them every
 * time; skipping them makes an endpoint change a few-chain transaction). A full sync (the first one, after a failure, or when asked) rewrites
 * every chain, makes sure the jumps from the built-in chains exist exactly once, and deletes every
 * skiff service chain iptables-save shows that no service needs (left by an earlier run).
 *
 * Not safe for concurrent syncs: the caller serializes them (see {@link KubeProxy}).
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { type Clock, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { CHAIN_PREFIX, isServiceChain } from './chains.ts';
import { staleConntrackArgs } from './conntrack.ts';
import { type IptablesRunner, parseSave } from './iptables.ts';
import { type EndpointInfo, endpointsFor, type ServicePortInfo, servicePorts } from './model.ts';
import {
  FILTER_TOP_CHAINS,
  forwardRules,
  generateServicePortRules,
  JUMP_RULES,
  LARGE_CLUSTER_ENDPOINTS,
  markMasqRules,
  NAT_TOP_CHAINS,
  NODEPORTS_JUMP,
  postroutingRules,
  type RuleConfig,
  type ServicePortRules,
} from './rules.ts';
import { ChangeTracker } from './tracker.ts';
import type { ServiceProxier, SyncResult } from './types.ts';

export type { SyncResult } from './types.ts';

export interface ProxierOptions extends Partial<RuleConfig> {
  runner: IptablesRunner;
  /** This node's name: endpoints whose nodeName is this are local. */
  nodeName: string;
  clock?: Clock;
  logger?: Logger;
}

interface ServiceState {
  ports: ServicePortInfo[];
  rules: ServicePortRules[];
  /** Reachable endpoints per port (index as `ports`), for conntrack cleanup. */
  reachable: EndpointInfo[][];
}

export class Proxier implements ServiceProxier {
  readonly #runner: IptablesRunner;
  readonly #nodeName: string;
  readonly #cfg: RuleConfig;
  readonly #clock: Clock;
  readonly #log: Logger;

  readonly #tracker = new ChangeTracker();
  /** service key → generated state (for every service currently known). */
  readonly #state = new Map<string, ServiceState>();
  /** Own nat chain → its rules joined, as last written. */
  #written = new Map<string, string>();
  /** `table chain` of each top-level chain → its rules joined, as last written. */
  #writtenTop = new Map<string, string>();
  /** service key → own chains last written for it. */
  #chainsBySvc = new Map<string, Set<string>>();
  #needFull = true;

  constructor(opts: ProxierOptions) {
    this.#runner = opts.runner;
    this.#nodeName = opts.nodeName;
    this.#cfg = {
      clusterCIDR: opts.clusterCIDR ?? '',
      masqueradeAll: opts.masqueradeAll ?? false,
      masqueradeMark: opts.masqueradeMark ?? '0x4000',
      nodeIPs: opts.nodeIPs ?? [],
    };
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Records a Service added or updated. */
  setService(svc: Service): void {
    this.#tracker.setService(svc);
  }

  deleteService(svc: Service): void {
    this.#tracker.deleteService(svc);
  }

  /** Records an EndpointSlice added or updated. Slices without the service-name label are ignored. */
  setEndpointSlice(slice: EndpointSlice): void {
    this.#tracker.setEndpointSlice(slice);
  }

  deleteEndpointSlice(slice: EndpointSlice): void {
    this.#tracker.deleteEndpointSlice(slice);
  }

  /** Whether a sync would change something (services changed, or a full sync is due). */
  get pending(): boolean {
    return this.#needFull || this.#tracker.hasChanges;
  }

  /** Makes the next sync rewrite the top-level chains even if unchanged (periodic repair). */
  invalidateTopLevel(): void {
    this.#writtenTop.clear();
  }

  /** Makes the next sync a full one. */
  requestFullSync(): void {
    this.#needFull = true;
  }

  /**
   * Writes the rules. `full` forces a full sync. On failure the error propagates and the next sync
   * is a full one (what was dirty stays dirty).
   */
  async sync(full = false): Promise<SyncResult> {
    const t0 = this.#clock.now();
    const doFull = full || this.#needFull;
    const changed = this.#tracker.takeChanged();
    const dirty = doFull
      ? new Set([...this.#state.keys(), ...this.#tracker.serviceKeys(), ...changed])
      : changed;
    try {
      return await this.#sync(doFull, dirty, t0);
    } catch (err) {
      this.#tracker.markChanged(dirty);
      this.#needFull = true;
      throw err;
    }
  }

  async #sync(full: boolean, dirty: Set<string>, t0: number): Promise<SyncResult> {
    // Before anything else of a full sync: what is in iptables now.
    let savedNat: ReturnType<typeof parseSave> | null = null;
    let savedFilter: ReturnType<typeof parseSave> | null = null;
    if (full) {
      savedNat = parseSave(await this.#runner.save('nat'), 'nat');
      savedFilter = parseSave(await this.#runner.save('filter'), 'filter');
    }
    const tGen = this.#clock.now();

    // kube-proxy's large cluster mode: no endpoint comments above 1,000 endpoints.
    const cfg: RuleConfig = {
      ...this.#cfg,
      largeCluster: this.#tracker.endpointCount() > LARGE_CLUSTER_ENDPOINTS,
    };

    // Regenerate changed services.
    const oldStates = new Map<string, ServiceState | undefined>();
    const newChains = new Map<string, Map<string, string[]>>();
    for (const key of dirty) {
      oldStates.set(key, this.#state.get(key));
      const svc = this.#tracker.service(key);
      if (!svc) {
        this.#state.delete(key);
        newChains.set(key, new Map());
        continue;
      }
      const slices = this.#tracker.slicesOf(key);
      const ports = servicePorts(svc);
      const state: ServiceState = { ports, rules: [], reachable: [] };
      const chains = new Map<string, string[]>();
      for (const sp of ports) {
        const eps = endpointsFor(sp, slices, this.#nodeName);
        const rules = generateServicePortRules(sp, eps, cfg);
        state.rules.push(rules);
        state.reachable.push(rules.reachable);
        for (const [c, r] of rules.natChains) chains.set(c, r);
      }
      this.#state.set(key, state);
      newChains.set(key, chains);
    }

    // Assemble the input. Top-level chains are written when their rules changed (or on a full
    // sync); an endpoint change of a service that keeps endpoints leaves them alone.
    const filterChains: string[] = [];
    const filterRules: string[] = [];
    const natTopChains: string[] = [];
    const natJumps: string[] = [];
    const natChainLines: string[] = [];
    const natRules: string[] = [];
    const natDeletes: string[] = [];

    if (full) {
      const jumps = this.#jumpFixes(savedNat!, savedFilter!);
      filterRules.push(...jumps.filter);
      natJumps.push(...jumps.nat);
    }

    const filterServices: string[] = [];
    const filterExternal: string[] = [];
    const filterFirewall: string[] = [];
    const natServices: string[] = [];
    const natNodePorts: string[] = [];
    for (const key of [...this.#state.keys()].sort()) {
      for (const r of this.#state.get(key)!.rules) {
        filterServices.push(...r.filterServices);
        filterExternal.push(...r.filterExternal);
        filterFirewall.push(...r.filterFirewall);
        natServices.push(...r.natServices);
        natNodePorts.push(...r.natNodePorts);
      }
    }
    const top: [table: 'filter' | 'nat', chain: string, rules: string[]][] = [
      ['filter', FILTER_TOP_CHAINS[0], filterServices],
      ['filter', FILTER_TOP_CHAINS[1], filterExternal],
      ['filter', FILTER_TOP_CHAINS[2], forwardRules(this.#cfg)],
      ['filter', FILTER_TOP_CHAINS[3], filterFirewall],
      ['nat', NAT_TOP_CHAINS[0], [...natServices, NODEPORTS_JUMP]],
      ['nat', NAT_TOP_CHAINS[1], natNodePorts],
      ['nat', NAT_TOP_CHAINS[2], postroutingRules(this.#cfg)],
      ['nat', NAT_TOP_CHAINS[3], markMasqRules(this.#cfg)],
    ];
    const writtenTop = full ? new Map<string, string>() : new Map(this.#writtenTop);
    for (const [table, chain, rules] of top) {
      const id = `${table} ${chain}`;
      const text = rules.join('\n');
      if (writtenTop.get(id) === text) continue;
      writtenTop.set(id, text);
      if (table === 'filter') {
        filterChains.push(`:${chain} - [0:0]`);
        if (text) filterRules.push(text);
      } else {
        natTopChains.push(`:${chain} - [0:0]`);
        if (text) natRules.push(text);
      }
    }

    // Own chains of changed services.
    // A full sync writes every chain: start from nothing written.
    const written = full ? new Map<string, string>() : new Map(this.#written);
    const chainsBySvc = new Map(this.#chainsBySvc);
    let chainsWritten = 0;
    const deleted = new Set<string>();
    const stillWanted = new Set<string>();
    for (const [key, chains] of newChains) {
      for (const [c, rules] of chains) {
        stillWanted.add(c);
        const text = rules.join('\n');
        if (!full && written.get(c) === text) continue;
        natChainLines.push(`:${c} - [0:0]`);
        if (text) natRules.push(text);
        written.set(c, text);
        chainsWritten++;
      }
      for (const c of chainsBySvc.get(key) ?? []) if (!chains.has(c)) deleted.add(c);
      if (chains.size) chainsBySvc.set(key, new Set(chains.keys()));
      else chainsBySvc.delete(key);
    }
    if (full) {
      for (const c of savedNat!.chains) {
        if (isServiceChain(c) && !written.has(c)) deleted.add(c);
      }
    }
    for (const c of deleted) {
      if (stillWanted.has(c)) continue; // moved to another service (same name): keep.
      natChainLines.push(`:${c} - [0:0]`);
      natDeletes.push(`-X ${c}`);
      written.delete(c);
    }

    const sections: string[] = [];
    if (filterChains.length || filterRules.length)
      sections.push('*filter', ...filterChains, ...filterRules, 'COMMIT');
    const nat = [...natTopChains, ...natJumps, ...natChainLines, ...natRules, ...natDeletes];
    if (nat.length) sections.push('*nat', ...nat, 'COMMIT');
    const input = sections.length ? `${sections.join('\n')}\n` : '';
    const tRestore = this.#clock.now();
    if (input) await this.#runner.restore(input);
    const tDone = this.#clock.now();
    this.#written = written;
    this.#writtenTop = writtenTop;
    this.#chainsBySvc = chainsBySvc;
    this.#needFull = false;

    await this.#cleanConntrack(oldStates);

    const result: SyncResult = {
      full,
      servicesChanged: dirty.size,
      chainsWritten,
      chainsDeleted: natDeletes.length,
      inputBytes: input.length,
      generateMs: tRestore - tGen,
      restoreMs: tDone - tRestore,
      totalMs: this.#clock.now() - t0,
    };
    this.#log.debug(result, 'synced iptables rules');
    return result;
  }

  /** `-I`/`-D` lines making each jump rule exist exactly once and removing unknown jumps into skiff's chains. */
  #jumpFixes(
    nat: ReturnType<typeof parseSave>,
    filter: ReturnType<typeof parseSave>,
  ): { nat: string[]; filter: string[] } {
    const out = { nat: [] as string[], filter: [] as string[] };
    for (const [table, saved] of [
      ['nat', nat],
      ['filter', filter],
    ] as const) {
      const wanted = JUMP_RULES.filter((j) => j.table === table);
      const seen = new Set<string>();
      for (const line of saved.rules) {
        const [, chain = '', spec = ''] = /^-A (\S+) (.*)$/.exec(line) ?? [];
        if (chain.startsWith(CHAIN_PREFIX) || !spec.includes(` -j ${CHAIN_PREFIX}`)) continue;
        const id = `${chain} ${spec}`;
        const known = wanted.some((j) => j.chain === chain && j.spec === spec);
        if (!known || seen.has(id)) out[table].push(`-D ${chain} ${spec}`);
        seen.add(id);
      }
      // Inserted at the top in reverse, so they end up in the listed order.
      for (const j of [...wanted].reverse()) {
        if (!seen.has(`${j.chain} ${j.spec}`)) out[table].push(`-I ${j.chain} 1 ${j.spec}`);
      }
    }
    return out;
  }

  async #cleanConntrack(oldStates: Map<string, ServiceState | undefined>): Promise<void> {
    for (const [key, old] of oldStates) {
      const now = this.#state.get(key);
      if (!now) continue;
      for (const [i, sp] of now.ports.entries()) {
        const j = old?.ports.findIndex((p) => p.name === sp.name && p.protocol === sp.protocol) ?? -1;
        for (const args of staleConntrackArgs(
          sp,
          j >= 0 ? old!.reachable[j] : undefined,
          now.reachable[i]!,
        )) {
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
