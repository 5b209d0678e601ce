/** Small formatting helpers that reproduce the kubelet's (Go's) output exactly. */
import type { Pod } from 'kubernetes-types/core/v1.js';

/** `name_namespace(uid)`, as k8s.io/kubernetes/pkg/kubelet/util/format.Pod prints a pod. */
export function formatPod(pod: Pod): string {
  const m = pod.metadata ?? {};
  return `${m.name}_${m.namespace}(${m.uid})`;
}

/** A duration as Go's time.Duration.String() prints it: "10s", "1m20s", "5m0s", "1.5s", "0s". */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  if (rest < 1000) return `${neg ? '-' : ''}${rest}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  const sec = `${Number.isInteger(s) ? s : Number(s.toFixed(3))}s`;
  const out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  return neg ? `-${out}` : out;
}

/** RFC 3339 with seconds precision, as metav1.Time marshals ("2026-01-01T00:00:00Z"). */
export { rfc3339 } from '../node/time.ts';

/** CRI times are Unix nanoseconds; 0 means unset. */
export function nanosToMs(ns: number): number {
  return Math.floor(ns / 1e6);
}
