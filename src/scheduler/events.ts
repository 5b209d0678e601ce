/**
 * What the scheduler writes back besides bindings: core/v1 Events ("Scheduled",
 * "FailedScheduling", "Preempted"; queued and rate-limited, see EventRecorder) and the PodScheduled=False condition with the FitError message
 * (plus status.nominatedNodeName) on pods it could not place.
 */
import type { KubeObject, RestClient } from '../client/types.ts';
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/log.ts';
import { EVENTS, PODS } from './refs.ts';
import type { Pod, PodCondition } from './types.ts';
import { rfc3339 } from './util.ts';

/** Event notes longer than this are cut (validation.NoteLengthLimit). */
export const NOTE_LENGTH_LIMIT = 1024;

/** truncateMessage: keeps events within the API's note limit. */
export function truncateMessage(message: string): string {
  if (message.length <= NOTE_LENGTH_LIMIT) return message;
  const suffix = ' ...';
  return message.slice(0, NOTE_LENGTH_LIMIT - suffix.length) + suffix;
}

/** Events waiting to be written beyond this many are dropped (client-go's maxQueuedEvents). */
export const MAX_QUEUED_EVENTS = 1000;
/** kube-scheduler's default clientConnection qps and burst, which its event client shares. */
export const DEFAULT_EVENT_QPS = 50;
export const DEFAULT_EVENT_BURST = 100;
/** Event writes in flight at once. */
const MAX_IN_FLIGHT = 8;

export interface EventRecorderOptions {
  /** Event writes per second (token bucket); 0: unlimited. Default {@link DEFAULT_EVENT_QPS}. */
  qps?: number;
  /** Bucket size; default {@link DEFAULT_EVENT_BURST} (at least 1). */
  burst?: number;
  /** Default {@link MAX_QUEUED_EVENTS}. */
  maxQueued?: number;
}

/**
 * Records Events the way client-go's event broadcaster does: `record` only queues (it never waits
 * for the API), and a sink writes the queue in the background, rate-limited like kube-scheduler's
 * event client (qps 50, burst 100 by default). Events beyond {@link MAX_QUEUED_EVENTS} waiting are
 * dropped (the broadcaster's DropIfChannelFull): events are best effort, and bindings never wait
 * for them.
 */
export class EventRecorder {
  readonly #client: RestClient;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #component: string;
  readonly #instance: string;
  readonly #qps: number;
  readonly #burst: number;
  readonly #maxQueued: number;
  readonly #queue: { ns: string; event: KubeObject }[] = [];
  #head = 0;
  #tokens: number;
  #refilledAt: number;
  #inFlight = 0;
  #timer: (() => void) | undefined;
  #dropped = 0;
  #idle: (() => void)[] = [];
  #seq = 0n;

  constructor(
    client: RestClient,
    clock: Clock,
    logger: Logger,
    component: string,
    instance: string,
    o: EventRecorderOptions = {},
  ) {
    this.#client = client;
    this.#clock = clock;
    this.#logger = logger;
    this.#component = component;
    this.#instance = instance;
    this.#qps = o.qps ?? DEFAULT_EVENT_QPS;
    this.#burst = Math.max(1, o.burst ?? DEFAULT_EVENT_BURST);
    this.#maxQueued = o.maxQueued ?? MAX_QUEUED_EVENTS;
    this.#tokens = this.#burst;
    this.#refilledAt = clock.now();
  }

  /** Events dropped so far because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues the Event; it is written in the background. Failures are logged, never thrown. */
  record(pod: Pod, type: 'Normal' | 'Warning', reason: string, action: string, message: string): void {
    const ns = pod.metadata.namespace ?? 'default';
    if (this.#queue.length - this.#head >= this.#maxQueued) {
      if (this.#dropped++ % 1000 === 0) {
        this.#logger.info(
          { reason, pod: `${ns}/${pod.metadata.name}`, dropped: this.#dropped },
          'event queue full, dropping events',
        );
      }
      return;
    }
    const now = this.#clock.now();
    const nanos = BigInt(now) * 1_000_000n + (this.#seq++ % 1_000_000n);
    const ts = rfc3339(now);
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod.metadata.name ?? 'pod'}.${nanos.toString(16)}`, namespace: ns },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: ns,
        name: pod.metadata.name,
        uid: pod.metadata.uid,
        resourceVersion: pod.metadata.resourceVersion,
      },
      reason,
      message: truncateMessage(message),
      type,
      action,
      source: { component: this.#component },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      reportingComponent: this.#component,
      reportingInstance: this.#instance,
    };
    this.#queue.push({ ns, event });
    this.#pump();
  }

  /** Resolves once every queued Event has been written (or failed). */
  flush(): Promise<void> {
    if (this.#pending() === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  #pending(): number {
    return this.#queue.length - this.#head + this.#inFlight;
  }

  /** Starts as many writes as tokens and the in-flight limit allow; waits for tokens otherwise. */
  #pump(): void {
    while (this.#head < this.#queue.length && this.#inFlight < MAX_IN_FLIGHT) {
      if (!this.#take()) {
        if (!this.#timer) {
          const wait = Math.max(1, Math.ceil(((1 - this.#tokens) / this.#qps) * 1000));
          this.#timer = this.#clock.setTimeout(() => {
            this.#timer = undefined;
            this.#pump();
          }, wait);
        }
        return;
      }
      const { ns, event } = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as never;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#inFlight++;
      this.#client
        .create(EVENTS, ns, event)
        .catch((err: unknown) => {
          const e = event as unknown as { reason: string; involvedObject: { name?: string } };
          this.#logger.debug(
            { err, reason: e.reason, pod: `${ns}/${e.involvedObject.name}` },
            'could not record event',
          );
        })
        .finally(() => {
          this.#inFlight--;
          this.#pump();
          if (this.#pending() === 0) for (const r of this.#idle.splice(0)) r();
        });
    }
  }

  /** Takes a token from the bucket (refilled at qps per second, up to burst). */
  #take(): boolean {
    if (this.#qps <= 0) return true;
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#qps);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }
}

/**
 * Sets PodScheduled=False (reason, message) and, when `nominatedNodeName` is given, that field
 * ('' clears it). Skips the call when nothing would change, like podutil.UpdatePodCondition;
 * lastTransitionTime moves only when the condition's status changes.
 */
export async function updatePodSchedulingStatus(
  client: RestClient,
  clock: Clock,
  pod: Pod,
  reason: string,
  message: string,
  nominatedNodeName: string | undefined,
): Promise<void> {
  const old = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
  const condition: PodCondition = {
    type: 'PodScheduled',
    status: 'False',
    reason,
    message,
    lastProbeTime: null,
    lastTransitionTime:
      old && old.status === 'False' && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(clock.now()),
  };
  const conditionChanged = old?.status !== 'False' || old.reason !== reason || old.message !== message;
  const currentNominated = pod.status?.nominatedNodeName ?? '';
  const nnnChanged = nominatedNodeName !== undefined && nominatedNodeName !== currentNominated;
  if (!conditionChanged && !nnnChanged) return;
  const status: Record<string, unknown> = {};
  if (conditionChanged) status.conditions = [condition];
  if (nnnChanged) status.nominatedNodeName = nominatedNodeName === '' ? null : nominatedNodeName;
  await client.patch(
    PODS,
    pod.metadata.namespace ?? '',
    pod.metadata.name ?? '',
    'strategic',
    { status },
    {
      subresource: 'status',
    },
  );
}
