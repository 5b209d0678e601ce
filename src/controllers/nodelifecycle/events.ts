/**
 * Best-effort core/v1 Events, as client-go's event recorder writes them (name `<object>.<hex time>`,
 * cluster-scoped objects' events in `default`). A failure to record is logged and otherwise ignored.
 */
import { EVENTS } from '../../client/resources.ts';
import type { KubeObject, RestClient } from '../../client/types.ts';
import type { Clock } from '../../util/clock.ts';
import type { Logger } from '../../util/log.ts';
import { rfc3339 } from './taints.ts';

export interface EventTarget {
  kind: string;
  apiVersion?: string;
  name: string;
  namespace?: string;
  uid?: string;
}

export class EventRecorder {
  readonly #client: RestClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #component: string;
  #seq = 0;

  constructor(client: RestClient, clock: Clock, log: Logger, component: string) {
    this.#client = client;
    this.#clock = clock;
    this.#log = log;
    this.#component = component;
  }

  /** Records an event about `target`; resolves when written (or failed). */
  async event(
    target: EventTarget,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const now = this.#clock.now();
    const namespace = target.namespace || 'default';
    const stamp = (BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16);
    const ev: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${target.name}.${stamp}`, namespace },
      involvedObject: {
        kind: target.kind,
        apiVersion: target.apiVersion ?? 'v1',
        name: target.name,
        ...(target.namespace ? { namespace: target.namespace } : {}),
        ...(target.uid ? { uid: target.uid } : {}),
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
    try {
      await this.#client.create(EVENTS, namespace, ev);
    } catch (err) {
      this.#log.debug({ err, reason, object: target.name }, 'could not record an event');
    }
  }
}
