/**
 * The node's capacity and allocatable, as the kubelet's MachineInfo status setter computes them:
 *
 * - capacity: cpu = cores, memory = MemTotal (bytes, BinarySI), ephemeral-storage = size of the
 *   filesystem holding the kubelet's root dir, pods = max pods, hugepages-2Mi / hugepages-1Gi =
 *   the pools' sizes (0 when none);
 * - allocatable = capacity − (system-reserved + kube-reserved + hard eviction thresholds on
 *   memory.available and nodefs.available), never below 0, and memory further reduced by every
 *   hugepage pool (GetNodeAllocatableReservation, hardEvictionReservation).
 */
import { parseQuantity, Quantity } from '../../api/quantity.ts';
import { type HostReader, readHugepages, readMeminfo } from './host.ts';
import { type Threshold, thresholdQuantity } from './thresholds.ts';

export type ResourceMap = Record<string, string>;

export interface CapacityOptions {
  /** The kubelet's root (data) dir: its filesystem is ephemeral-storage. */
  rootDir: string;
  /** Default 110. */
  maxPods?: number;
}

export async function readCapacity(host: HostReader, opts: CapacityOptions): Promise<ResourceMap> {
  const mem = await readMeminfo(host);
  const fs = await host.statfs(opts.rootDir);
  const huge = await readHugepages(host);
  return {
    cpu: Quantity.fromMilli(host.cpuCount() * 1000, 'DecimalSI').toString(),
    memory: Quantity.fromInt(mem.get('MemTotal') ?? 0, 'BinarySI').toString(),
    'ephemeral-storage': Quantity.fromInt(fs.capacityBytes, 'BinarySI').toString(),
    pods: Quantity.fromInt(opts.maxPods ?? 110, 'DecimalSI').toString(),
    'hugepages-1Gi': Quantity.fromInt(huge.get(1 << 30) ?? 0, 'BinarySI').toString(),
    'hugepages-2Mi': Quantity.fromInt(huge.get(2 << 20) ?? 0, 'BinarySI').toString(),
  };
}

/**
 * Allocatable from capacity. `reserved` is system-reserved and kube-reserved added together
 * (e.g. `{ cpu: '100m', memory: '256Mi' }`).
 */
export function computeAllocatable(
  capacity: ResourceMap,
  reserved: Readonly<Record<string, string>> = {},
  evictionHard: readonly Threshold[] = [],
): ResourceMap {
  const reservation = new Map<string, Quantity>();
  const add = (k: string, q: Quantity) => {
    const prev = reservation.get(k);
    reservation.set(k, prev ? prev.add(q) : q);
  };
  for (const [k, v] of Object.entries(reserved)) add(k, parseQuantity(v));
  for (const t of evictionHard) {
    if (t.signal === 'memory.available' && capacity.memory)
      add('memory', thresholdQuantity(t, parseQuantity(capacity.memory)));
    if (t.signal === 'nodefs.available' && capacity['ephemeral-storage']) {
      add('ephemeral-storage', thresholdQuantity(t, parseQuantity(capacity['ephemeral-storage'])));
    }
  }
  const out: ResourceMap = {};
  for (const [k, v] of Object.entries(capacity)) {
    let value = parseQuantity(v);
    const r = reservation.get(k);
    if (r) value = value.sub(r);
    if (value.sign() < 0) value = Quantity.zero(value.format);
    out[k] = value.toString();
  }
  if (out.memory !== undefined) {
    let mem = parseQuantity(out.memory);
    for (const [k, v] of Object.entries(capacity)) {
      if (k.startsWith('hugepages-')) mem = mem.sub(parseQuantity(v));
    }
    if (mem.sign() < 0) mem = Quantity.zero(mem.format);
    out.memory = mem.toString();
  }
  return out;
}
