/** The garbage collector and the API discovery it (and the namespace controller) use. */
export { GarbageCollector, type GarbageCollectorOptions } from './controller.ts';
export {
  type DiscoveredResource,
  type Discovery,
  type DiscoveryResult,
  HttpDiscovery,
  KindMapper,
  StaticDiscovery,
  supports,
  withAllVerbs,
} from './discovery.ts';
export {
  DependencyGraph,
  FINALIZER_FOREGROUND,
  FINALIZER_ORPHAN,
  type GraphNode,
  type Identity,
  type OwnerReference,
} from './graph.ts';
