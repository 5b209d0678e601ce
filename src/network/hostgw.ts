/**
 * The pod network across nodes, as flannel's host-gw backend: every node watches the Node objects
 * and routes each other node's podCIDR(s) via that node's InternalIP
 * (`ip route replace <podCIDR> via <nodeIP> dev <link> proto 250`), so pods reach each other by pod
 * IP with no encapsulation and no NAT. A node that leaves (its Node deleted) loses its routes on
 * every other node at the next sync. Nodes whose address is not on a link this node shares (the
 * kernel's route to it has a gateway) would need VXLAN, which is not implemented: they are logged
 * and skipped.
 *
 * Masquerade, as flannel: pods → outside the cluster CIDR are masqueraded to the node's address,
 * pod → pod (on any node) is not; forwarding from and to the pod network is accepted. This needs
 * the CNI bridge plugin's own masquerade off (`ipMasq: false` in the conflist, see
 * src/kubelet/runtime/cni.ts), which would otherwise NAT pod → remote pod too.
 *
 * Lifecycle: `start(signal)` writes DIR/agent/network.json (what the clean-up needs), installs the
 * iptables chains and resolves once the Node informer synced and the routes were programmed once;
 * then a sync runs on every Node change (rate limited) and every `resyncPeriodMs` (repairing routes
 * and rules removed by others). `stop()` leaves routes and rules in place (a restarted agent takes
 * them over, as flannel does); {@link cleanupPodNetwork} removes them for good.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1.js';
import { InformerFactory } from '../client/factory.ts';
import { NODES } from '../client/resources.ts';
import type { Informer, KubeObject, RestClient } from '../client/types.ts';
import { ExecIptablesRunner, type IptablesRunner } from '../proxy/iptables.ts';
import { SyncLoop } from '../proxy/syncloop.ts';
import { defaultRunner, runChecked } from '../util/exec/index.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import {
  desiredRoutes,
  type Family,
  familyOf,
  type IpRoute,
  installInput,
  linkTo,
  netChains,
  ownedRoutes,
  type PodRoute,
  parseRoutes,
  ROUTE_PROTO,
  removeInput,
  routeChanges,
  splitCidrs,
} from './rules.ts';

/** Runs a command; resolves with its stdout, rejects when it fails. */
export type CommandRunner = (cmd: string, args: string[]) => Promise<string>;

export const execCommand: CommandRunner = (cmd, args) =>
  runChecked(defaultRunner(), cmd, args, { timeoutMs: 60_000 });

/** The real iptables runners per family (ip6tables for IPv6 cluster CIDRs). */
export function defaultIptables(): Record<Family, IptablesRunner> {
  return {
    4: new ExecIptablesRunner(),
    6: new ExecIptablesRunner({ iptablesRestore: 'ip6tables-restore', iptablesSave: 'ip6tables-save' }),
  };
}

/** DIR/agent/network.json: what {@link cleanupPodNetwork} removes. */
export interface NetworkRecord {
  clusterCIDRs: string[];
  chains: { nat: string; filter: string };
  routeProto: number;
}

export function networkRecordPath(dataDir: string): string {
  return join(dataDir, 'agent', 'network.json');
}

export function readNetworkRecord(dataDir: string): NetworkRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(networkRecordPath(dataDir), 'utf8')) as Partial<NetworkRecord>;
    if (!Array.isArray(r.clusterCIDRs) || !r.chains?.nat || !r.chains.filter) return undefined;
    return {
      clusterCIDRs: r.clusterCIDRs,
      chains: r.chains,
      routeProto: typeof r.routeProto === 'number' ? r.routeProto : ROUTE_PROTO,
    };
  } catch {
    return undefined;
  }
}

export interface PodNetworkOptions {
  client: RestClient;
  /** This node's name (its own podCIDR is on its bridge: no route). */
  nodeName: string;
  /** The cluster's pod network (`--cluster-cidr`), e.g. 10.42.0.0/16; comma-separated for dual stack. */
  clusterCIDR: string;
  /** skiff's data dir: the record for the clean-up goes to DIR/agent/network.json. */
  dataDir?: string;
  /** Runs `ip` (default: the real command). */
  exec?: CommandRunner;
  /** iptables per family (default: the real iptables-restore/-save, ip6tables-* for IPv6). */
  iptables?: Partial<Record<Family, IptablesRunner>>;
  /** Minimum time between syncs, ms (default 100). */
  minSyncPeriodMs?: number;
  /** Periodic re-sync, ms (default 30,000). */
  resyncPeriodMs?: number;
  /** Share informers with the node's other components (default: a factory of its own). */
  informers?: InformerFactory;
  logger?: Logger;
}

/** What one sync changed. */
export interface RouteSyncResult {
  routes: PodRoute[];
  replaced: PodRoute[];
  removed: IpRoute[];
}

export class PodNetwork {
  readonly #o: PodNetworkOptions;
  readonly #cidrs: string[];
  readonly #log: Logger;
  readonly #exec: CommandRunner;
  readonly #iptables: Partial<Record<Family, IptablesRunner>>;
  readonly #loop: SyncLoop;
  #informer: Informer<Node & KubeObject> | undefined;
  #controller: AbortController | null = null;
  readonly #warned = new Set<string>();
  #rulesInstalled = false;
  #lastSync: RouteSyncResult | undefined;

  constructor(opts: PodNetworkOptions) {
    this.#o = opts;
    this.#cidrs = splitCidrs(opts.clusterCIDR);
    if (this.#cidrs.length === 0) throw new Error('the pod network needs a cluster CIDR');
    this.#log = opts.logger ?? silentLogger;
    this.#exec = opts.exec ?? execCommand;
    this.#iptables = opts.iptables ?? defaultIptables();
    this.#loop = new SyncLoop(() => this.#sync(), {
      minIntervalMs: opts.minSyncPeriodMs ?? 100,
      maxIntervalMs: opts.resyncPeriodMs ?? 30_000,
      logger: this.#log,
    });
  }

  /** The routes the last successful sync left in place. */
  get lastSync(): RouteSyncResult | undefined {
    return this.#lastSync;
  }

  /**
   * Installs the masquerade/forward rules, starts watching Nodes and resolves once the routes were
   * programmed once (a failure is logged and retried, not thrown). Runs until `signal` aborts.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const ctl = new AbortController();
    this.#controller = ctl;
    const onAbort = () => ctl.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    ctl.signal.addEventListener('abort', () => signal.removeEventListener('abort', onAbort), { once: true });

    if (this.#o.dataDir) {
      const record: NetworkRecord = {
        clusterCIDRs: this.#cidrs,
        chains: netChains(this.#cidrs),
        routeProto: ROUTE_PROTO,
      };
      mkdirSync(join(this.#o.dataDir, 'agent'), { recursive: true, mode: 0o700 });
      writeFileSync(networkRecordPath(this.#o.dataDir), `${JSON.stringify(record, null, 2)}\n`);
    }
    const factory = this.#o.informers ?? new InformerFactory(this.#o.client, { logger: this.#log });
    const nodes = factory.informer<Node & KubeObject>(NODES);
    this.#informer = nodes;
    const request = () => this.#loop.request();
    nodes.addEventHandler({
      onAdd: request,
      onUpdate: (old, now) => {
        // Heartbeats change nothing the routes depend on.
        if (routeKey(old) !== routeKey(now)) request();
      },
      onDelete: request,
    });
    if (!this.#o.informers) factory.start(ctl.signal);
    const aborted = new Promise<'aborted'>((r) =>
      ctl.signal.addEventListener('abort', () => r('aborted'), { once: true }),
    );
    if ((await Promise.race([nodes.synced(), aborted])) === 'aborted') return;
    try {
      await this.#sync();
    } catch (err) {
      this.#log.error({ err }, 'pod network: first sync failed; retrying');
    }
    this.#loop.start(ctl.signal);
    this.#log.debug(
      {
        node: this.#o.nodeName,
        clusterCIDR: this.#cidrs,
        routes: this.#lastSync?.routes.map((r) => `${r.dst} via ${r.via}`),
      },
      'pod network ready (host-gw routes)',
    );
  }

  /** Asks for a sync soon. */
  requestSync(): void {
    this.#loop.request();
  }

  /** Stops watching (waits for a sync in progress). Routes and rules stay. */
  async stop(): Promise<void> {
    this.#controller?.abort();
    this.#controller = null;
    await this.#loop.idle();
  }

  /** Stops, then removes this node's routes and rules (the node leaves for good). */
  async cleanup(): Promise<NetworkCleanupResult> {
    await this.stop();
    return removePodNetwork(
      { clusterCIDRs: this.#cidrs, chains: netChains(this.#cidrs), routeProto: ROUTE_PROTO },
      { exec: this.#exec, iptables: this.#iptables, logger: this.#log },
    );
  }

  /** One sync: the rules (repaired if removed), then the routes. */
  async #sync(): Promise<void> {
    await this.#syncRules();
    const nodes = this.#informer?.lister().list() ?? [];
    const { routes, skipped } = desiredRoutes(nodes, this.#o.nodeName, this.#cidrs);
    for (const s of skipped) this.#warnOnce(`${s.node}: ${s.reason}`, { node: s.node }, s.reason);
    const table = await this.#mainTable();
    const reachable: PodRoute[] = [];
    const unreachable: { node: string; nodeIP: string; reason: string }[] = [];
    const links = new Map<string, string | undefined>();
    for (const r of routes) {
      const link = linkTo(r.via, table);
      if (link.ok) {
        reachable.push(r);
        links.set(r.via, link.dev);
      } else if (!this.#warned.has(`${r.node} ${r.via}`)) {
        this.#warned.add(`${r.node} ${r.via}`);
        unreachable.push({ node: r.node, nodeIP: r.via, reason: link.reason });
      }
    }
    if (unreachable.length) {
      // One line for many nodes (simulated nodes have addresses no host shares).
      this.#log.warn(
        { count: unreachable.length, nodes: unreachable.slice(0, 5) },
        "pod network: no route to these nodes' pods",
      );
    }
    const current = ownedRoutes(JSON.stringify(table), this.#cidrs);
    const { replace, remove } = routeChanges(reachable, current);
    const failures: string[] = [];
    for (const r of remove) {
      try {
        await this.#exec('ip', [
          ...(familyOf(r.dst) === 6 ? ['-6'] : []),
          'route',
          'del',
          r.dst,
          'proto',
          String(ROUTE_PROTO),
        ]);
        this.#log.info({ podCIDR: r.dst, via: r.gateway }, 'pod network: route removed (its node left)');
      } catch (err) {
        failures.push(`deleting the route to ${r.dst}: ${errorText(err)}`);
      }
    }
    for (const r of replace) {
      const dev = links.get(r.via);
      try {
        await this.#exec('ip', [
          ...(familyOf(r.dst) === 6 ? ['-6'] : []),
          'route',
          'replace',
          r.dst,
          'via',
          r.via,
          ...(dev ? ['dev', dev] : []),
          'proto',
          String(ROUTE_PROTO),
        ]);
        this.#log.info({ node: r.node, podCIDR: r.dst, via: r.via, dev }, 'pod network: route added');
      } catch (err) {
        failures.push(`routing ${r.dst} via ${r.via}: ${errorText(err)}`);
      }
    }
    this.#lastSync = { routes: reachable, replaced: replace, removed: remove };
    // The others were applied; the sync loop retries the failed ones.
    if (failures.length) throw new Error(`pod network: ${failures.join('; ')}`);
  }

  async #syncRules(): Promise<void> {
    for (const family of [4, 6] as const) {
      if (!this.#cidrs.some((c) => familyOf(c) === family)) continue;
      const runner = this.#iptables[family];
      if (!runner) continue;
      const saved = { nat: await runner.save('nat'), filter: await runner.save('filter') };
      const chains = netChains(this.#cidrs);
      // Rewrite only when something is missing (the periodic repair); the rules never change.
      const complete =
        this.#rulesInstalled &&
        saved.nat.includes(`:${chains.nat} `) &&
        saved.filter.includes(`:${chains.filter} `) &&
        saved.nat.includes(`-j ${chains.nat}`) &&
        saved.filter.includes(`-j ${chains.filter}`) &&
        saved.nat.includes(`-A ${chains.nat} `);
      if (complete) continue;
      await runner.restore(installInput(this.#cidrs, family, saved));
      this.#log.debug({ family, chains }, 'pod network: iptables rules installed');
    }
    this.#rulesInstalled = true;
  }

  /** The main routing table of the cluster's address families (skiff's routes included). */
  async #mainTable(): Promise<IpRoute[]> {
    const out: IpRoute[] = [];
    for (const family of [4, 6] as const) {
      if (!this.#cidrs.some((c) => familyOf(c) === family)) continue;
      out.push(
        ...parseRoutes(await this.#exec('ip', ['-j', `-${family}`, 'route', 'show', 'table', 'main'])),
      );
    }
    return out;
  }

  #warnOnce(key: string, fields: Record<string, unknown>, msg: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#log.warn(fields, `pod network: ${msg}`);
  }
}

function errorText(err: unknown): string {
  const stderr = (err as { stderr?: unknown }).stderr;
  return typeof stderr === 'string' && stderr.trim() ? stderr.trim() : (err as Error).message;
}

/** What a Node contributes to the routes: its podCIDRs and InternalIPs. */
function routeKey(n: Node): string {
  return JSON.stringify([
    n.spec?.podCIDRs ?? n.spec?.podCIDR ?? [],
    (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address),
  ]);
}

/** What {@link cleanupPodNetwork} removed. */
export interface NetworkCleanupResult {
  /** Route destinations deleted. */
  routes: string[];
  /** iptables chains removed (with their jumps). */
  chains: string[];
  /** What could not be removed. */
  problems: string[];
}

async function removePodNetwork(
  record: NetworkRecord,
  deps: { exec: CommandRunner; iptables: Partial<Record<Family, IptablesRunner>>; logger: Logger },
): Promise<NetworkCleanupResult> {
  const result: NetworkCleanupResult = { routes: [], chains: [], problems: [] };
  for (const family of [4, 6] as const) {
    if (!record.clusterCIDRs.some((c) => familyOf(c) === family)) continue;
    let routes: IpRoute[] = [];
    try {
      routes = ownedRoutes(
        await deps.exec('ip', ['-j', `-${family}`, 'route', 'show', 'proto', String(record.routeProto)]),
        record.clusterCIDRs,
      );
    } catch (err) {
      result.problems.push(`listing IPv${family} routes: ${(err as Error).message}`);
    }
    for (const r of routes) {
      try {
        await deps.exec('ip', [
          ...(family === 6 ? ['-6'] : []),
          'route',
          'del',
          r.dst,
          'proto',
          String(record.routeProto),
        ]);
        result.routes.push(r.dst);
      } catch (err) {
        result.problems.push(`deleting route ${r.dst}: ${errorText(err)}`);
      }
    }
    const runner = deps.iptables[family];
    if (!runner) continue;
    try {
      const saved = { nat: await runner.save('nat'), filter: await runner.save('filter') };
      const input = removeInput(record.chains, saved);
      if (input) {
        await runner.restore(input);
        for (const c of [record.chains.nat, record.chains.filter])
          if (saved.nat.includes(`:${c} `) || saved.filter.includes(`:${c} `)) result.chains.push(c);
      }
    } catch (err) {
      result.problems.push(`removing IPv${family} iptables chains: ${(err as Error).message}`);
    }
  }
  for (const p of result.problems) deps.logger.warn(p);
  return result;
}

/**
 * Removes what the pod network of the node in `dataDir` made on this host (in this network
 * namespace): its routes (proto 250, inside the cluster CIDR) and its iptables chains with their
 * jumps, as recorded in DIR/agent/network.json. Nothing recorded: nothing to do. Idempotent; never
 * throws (what could not be removed is in `problems`). Does not remove the record file (the data
 * dir goes with `skiff uninstall`).
 */
export async function cleanupPodNetwork(opts: {
  dataDir: string;
  exec?: CommandRunner;
  iptables?: Partial<Record<Family, IptablesRunner>>;
  logger?: Logger;
}): Promise<NetworkCleanupResult> {
  const record = readNetworkRecord(opts.dataDir);
  if (!record) return { routes: [], chains: [], problems: [] };
  return removePodNetwork(record, {
    exec: opts.exec ?? execCommand,
    iptables: opts.iptables ?? defaultIptables(),
    logger: opts.logger ?? silentLogger,
  });
}
