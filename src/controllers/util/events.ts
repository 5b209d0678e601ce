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

export class EventRecorder {
  readonly #client: RestClient;
  readonly #component: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  #seq = 0;
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
}
