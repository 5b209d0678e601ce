/**
 * One probe of one container (pkg/kubelet/prober/worker.go): runs every periodSeconds once the
 * container runs and initialDelaySeconds have passed since it started; a result is reported only
 * after successThreshold successes or failureThreshold failures in a row. Liveness and readiness
 * wait for the startup probe to succeed; the startup probe stops once it has. After a liveness or
 * startup failure the worker holds until the container is replaced. A new container instance
 * starts from the initial result: readiness failure, liveness success, startup unknown.
 */
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../util/clock.ts';
import type { RuntimeService } from '../cri/types.ts';
import { containerFieldPath, type EventRecorder } from '../pods/events.ts';
import { type ProbeResult, runProbe } from './probe.ts';

export type ProbeType = 'liveness' | 'readiness' | 'startup';

export interface ContainerInstance {
  id: string;
  /** ms since epoch the instance started running. */
  startedAt: number;
  running: boolean;
}

export interface WorkerDeps {
  cri: RuntimeService;
  clock: Clock;
  recorder: EventRecorder;
  /** Called when the worker's reported result changes. */
  onChange(): void;
  /** Whether the container's startup probe has succeeded (or it has none). */
  started(containerId: string): boolean;
}

const LABEL: Record<ProbeType, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

export function initialResult(type: ProbeType): ProbeResult {
  return type === 'readiness' ? 'failure' : type === 'liveness' ? 'success' : 'unknown';
}

export class ProbeWorker {
  readonly type: ProbeType;
  #pod: Pod;
  readonly #container: Container;
  readonly #probe: Probe;
  readonly #d: WorkerDeps;
  #instance: ContainerInstance | undefined;
  #podIP = '';
  #result: ProbeResult;
  #lastResult: ProbeResult = 'unknown';
  #resultRun = 0;
  #onHold = false;
  #cancelTimer: (() => void) | undefined;
  #inFlight = false;
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(type: ProbeType, pod: Pod, container: Container, probe: Probe, deps: WorkerDeps) {
    this.type = type;
    this.#pod = pod;
    this.#container = container;
    this.#probe = probe;
    this.#d = deps;
    this.#result = initialResult(type);
  }

  /** The reported result for the current instance. */
  result(containerId: string): ProbeResult {
    if (this.#instance?.id !== containerId) return initialResult(this.type);
    return this.#result;
  }

  /** Tells the worker about the newest instance of its container (or none). */
  update(pod: Pod, instance: ContainerInstance | undefined, podIP: string): void {
    this.#pod = pod;
    this.#podIP = podIP;
    const changed = instance?.id !== this.#instance?.id || instance?.running !== this.#instance?.running;
    if (instance?.id !== this.#instance?.id) {
      this.#onHold = false;
      this.#resultRun = 0;
      this.#lastResult = 'unknown';
      this.#result = initialResult(this.type);
    }
    this.#instance = instance;
    if (changed) this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#abort.abort();
  }

  #schedule(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    const inst = this.#instance;
    if (this.#stopped || !inst?.running) return;
    const now = this.#d.clock.now();
    const delayEnd = inst.startedAt + (this.#probe.initialDelaySeconds ?? 0) * 1000;
    this.#cancelTimer = this.#d.clock.setTimeout(() => void this.#tick(), Math.max(0, delayEnd - now));
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const period = (this.#probe.periodSeconds ?? 10) * 1000;
    this.#cancelTimer = this.#d.clock.setTimeout(() => void this.#tick(), period);
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      await this.#doProbe();
    } catch {
      // A probe never takes the kubelet down; the next period tries again.
    } finally {
      this.#inFlight = false;
    }
  }

  async #doProbe(): Promise<void> {
    const inst = this.#instance;
    if (!inst?.running || this.#onHold) return;
    if (this.type === 'startup' && this.#result === 'success') return;
    if (this.type !== 'startup' && this.#container.startupProbe && !this.#d.started(inst.id)) return;
    if (this.#d.clock.now() - inst.startedAt < (this.#probe.initialDelaySeconds ?? 0) * 1000) return;
    const outcome = await runProbe(
      this.#d.cri,
      this.#probe,
      { containerId: inst.id, container: this.#container, podIP: this.#podIP },
      this.#abort.signal,
    );
    if (this.#stopped || this.#instance?.id !== inst.id) return;
    const result: ProbeResult = outcome.result === 'success' ? 'success' : 'failure';
    if (result === 'failure') {
      const what = outcome.result === 'unknown' ? 'errored' : 'failed';
      this.#d.recorder.event(
        this.#pod,
        containerFieldPath(this.#pod, this.#container.name),
        'Warning',
        'Unhealthy',
        `${LABEL[this.type]} probe ${what}: ${outcome.output}`,
      );
    }
    if (result === this.#lastResult) this.#resultRun++;
    else {
      this.#lastResult = result;
      this.#resultRun = 1;
    }
    const failureThreshold = this.#probe.failureThreshold ?? 3;
    const successThreshold = this.#probe.successThreshold ?? 1;
    if (
      (result === 'failure' && this.#resultRun < failureThreshold) ||
      (result === 'success' && this.#resultRun < successThreshold)
    ) {
      return;
    }
    const changed = this.#result !== result;
    this.#result = result;
    if ((this.type === 'liveness' || this.type === 'startup') && result === 'failure') {
      this.#onHold = true;
      this.#resultRun = 0;
    }
    if (changed) this.#d.onChange();
  }
}
