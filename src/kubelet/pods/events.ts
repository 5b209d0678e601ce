/**
 * Events about pods, as the kubelet records them (client-go's EventRecorder with its correlator):
 * core/v1 Events in the pod's namespace with source component "kubelet" and host the node,
 * involvedObject the pod (fieldPath `spec.containers{name}` for a container). A repeat of the same
 * event (same object, field, type, reason and message) within 10 minutes bumps the count and
 * lastTimestamp of the first one instead of creating another. Writes never block the caller and
 * failures are logged only.
 */
import { randomBytes } from 'node:crypto';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { EVENTS } from '../../client/resources.ts';
import type { RestClient } from '../../client/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { Logger } from '../../util/log.ts';
import { rfc3339 } from './format.ts';

export type EventType = 'Normal' | 'Warning';

/** Where pod events go. */
export interface EventRecorder {
  /** `fieldPath` names the container, e.g. `spec.containers{web}`; absent for the pod itself. */
  event(pod: Pod, fieldPath: string | undefined, type: EventType, reason: string, message: string): void;
}

/** The fieldPath of a container of `pod`. */
export function containerFieldPath(pod: Pod, name: string): string {
  if (pod.spec?.initContainers?.some((c) => c.name === name)) return `spec.initContainers{${name}}`;
  return `spec.containers{${name}}`;
}

interface Seen {
  name: string;
  count: number;
  first: number;
  last: number;
}

const AGGREGATE_MS = 10 * 60 * 1000;

/** Records events through the API. */
export class ApiEventRecorder implements EventRecorder {
  readonly #client: RestClient;
  readonly #node: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #seen = new Map<string, Seen>();
  #chain: Promise<void> = Promise.resolve();

  constructor(client: RestClient, nodeName: string, clock: Clock, log: Logger) {
    this.#client = client;
    this.#node = nodeName;
    this.#clock = clock;
    this.#log = log;
  }

  event(pod: Pod, fieldPath: string | undefined, type: EventType, reason: string, message: string): void {
    const m = pod.metadata ?? {};
    const ns = m.namespace ?? 'default';
    const now = this.#clock.now();
    const key = [m.uid, fieldPath ?? '', type, reason, message].join('\u0000');
    const seen = this.#seen.get(key);
    if (seen && now - seen.last < AGGREGATE_MS) {
      seen.count++;
      seen.last = now;
      const { name, count } = seen;
      this.#enqueue(async () => {
        await this.#client.patch(EVENTS, ns, name, 'merge', {
          count,
          lastTimestamp: rfc3339(now),
        });
      });
      return;
    }
    if (this.#seen.size > 4096) {
      for (const [k, v] of this.#seen) if (now - v.last >= AGGREGATE_MS) this.#seen.delete(k);
    }
    const name = `${m.name}.${(BigInt(now) * 1_000_000n + BigInt(randomBytes(2).readUInt16BE())).toString(16)}`;
    this.#seen.set(key, { name, count: 1, first: now, last: now });
    const ev: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: ns,
        name: m.name,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      source: { component: 'kubelet', host: this.#node },
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      count: 1,
      type,
      eventTime: null as unknown as undefined,
      reportingComponent: 'kubelet',
      reportingInstance: this.#node,
    };
    this.#enqueue(async () => {
      await this.#client.create(EVENTS, ns, ev as never);
    });
  }

  /** Resolves when every event recorded so far was written (or failed). */
  flush(): Promise<void> {
    return this.#chain;
  }

  #enqueue(fn: () => Promise<void>): void {
    this.#chain = this.#chain.then(fn).catch((err) => this.#log.debug({ err }, 'event write failed'));
  }
}

/** Keeps events in memory (for tests). */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: { pod: string; fieldPath?: string; type: EventType; reason: string; message: string }[] =
    [];
  event(pod: Pod, fieldPath: string | undefined, type: EventType, reason: string, message: string): void {
    this.events.push({ pod: pod.metadata?.name ?? '', fieldPath, type, reason, message });
  }
  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

/**
 * Adapts a recorder to the image manager's `recordEvent` option (images/manager.ts), so Pulling,
 * Pulled, Failed and BackOff events land on the container like the kubelet's.
 */
export function imageEventSink(
  recorder: EventRecorder,
): (pod: Pod, e: { type: EventType; reason: string; message: string; container: string }) => void {
  return (pod, e) => recorder.event(pod, containerFieldPath(pod, e.container), e.type, e.reason, e.message);
}
