/**
 * What every cluster has from the start: the namespaces default, kube-system, kube-public and
 * kube-node-lease (created if missing; idempotent across restarts).
 */
import { ApiError } from '../api/errors.ts';
import type { Catalog } from './catalog.ts';
import type { Registry } from './registry/registry.ts';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * Creates what is missing: the system namespaces and, when `apiServerIp` is given, the `kubernetes`
 * Service in default at that address (port 443 → the API server's port).
 */
export async function bootstrapCluster(
  registry: Registry,
  catalog: Catalog,
  kubernetesService?: { clusterIp: string; targetPort: number },
): Promise<void> {
  const namespaces = catalog.get('', 'v1', 'namespaces');
  if (!namespaces) throw new Error('the namespaces resource is not registered');
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await registry.create(
        namespaces,
        '',
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        { user: 'system:apiserver' },
      );
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }
  const services = catalog.get('', 'v1', 'services');
  const exists = async () => {
    try {
      await registry.get(services!, 'default', 'kubernetes');
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return false;
      throw err;
    }
  };
  if (kubernetesService && services && !(await exists())) {
    try {
      await registry.create(
        services,
        'default',
        {
          metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
          spec: {
            type: 'ClusterIP',
            clusterIP: kubernetesService.clusterIp,
            sessionAffinity: 'None',
            ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: kubernetesService.targetPort }],
          },
        },
        { user: 'system:apiserver' },
      );
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }
}
