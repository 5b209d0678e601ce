/**
 * Leader election over a coordination.k8s.io/v1 Lease, with client-go's rules
 * (tools/leaderelection):
 *
 * - A candidate takes the lease when it does not exist (create), when its holderIdentity is empty
 *   (released), or when it has expired: its record has not changed for leaseDuration as *this*
 *   candidate observed it — the time the candidate saw the record change, on its own clock, never
 *   the renewTime written by another machine's clock.
 * - Every write is an update conditional on the Lease's resourceVersion, so of two candidates
 *   racing for it one wins and the other gets a conflict and tries again after retryPeriod.
 * - Taking over from another holder increments leaseTransitions and sets acquireTime; the holder
 *   renews (renewTime) every retryPeriod. When it cannot renew for renewDeadline, or finds someone
 *   else holding the lease, it stops leading.
 * - On stop (the run signal aborts) a leader releases the lease (holderIdentity cleared), so another
 *   candidate takes over at its next try instead of waiting for expiry.
 */
import { rfc3339Micro } from '../apiserver/object.ts';
import { type Clock, sleep, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { LEASES } from './resources.ts';
import { isApiError } from './rest.ts';
import type { KubeObject, RestClient } from './types.ts';

/** coordination.k8s.io/v1 LeaseSpec. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
  [field: string]: unknown;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaderCallbacks {
  /** Called when this candidate starts leading; `signal` aborts when it stops. Not awaited. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once when leadership ends (lost, or stopped), after the lease was released. */
  onStoppedLeading(): void;
  /** Called when the observed holder changes (including to this candidate). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  client: RestClient;
  /** Where the Lease lives. */
  namespace: string;
  name: string;
  /** This candidate's unique name (host name + a random suffix, usually). */
  identity: string;
  /** How long a lease is valid after its last observed change; default 15 s (stored in whole seconds). */
  leaseDurationMs?: number;
  /** How long a leader keeps trying to renew before it gives up; default 10 s. */
  renewDeadlineMs?: number;
  /** How often candidates try to acquire and the leader renews; default 2 s. */
  retryPeriodMs?: number;
  /** Acquire retries wait retryPeriod × (1 + random × jitter); default 1.2, as client-go. */
  retryJitter?: number;
  /** Clear holderIdentity when stopped while leading; default true. */
  releaseOnCancel?: boolean;
  callbacks: LeaderCallbacks;
  clock?: Clock;
  logger?: Logger;
}

type Attempt = 'ok' | 'held' | 'failed';

export class LeaderElector {
  readonly #c: LeaderElectionConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #durationS: number;
  readonly #renewDeadline: number;
  readonly #retry: number;
  /** The lease record as last seen, when this candidate saw it change, and the object itself. */
  #observed: LeaseSpec | null = null;
  #observedTime = 0;
  #lease: Lease | null = null;
  #reportedLeader = '';
  #leading = false;
  #running = false;

  constructor(config: LeaderElectionConfig) {
    const leaseMs = config.leaseDurationMs ?? 15_000;
    const renewDeadline = config.renewDeadlineMs ?? 10_000;
    const retry = config.retryPeriodMs ?? 2_000;
    if (!config.identity) throw new Error('leader election needs an identity');
    if (!(leaseMs > renewDeadline)) throw new Error('leaseDuration must be greater than renewDeadline');
    if (!(renewDeadline > retry * 1.2))
      throw new Error('renewDeadline must be greater than 1.2 × retryPeriod');
    if (!(retry > 0)) throw new Error('retryPeriod must be greater than zero');
    this.#c = config;
    this.#clock = config.clock ?? systemClock;
    this.#log = (config.logger ?? silentLogger).child({
      lease: `${config.namespace}/${config.name}`,
      identity: config.identity,
    });
    this.#durationS = Math.max(1, Math.ceil(leaseMs / 1000));
    this.#renewDeadline = renewDeadline;
    this.#retry = retry;
  }

  /** Whether this candidate is leading now. */
  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder this candidate last observed ('' if none). */
  getLeader(): string {
    return this.#observed?.holderIdentity ?? '';
  }

  /**
   * Tries to acquire the lease until `signal` aborts; once leader, renews it until leadership is
   * lost or `signal` aborts; then releases it (if configured) and calls onStoppedLeading. Resolves
   * when done; run again to stand for election again.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error('this leader elector is already running');
    this.#running = true;
    try {
      if (!(await this.#acquire(signal))) return;
      const lead = new AbortController();
      this.#leading = true;
      this.#log.info('started leading');
      try {
        Promise.resolve(this.#c.callbacks.onStartedLeading(lead.signal)).catch((err) =>
          this.#log.error({ err }, 'onStartedLeading failed'),
        );
      } catch (err) {
        this.#log.error({ err }, 'onStartedLeading failed');
      }
      await this.#renew(signal);
      this.#leading = false;
      lead.abort();
      if (signal.aborted && (this.#c.releaseOnCancel ?? true)) await this.#release();
      this.#log.info('stopped leading');
      try {
        this.#c.callbacks.onStoppedLeading();
      } catch (err) {
        this.#log.error({ err }, 'onStoppedLeading failed');
      }
    } finally {
      this.#leading = false;
      this.#running = false;
    }
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    const jitter = this.#c.retryJitter ?? 1.2;
    while (!signal.aborted) {
      if ((await this.#tryAcquireOrRenew()) === 'ok') return !signal.aborted || this.#abandon();
      try {
        await sleep(this.#clock, this.#retry * (1 + Math.random() * jitter), signal);
      } catch {
        return false;
      }
    }
    return false;
  }

  /** Acquired just as the signal aborted: give it back at once. */
  async #abandon(): Promise<boolean> {
    if (this.#c.releaseOnCancel ?? true) await this.#release();
    return false;
  }

  /** Renews every retryPeriod until the signal aborts or leadership is lost. */
  async #renew(signal: AbortSignal): Promise<void> {
    let lastRenew = this.#clock.now();
    while (!signal.aborted) {
      try {
        await sleep(this.#clock, this.#retry, signal);
      } catch {
        return;
      }
      const left = lastRenew + this.#renewDeadline - this.#clock.now();
      const result = await this.#withDeadline(this.#tryAcquireOrRenew(), left);
      if (result === 'ok') {
        lastRenew = this.#clock.now();
        continue;
      }
      if (result === 'held') {
        this.#log.warn({ holder: this.getLeader() }, 'the lease is held by another candidate');
        return;
      }
      if (this.#clock.now() - lastRenew >= this.#renewDeadline || result === 'timeout') {
        this.#log.warn({ renewDeadlineMs: this.#renewDeadline }, 'failed to renew the lease in time');
        return;
      }
    }
  }

  /** `attempt`'s result, or 'timeout' when `ms` pass first on the clock. */
  #withDeadline(attempt: Promise<Attempt>, ms: number): Promise<Attempt | 'timeout'> {
    return new Promise((resolve) => {
      const cancel = this.#clock.setTimeout(() => resolve('timeout'), Math.max(0, ms));
      attempt
        .catch((): Attempt => 'failed')
        .then((r) => {
          cancel();
          resolve(r);
        });
    });
  }

  /** One round of client-go's tryAcquireOrRenew. */
  async #tryAcquireOrRenew(): Promise<Attempt> {
    const { client, namespace, name, identity } = this.#c;
    const now = rfc3339Micro(this.#clock.now());
    const desired: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: this.#durationS,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };
    let lease: Lease;
    try {
      lease = await client.get<Lease>(LEASES, namespace, name);
    } catch (err) {
      if (!isApiError(err, 404)) {
        this.#log.warn({ err }, 'cannot read the lease');
        return 'failed';
      }
      try {
        const created = await client.create<Lease>(LEASES, namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: desired,
        });
        this.#observe(created);
        return 'ok';
      } catch (err2) {
        this.#log.debug({ err: err2 }, 'cannot create the lease');
        return 'failed';
      }
    }
    const old = lease.spec ?? {};
    if (!sameRecord(old, this.#observed)) {
      this.#observed = { ...old };
      this.#observedTime = this.#clock.now();
      this.#reportLeader();
    }
    this.#lease = lease;
    const holder = old.holderIdentity ?? '';
    const durationMs = (old.leaseDurationSeconds ?? this.#durationS) * 1000;
    if (holder && holder !== identity && this.#observedTime + durationMs > this.#clock.now()) return 'held';
    if (holder === identity) {
      desired.acquireTime = old.acquireTime ?? now;
      desired.leaseTransitions = old.leaseTransitions ?? 0;
    } else {
      desired.leaseTransitions = (old.leaseTransitions ?? 0) + 1;
    }
    try {
      const updated = await client.update<Lease>(LEASES, namespace, {
        ...lease,
        spec: { ...old, ...desired },
      });
      this.#observe(updated);
      return 'ok';
    } catch (err) {
      this.#log.debug({ err }, 'cannot update the lease');
      return 'failed';
    }
  }

  /** Gives the lease up: clears holderIdentity, conditional on the version this candidate last wrote. */
  async #release(): Promise<void> {
    const lease = this.#lease;
    if (!lease || lease.spec?.holderIdentity !== this.#c.identity) return;
    const now = rfc3339Micro(this.#clock.now());
    try {
      const updated = await this.#c.client.update<Lease>(LEASES, this.#c.namespace, {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
        },
      });
      this.#observe(updated);
    } catch (err) {
      this.#log.warn({ err }, 'cannot release the lease');
    }
  }

  #observe(lease: Lease): void {
    this.#lease = lease;
    this.#observed = { ...(lease.spec ?? {}) };
    this.#observedTime = this.#clock.now();
    this.#reportLeader();
  }

  #reportLeader(): void {
    const holder = this.#observed?.holderIdentity ?? '';
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (!holder) return;
    try {
      this.#c.callbacks.onNewLeader?.(holder);
    } catch (err) {
      this.#log.error({ err }, 'onNewLeader failed');
    }
  }
}

function sameRecord(a: LeaseSpec, b: LeaseSpec | null): boolean {
  if (!b) return false;
  return (
    (a.holderIdentity ?? '') === (b.holderIdentity ?? '') &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    (a.leaseTransitions ?? 0) === (b.leaseTransitions ?? 0)
  );
}
