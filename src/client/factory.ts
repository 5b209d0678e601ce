/**
 * The shared informer factory (client-go's SharedInformerFactory): one informer per resource and
 * selection, shared by everyone in the process that asks for it, so each resource is listed and
 * watched once.
 */
import type { Clock } from '../util/clock.ts';
import type { Logger } from '../util/log.ts';
import { type InformerOptions, SharedInformer } from './informer.ts';
import type { Informer, KubeObject, ResourceRef, RestClient } from './types.ts';

/** Which objects of a resource an informer holds. */
export interface InformerSelection {
  /** '' or absent: all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface InformerFactoryOptions
  extends Omit<InformerOptions, 'namespace' | 'labelSelector' | 'fieldSelector'> {
  /** Default namespace of every informer ('' or absent: all). */
  namespace?: string;
  clock?: Clock;
  logger?: Logger;
}

export class InformerFactory {
  readonly #client: RestClient;
  readonly #o: InformerFactoryOptions;
  readonly #informers = new Map<string, SharedInformer<KubeObject>>();
  readonly #started = new Set<string>();
  #signal: AbortSignal | null = null;

  constructor(client: RestClient, opts: InformerFactoryOptions = {}) {
    this.#client = client;
    this.#o = opts;
  }

  /**
   * The shared informer of `ref` and `selection`, made on first request. One requested after
   * start() starts at once.
   */
  informer<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    selection: InformerSelection = {},
  ): Informer<T> {
    const namespace = selection.namespace ?? this.#o.namespace ?? '';
    const key = [
      ref.group,
      ref.version,
      ref.resource,
      ref.namespaced ? namespace : '',
      selection.labelSelector ?? '',
      selection.fieldSelector ?? '',
    ].join('|');
    let inf = this.#informers.get(key);
    if (!inf) {
      inf = new SharedInformer(this.#client, ref, {
        ...this.#o,
        namespace: ref.namespaced ? namespace : '',
        labelSelector: selection.labelSelector,
        fieldSelector: selection.fieldSelector,
      });
      this.#informers.set(key, inf);
      if (this.#signal && !this.#signal.aborted) this.#start(key, inf, this.#signal);
    }
    return inf as unknown as Informer<T>;
  }

  /** Starts every informer not yet started; they run until `signal` aborts. */
  start(signal: AbortSignal): void {
    this.#signal = signal;
    for (const [key, inf] of this.#informers) this.#start(key, inf, signal);
  }

  /**
   * Resolves true once every started informer has synced, or false when `signal` aborts first.
   */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      const pending = [...this.#informers.entries()].filter(
        ([k, i]) => this.#started.has(k) && !i.hasSynced(),
      );
      if (pending.length === 0) return true;
      if (signal?.aborted) return false;
      let onAbort = () => {};
      const aborted = new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted');
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      try {
        const done = await Promise.race([Promise.all(pending.map(([, i]) => i.synced())), aborted]);
        if (done === 'aborted') return false;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  /** Resolves once every started informer's loop has ended (after the start signal aborted). */
  async stopped(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.stopped()));
  }

  #start(key: string, inf: SharedInformer<KubeObject>, signal: AbortSignal): void {
    if (this.#started.has(key)) return;
    this.#started.add(key);
    inf.run(signal);
  }
}
