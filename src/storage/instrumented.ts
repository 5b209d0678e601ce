/**
 * A Store decorator that times every call: for metrics, without the stores knowing about them.
 */
import type { Store, WatchEvent, WatchOptions } from './store.ts';

export type Observe = (operation: string, seconds: number) => void;

/** Wraps `store` so each call reports its duration (watch reports nothing: it is long-lived). */
export function instrumentStore(store: Store, observe: Observe): Store {
  const timed =
    <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const t0 = performance.now();
      try {
        return await fn(...args);
      } finally {
        observe(operation, (performance.now() - t0) / 1000);
      }
    };
  return {
    soleWriter: store.soleWriter,
    currentRevision: () => store.currentRevision(),
    compactRevision: () => store.compactRevision(),
    get: timed('get', (key: string, revision?: number) => store.get(key, revision)),
    create: timed('create', (key, value, options) => store.create(key, value, options)),
    update: timed('update', (key, value, expected, options) => store.update(key, value, expected, options)),
    delete: timed('delete', (key, options) => store.delete(key, options)),
    range: timed('range', (prefix, options) => store.range(prefix, options)),
    count: timed('count', (prefix: string) => store.count(prefix)),
    watch: (prefix: string, options: WatchOptions): AsyncIterable<WatchEvent> => store.watch(prefix, options),
    compact: timed('compact', (revision: number) => store.compact(revision)),
    requestProgress: () => store.requestProgress?.(),
    stats: () => store.stats(),
    close: () => store.close(),
  };
}
