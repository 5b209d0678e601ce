/**
 * Test helpers for the workload controllers' unit tests: a controller wired to a FakeRestClient, a
 * FakeClock and real informers over the fake, plus helpers that play the kubelet and scheduler.
 */
import { InformerFactory } from '../../client/factory.ts';
import { FakeRestClient } from '../../client/fake.ts';
import { PODS } from '../../client/resources.ts';
import type { KubeObject, ResourceRef, RestClient } from '../../client/types.ts';
import { RateLimitingQueue } from '../../client/workqueue.ts';
import { FakeClock } from '../../util/clock.ts';
import { silentLogger } from '../../util/log.ts';
import { type Controller, type ControllerContext, DEFAULT_CONTROLLER_OPTIONS } from '../controller.ts';
import { type Pod, rfc3339 } from './podutil.ts';

/** 2026-03-01T10:00:00Z, a Sunday. */
export const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);

export class Harness {
  readonly clock: FakeClock;
  readonly client: FakeRestClient;
  readonly queue: RateLimitingQueue;
  readonly informers: InformerFactory;
  readonly ctx: ControllerContext;
  readonly #ac = new AbortController();

  constructor(start = T0) {
    this.clock = new FakeClock(start);
    this.client = new FakeRestClient({ clock: this.clock });
    this.queue = new RateLimitingQueue({ clock: this.clock });
    this.informers = new InformerFactory(this.client, { clock: this.clock });
    this.ctx = {
      client: this.client,
      informers: this.informers,
      clock: this.clock,
      log: silentLogger,
      queue: this.queue,
      options: DEFAULT_CONTROLLER_OPTIONS,
    };
  }

  /** Sets the controller up and starts the informers. */
  async start(controller: Controller): Promise<void> {
    controller.setup(this.ctx);
    this.informers.start(this.#ac.signal);
    await this.informers.waitForSync(this.#ac.signal);
  }

  /** Lets the informers deliver what the fake has written so far. */
  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  }

  /** Takes the keys queued now (keys added with a delay wait until the clock reaches them). */
  async takeQueued(): Promise<string[]> {
    const keys: string[] = [];
    while (this.queue.length > 0) {
      const k = await this.queue.get();
      if (k === undefined) break;
      this.queue.done(k);
      keys.push(k);
    }
    return keys;
  }

  async create<T extends KubeObject>(ref: ResourceRef, obj: T): Promise<T> {
    return this.client.create(ref, obj.metadata.namespace ?? '', obj);
  }

  pods(namespace = 'default'): Pod[] {
    return this.client.objects<Pod>(PODS).filter((p) => p.metadata.namespace === namespace);
  }

  /** Plays the kubelet: sets a pod's phase (Running pods are Ready unless `ready` is false). */
  async setPhase(pod: Pod, phase: string, opts: { ready?: boolean; exitCode?: number } = {}): Promise<Pod> {
    const now = rfc3339(this.clock.now());
    const ready = phase === 'Running' && opts.ready !== false;
    const status: Record<string, unknown> = {
      phase,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }],
    };
    if (phase === 'Succeeded' || phase === 'Failed') {
      status.containerStatuses = [
        {
          name: 'c',
          restartCount: 0,
          state: {
            terminated: { exitCode: opts.exitCode ?? (phase === 'Succeeded' ? 0 : 1), finishedAt: now },
          },
        },
      ];
    }
    return this.client.patch<Pod>(
      PODS,
      pod.metadata.namespace ?? '',
      pod.metadata.name ?? '',
      'merge',
      { status },
      {
        subresource: 'status',
      },
    );
  }

  stop(): void {
    this.#ac.abort();
    this.queue.shutDown();
  }
}

/** A minimal valid pod template. */
export function podTemplate(labels: Record<string, string>, extra: Record<string, unknown> = {}) {
  return {
    metadata: { labels },
    spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never', ...extra },
  };
}

/**
 * Plays the scheduler and the kubelet against a real API server, for integration tests: binds
 * pods (to the node their affinity pins them to, else `defaultNode`), starts bound pods (Running
 * and Ready, when `admit` allows), and completes graceful deletions. Polls every few ms.
 */
export class TestKubelet {
  readonly #client: RestClient;
  readonly #namespace: string;
  readonly #defaultNode: string;
  readonly #admit: (pod: Pod) => boolean;
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();
  /** What it did, in order: `bind <pod> <node>`, `run <pod>`, `delete <pod>`. */
  readonly log: string[] = [];

  constructor(
    client: RestClient,
    namespace: string,
    opts: { defaultNode?: string; admit?: (pod: Pod) => boolean } = {},
  ) {
    this.#client = client;
    this.#namespace = namespace;
    this.#defaultNode = opts.defaultNode ?? 'node-1';
    this.#admit = opts.admit ?? (() => true);
  }

  start(): this {
    this.#loop = (async () => {
      while (!this.#stopped) {
        try {
          await this.step();
        } catch {
          // Races with the controllers (a pod deleted meanwhile ...): try again next round.
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    return this;
  }

  /** One round over the namespace's pods. */
  async step(): Promise<void> {
    const ns = this.#namespace;
    // resourceVersion 0: whatever the server has cached, without waiting for a consistent read.
    const pods = (await this.#client.list<Pod>(PODS, ns, { resourceVersion: '0' })).items;
    for (const p of pods) {
      const name = p.metadata.name ?? '';
      if (p.metadata.deletionTimestamp) {
        await this.#client.delete(PODS, ns, name, { gracePeriodSeconds: 0 }).catch(() => null);
        this.log.push(`delete ${name}`);
      } else if (!p.spec?.nodeName) {
        const terms =
          p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
        const pinned = terms?.[0]?.matchFields?.find((f) => f.key === 'metadata.name')?.values?.[0];
        const node = pinned ?? this.#defaultNode;
        await this.#client.createSubresource(PODS, ns, name, 'binding', {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name },
          target: { kind: 'Node', name: node },
        });
        this.log.push(`bind ${name} ${node}`);
      } else if (p.status?.phase !== 'Running' && this.#admit(p)) {
        const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        await this.#client.patch(
          PODS,
          ns,
          name,
          'strategic',
          {
            status: {
              phase: 'Running',
              conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
            },
          },
          { subresource: 'status' },
        );
        this.log.push(`run ${name}`);
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}
