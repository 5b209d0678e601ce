/** The kubelet's container environment: EnvResolver, `$(VAR)` expansion and downward API values. */
export { ContainerConfigError } from './errors.ts';
export { expand, mappingFor } from './expand.ts';
export { formatMap, podFieldValue, type ResourceList, resourceFieldValue } from './fieldref.ts';
export { type EnvResolverOptions, isEnvVarName, KubeletEnvResolver } from './resolver.ts';
export { fromServices, serviceEnv } from './service-links.ts';
