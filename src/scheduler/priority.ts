/**
 * Pod priorities. The Priority admission plugin normally fills spec.priority from the pod's
 * PriorityClass; where it has not, the scheduler resolves it itself from the PriorityClass informer
 * (by spec.priorityClassName, else the globalDefault class, else 0), so every pod the scheduler
 * looks at carries spec.priority.
 */
import type { Lister } from '../client/types.ts';
import type { Pod, PriorityClass } from './types.ts';

/** The built-in classes (scheduling.SystemPriorityClasses). */
export const BUILTIN_PRIORITY: Readonly<Record<string, number>> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

export class PriorityResolver {
  readonly #classes: Lister<PriorityClass> | undefined;

  constructor(classes: Lister<PriorityClass> | undefined) {
    this.#classes = classes;
  }

  /** The pod itself when spec.priority is set, else a copy with it (and preemptionPolicy) filled in. */
  withPriority(pod: Pod): Pod {
    if (typeof pod.spec?.priority === 'number') return pod;
    const name = pod.spec?.priorityClassName;
    let value = 0;
    let policy: string | undefined;
    if (name) {
      const pc = this.#classes?.get(name);
      value = pc?.value ?? BUILTIN_PRIORITY[name] ?? 0;
      policy = pc?.preemptionPolicy;
    } else if (this.#classes) {
      const def = this.#classes.list().find((c) => c.globalDefault);
      if (def) {
        value = def.value;
        policy = def.preemptionPolicy;
      }
    }
    const spec = { ...pod.spec, priority: value };
    if (policy && !spec.preemptionPolicy) spec.preemptionPolicy = policy;
    return { ...pod, spec };
  }

  /** A pod lister whose pods carry spec.priority. */
  lister(l: Lister<Pod>): Lister<Pod> {
    return {
      get: (key) => {
        const p = l.get(key);
        return p ? this.withPriority(p) : undefined;
      },
      list: () => l.list().map((p) => this.withPriority(p)),
      byIndex: (index, value) => l.byIndex(index, value).map((p) => this.withPriority(p)),
    };
  }
}
