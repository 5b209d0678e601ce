/** The namespace controller: empties namespaces being deleted, then finalizes them. */
export {
  FINALIZER_KUBERNETES,
  type Namespace,
  NamespaceController,
  type NamespaceControllerOptions,
} from './controller.ts';
export {
  type DeletionResult,
  FINALIZER_ESTIMATE_SECONDS,
  type NamespaceCondition,
  NamespacedResourcesDeleter,
} from './deleter.ts';
