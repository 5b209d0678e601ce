/**
 * The controller manager: runs a set of controllers, each with its own work queue and workers, on
 * shared informers — only while it holds the `kube-controller-manager` Lease in kube-system, so that
 * several servers can run it and exactly one acts.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { InformerFactory } from '../client/factory.ts';
import { LeaderElector } from '../client/leaderelection.ts';
import type { RestClient } from '../client/types.ts';
import { RateLimitingQueue } from '../client/workqueue.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import {
  type Controller,
  type ControllerContext,
  type ControllerOptions,
  DEFAULT_CONTROLLER_OPTIONS,
} from './controller.ts';

export interface ManagerOptions {
  client: RestClient;
  controllers: Controller[];
  clock?: Clock;
  logger?: Logger;
  options?: Partial<ControllerOptions>;
  /** Elect a leader through a Lease before running (default true); false runs at once (tests). */
  leaderElection?: boolean;
  /** The Lease name; default kube-controller-manager. */
  leaseName?: string;
}

/** Runs `controller` until `signal` aborts: its workers take keys from `queue` and reconcile them. */
export async function runWorkers(
  controller: Controller,
  queue: RateLimitingQueue,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const result = await controller.reconcile(key, signal);
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        if (!signal.aborted) {
          log.debug(
            { err, key, retries: queue.numRequeues(key) },
            'reconcile failed; retrying with back-off',
          );
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, controller.workers ?? 1) }, worker));
}

export class ControllerManager {
  readonly #o: ManagerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;

  constructor(opts: ManagerOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Runs until `signal` aborts; with leader election, only while leading (and stands again after losing). */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#o.leaderElection === false) {
      await this.#runControllers(signal);
      return;
    }
    const identity = `${hostname()}_${randomBytes(6).toString('hex')}`;
    let term: Promise<void> = Promise.resolve();
    while (!signal.aborted) {
      const elector = new LeaderElector({
        client: this.#o.client,
        namespace: 'kube-system',
        name: this.#o.leaseName ?? 'kube-controller-manager',
        identity,
        clock: this.#clock,
        logger: this.#log,
        callbacks: {
          onStartedLeading: (leading) => {
            this.#log.info({ identity }, 'controller manager is leading');
            term = this.#runControllers(leading).catch((err: unknown) =>
              this.#log.error({ err }, 'controllers failed'),
            );
          },
          onStoppedLeading: () => this.#log.info({ identity }, 'controller manager stopped leading'),
        },
      });
      await elector.run(signal);
      // Lost the lease: the controllers stop taking work, but reconciles in flight finish first —
      // standing again (and restarting the same controllers) before they have would let two
      // terms act at once, e.g. a ReplicaSet creating its pods twice.
      await term;
    }
  }

  async #runControllers(signal: AbortSignal): Promise<void> {
    const informers = new InformerFactory(this.#o.client, { clock: this.#clock, logger: this.#log });
    const options = { ...DEFAULT_CONTROLLER_OPTIONS, ...this.#o.options };
    const running: { controller: Controller; queue: RateLimitingQueue }[] = [];
    for (const controller of this.#o.controllers) {
      const queue = new RateLimitingQueue({ clock: this.#clock });
      const ctx: ControllerContext = {
        client: this.#o.client,
        informers,
        clock: this.#clock,
        log: this.#log.child({ controller: controller.name }),
        queue,
        options,
      };
      controller.setup(ctx);
      running.push({ controller, queue });
    }
    informers.start(signal);
    const synced = await informers.waitForSync(signal);
    if (!synced) return;
    this.#log.debug({ controllers: running.map((r) => r.controller.name) }, 'controllers started');
    signal.addEventListener('abort', () => {
      for (const r of running) r.queue.shutDown();
    });
    await Promise.all(
      running.map((r) =>
        runWorkers(r.controller, r.queue, this.#log.child({ controller: r.controller.name }), signal),
      ),
    );
  }
}
