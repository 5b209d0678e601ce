/**
 * DefaultBinder: binds through the pods/binding subresource. The apiserver sets spec.nodeName and
 * the PodScheduled condition; the pod informer then delivers the bound pod, which confirms the
 * assumed pod in the cache.
 */
import type { CycleState } from '../framework/cycle_state.ts';
import type { BindPlugin, Handle } from '../framework/interface.ts';
import { type MaybeStatus, Status } from '../framework/status.ts';
import { PODS } from '../refs.ts';
import type { Pod } from '../types.ts';
import { Names } from './names.ts';

/** The v1 Binding the scheduler posts. */
export function bindingFor(pod: Pod, nodeName: string): Record<string, unknown> {
  const metadata: Record<string, string> = {
    name: pod.metadata.name ?? '',
    namespace: pod.metadata.namespace ?? '',
  };
  if (pod.metadata.uid) metadata.uid = pod.metadata.uid;
  return {
    apiVersion: 'v1',
    kind: 'Binding',
    metadata,
    target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
  };
}

export class DefaultBinder implements BindPlugin {
  readonly name = Names.DefaultBinder;
  readonly #handle: Handle;

  constructor(handle: Handle) {
    this.#handle = handle;
  }

  async bind(_state: CycleState, pod: Pod, nodeName: string): Promise<MaybeStatus> {
    try {
      await this.#handle.client.createSubresource(
        PODS,
        pod.metadata.namespace ?? '',
        pod.metadata.name ?? '',
        'binding',
        bindingFor(pod, nodeName),
      );
      return undefined;
    } catch (err) {
      return Status.error(err);
    }
  }
}
