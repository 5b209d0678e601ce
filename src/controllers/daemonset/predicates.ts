/**
 * Where a DaemonSet's pods belong (pkg/controller/daemon/util and daemon_controller.go's
 * NodeShouldRunDaemonPod): the node must match the template's nodeName, nodeSelector and required
 * node affinity, and its NoSchedule/NoExecute taints must be tolerated — with the tolerations every
 * daemon pod gets (not-ready, unreachable, disk/memory/pid pressure, unschedulable, and
 * network-unavailable for host-network pods). A pod already there may stay while only NoSchedule
 * taints are untolerated.
 */
import type {
  Affinity,
  Node,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Pod,
  PodSpec,
  Taint,
  Toleration,
} from '../job/podutil.ts';

/** The tolerations AddOrUpdateDaemonPodTolerations adds. */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork)
    t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** Adds the daemon tolerations a spec lacks (same key, operator and effect counts as present). */
export function addDaemonTolerations(spec: PodSpec): void {
  const have = [...(spec.tolerations ?? [])];
  for (const t of daemonTolerations(!!spec.hostNetwork)) {
    const i = have.findIndex((x) => x.key === t.key && x.effect === t.effect);
    if (i >= 0) have[i] = t;
    else have.push(t);
  }
  spec.tolerations = have;
}

/** Toleration.ToleratesTaint */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  if (!t.key && t.operator !== 'Exists') return false;
  return (t.value ?? '') === (taint.value ?? '');
}

/** The first taint (with an effect `filter` accepts) that no toleration tolerates. */
export function untoleratedTaint(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  filter: (t: Taint) => boolean,
): Taint | undefined {
  return taints.find((taint) => filter(taint) && !tolerations.some((t) => tolerates(t, taint)));
}

function matchRequirement(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (
        value === undefined ||
        values.length !== 1 ||
        !/^-?\d+$/.test(value) ||
        !/^-?\d+$/.test(values[0] ?? '')
      )
        return false;
      const have = BigInt(value);
      const want = BigInt(values[0] as string);
      return r.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}

/** A NodeSelectorTerm: all its expressions and fields match (an empty term matches nothing). */
export function matchTerm(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  for (const r of exprs)
    if (!matchRequirement(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of fields) {
    if (r.key !== 'metadata.name' || !matchRequirement(r, node.metadata.name)) return false;
  }
  return true;
}

/** nodeaffinity.GetRequiredNodeAffinity(pod).Match(node): nodeSelector and required affinity terms (OR-ed). */
export function fitsNodeAffinity(spec: PodSpec, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return (required.nodeSelectorTerms ?? []).some((t) => matchTerm(t, node));
}

/**
 * NodeShouldRunDaemonPod: whether a daemon pod should be created on `node` (shouldRun), and
 * whether one already there may keep running (shouldContinueRunning).
 */
export function nodeShouldRunDaemonPod(
  node: Node,
  template: PodSpec | undefined,
): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec: PodSpec = structuredClone(template ?? {});
  if (spec.nodeName && spec.nodeName !== node.metadata.name)
    return { shouldRun: false, shouldContinueRunning: false };
  addDaemonTolerations(spec);
  if (!fitsNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tolerations = spec.tolerations ?? [];
  const blocking = untoleratedTaint(
    taints,
    tolerations,
    (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
  );
  if (blocking) {
    const evicting = untoleratedTaint(taints, tolerations, (t) => t.effect === 'NoExecute');
    return { shouldRun: false, shouldContinueRunning: !evicting };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/**
 * ReplaceDaemonSetPodNodeNameNodeAffinity: pins a pod to `nodeName` — its required node affinity
 * becomes the one term `metadata.name In [nodeName]` (the controller already checked the node
 * matches the rest), so that the scheduler binds it there.
 */
export function pinToNode(affinity: Affinity | null | undefined, nodeName: string): Affinity {
  const a: Affinity = structuredClone(affinity ?? {});
  a.nodeAffinity = {
    ...(a.nodeAffinity ?? {}),
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
    },
  };
  return a;
}

/** GetTargetNodeName: spec.nodeName, or the node a pinning affinity names. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}
