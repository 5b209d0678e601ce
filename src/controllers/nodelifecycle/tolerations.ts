/**
 * The DefaultTolerationSeconds admission plugin's rule, as a pure function for the API server's pod
 * admission (create and update of pods proper, not of subresources): every pod tolerates the
 * not-ready and unreachable NoExecute taints for a while — unless it already tolerates them.
 */
import type { Pod, Toleration } from './types.ts';
import { TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE } from './types.ts';

/**
 * `pod` with `node.kubernetes.io/not-ready:NoExecute` (tolerationSeconds `notReadySeconds`) and
 * `node.kubernetes.io/unreachable:NoExecute` (`unreachableSeconds`) tolerations appended, each only
 * when no toleration covers it yet (one with that key or no key, and effect NoExecute or none).
 * Returns `pod` itself when nothing is added; else a copy with a new spec.tolerations. Never
 * modifies `pod`.
 */
export function defaultTolerations<T extends Pod>(
  pod: T,
  notReadySeconds: number,
  unreachableSeconds: number,
): T {
  const tolerations: Toleration[] = Array.isArray(pod.spec?.tolerations) ? pod.spec.tolerations : [];
  const covers = (key: string) =>
    tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const add: Toleration[] = [];
  if (!covers(TAINT_NODE_NOT_READY)) {
    add.push({
      key: TAINT_NODE_NOT_READY,
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: notReadySeconds,
    });
  }
  if (!covers(TAINT_NODE_UNREACHABLE)) {
    add.push({
      key: TAINT_NODE_UNREACHABLE,
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: unreachableSeconds,
    });
  }
  if (add.length === 0) return pod;
  return { ...pod, spec: { ...pod.spec, tolerations: [...tolerations, ...add] } };
}
