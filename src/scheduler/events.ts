/**
 * What the scheduler writes back besides bindings: core/v1 Events ("Scheduled",
 * "FailedScheduling", "Preempted") and the PodScheduled=False condition with the FitError message
 * (plus status.nominatedNodeName) on pods it could not place.
 */
import type { RestClient } from '../client/types.ts';
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

export class EventRecorder {
  readonly #client: RestClient;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #component: string;
  readonly #instance: string;
  #seq = 0n;

  constructor(client: RestClient, clock: Clock, logger: Logger, component: string, instance: string) {
    this.#client = client;
    this.#clock = clock;
    this.#logger = logger;
    this.#component = component;
    this.#instance = instance;
  }

  /** Creates the Event in the background; failures are logged, never thrown. */
  record(pod: Pod, type: 'Normal' | 'Warning', reason: string, action: string, message: string): void {
    const now = this.#clock.now();
    const ns = pod.metadata.namespace ?? 'default';
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
    this.#client.create(EVENTS, ns, event).catch((err: unknown) => {
      this.#logger.debug({ err, reason, pod: `${ns}/${pod.metadata.name}` }, 'could not record event');
    });
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
