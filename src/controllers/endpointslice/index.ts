/** The EndpointSlice controller and its reconciler. */
export { EndpointSliceController, type EndpointSliceControllerOptions } from './controller.ts';
export {
  type AddressType,
  addressTypesFor,
  CONTROLLER_NAME,
  type EndpointSlice,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  type SliceChanges,
  type SliceEndpoint,
  type SlicePort,
  SliceReconciler,
} from './reconciler.ts';
