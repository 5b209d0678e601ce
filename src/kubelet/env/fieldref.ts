/**
 * The downward API's values: pod fields (fieldpath.ExtractFieldPathAsString and the kubelet's
 * podFieldSelectorRuntimeValue) and container resources (resource.ExtractContainerResourceValue,
 * with limits defaulted to the node's allocatable as MergeContainerResourceLimits does).
 */
import type { Container, ObjectFieldSelector, Pod, ResourceFieldSelector } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../../api/quantity.ts';
import { ContainerConfigError } from './errors.ts';

/** Resource name → quantity string, as in a ResourceList. */
export type ResourceList = Record<string, string>;

/** fieldpath.FormatMap: `key="value"` lines in key order (Go's %q quoting), no trailing newline. */
export function formatMap(m: Record<string, string> | undefined): string {
  const map = m ?? {};
  return Object.keys(map)
    .sort()
    .map((k) => `${k}=${JSON.stringify(map[k])}`)
    .join('\n');
}

/** fieldpath.SplitMaybeSubscriptedPath: `metadata.labels['x']` → ['metadata.labels', 'x']. */
export function splitSubscript(path: string): [string, string] | undefined {
  if (!path.endsWith("']")) return undefined;
  const s = path.slice(0, -2);
  const i = s.indexOf("['");
  if (i <= 0) return undefined;
  return [s.slice(0, i), s.slice(i + 2)];
}

/**
 * The value of a pod field. `status.podIP(s)` come from the pod's status (the pod worker passes a pod
 * whose status carries the sandbox's IPs), `status.hostIP(s)` from the status or `hostIPs`.
 * Throws ContainerConfigError for an unsupported path.
 */
export function podFieldValue(pod: Pod, sel: ObjectFieldSelector, hostIPs: string[] = []): string {
  const path = sel.fieldPath;
  const status = pod.status ?? {};
  const hosts = status.hostIPs?.length ? status.hostIPs.map((h) => h.ip ?? '') : hostIPs;
  switch (path) {
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return status.hostIP ?? hosts[0] ?? '';
    case 'status.hostIPs':
      return (hosts.length ? hosts : status.hostIP ? [status.hostIP] : []).join(',');
    case 'status.podIP':
      return status.podIP ?? status.podIPs?.[0]?.ip ?? '';
    case 'status.podIPs': {
      const ips = status.podIPs?.map((p) => p.ip ?? '') ?? (status.podIP ? [status.podIP] : []);
      return ips.join(',');
    }
  }
  const sub = splitSubscript(path);
  if (sub) {
    const [base, key] = sub;
    if (base === 'metadata.annotations') return pod.metadata?.annotations?.[key] ?? '';
    if (base === 'metadata.labels') return pod.metadata?.labels?.[key] ?? '';
    throw new ContainerConfigError(`fieldPath "${path}" does not support subscript`);
  }
  switch (path) {
    case 'metadata.annotations':
      return formatMap(pod.metadata?.annotations);
    case 'metadata.labels':
      return formatMap(pod.metadata?.labels);
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
  }
  throw new ContainerConfigError(`unsupported fieldPath: ${path}`);
}

const DEFAULTED_BY_ALLOCATABLE = ['cpu', 'memory', 'ephemeral-storage'];

function q(v: unknown): Quantity {
  return Quantity.parse(String(v ?? '0'));
}

function ceilDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new ContainerConfigError('invalid divisor: 0');
  const d = a / b;
  return d * b === a || a < 0n ? d : d + 1n;
}

/**
 * The value of a container resource (`limits.cpu`, `requests.memory`, `limits.ephemeral-storage`,
 * `requests.hugepages-2Mi`, …) divided by `divisor` and rounded up, as the downward API reports it.
 * `containerName` picks another container of the pod. Limits not set default to `allocatable`.
 */
export function resourceFieldValue(
  pod: Pod,
  container: Container | undefined,
  sel: ResourceFieldSelector,
  allocatable: ResourceList = {},
): string {
  let c = container;
  if (sel.containerName) {
    const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
    c = all.find((x) => x.name === sel.containerName);
    if (!c) throw new ContainerConfigError(`container ${sel.containerName} not found`);
  }
  if (!c) throw new ContainerConfigError('resourceFieldRef needs a container');
  const limits: Record<string, unknown> = { ...(c.resources?.limits ?? {}) };
  for (const k of Object.keys(allocatable)) {
    if ((DEFAULTED_BY_ALLOCATABLE.includes(k) || k.startsWith('hugepages-')) && !(k in limits))
      limits[k] = allocatable[k];
  }
  const requests: Record<string, unknown> = c.resources?.requests ?? {};
  const divisor = sel.divisor === undefined || q(sel.divisor).isZero() ? q('1') : q(sel.divisor);
  const dot = sel.resource.indexOf('.');
  const kind = sel.resource.slice(0, dot);
  const name = sel.resource.slice(dot + 1);
  const list = kind === 'limits' ? limits : kind === 'requests' ? requests : undefined;
  const supported = ['cpu', 'memory', 'ephemeral-storage'].includes(name) || name.startsWith('hugepages-');
  if (!list || dot < 0 || !supported)
    throw new ContainerConfigError(`unsupported container resource : ${sel.resource}`);
  const value = q(list[name]);
  if (name === 'cpu') return ceilDiv(value.milliValue(), divisor.milliValue()).toString();
  return ceilDiv(value.value(), divisor.value()).toString();
}
