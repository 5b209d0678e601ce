/**
 * skiff's client library (the shape of client-go): the REST client, shared informers and their
 * factory, listers, the rate-limited work queue and leader election.
 */

export { ApiError } from '../api/errors.ts';
export { InformerFactory, type InformerFactoryOptions, type InformerSelection } from './factory.ts';
export { IndexedCache, type InformerOptions, SharedInformer } from './informer.ts';
export { namespaceIndex, objectKey, splitKey } from './keys.ts';
export { fromKubeconfig } from './kubeconfig.ts';
export {
  type LeaderCallbacks,
  type LeaderElectionConfig,
  LeaderElector,
  type Lease,
  type LeaseSpec,
} from './leaderelection.ts';
export * from './resources.ts';
export {
  CLIENT_VERSION,
  type ClientConnection,
  type ConnectionConfig,
  errorFromResponse,
  HttpRestClient,
  isApiError,
  isGone,
  type LoopbackConnection,
  type RestClientOptions,
} from './rest.ts';
export { isLoopback, type Transport, transportFor } from './transport.ts';
export type {
  DeleteOptions,
  EventHandler,
  IndexFunc,
  Informer,
  KubeObject,
  Lister,
  ListOptions,
  ListResult,
  PatchOptions,
  PatchType,
  ResourceRef,
  RestClient,
  WatchEvent,
  WatchEventType,
  WatchOptions,
  WorkQueue,
  WriteOptions,
} from './types.ts';
export {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
  RateLimitingQueue,
  type RateLimitingQueueOptions,
} from './workqueue.ts';
