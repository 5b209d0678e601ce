/**
 * The API server's Prometheus metrics, served as text on /metrics, named as kube-apiserver names
 * them where there is an equivalent: requests by verb, resource and code, request latency, open
 * watches, and the storage's latency and size.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../storage/store.ts';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'verb' | 'group' | 'version' | 'resource' | 'subresource' | 'code'>;
  readonly latency: Histogram<'verb' | 'group' | 'version' | 'resource' | 'subresource'>;
  readonly watches: Gauge<'group' | 'version' | 'resource'>;
  readonly storeLatency: Histogram<'operation'>;

  constructor(store: Store) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'apiserver_request_total',
      help: 'Counter of apiserver requests broken out for each verb, group, version, resource, subresource and HTTP response code.',
      labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'code'],
      registers,
    });
    this.latency = new Histogram({
      name: 'apiserver_request_duration_seconds',
      help: 'Response latency distribution in seconds for each verb, group, version, resource and subresource.',
      labelNames: ['verb', 'group', 'version', 'resource', 'subresource'],
      buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 10, 15, 30, 60],
      registers,
    });
    this.watches = new Gauge({
      name: 'apiserver_registered_watchers',
      help: 'Number of currently registered watchers for a given resource.',
      labelNames: ['group', 'version', 'resource'],
      registers,
    });
    this.storeLatency = new Histogram({
      name: 'skiff_storage_request_duration_seconds',
      help: 'Storage request latency in seconds by operation (the counterpart of etcd_request_duration_seconds).',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    new Gauge({
      name: 'skiff_storage_revision',
      help: 'The storage revision (the latest resourceVersion).',
      registers,
      collect() {
        this.set(store.stats().revision);
      },
    });
    new Gauge({
      name: 'apiserver_storage_objects',
      help: 'Number of stored objects (all resources).',
      registers,
      collect() {
        this.set(store.stats().keys);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  async text(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
