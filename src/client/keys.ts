/** Cache and work-queue keys, as client-go's cache.MetaNamespaceKeyFunc makes them. */
import type { KubeObject } from './types.ts';

/** `namespace/name`, or `name` for a cluster-scoped object. */
export function objectKey(obj: KubeObject): string {
  const { namespace, name = '' } = obj.metadata;
  return namespace ? `${namespace}/${name}` : name;
}

/** The namespace ('' when cluster-scoped) and name of a key made by {@link objectKey}. */
export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The 'namespace' index: an object's namespace ('' for cluster-scoped ones). */
export function namespaceIndex(obj: KubeObject): string[] {
  return [obj.metadata.namespace ?? ''];
}
