/** The root CA publisher: the ConfigMap kube-root-ca.crt in every namespace. */
export {
  DESCRIPTION_ANNOTATION,
  ROOT_CA_CONFIGMAP,
  ROOT_CA_DESCRIPTION,
  RootCaCertPublisher,
  type RootCaPublisherOptions,
} from './controller.ts';
