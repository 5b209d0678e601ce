/**
 * Which PersistentVolume a claim may bind to (pkg/controller/volume/persistentvolume's
 * findMatchingVolume): the volume pre-bound to the claim if any; otherwise the smallest Available
 * volume of the claim's class and volume mode, with every access mode the claim asks for, at least
 * its requested size, matching its selector — and, for WaitForFirstConsumer classes, whose node
 * affinity admits the claim's node.
 */
import type {
  Node,
  NodeSelector,
  NodeSelectorRequirement,
  PersistentVolume,
  PersistentVolumeClaim,
} from 'kubernetes-types/core/v1.js';
import { labelSelectorAsSelector } from '../../api/labels.ts';
import { Quantity } from '../../api/quantity.ts';

function quantity(v: unknown): Quantity | undefined {
  if (v === undefined || v === null) return undefined;
  try {
    return Quantity.parse(String(v));
  } catch {
    return undefined;
  }
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
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
      const n = Number.parseInt(value ?? '', 10);
      const m = Number.parseInt(values[0] ?? '', 10);
      if (Number.isNaN(n) || Number.isNaN(m)) return false;
      return r.operator === 'Gt' ? n > m : n < m;
    }
    default:
      return false;
  }
}

/** A required node selector: any term whose expressions and fields all match. */
export function nodeSelectorMatches(sel: NodeSelector, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  return (sel.nodeSelectorTerms ?? []).some((t) => {
    if (!t.matchExpressions?.length && !t.matchFields?.length) return false;
    return (
      (t.matchExpressions ?? []).every((r) => requirementMatches(r, labels[r.key])) &&
      (t.matchFields ?? []).every((r) =>
        requirementMatches(r, r.key === 'metadata.name' ? (node.metadata?.name ?? '') : undefined),
      )
    );
  });
}

/** The class a claim asks for ('' for none). */
export function claimClass(pvc: PersistentVolumeClaim): string {
  return (
    pvc.spec?.storageClassName ?? pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? ''
  );
}

export function volumeClass(pv: PersistentVolume): string {
  return (
    pv.spec?.storageClassName ?? pv.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? ''
  );
}

/** Whether `pv`'s claimRef names `pvc` (a uid, when set, must match too). */
export function isPreBoundTo(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  return (
    ref.name === pvc.metadata?.name &&
    (ref.namespace ?? '') === (pvc.metadata?.namespace ?? '') &&
    (!ref.uid || ref.uid === pvc.metadata?.uid)
  );
}

export interface MatchOptions {
  /** The claim's node, for WaitForFirstConsumer classes: volumes must admit it. */
  node?: Node;
  /** The class binds late (WaitForFirstConsumer): without `node`, nothing matches. */
  delayBinding?: boolean;
}

/** The best volume for `pvc` among `pvs`, or undefined. */
export function findMatchingVolume(
  pvc: PersistentVolumeClaim,
  pvs: readonly PersistentVolume[],
  opts: MatchOptions = {},
): PersistentVolume | undefined {
  const request = quantity(pvc.spec?.resources?.requests?.storage) ?? Quantity.parse('0');
  const mode = pvc.spec?.volumeMode ?? 'Filesystem';
  const want = pvc.spec?.accessModes ?? [];
  const cls = claimClass(pvc);
  const selector = pvc.spec?.selector ? labelSelectorAsSelector(pvc.spec.selector as never) : undefined;
  const nodeOk = (pv: PersistentVolume) => {
    if (!opts.delayBinding) return true;
    if (!opts.node) return false;
    const req = pv.spec?.nodeAffinity?.required;
    return !req || nodeSelectorMatches(req, opts.node);
  };
  let best: PersistentVolume | undefined;
  let bestSize: Quantity | undefined;
  for (const pv of pvs) {
    if (pv.metadata?.deletionTimestamp) continue;
    if ((pv.spec?.volumeMode ?? 'Filesystem') !== mode) continue;
    if (isPreBoundTo(pv, pvc)) {
      if (nodeOk(pv) || !opts.delayBinding) return pv;
      continue;
    }
    if (pv.spec?.claimRef) continue;
    const phase = pv.status?.phase ?? 'Pending';
    if (phase !== 'Available' && phase !== 'Pending') continue;
    if (volumeClass(pv) !== cls) continue;
    if (selector && !selector.matches(pv.metadata?.labels ?? {})) continue;
    const have = pv.spec?.accessModes ?? [];
    if (!want.every((m) => have.includes(m))) continue;
    const size = quantity(pv.spec?.capacity?.storage);
    if (!size || size.cmp(request) < 0) continue;
    if (!nodeOk(pv)) continue;
    if (!bestSize || size.cmp(bestSize) < 0) {
      best = pv;
      bestSize = size;
    }
  }
  return best;
}
