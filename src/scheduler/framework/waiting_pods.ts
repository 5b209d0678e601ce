/**
 * Pods held at Permit (framework waitingPodsMap): each waits for every plugin that answered Wait to
 * allow it; the first reject or plugin timeout ends the wait with Unschedulable.
 */
import type { Clock } from '../../util/clock.ts';
import { type Pod, podKey, podRef } from '../types.ts';
import type { WaitingPod } from './interface.ts';
import { type MaybeStatus, Status } from './status.ts';

class WaitingPodImpl implements WaitingPod {
  readonly pod: Pod;
  readonly #pending: Set<string>;
  readonly #cancels: (() => void)[] = [];
  readonly #done: Promise<MaybeStatus>;
  #resolve!: (s: MaybeStatus) => void;
  #finished = false;
  readonly #onFinish: () => void;

  constructor(pod: Pod, timeouts: Map<string, number>, clock: Clock, onFinish: () => void) {
    this.pod = pod;
    this.#pending = new Set(timeouts.keys());
    this.#onFinish = onFinish;
    this.#done = new Promise((r) => {
      this.#resolve = r;
    });
    for (const [plugin, ms] of timeouts) {
      this.#cancels.push(
        clock.setTimeout(
          () => this.reject(plugin, `rejected due to timeout after waiting ${ms / 1000}s`),
          ms,
        ),
      );
    }
  }

  wait(): Promise<MaybeStatus> {
    return this.#done;
  }

  allow(plugin: string): void {
    if (this.#finished) return;
    this.#pending.delete(plugin);
    if (this.#pending.size === 0) this.#finish(undefined);
  }

  reject(plugin: string, message: string): void {
    if (this.#finished) return;
    this.#finish(
      Status.unschedulable(
        `pod "${podRef(this.pod)}" rejected while waiting on permit: ${message}`,
      ).withPlugin(plugin),
    );
  }

  #finish(s: MaybeStatus): void {
    this.#finished = true;
    for (const c of this.#cancels) c();
    this.#onFinish();
    this.#resolve(s);
  }
}

export class WaitingPods {
  readonly #pods = new Map<string, WaitingPodImpl>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Starts waiting; `timeouts` maps each plugin that said Wait to its timeout. */
  add(pod: Pod, timeouts: Map<string, number>): void {
    const key = podKey(pod);
    this.#pods.set(key, new WaitingPodImpl(pod, timeouts, this.#clock, () => this.#pods.delete(key)));
  }

  get(uid: string): WaitingPod | undefined {
    return this.#pods.get(uid);
  }

  /** Resolves when the pod may be bound (undefined) or was rejected; at once if it is not waiting. */
  wait(pod: Pod): Promise<MaybeStatus> {
    return this.#pods.get(podKey(pod))?.wait() ?? Promise.resolve(undefined);
  }

  /** Rejects a waiting pod (it was deleted or preempted). */
  reject(uid: string, plugin: string, message: string): boolean {
    const wp = this.#pods.get(uid);
    wp?.reject(plugin, message);
    return wp !== undefined;
  }
}
