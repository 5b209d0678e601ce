/** Builders of Services and EndpointSlices for the proxy's tests and benchmark. */
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { LABEL_SERVICE_NAME } from './model.ts';

export function service(
  name: string,
  clusterIP: string,
  ports: ServicePort[],
  spec: Partial<Service['spec']> = {},
  namespace = 'ns',
): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports, ...spec },
  };
}

export interface EndpointSpec {
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  nodeName?: string;
}

export function slice(
  serviceName: string,
  ports: { name?: string; port: number; protocol?: string }[],
  endpoints: EndpointSpec[],
  sliceName = `${serviceName}-abc`,
  namespace = 'ns',
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: sliceName, namespace, labels: { [LABEL_SERVICE_NAME]: serviceName } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ready: e.ready ?? true,
        serving: e.serving ?? e.ready ?? true,
        terminating: e.terminating ?? false,
      },
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
    })),
  };
}
