/**
 * The prober manager (pkg/kubelet/prober/prober_manager.go): one worker per container probe of
 * every pod the kubelet runs, and the results the pod workers and the status read:
 *
 * - started(id): the startup probe succeeded, or the container has none.
 * - ready(id): the readiness probe's result is success, or (without one) the container started.
 * - livenessFailed(id) / startupFailed(id): the container must be restarted.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../util/clock.ts';
import type { RuntimeService } from '../cri/types.ts';
import type { EventRecorder } from '../pods/events.ts';
import type { ProbeResult } from './probe.ts';
import { type ContainerInstance, type ProbeType, ProbeWorker } from './worker.ts';

export interface ProberOptions {
  cri: RuntimeService;
  clock: Clock;
  recorder: EventRecorder;
  /** Called with a pod's UID when one of its probe results changes. */
  onChange(podUid: string): void;
}

interface ContainerProbes {
  spec: Container;
  workers: Map<ProbeType, ProbeWorker>;
  instance?: ContainerInstance;
}

export class ProberManager {
  readonly #o: ProberOptions;
  /** pod uid → container name → probes */
  readonly #pods = new Map<string, Map<string, ContainerProbes>>();
  /** container id → probes (for result lookups) */
  readonly #byId = new Map<string, ContainerProbes>();

  constructor(o: ProberOptions) {
    this.#o = o;
  }

  /**
   * Brings the workers of `pod` up to date: `instances` maps each regular container's name to its
   * newest instance (running or not).
   */
  update(pod: Pod, instances: Map<string, ContainerInstance>, podIP: string): void {
    const uid = pod.metadata?.uid ?? '';
    let byName = this.#pods.get(uid);
    if (!byName) {
      byName = new Map();
      this.#pods.set(uid, byName);
    }
    for (const c of pod.spec?.containers ?? []) {
      const probes: [ProbeType, Container['livenessProbe']][] = [
        ['startup', c.startupProbe],
        ['liveness', c.livenessProbe],
        ['readiness', c.readinessProbe],
      ];
      let entry = byName.get(c.name);
      if (entry && entry.spec !== c && JSON.stringify(entry.spec) !== JSON.stringify(c)) {
        for (const w of entry.workers.values()) w.stop();
        if (entry.instance) this.#byId.delete(entry.instance.id);
        byName.delete(c.name);
        entry = undefined;
      }
      if (!entry) {
        entry = { spec: c, workers: new Map() };
        byName.set(c.name, entry);
        for (const [type, probe] of probes) {
          if (!probe) continue;
          entry.workers.set(
            type,
            new ProbeWorker(type, pod, c, probe, {
              cri: this.#o.cri,
              clock: this.#o.clock,
              recorder: this.#o.recorder,
              onChange: () => this.#o.onChange(uid),
              started: (id) => this.started(id),
            }),
          );
        }
      }
      const inst = instances.get(c.name);
      if (entry.instance && entry.instance.id !== inst?.id) this.#byId.delete(entry.instance.id);
      entry.instance = inst;
      if (inst) this.#byId.set(inst.id, entry);
      for (const w of entry.workers.values()) w.update(pod, inst, podIP);
    }
    for (const [name, entry] of byName) {
      if ((pod.spec?.containers ?? []).some((c) => c.name === name)) continue;
      for (const w of entry.workers.values()) w.stop();
      if (entry.instance) this.#byId.delete(entry.instance.id);
      byName.delete(name);
    }
  }

  /** Stops every worker of a pod. */
  removePod(uid: string): void {
    const byName = this.#pods.get(uid);
    if (!byName) return;
    for (const entry of byName.values()) {
      for (const w of entry.workers.values()) w.stop();
      if (entry.instance) this.#byId.delete(entry.instance.id);
    }
    this.#pods.delete(uid);
  }

  /** Stops everything. */
  stop(): void {
    for (const uid of [...this.#pods.keys()]) this.removePod(uid);
  }

  #result(containerId: string, type: ProbeType): ProbeResult | undefined {
    const w = this.#byId.get(containerId)?.workers.get(type);
    return w?.result(containerId);
  }

  started(containerId: string): boolean {
    const r = this.#result(containerId, 'startup');
    return r === undefined || r === 'success';
  }

  ready(containerId: string): boolean {
    if (!this.started(containerId)) return false;
    const r = this.#result(containerId, 'readiness');
    return r === undefined || r === 'success';
  }

  livenessFailed(containerId: string): boolean {
    return this.#result(containerId, 'liveness') === 'failure';
  }

  startupFailed(containerId: string): boolean {
    return this.#result(containerId, 'startup') === 'failure';
  }
}
