/**
 * Zones and rate-limited tainting, as the node lifecycle controller has them: nodes are grouped by
 * region and zone labels; each zone has a queue of nodes to taint NoExecute, drained at
 * --node-eviction-rate (lower when much of a large zone is unhealthy, not at all when every zone is).
 */
import type { Clock } from '../../util/clock.ts';
import { LABEL_REGION, LABEL_ZONE, type Node, type NodeCondition } from './types.ts';

export type ZoneState = 'Initial' | 'Normal' | 'FullDisruption' | 'PartialDisruption';

/** nodetopology.GetZoneKey: '' without region and zone labels. */
export function zoneKey(node: Node): string {
  const labels = node.metadata.labels ?? {};
  const region = labels[LABEL_REGION] ?? '';
  const zone = labels[LABEL_ZONE] ?? '';
  if (!region && !zone) return '';
  return `${region}:\x00:${zone}`;
}

/**
 * ComputeZoneState: FullDisruption when no node of the zone is Ready; PartialDisruption when more
 * than two are not Ready and they are at least `unhealthyThreshold` of it; else Normal.
 */
export function computeZoneState(
  ready: readonly (NodeCondition | undefined)[],
  unhealthyThreshold: number,
): { notReady: number; state: ZoneState } {
  let readyNodes = 0;
  let notReady = 0;
  for (const c of ready) {
    if (c?.status === 'True') readyNodes++;
    else notReady++;
  }
  if (readyNodes === 0 && notReady > 0) return { notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / (notReady + readyNodes) >= unhealthyThreshold) {
    return { notReady, state: 'PartialDisruption' };
  }
  return { notReady, state: 'Normal' };
}

/** A token bucket on the injected clock (flowcontrol's token bucket rate limiter); qps 0 never accepts. */
export class TokenBucket {
  readonly qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, clock: Clock) {
    this.qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  tryAccept(): boolean {
    if (this.qps <= 0) return false;
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.qps);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Ms until a token is available (Infinity when qps is 0). */
  waitMs(): number {
    if (this.qps <= 0) return Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    const tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.qps);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.qps) * 1000);
  }
}

interface TimedValue {
  value: string;
  processAt: number;
}

/**
 * scheduler.RateLimitedTimedQueue: a unique FIFO of node names. A name stays "known" after it was
 * processed successfully, so it is not queued again until remove() (the node became reachable).
 */
export class RateLimitedTimedQueue {
  #limiter: TokenBucket;
  readonly #clock: Clock;
  #queue: TimedValue[] = [];
  readonly #known = new Set<string>();

  constructor(limiter: TokenBucket, clock: Clock) {
    this.#limiter = limiter;
    this.#clock = clock;
  }

  get length(): number {
    return this.#queue.length;
  }

  /** Queues `value` unless known; returns whether it was added. */
  add(value: string): boolean {
    if (this.#known.has(value)) return false;
    this.#known.add(value);
    this.#queue.push({ value, processAt: this.#clock.now() });
    return true;
  }

  /** Forgets `value` (queued or processed); returns whether it was known. */
  remove(value: string): boolean {
    this.#queue = this.#queue.filter((v) => v.value !== value);
    return this.#known.delete(value);
  }

  /** Uses a new rate (a fresh, full bucket) unless the rate is the same. */
  swapLimiter(qps: number, burst = 1): void {
    if (this.#limiter.qps === qps) return;
    this.#limiter = new TokenBucket(qps, burst, this.#clock);
  }

  /**
   * Processes due values in order while the limiter allows: `fn` returns true when done, or false
   * and a wait (ms) to retry after. Returns ms until the next attempt is worth making (Infinity
   * when the queue is empty or the rate is 0).
   */
  async try(fn: (value: string) => Promise<{ done: boolean; retryAfterMs?: number }>): Promise<number> {
    for (;;) {
      const head = this.#queue[0];
      if (!head) return Number.POSITIVE_INFINITY;
      const now = this.#clock.now();
      if (now < head.processAt) return head.processAt - now;
      if (!this.#limiter.tryAccept()) return this.#limiter.waitMs();
      const { done, retryAfterMs = 0 } = await fn(head.value);
      // The value may have been removed and queued again meanwhile: match by value.
      const wasKnown = this.#known.has(head.value);
      this.#queue = this.#queue.filter((v) => v.value !== head.value);
      if (!done && wasKnown) {
        head.processAt = this.#clock.now() + retryAfterMs + 1;
        // Keep the order by processAt, as the heap does.
        let j = this.#queue.findIndex((v) => v.processAt > head.processAt);
        if (j < 0) j = this.#queue.length;
        this.#queue.splice(j, 0, head);
      }
    }
  }
}
