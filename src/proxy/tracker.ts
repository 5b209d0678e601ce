/**
 * The Services and EndpointSlices a proxier was told about, and which services changed since it last
 * took the changes (kube-proxy's ServiceChangeTracker and EndpointsChangeTracker, reduced to the keys
 * of changed services: the proxiers regenerate a changed service from scratch). Slices are grouped
 * by the Service they belong to (label `kubernetes.io/service-name`); slices without it are ignored.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { keyOf, LABEL_SERVICE_NAME } from './model.ts';

/** `namespace/service` of a slice's Service, or null when it has no service-name label. */
export function sliceServiceKey(slice: EndpointSlice): string | null {
  const name = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  return name ? `${slice.metadata?.namespace ?? ''}/${name}` : null;
}

export class ChangeTracker {
  readonly #services = new Map<string, Service>();
  /** service key → slice key → slice */
  readonly #slices = new Map<string, Map<string, EndpointSlice>>();
  readonly #dirty = new Set<string>();

  /** Records a Service added or updated. */
  setService(svc: Service): void {
    const key = keyOf(svc);
    this.#services.set(key, svc);
    this.#dirty.add(key);
  }

  deleteService(svc: Service): void {
    const key = keyOf(svc);
    this.#services.delete(key);
    this.#dirty.add(key);
  }

  /** Records an EndpointSlice added or updated. */
  setEndpointSlice(slice: EndpointSlice): void {
    const svcKey = sliceServiceKey(slice);
    if (!svcKey) return;
    let m = this.#slices.get(svcKey);
    if (!m) {
      m = new Map();
      this.#slices.set(svcKey, m);
    }
    m.set(keyOf(slice), slice);
    this.#dirty.add(svcKey);
  }

  /** Records an EndpointSlice deleted (one never recorded changes nothing). */
  deleteEndpointSlice(slice: EndpointSlice): void {
    const svcKey = sliceServiceKey(slice);
    if (!svcKey) return;
    const m = this.#slices.get(svcKey);
    if (!m?.delete(keyOf(slice))) return;
    if (m.size === 0) this.#slices.delete(svcKey);
    this.#dirty.add(svcKey);
  }

  /** The Service with this key, if known. */
  service(key: string): Service | undefined {
    return this.#services.get(key);
  }

  /** Keys of every known Service. */
  serviceKeys(): IterableIterator<string> {
    return this.#services.keys();
  }

  /** The slices of the Service with this key (also for a Service not known yet). */
  slicesOf(key: string): EndpointSlice[] {
    return [...(this.#slices.get(key)?.values() ?? [])];
  }

  /** Endpoints in all slices (for kube-proxy's large-cluster threshold). */
  endpointCount(): number {
    let n = 0;
    for (const m of this.#slices.values()) for (const sl of m.values()) n += sl.endpoints?.length ?? 0;
    return n;
  }

  /** Whether a service changed since the last {@link takeChanged}. */
  get hasChanges(): boolean {
    return this.#dirty.size > 0;
  }

  /** The keys of services that changed (added, updated, deleted, or their slices), and forgets them. */
  takeChanged(): Set<string> {
    const out = new Set(this.#dirty);
    this.#dirty.clear();
    return out;
  }

  /** Marks services changed again (a sync that took them failed). */
  markChanged(keys: Iterable<string>): void {
    for (const k of keys) this.#dirty.add(k);
  }
}
