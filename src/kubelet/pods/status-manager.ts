/**
 * The status manager (pkg/kubelet/status/status_manager.go): remembers the last status the kubelet
 * computed for each pod, writes it through the `status` subresource only when it changed (a merge
 * patch carrying the pod's UID, so a pod re-created under the same name is never touched), and
 * keeps a terminal phase once reported. Writes for one pod are serialized; a failed write is
 * retried on the next sync.
 */
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.ts';
import { PODS } from '../../client/resources.ts';
import type { RestClient } from '../../client/types.ts';
import type { Logger } from '../../util/log.ts';
import { formatPod } from './format.ts';

function isTerminal(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** JSON with sorted keys, for comparing statuses. */
function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.keys(x)
            .sort()
            .filter((k) => x[k] !== undefined && x[k] !== null)
            .map((k) => [k, x[k]]),
        )
      : x,
  );
}

export class StatusManager {
  readonly #client: RestClient;
  readonly #log: Logger;
  /** uid → last status computed (and written, or to be written). */
  readonly #statuses = new Map<string, { status: PodStatus; written: boolean }>();

  constructor(client: RestClient, log: Logger) {
    this.#client = client;
    this.#log = log;
  }

  /** The last status computed for a pod. */
  get(uid: string): PodStatus | undefined {
    return this.#statuses.get(uid)?.status;
  }

  /**
   * Records `status` for `pod` and writes it when it differs from what the API holds and from
   * the last write. A terminal phase already reported is never replaced by a non-terminal one.
   * Returns true when a write happened.
   */
  async set(pod: Pod, status: PodStatus): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const prev = this.#statuses.get(uid);
    const api = pod.status;
    if ((isTerminal(prev?.status.phase) || isTerminal(api?.phase)) && !isTerminal(status.phase)) {
      status = { ...status, phase: prev && isTerminal(prev.status.phase) ? prev.status.phase : api?.phase };
    }
    const same = prev?.written && stable(prev.status) === stable(status);
    this.#statuses.set(uid, { status, written: !!same });
    if (same) return false;
    if (api && stable(api) === stable(status)) {
      this.#statuses.set(uid, { status, written: true });
      return false;
    }
    try {
      await this.#client.patch(
        PODS,
        pod.metadata?.namespace ?? 'default',
        pod.metadata?.name ?? '',
        'merge',
        { metadata: { uid }, status: { ...emptied(api, status), ...status } },
        { subresource: 'status' },
      );
      this.#statuses.set(uid, { status, written: true });
      return true;
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) {
        this.#log.debug(
          { pod: formatPod(pod), err: err.message },
          'status not written: pod gone or replaced',
        );
        return false;
      }
      this.#log.warn({ pod: formatPod(pod), err }, 'writing pod status failed');
      return false;
    }
  }

  /** Forgets a pod. */
  remove(uid: string): void {
    this.#statuses.delete(uid);
  }
}

/** Kubelet-owned fields the API status has and the new one lacks become null (a merge patch
 * removes them). */
function emptied(api: PodStatus | undefined, next: PodStatus): Record<string, null> {
  const out: Record<string, null> = {};
  if (!api) return out;
  for (const k of ['podIP', 'podIPs', 'initContainerStatuses', 'reason', 'message'] as const) {
    if (api[k] !== undefined && next[k] === undefined) out[k] = null;
  }
  return out;
}
