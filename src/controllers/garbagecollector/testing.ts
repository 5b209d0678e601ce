/**
 * Test support for controllers: one controller on a FakeRestClient, shared informers and a work
 * queue on a FakeClock, driven by hand — settle() waits until the informers have seen every write,
 * drain() reconciles what is queued (as the manager's workers would).
 */
import { InformerFactory } from '../../client/factory.ts';
import { FakeRestClient } from '../../client/fake.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { eventually } from '../../client/testing.ts';
import type { Informer, KubeObject, ResourceRef } from '../../client/types.ts';
import { RateLimitingQueue } from '../../client/workqueue.ts';
import { FakeClock } from '../../util/clock.ts';
import { silentLogger } from '../../util/log.ts';
import {
  type Controller,
  type ControllerContext,
  type ControllerOptions,
  DEFAULT_CONTROLLER_OPTIONS,
} from '../controller.ts';

export interface Harness {
  client: FakeRestClient;
  clock: FakeClock;
  queue: RateLimitingQueue;
  ctx: ControllerContext;
  signal: AbortSignal;
  /** Resolves once every informer has seen every write made so far. */
  settle(): Promise<void>;
  /**
   * Reconciles queued keys until none is left (at most `rounds` keys); failures are re-queued with
   * back-off as the manager does. Returns the keys reconciled, in order.
   */
  drain(rounds?: number): Promise<string[]>;
  /** settle() and drain() until both are quiet. */
  run(): Promise<string[]>;
  stop(): void;
}

export interface HarnessOptions {
  clock?: FakeClock;
  options?: Partial<ControllerOptions>;
  /** Objects to store before the informers start. */
  objects?: [ResourceRef, KubeObject][];
}

export async function startHarness(controller: Controller, opts: HarnessOptions = {}): Promise<Harness> {
  const clock = opts.clock ?? new FakeClock();
  const client = new FakeRestClient({ clock });
  for (const [ref, obj] of opts.objects ?? []) await client.create(ref, obj.metadata.namespace ?? '', obj);
  const factory = new InformerFactory(client, { clock });
  const created = new Set<SharedInformer<KubeObject>>();
  const queue = new RateLimitingQueue({ clock });
  const abort = new AbortController();
  const ctx: ControllerContext = {
    client,
    clock,
    log: silentLogger,
    queue,
    options: { ...DEFAULT_CONTROLLER_OPTIONS, ...opts.options },
    informers: {
      informer<T extends KubeObject = KubeObject>(ref: ResourceRef): Informer<T> {
        const inf = factory.informer<T>(ref);
        created.add(inf as unknown as SharedInformer<KubeObject>);
        return inf;
      },
    },
  };
  controller.setup(ctx);
  factory.start(abort.signal);
  await factory.waitForSync(abort.signal);

  const settle = async () => {
    await eventually(() => {
      client.bookmark();
      return [...created].every((i) => i.hasSynced() && i.lastResourceVersion === client.resourceVersion);
    }, 'informers to catch up');
  };
  const drain = async (rounds = 1000) => {
    const done: string[] = [];
    while (queue.length > 0 && done.length < rounds) {
      const key = (await queue.get())!;
      done.push(key);
      try {
        const r = await controller.reconcile(key, abort.signal);
        queue.forget(key);
        if (r?.requeueAfterMs !== undefined) queue.addAfter(key, r.requeueAfterMs);
      } catch {
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
    return done;
  };
  return {
    client,
    clock,
    queue,
    ctx,
    signal: abort.signal,
    settle,
    drain,
    async run() {
      const all: string[] = [];
      for (let i = 0; i < 50; i++) {
        await settle();
        const keys = await drain();
        if (keys.length === 0) break;
        all.push(...keys);
      }
      return all;
    },
    stop() {
      abort.abort();
      queue.shutDown();
    },
  };
}
