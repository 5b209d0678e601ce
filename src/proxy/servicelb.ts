/**
 * ServiceLB (k3s's klipper-lb, without its pods): gives every LoadBalancer Service that has no
 * `spec.loadBalancerClass` the addresses of the cluster's Ready nodes as its
 * `status.loadBalancer.ingress` (each node's ExternalIP, else its InternalIP; sorted). kube-proxy then
 * sends traffic to those addresses on the Service's port to the Service's endpoints (the
 * "loadbalancer IP" rules). A Service that stops being a LoadBalancer has the ingress it was given
 * cleared.
 *
 * One instance per cluster (it writes Service status): run it in the controller manager, or in
 * the server's process — not in every agent.
 */
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { InformerFactory } from '../client/factory.ts';
import { NODES, SERVICES } from '../client/resources.ts';
import type { KubeObject, Lister, RestClient } from '../client/types.ts';
import { type Clock, sleep, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { keyOf } from './model.ts';

export interface ServiceLBOptions {
  client: RestClient;
  /** Shared informers (started by their owner); default: a factory of its own. */
  informers?: InformerFactory;
  /** Wait before retrying a failed status write, ms (default 1,000). */
  retryMs?: number;
  clock?: Clock;
  logger?: Logger;
}

type ServiceObj = Service & KubeObject;
type NodeObj = Node & KubeObject;

function isReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The ingress addresses ServiceLB publishes, from the nodes. */
export function nodeIngressIPs(nodes: readonly Node[]): string[] {
  const ips = new Set<string>();
  for (const n of nodes) {
    if (!isReady(n) || n.spec?.unschedulable) continue;
    const addrs = n.status?.addresses ?? [];
    const ip =
      addrs.find((a) => a.type === 'ExternalIP')?.address ??
      addrs.find((a) => a.type === 'InternalIP')?.address;
    if (ip) ips.add(ip);
  }
  return [...ips].sort();
}

/** The ingress `svc` should have, or null when ServiceLB leaves it alone. */
export function desiredIngress(svc: Service, nodeIPs: string[]): { ip: string }[] | null {
  if (svc.spec?.type !== 'LoadBalancer')
    return (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0 ? [] : null;
  if (svc.spec.loadBalancerClass) return null;
  return nodeIPs.map((ip) => ({ ip }));
}

export class ServiceLBController {
  readonly #o: ServiceLBOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #dirty = new Set<string>();
  #wake: (() => void) | null = null;

  constructor(opts: ServiceLBOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Runs until `signal` aborts; resolves when it has stopped. */
  async run(signal: AbortSignal): Promise<void> {
    const factory =
      this.#o.informers ?? new InformerFactory(this.#o.client, { clock: this.#clock, logger: this.#log });
    const services = factory.informer<ServiceObj>(SERVICES);
    const nodes = factory.informer<NodeObj>(NODES);
    const all = () => {
      for (const s of services.lister().list())
        if (s.spec?.type === 'LoadBalancer') this.#dirty.add(keyOf(s));
      this.#wake?.();
    };
    services.addEventHandler({
      onAdd: (s) => this.#add(keyOf(s)),
      onUpdate: (_o, s) => this.#add(keyOf(s)),
    });
    nodes.addEventHandler({ onAdd: all, onUpdate: all, onDelete: all });
    if (!this.#o.informers) factory.start(signal);
    await Promise.all([services.synced(), nodes.synced()]);
    while (!signal.aborted) {
      const key = this.#dirty.values().next().value;
      if (key === undefined) {
        await new Promise<void>((r) => {
          this.#wake = r;
          signal.addEventListener('abort', () => r(), { once: true });
        });
        this.#wake = null;
        continue;
      }
      this.#dirty.delete(key);
      try {
        await this.#reconcile(key, services.lister(), nodes.lister());
      } catch (err) {
        this.#log.warn({ err, service: key }, 'servicelb: status update failed; retrying');
        this.#dirty.add(key);
        await sleep(this.#clock, this.#o.retryMs ?? 1000, signal).catch(() => {});
      }
    }
  }

  #add(key: string): void {
    this.#dirty.add(key);
    this.#wake?.();
  }

  async #reconcile(key: string, services: Lister<ServiceObj>, nodes: Lister<NodeObj>): Promise<void> {
    const svc = services.get(key);
    if (!svc) return;
    const want = desiredIngress(svc, nodeIngressIPs(nodes.list()));
    if (!want) return;
    const have = (svc.status?.loadBalancer?.ingress ?? []).map((i) => ({ ip: i.ip }));
    if (JSON.stringify(have) === JSON.stringify(want)) return;
    await this.#o.client.patch(
      SERVICES,
      svc.metadata?.namespace ?? '',
      svc.metadata?.name ?? '',
      'merge',
      { status: { loadBalancer: { ingress: want } } },
      { subresource: 'status' },
    );
    this.#log.info({ service: key, ingress: want.map((i) => i.ip) }, 'servicelb: published ingress');
  }
}
