/**
 * Node IPAM with the range allocator (kube-controller-manager's node-ipam-controller with
 * --allocate-node-cidrs and --cidr-allocator-type=RangeAllocator): each node without spec.podCIDRs
 * gets the next free subnet of --cluster-cidr (/--node-cidr-mask-size; /64 for an IPv6 range; one of
 * each family for a dual-stack "v4,v6" list), written to spec.podCIDR and spec.podCIDRs. Subnets
 * nodes already have are marked used as the node informer first lists them — before any allocation,
 * so a restart rebuilds the set — and freed when their node is deleted.
 */

import { NODES } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { Informer, KubeObject } from '../../client/types.ts';
import type { Controller, ControllerContext, ReconcileResult } from '../controller.ts';
import { EventRecorder } from '../nodelifecycle/events.ts';
import { CidrSet } from './cidr.ts';

interface IpamNode extends KubeObject {
  spec?: { podCIDR?: string; podCIDRs?: string[]; [field: string]: unknown };
}

interface Assignment {
  uid: string | undefined;
  cidrs: string[];
  /** Written by us and not yet seen back in the cache. */
  pending: boolean;
}

export class NodeIpamController implements Controller {
  readonly name = 'node-ipam-controller';
  #ctx!: ControllerContext;
  #nodes!: Informer<IpamNode>;
  #events!: EventRecorder;
  #sets: CidrSet[] = [];
  readonly #assigned = new Map<string, Assignment>();

  /** The CIDR sets (one per family of --cluster-cidr), for inspection. */
  get cidrSets(): readonly CidrSet[] {
    return this.#sets;
  }

  setup(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#events = new EventRecorder(ctx.client, ctx.clock, ctx.log, 'cidrAllocator');
    const { clusterCidr, nodeCidrMaskSize } = ctx.options;
    try {
      this.#sets = cidrSets(clusterCidr, nodeCidrMaskSize);
    } catch (err) {
      // A bad flag must not take the other controllers down with it: say so and allocate nothing.
      ctx.log.error({ err }, 'node IPAM disabled');
      this.#sets = [];
      return;
    }
    if (this.#sets.length === 0) {
      ctx.log.info('no --cluster-cidr: node IPAM allocates nothing');
      return;
    }
    this.#nodes = ctx.informers.informer<IpamNode>(NODES);
    this.#nodes.addEventHandler({
      onAdd: (n) => this.#observe(n),
      onUpdate: (_, n) => this.#observe(n),
      onDelete: (n) => ctx.queue.add(n.metadata.name ?? ''),
    });
  }

  /** Marks a node's subnets used at once (this is what rebuilds the set on start), then queues it. */
  #observe(node: IpamNode): void {
    const name = node.metadata.name ?? '';
    const cidrs = podCIDRs(node);
    if (cidrs.length > 0) this.#occupy(name, node.metadata.uid, cidrs);
    this.#ctx.queue.add(name);
  }

  #occupy(name: string, uid: string | undefined, cidrs: string[]): void {
    const prev = this.#assigned.get(name);
    if (prev && (prev.uid !== uid || !sameList(prev.cidrs, cidrs))) this.#release(name);
    for (const cidr of cidrs) {
      const set = this.#sets.find((s) => s.cluster.family === (cidr.includes(':') ? 6 : 4));
      if (!set?.occupy(cidr)) {
        this.#ctx.log.debug({ node: name, cidr }, 'node pod CIDR is outside the cluster CIDR; not tracked');
      }
    }
    this.#assigned.set(name, { uid, cidrs, pending: false });
  }

  #release(name: string): void {
    const prev = this.#assigned.get(name);
    if (!prev) return;
    this.#assigned.delete(name);
    const wasFull = this.#sets.some((s) => s.allocated >= s.size);
    for (const cidr of prev.cidrs) for (const set of this.#sets) set.release(cidr);
    if (!wasFull) return;
    // Nodes that found the range full may fit now.
    for (const n of this.#nodes.lister().list()) {
      if (podCIDRs(n).length === 0 && !this.#assigned.has(n.metadata.name ?? '')) {
        this.#ctx.queue.add(n.metadata.name ?? '');
      }
    }
  }

  async reconcile(name: string): Promise<ReconcileResult | undefined> {
    if (this.#sets.length === 0) return undefined;
    const node = this.#nodes.lister().get(name);
    if (!node) {
      this.#release(name);
      return undefined;
    }
    const uid = node.metadata.uid;
    const have = podCIDRs(node);
    if (have.length > 0) {
      this.#occupy(name, uid, have);
      return undefined;
    }
    let assignment = this.#assigned.get(name);
    if (assignment && (assignment.uid !== uid || !assignment.pending)) {
      this.#release(name);
      assignment = undefined;
    }
    if (!assignment) {
      const cidrs: string[] = [];
      for (const set of this.#sets) {
        const cidr = set.allocateNext();
        if (!cidr) {
          for (const c of cidrs) for (const s of this.#sets) s.release(c);
          void this.#events.event(
            { kind: 'Node', name, uid },
            'Normal',
            'CIDRNotAvailable',
            `Node ${name} status is now: CIDRNotAvailable`,
          );
          throw new Error(
            `no free pod CIDR left in ${set.cluster.family === 4 ? 'IPv4' : 'IPv6'} cluster CIDR for node ${name}`,
          );
        }
        cidrs.push(cidr);
      }
      assignment = { uid, cidrs, pending: true };
      this.#assigned.set(name, assignment);
    }
    try {
      await this.#ctx.client.patch(NODES, '', name, 'merge', {
        metadata: uid ? { uid } : {},
        spec: { podCIDR: assignment.cidrs[0], podCIDRs: assignment.cidrs },
      });
      this.#ctx.log.debug({ node: name, podCIDRs: assignment.cidrs }, 'allocated pod CIDRs');
    } catch (err) {
      this.#release(name);
      if (isApiError(err, 404)) return undefined;
      void this.#events.event(
        { kind: 'Node', name, uid },
        'Normal',
        'CIDRAssignmentFailed',
        `Node ${name} status is now: CIDRAssignmentFailed`,
      );
      throw err;
    }
    return undefined;
  }
}

/**
 * The CIDR sets of --cluster-cidr (one CIDR, or "v4,v6"): node subnets of /`nodeCidrMaskSize`
 * (for IPv6, /64 unless the size given is above 32). Throws on a malformed or ill-fitting value —
 * use it to check the flag up front.
 */
export function cidrSets(clusterCidr: string, nodeCidrMaskSize: number): CidrSet[] {
  const sets = clusterCidr
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((cidr) => {
      const v6 = cidr.includes(':');
      return new CidrSet(cidr, v6 ? (nodeCidrMaskSize > 32 ? nodeCidrMaskSize : 64) : nodeCidrMaskSize);
    });
  if (sets.length > 2 || (sets.length === 2 && sets[0]!.cluster.family === sets[1]!.cluster.family)) {
    throw new Error(`--cluster-cidr ${clusterCidr}: at most one CIDR of each IP family`);
  }
  return sets;
}

function podCIDRs(node: IpamNode): string[] {
  const list = node.spec?.podCIDRs;
  if (Array.isArray(list) && list.length > 0) return list;
  return node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
