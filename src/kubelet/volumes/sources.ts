/**
 * ConfigMaps and Secrets as the kubelet's volumes and environment read them: through the API, with a
 * short cache (the kubelet's TTL-based configmap/secret managers) so that a pod's volumes and all its
 * containers' env cost one GET per object, and concurrent reads share one request.
 */
import type { ConfigMap, Secret } from 'kubernetes-types/core/v1.js';
import { CONFIG_MAPS, SECRETS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject, ResourceRef, RestClient } from '../../client/types.ts';
import { type Clock, systemClock } from '../../util/clock.ts';

/** A source object that does not exist; `message` is the kubelet's (`configmap "x" not found`). */
export class SourceNotFoundError extends Error {
  override name = 'SourceNotFoundError';
  readonly kind: 'configmap' | 'secret';
  constructor(kind: 'configmap' | 'secret', name: string) {
    super(`${kind} "${name}" not found`);
    this.kind = kind;
  }
}

export interface ObjectSourceOptions {
  client: RestClient;
  /** How long a fetched object is reused, ms (default 1000; 0 reads every time). */
  ttlMs?: number;
  clock?: Clock;
}

interface Entry {
  at: number;
  value: Promise<KubeObject>;
}

/** Cached GETs of ConfigMaps and Secrets. Rejects with SourceNotFoundError on 404, else the API error. */
export class ObjectSource {
  readonly #client: RestClient;
  readonly #ttl: number;
  readonly #clock: Clock;
  readonly #cache = new Map<string, Entry>();

  constructor(opts: ObjectSourceOptions) {
    this.#client = opts.client;
    this.#ttl = opts.ttlMs ?? 1000;
    this.#clock = opts.clock ?? systemClock;
  }

  configMap(namespace: string, name: string): Promise<ConfigMap> {
    return this.#get(CONFIG_MAPS, 'configmap', namespace, name) as Promise<ConfigMap>;
  }

  secret(namespace: string, name: string): Promise<Secret> {
    return this.#get(SECRETS, 'secret', namespace, name) as Promise<Secret>;
  }

  /** Forgets everything cached (e.g. after a watch says an object changed). */
  invalidate(): void {
    this.#cache.clear();
  }

  #get(ref: ResourceRef, kind: 'configmap' | 'secret', namespace: string, name: string): Promise<KubeObject> {
    const key = `${kind}/${namespace}/${name}`;
    const now = this.#clock.now();
    for (const [k, e] of this.#cache) if (now - e.at > this.#ttl) this.#cache.delete(k);
    const hit = this.#cache.get(key);
    if (hit) return hit.value;
    const value = this.#client.get(ref, namespace, name).catch((err: unknown) => {
      this.#cache.delete(key);
      if (isApiError(err, 404)) throw new SourceNotFoundError(kind, name);
      throw err;
    });
    this.#cache.set(key, { at: now, value });
    return value;
  }
}

/** A Secret's data, decoded (data is base64; stringData is merged in by the API server). */
export function secretData(secret: Secret): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(secret.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  return out;
}

/** A ConfigMap's data and binaryData as bytes. */
export function configMapData(cm: ConfigMap): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  return out;
}
