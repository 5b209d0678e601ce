/**
 * A client from a kubeconfig file. Apart from rest.ts because reading a kubeconfig needs the YAML
 * parser, which what connects with credentials it already holds (a node agent) never loads.
 */
import { loadKubeconfig } from '../apiserver/auth/kubeconfig.ts';
import { HttpRestClient, type RestClientOptions } from './rest.ts';

/** A client for the kubeconfig at `path` (its current context, or `context`). */
export function fromKubeconfig(
  path: string,
  opts: RestClientOptions & { context?: string } = {},
): HttpRestClient {
  const { context, ...rest } = opts;
  return new HttpRestClient(loadKubeconfig(path, context ? { context } : {}), rest);
}
