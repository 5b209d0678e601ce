/** Test fixtures: Services, EndpointSlices and Namespaces as the API would hold them. */
import type { Namespace, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject } from '../client/types.ts';
import { ClusterRecords, LABEL_SERVICE_NAME } from './records.ts';

export function ns(name: string): Namespace & KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as Namespace & KubeObject;
}

export function svc(
  namespace: string,
  name: string,
  spec: {
    clusterIP?: string;
    clusterIPs?: string[];
    type?: string;
    externalName?: string;
    ports?: ServicePort[];
  },
): Service & KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name },
    spec: { type: 'ClusterIP', ...spec },
  } as Service & KubeObject;
}

export interface Ep {
  ip: string;
  hostname?: string;
  ready?: boolean;
}

export function slice(
  namespace: string,
  service: string,
  name: string,
  eps: Ep[],
  ports: { name?: string; port: number; protocol?: string }[],
): EndpointSlice & KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name, labels: { [LABEL_SERVICE_NAME]: service } },
    addressType: eps[0]?.ip.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      ...(e.hostname ? { hostname: e.hostname } : {}),
      conditions: { ready: e.ready ?? true },
    })),
    ports: ports.map((p) => ({ protocol: 'TCP', ...p })),
  } as EndpointSlice & KubeObject;
}

/**
 * A small cluster: namespaces default/kube-system/db; web (ClusterIP, http/https/dns-udp), db
 * (headless StatefulSet-style: db-0, db-1 ready, one not ready), anon (headless, no hostnames),
 * empty (headless, no endpoints), ext (ExternalName example.com), alias (ExternalName to web),
 * v6 (IPv6 ClusterIP), bare (no ports), dual (dual-stack).
 */
export function sampleRecords(now: () => number = () => Date.UTC(2026, 0, 1)): ClusterRecords {
  const r = new ClusterRecords(now);
  for (const n of ['default', 'kube-system', 'db']) r.upsertNamespace(ns(n));
  r.upsertService(
    svc('default', 'web', {
      clusterIP: '10.43.0.20',
      ports: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'https', port: 443, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    }),
  );
  r.upsertSlice(slice('default', 'web', 'web-abc', [{ ip: '10.42.0.8' }], [{ name: 'http', port: 8080 }]));
  r.upsertService(svc('db', 'db', { clusterIP: 'None', ports: [{ name: 'mysql', port: 3306 }] }));
  r.upsertSlice(
    slice(
      'db',
      'db',
      'db-1',
      [
        { ip: '10.42.0.5', hostname: 'db-0' },
        { ip: '10.42.1.6', hostname: 'db-1' },
        { ip: '10.42.2.7', hostname: 'db-2', ready: false },
      ],
      [{ name: 'mysql', port: 3306 }],
    ),
  );
  r.upsertService(svc('default', 'anon', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
  r.upsertSlice(slice('default', 'anon', 'anon-1', [{ ip: '10.42.0.9' }], [{ name: 'http', port: 8080 }]));
  r.upsertSlice(slice('default', 'anon', 'anon-2', [{ ip: '10.42.1.9' }], [{ name: 'http', port: 8080 }]));
  r.upsertService(svc('default', 'empty', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
  r.upsertService(svc('default', 'ext', { type: 'ExternalName', externalName: 'example.com' }));
  r.upsertService(
    svc('default', 'alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local.' }),
  );
  r.upsertService(svc('default', 'v6', { clusterIP: 'fd00::10', ports: [{ name: 'http', port: 80 }] }));
  r.upsertService(svc('default', 'bare', { clusterIP: '10.43.0.30' }));
  r.upsertService(
    svc('default', 'dual', {
      clusterIP: '10.43.0.40',
      clusterIPs: ['10.43.0.40', 'fd00::40'],
      ports: [{ port: 80 }],
    }),
  );
  return r;
}
