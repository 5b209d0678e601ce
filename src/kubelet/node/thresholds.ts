/**
 * Eviction signals and thresholds (pkg/kubelet/eviction/api): a threshold is `signal < quantity`
 * or `signal < percentage` of the signal's capacity; the kubelet's Linux hard defaults are
 * memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%, imagefs.available<15%.
 */
import { parseQuantity, Quantity } from '../../api/quantity.ts';

export type Signal =
  | 'memory.available'
  | 'nodefs.available'
  | 'nodefs.inodesFree'
  | 'imagefs.available'
  | 'imagefs.inodesFree'
  | 'pid.available';

export const SIGNALS: readonly Signal[] = [
  'memory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'pid.available',
];

/** The hard thresholds the kubelet uses on Linux when none are configured. */
export const DEFAULT_EVICTION_HARD: Readonly<Partial<Record<Signal, string>>> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
};

export interface Threshold {
  signal: Signal;
  /** An absolute quantity, or… */
  quantity?: Quantity;
  /** …a fraction of the signal's capacity (0.1 for "10%"). */
  percentage?: number;
  /** Extra amount to reclaim beyond the threshold before it counts as resolved. */
  minReclaim?: Quantity;
}

/** A bad --eviction-hard entry. */
export class ThresholdError extends Error {
  override name = 'ThresholdError';
}

/** The node resource each signal reclaims (signalToResource). */
export const SIGNAL_RESOURCE: Readonly<Record<Signal, string>> = {
  'memory.available': 'memory',
  'nodefs.available': 'ephemeral-storage',
  'nodefs.inodesFree': 'inodes',
  'imagefs.available': 'ephemeral-storage',
  'imagefs.inodesFree': 'inodes',
  'pid.available': 'pids',
};

/** The node condition each signal drives (signalToNodeCondition). */
export const SIGNAL_CONDITION: Readonly<Record<Signal, 'MemoryPressure' | 'DiskPressure' | 'PIDPressure'>> = {
  'memory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure',
  'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure',
  'imagefs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

/**
 * Parses `{ "memory.available": "100Mi", "nodefs.available": "10%" }` (the --eviction-hard map).
 * "0%" and "100%" are ignored (no threshold), as the kubelet does; a zero, negative or
 * out-of-range value, or an unknown signal, throws a ThresholdError.
 */
export function parseThresholds(
  map: Readonly<Partial<Record<string, string>>>,
  minReclaim: Readonly<Partial<Record<string, string>>> = {},
): Threshold[] {
  const out: Threshold[] = [];
  for (const [signal, raw] of Object.entries(map)) {
    if (raw === undefined) continue;
    if (!SIGNALS.includes(signal as Signal))
      throw new ThresholdError(`unknown eviction signal ${JSON.stringify(signal)}`);
    const t: Threshold = { signal: signal as Signal };
    const value = raw.trim();
    if (value.endsWith('%')) {
      const pct = Number(value.slice(0, -1));
      if (!Number.isFinite(pct) || pct < 0 || pct > 100) {
        throw new ThresholdError(
          `eviction percentage threshold ${signal} must be >= 0% and <= 100%: ${value}`,
        );
      }
      if (value === '0%' || value === '100%') continue;
      t.percentage = pct / 100;
    } else {
      let q: Quantity;
      try {
        q = parseQuantity(value);
      } catch (err) {
        throw new ThresholdError(`eviction threshold ${signal}: ${(err as Error).message}`);
      }
      if (q.sign() <= 0) throw new ThresholdError(`eviction threshold ${signal} must be positive: ${value}`);
      t.quantity = q;
    }
    const mr = minReclaim[signal];
    if (mr !== undefined) t.minReclaim = parseQuantity(mr);
    out.push(t);
  }
  return out;
}

/** GetThresholdQuantity: the threshold in units of the signal, given its capacity. */
export function thresholdQuantity(t: Threshold, capacity: Quantity): Quantity {
  if (t.quantity) return t.quantity;
  return Quantity.fromInt(Math.trunc(Number(capacity.value()) * (t.percentage ?? 0)), 'BinarySI');
}
