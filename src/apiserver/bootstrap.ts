/**
 * What every cluster has from the start: the namespaces default, kube-system, kube-public and
 * kube-node-lease (created if missing; idempotent across restarts).
 */
import { ApiError } from '../api/errors.ts';
import type { Catalog } from './catalog.ts';
import type { KubeObject } from './object.ts';
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

/**
 * The `kubernetes` Service's endpoints, as kube-apiserver's endpoint reconciler keeps them: an
 * Endpoints object and an EndpointSlice named `kubernetes` in default listing the address pods
 * reach the API server at (the advertise address) and its port. Idempotent; rewrites only when the
 * address or port changed.
 */
export async function reconcileKubernetesEndpoints(
  registry: Registry,
  catalog: Catalog,
  advertise: { ip: string; port: number },
): Promise<void> {
  const endpoints = catalog.get('', 'v1', 'endpoints');
  const slices = catalog.get('discovery.k8s.io', 'v1', 'endpointslices');
  const wantEndpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
    },
    subsets: [
      {
        addresses: [{ ip: advertise.ip }],
        ports: [{ name: 'https', port: advertise.port, protocol: 'TCP' }],
      },
    ],
  };
  const wantSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'kubernetes' },
    },
    addressType: advertise.ip.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [advertise.ip], conditions: { ready: true } }],
    ports: [{ name: 'https', port: advertise.port, protocol: 'TCP' }],
  };
  const sync = async (
    def: NonNullable<typeof endpoints>,
    want: Record<string, unknown>,
    same: (o: KubeObject) => boolean,
  ) => {
    let current: KubeObject | undefined;
    try {
      current = await registry.get(def, 'default', 'kubernetes');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
    if (!current) {
      await registry.create(def, 'default', want, { user: 'system:apiserver' }).catch((err: unknown) => {
        if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
      });
    } else if (!same(current)) {
      await registry.update(def, 'default', 'kubernetes', {
        ...want,
        metadata: { ...(want.metadata as object), resourceVersion: current.metadata.resourceVersion },
      });
    }
  };
  if (endpoints) {
    await sync(
      endpoints,
      wantEndpoints,
      (o) => JSON.stringify((o as { subsets?: unknown }).subsets) === JSON.stringify(wantEndpoints.subsets),
    );
  }
  if (slices) {
    await sync(slices, wantSlice, (o) => {
      const s = o as { endpoints?: { addresses?: string[] }[]; ports?: { port?: number }[] };
      return s.endpoints?.[0]?.addresses?.[0] === advertise.ip && s.ports?.[0]?.port === advertise.port;
    });
  }
}
