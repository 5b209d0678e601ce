/**
 * The watch caches of all resources: one {@link ResourceCache} per group/resource, started on first
 * use and shared by every version (custom resources of several versions share one storage).
 */
import type { Store } from '../../storage/store.ts';
import type { Logger } from '../../util/log.ts';
import { type ResourceDef, storagePrefix } from '../resource.ts';
import { ResourceCache } from './cache.ts';

export { CachedEvent, copyObject, type EncodedWatchEvent, ResourceCache } from './cache.ts';

export class WatchCaches {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #caches = new Map<string, ResourceCache>();
  readonly #windowSize: number | undefined;

  constructor(store: Store, log: Logger, opts: { windowSize?: number } = {}) {
    this.#store = store;
    this.#log = log;
    this.#windowSize = opts.windowSize;
  }

  /** The cache of `def`'s resource, started if needed. */
  for(def: ResourceDef): ResourceCache {
    const key = `${def.group}/${def.resource}`;
    let cache = this.#caches.get(key);
    if (!cache) {
      cache = new ResourceCache({
        store: this.#store,
        prefix: storagePrefix(def),
        log: this.#log,
        windowSize: this.#windowSize,
      });
      this.#caches.set(key, cache);
    }
    return cache;
  }

  /** The cache of a resource if it has been started (never starts one). */
  existing(group: string, resource: string): ResourceCache | undefined {
    return this.#caches.get(`${group}/${resource}`);
  }

  /** Stops and forgets the cache of a resource that is no longer served. */
  drop(group: string, resource: string): void {
    const key = `${group}/${resource}`;
    this.#caches.get(key)?.stop();
    this.#caches.delete(key);
  }

  stop(): void {
    for (const c of this.#caches.values()) c.stop();
    this.#caches.clear();
  }
}
