/**
 * Test harness for controllers on the fake client: a FakeRestClient, a FakeClock, shared informers
 * started on them, and each controller set up with its own queue. Tests call reconcile() directly
 * (nothing runs the queues) and wait with synced() until the informers show what the fake holds.
 */
import { InformerFactory } from '../../client/factory.ts';
import { FakeRestClient } from '../../client/fake.ts';
import { objectKey } from '../../client/keys.ts';
import type { KubeObject, ResourceRef } from '../../client/types.ts';
import { RateLimitingQueue } from '../../client/workqueue.ts';
import { FakeClock } from '../../util/clock.ts';
import { silentLogger } from '../../util/log.ts';
import { type Controller, DEFAULT_CONTROLLER_OPTIONS } from '../controller.ts';

/**
 * Resolves once `cond()` holds, polling every few ms of real time (like client/testing.ts's, which
 * would load the whole API server into a unit test).
 */
export async function eventually(cond: () => unknown, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface FakeControllerEnv {
  fake: FakeRestClient;
  clock: FakeClock;
  informers: InformerFactory;
  queues: RateLimitingQueue[];
  /** Resolves once every informer of `refs` holds exactly what the fake does. */
  synced(...refs: ResourceRef[]): Promise<void>;
  stop(): void;
}

export async function startFakeControllers(
  controllers: Controller[],
  opts: { clock?: FakeClock } = {},
): Promise<FakeControllerEnv> {
  const clock = opts.clock ?? new FakeClock(Date.UTC(2026, 0, 1));
  const fake = new FakeRestClient({ clock });
  const informers = new InformerFactory(fake, { clock });
  const queues: RateLimitingQueue[] = [];
  for (const c of controllers) {
    const queue = new RateLimitingQueue({ clock });
    queues.push(queue);
    c.setup({
      client: fake,
      informers,
      clock,
      log: silentLogger,
      queue,
      options: DEFAULT_CONTROLLER_OPTIONS,
    });
  }
  const ac = new AbortController();
  informers.start(ac.signal);
  await informers.waitForSync(ac.signal);
  return {
    fake,
    clock,
    informers,
    queues,
    async synced(...refs) {
      await eventually(
        () =>
          refs.every((ref) => {
            const want = fake.objects(ref);
            const lister = informers.informer(ref).lister();
            if (lister.list().length !== want.length) return false;
            return want.every(
              (o: KubeObject) =>
                lister.get(objectKey(o))?.metadata.resourceVersion === o.metadata.resourceVersion,
            );
          }),
        'informers to catch up',
      );
    },
    stop() {
      ac.abort();
      for (const q of queues) q.shutDown();
    },
  };
}
