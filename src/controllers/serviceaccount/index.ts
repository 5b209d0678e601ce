/** The service account controller: a `default` ServiceAccount in every active namespace. */
export {
  isNamespaceTerminating,
  ServiceAccountController,
  type ServiceAccountControllerOptions,
} from './controller.ts';
