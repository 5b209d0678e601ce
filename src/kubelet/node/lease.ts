/**
 * The node's heartbeat Lease (pkg/component-helpers/apimachinery/lease, as the kubelet runs it):
 * `kube-node-lease/<node>`, holderIdentity the node name, leaseDurationSeconds 40, renewed every
 * 10 s (a quarter of the duration) with renewTime = now. The Lease is owned by its Node (an owner
 * reference with the Node's uid, added as soon as the Node is known) so it goes when the Node does.
 *
 * A renewal updates the last Lease seen (conditional on its resourceVersion); on a conflict or a
 * missing Lease it re-reads or creates it, retrying with back-off (200 ms doubling to 7 s) until it
 * succeeds or the interval comes round again.
 */

import { ApiError } from '../../api/errors.ts';
import type { Lease } from '../../client/leaderelection.ts';
import { LEASES } from '../../client/resources.ts';
import type { RestClient } from '../../client/types.ts';
import { type Clock, sleep, systemClock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import { microTime } from './time.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeLeaseOptions {
  client: RestClient;
  nodeName: string;
  /** The Node's uid once registered (for the owner reference); undefined until then. */
  nodeUid: () => string | undefined;
  /** Default 40. */
  leaseDurationSeconds?: number;
  /** Default a quarter of the duration (10 s). */
  renewIntervalMs?: number;
  clock?: Clock;
  log?: Logger;
}

export class NodeLease {
  readonly #o: NodeLeaseOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #latest: Lease | undefined;
  /** Successful renewals (for tests and metrics). */
  renewals = 0;

  constructor(opts: NodeLeaseOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.log ?? silentLogger;
  }

  get durationSeconds(): number {
    return this.#o.leaseDurationSeconds ?? 40;
  }

  get intervalMs(): number {
    return this.#o.renewIntervalMs ?? this.durationSeconds * 250;
  }

  /** The last Lease written. */
  get lease(): Lease | undefined {
    return this.#latest;
  }

  /** Renews every interval until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.renewWithBackoff(signal).catch(() => undefined);
      await sleep(this.#clock, this.intervalMs, signal).catch(() => undefined);
    }
  }

  /** One renewal, retried with back-off until it succeeds, the interval has passed or `signal` aborts. */
  async renewWithBackoff(signal?: AbortSignal): Promise<void> {
    let delay = 200;
    const giveUpAt = this.#clock.now() + this.intervalMs;
    for (;;) {
      try {
        await this.renew();
        return;
      } catch (err) {
        this.#log.debug({ err, node: this.#o.nodeName }, 'renewing the node lease failed');
        if (signal?.aborted || this.#clock.now() + delay >= giveUpAt) throw err;
        await sleep(this.#clock, delay, signal);
        delay = Math.min(delay * 2, 7000);
      }
    }
  }

  /** One attempt: update the known Lease, else get-or-create and update. */
  async renew(): Promise<Lease> {
    const { client, nodeName } = this.#o;
    if (this.#latest) {
      try {
        this.#latest = await client.update(LEASES, NODE_LEASE_NAMESPACE, this.#renewed(this.#latest));
        this.renewals++;
        return this.#latest;
      } catch (err) {
        if (!(err instanceof ApiError) || (err.code !== 409 && err.code !== 404)) throw err;
        this.#latest = undefined;
      }
    }
    let current: Lease;
    try {
      current = await client.get<Lease>(LEASES, NODE_LEASE_NAMESPACE, nodeName);
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 404) throw err;
      this.#latest = await client.create(LEASES, NODE_LEASE_NAMESPACE, this.#renewed(this.#fresh()));
      this.renewals++;
      return this.#latest;
    }
    this.#latest = await client.update(LEASES, NODE_LEASE_NAMESPACE, this.#renewed(current));
    this.renewals++;
    return this.#latest;
  }

  #fresh(): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#o.nodeName, namespace: NODE_LEASE_NAMESPACE },
      spec: {},
    };
  }

  #renewed(base: Lease): Lease {
    const uid = this.#o.nodeUid();
    const owned = (base.metadata.ownerReferences ?? []).length > 0;
    return {
      ...base,
      metadata: {
        ...base.metadata,
        ...(!owned && uid
          ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.#o.nodeName, uid }] }
          : {}),
      },
      spec: {
        ...base.spec,
        holderIdentity: this.#o.nodeName,
        leaseDurationSeconds: this.durationSeconds,
        renewTime: microTime(this.#clock.now()),
      },
    };
  }
}
