/** The endpoints controller, and the pod and service rules the endpoint controllers share. */
export {
  ANNOTATION_OVER_CAPACITY,
  desiredSubsets,
  type EndpointAddress,
  type EndpointPort,
  type EndpointSubset,
  type Endpoints,
  EndpointsController,
  type EndpointsControllerOptions,
  LABEL_HEADLESS,
  MAX_ENDPOINTS_CAPACITY,
} from './controller.ts';
export {
  findPort,
  isPodReady,
  isPodTerminal,
  type Pod,
  podIPs,
  type Service,
  type ServicePort,
  servicesForPodChange,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from './pods.ts';
