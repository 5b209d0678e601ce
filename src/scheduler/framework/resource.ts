/**
 * Resource accounting as the scheduler does it (framework.Resource and component-helpers'
 * resource.PodRequests): cpu in millicores, everything else in whole units (bytes, counts).
 *
 * A pod's request is
 *   max( sum(containers) + sum(sidecars), max over init containers i of (init[i] + sidecars before i) )
 *   + overhead
 * per resource, where a sidecar is an init container with restartPolicy Always. Pod-level requests
 * (spec.resources.requests, cpu and memory and hugepages) replace the container aggregate where set.
 */
import { parseQuantity } from '../../api/quantity.ts';
import type { Container, Pod, ResourceList } from '../types.ts';

export const CPU = 'cpu';
export const MEMORY = 'memory';
export const EPHEMERAL_STORAGE = 'ephemeral-storage';
export const PODS = 'pods';

/** The request the scheduler assumes for a container without a cpu request, in millicores. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** The request the scheduler assumes for a container without a memory request: 200 MB. */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** A vector of resources. `scalar` holds extended resources and hugepages. */
export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  allowedPodNumber: number;
  scalar: Map<string, number>;
}

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: new Map() };
}

export function cloneResource(r: Resource): Resource {
  return { ...r, scalar: new Map(r.scalar) };
}

/** Makes `dst` equal to `src`, in place (scalar Map included, in the same order). */
export function copyResourceInto(dst: Resource, src: Resource): void {
  dst.milliCPU = src.milliCPU;
  dst.memory = src.memory;
  dst.ephemeralStorage = src.ephemeralStorage;
  dst.allowedPodNumber = src.allowedPodNumber;
  if (dst.scalar.size === 0 && src.scalar.size === 0) return;
  dst.scalar.clear();
  for (const [k, v] of src.scalar) dst.scalar.set(k, v);
}

/** Extended resources, hugepages and prefixed native resources (schedutil.IsScalarResourceName). */
export function isScalarResourceName(name: string): boolean {
  return name.startsWith('hugepages-') || name.includes('/');
}

/**
 * Parsed quantity strings ("100m", "128Mi"): pods and nodes repeat a handful of them, and each pod
 * is parsed several times (queued, assumed, confirmed). Bounded: cleared when it grows large.
 */
const milliMemo = new Map<string, number>();
const valueMemo = new Map<string, number>();
const QUANTITY_MEMO_MAX = 4096;

/** A quantity as the scheduler counts it: millicores for cpu, Value() otherwise; 0 when unparsable. */
export function quantityValue(name: string, q: string | number | undefined): number {
  if (q === undefined) return 0;
  const milli = name === CPU;
  if (typeof q === 'string') {
    const memo = milli ? milliMemo : valueMemo;
    let v = memo.get(q);
    if (v === undefined) {
      v = parseValue(q, milli);
      if (memo.size >= QUANTITY_MEMO_MAX) memo.clear();
      memo.set(q, v);
    }
    return v;
  }
  return parseValue(q, milli);
}

function parseValue(q: string | number, milli: boolean): number {
  try {
    const parsed = parseQuantity(q);
    return Number(milli ? parsed.milliValue() : parsed.value());
  } catch {
    return 0;
  }
}

/** A resource list in counting units. */
export type Amounts = Map<string, number>;

export function toAmounts(list: ResourceList | undefined): Amounts {
  const out: Amounts = new Map();
  if (!list) return out;
  for (const [name, q] of Object.entries(list)) out.set(name, quantityValue(name, q));
  return out;
}

function addInto(dst: Amounts, src: Amounts): void {
  for (const [k, v] of src) dst.set(k, (dst.get(k) ?? 0) + v);
}

function maxInto(dst: Amounts, src: Amounts): void {
  for (const [k, v] of src) dst.set(k, Math.max(dst.get(k) ?? 0, v));
}

function containerRequests(c: Container, nonMissing: boolean): Amounts {
  const reqs = toAmounts(c.resources?.requests);
  if (nonMissing) {
    if (!reqs.has(CPU)) reqs.set(CPU, DEFAULT_MILLI_CPU_REQUEST);
    if (!reqs.has(MEMORY)) reqs.set(MEMORY, DEFAULT_MEMORY_REQUEST);
  }
  return reqs;
}

export interface PodRequestOptions {
  /** Count DEFAULT_MILLI_CPU_REQUEST / DEFAULT_MEMORY_REQUEST for containers that request none. */
  nonMissing?: boolean;
  /** Leave the pod overhead out. */
  excludeOverhead?: boolean;
}

/** resource.PodRequests: the pod's effective request per resource name. */
export function podRequestAmounts(pod: Pod, opts: PodRequestOptions = {}): Amounts {
  const spec = pod.spec ?? {};
  const reqs: Amounts = new Map();
  const nonMissing = opts.nonMissing === true;
  const podLevel = toAmounts(spec.resources?.requests);
  const podLevelSet = [...podLevel.keys()].some(
    (k) => k === CPU || k === MEMORY || k.startsWith('hugepages-'),
  );
  for (const c of spec.containers ?? []) addInto(reqs, containerRequests(c, nonMissing && !podLevelSet));
  const sidecars: Amounts = new Map();
  const initMax: Amounts = new Map();
  for (const c of spec.initContainers ?? []) {
    const r = containerRequests(c, nonMissing && !podLevelSet);
    if (c.restartPolicy === 'Always') {
      addInto(reqs, r);
      addInto(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      const use = new Map(r);
      addInto(use, sidecars);
      maxInto(initMax, use);
    }
  }
  maxInto(reqs, initMax);
  if (podLevelSet) {
    for (const [k, v] of podLevel)
      if (k === CPU || k === MEMORY || k.startsWith('hugepages-')) reqs.set(k, v);
    if (nonMissing) {
      if (!reqs.has(CPU)) reqs.set(CPU, DEFAULT_MILLI_CPU_REQUEST);
      if (!reqs.has(MEMORY)) reqs.set(MEMORY, DEFAULT_MEMORY_REQUEST);
    }
  }
  if (!opts.excludeOverhead && spec.overhead) addInto(reqs, toAmounts(spec.overhead));
  return reqs;
}

/** Folds amounts into a Resource (Resource.Add). */
export function addAmounts(r: Resource, amounts: Amounts): Resource {
  for (const [name, v] of amounts) addAmount(r, name, v);
  return r;
}

/** Adds `v` of resource `name` to `r` (names that are not counted are ignored). */
function addAmount(r: Resource, name: string, v: number): void {
  switch (name) {
    case CPU:
      r.milliCPU += v;
      break;
    case MEMORY:
      r.memory += v;
      break;
    case EPHEMERAL_STORAGE:
      r.ephemeralStorage += v;
      break;
    case PODS:
      r.allowedPodNumber += v;
      break;
    default:
      if (isScalarResourceName(name)) r.scalar.set(name, (r.scalar.get(name) ?? 0) + v);
  }
}

/** The pod's request as a Resource (pods not included). */
export function podRequests(pod: Pod, opts: PodRequestOptions = {}): Resource {
  const spec = pod.spec;
  if (
    spec &&
    spec.resources === undefined &&
    (spec.initContainers === undefined || spec.initContainers.length === 0) &&
    (spec.overhead === undefined || opts.excludeOverhead)
  ) {
    return containersRequests(spec.containers, opts.nonMissing === true);
  }
  return addAmounts(emptyResource(), podRequestAmounts(pod, opts));
}

/**
 * podRequests of a pod with containers only (no init containers, overhead or pod-level resources),
 * straight into a Resource: the same sums, added in the same order, without the Maps.
 */
function containersRequests(containers: readonly Container[] | undefined, nonMissing: boolean): Resource {
  const r = emptyResource();
  if (!containers) return r;
  for (const c of containers) {
    const list = c.resources?.requests;
    let cpu = false;
    let memory = false;
    if (list) {
      for (const name of Object.keys(list)) {
        addAmount(r, name, quantityValue(name, list[name]));
        if (name === CPU) cpu = true;
        else if (name === MEMORY) memory = true;
      }
    }
    if (nonMissing) {
      if (!cpu) r.milliCPU += DEFAULT_MILLI_CPU_REQUEST;
      if (!memory) r.memory += DEFAULT_MEMORY_REQUEST;
    }
  }
  return r;
}

/** r += s (scaled by sign). */
export function addResource(r: Resource, s: Resource, sign: 1 | -1 = 1): void {
  r.milliCPU += sign * s.milliCPU;
  r.memory += sign * s.memory;
  r.ephemeralStorage += sign * s.ephemeralStorage;
  r.allowedPodNumber += sign * s.allowedPodNumber;
  for (const [k, v] of s.scalar) r.scalar.set(k, (r.scalar.get(k) ?? 0) + sign * v);
}

/** The amount of `name` in `r`, in counting units. */
export function resourceAmount(r: Resource, name: string): number {
  switch (name) {
    case CPU:
      return r.milliCPU;
    case MEMORY:
      return r.memory;
    case EPHEMERAL_STORAGE:
      return r.ephemeralStorage;
    case PODS:
      return r.allowedPodNumber;
    default:
      return r.scalar.get(name) ?? 0;
  }
}
