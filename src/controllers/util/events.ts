/**
 * A small event recorder (client-go's record.EventRecorder): core/v1 Events about an object, as
 * `kubectl describe` shows them ("Scaled up replica set web-7d4b9c8f5 from 0 to 3"). Recording is
 * fire-and-forget: it never fails or delays the caller; write errors are logged.
 */
import { apiVersionOf, EVENTS } from '../../client/resources.ts';
import type { KubeObject, ResourceRef, RestClient } from '../../client/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { Logger } from '../../util/log.ts';
import { rfc3339 } from './pods.ts';

export type EventType = 'Normal' | 'Warning';

export interface RecordedEvent {
  type: EventType;
  reason: string;
  message: string;
  /** `Kind/name` of the object. */
  object: string;
}

/** client-go's EventSourceObjectSpamFilter: a token bucket per source + object, 25 events, refilled one per 5 minutes. */
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 300_000;
/** Buckets kept (client-go keeps an LRU of 4096). */
const SPAM_KEYS = 4096;

export class EventRecorder {
  readonly #client: RestClient;
  readonly #component: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  #seq = 0;
  readonly #spam = new Map<string, { tokens: number; at: number }>();
  /** The last 100 events, newest last (for tests and debugging). */
  readonly recent: RecordedEvent[] = [];

  constructor(client: RestClient, component: string, clock: Clock, log: Logger) {
    this.#client = client;
    this.#component = component;
    this.#clock = clock;
    this.#log = log;
  }

  /** Records an event about `obj`, of the kind `ref` names, in the background. */
  event(ref: ResourceRef, obj: KubeObject, type: EventType, reason: string, message: string): void {
    const namespace = obj.metadata.namespace || 'default';
    const now = this.#clock.now();
    if (!this.#allow(ref, obj, now)) return;
    const suffix = (BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16);
    this.recent.push({ type, reason, message, object: `${ref.kind}/${obj.metadata.name ?? ''}` });
    if (this.recent.length > 100) this.recent.shift();
    const ev: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name ?? ''}.${suffix}`, namespace },
      involvedObject: {
        apiVersion: apiVersionOf(ref),
        kind: ref.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component: this.#component },
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      count: 1,
      reportingComponent: this.#component,
      reportingInstance: '',
    };
    this.#client.create(EVENTS, namespace, ev).catch((err: unknown) => {
      this.#log.debug({ err, reason }, 'could not record event');
    });
  }

  /** The spam filter: false drops the event (as client-go does, silently but for a debug log). */
  #allow(ref: ResourceRef, obj: KubeObject, now: number): boolean {
    const key = `${this.#component}/${ref.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}/${obj.metadata.uid ?? ''}`;
    const b = this.#spam.get(key) ?? { tokens: SPAM_BURST, at: now };
    this.#spam.delete(key);
    b.tokens = Math.min(SPAM_BURST, b.tokens + (now - b.at) / SPAM_REFILL_MS);
    b.at = now;
    this.#spam.set(key, b);
    if (this.#spam.size > SPAM_KEYS) this.#spam.delete(this.#spam.keys().next().value!);
    if (b.tokens < 1) {
      this.#log.debug({ object: key }, 'event dropped by the spam filter');
      return false;
    }
    b.tokens--;
    return true;
  }
}
