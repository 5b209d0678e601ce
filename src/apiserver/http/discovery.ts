/**
 * API discovery, both kinds kubectl reads: the legacy documents (/api, /apis, /api/v1, /apis/g/v)
 * and aggregated discovery v2 (apidiscovery.k8s.io/v2 APIGroupDiscoveryList on /api and /apis).
 */
import type { Catalog } from '../catalog.ts';
import type { ResourceDef } from '../resource.ts';

export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Whether the Accept header asks for aggregated discovery (v2). */
export function wantsAggregated(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0] ?? '';
  return (
    /as=APIGroupDiscoveryList/.test(first) &&
    /g=apidiscovery\.k8s\.io/.test(first) &&
    /v=v2(;|$|\s)/.test(first)
  );
}

interface SubresourceInfo {
  name: string;
  verbs: string[];
  kind: string;
  group?: string;
  version?: string;
}

/** The subresources of a resource with the verbs each serves. */
export function subresourcesOf(def: ResourceDef): SubresourceInfo[] {
  const out: SubresourceInfo[] = [];
  if (def.strategy.statusSubresource)
    out.push({ name: 'status', verbs: ['get', 'patch', 'update'], kind: def.kind });
  if (def.scale) {
    out.push({
      name: 'scale',
      verbs: ['get', 'patch', 'update'],
      kind: 'Scale',
      group: 'autoscaling',
      version: 'v1',
    });
  }
  for (const s of def.extraSubresources) {
    switch (s) {
      case 'log':
        out.push({ name: s, verbs: ['get'], kind: 'Pod' });
        break;
      case 'binding':
        out.push({ name: s, verbs: ['create'], kind: 'Binding' });
        break;
      case 'eviction':
        out.push({ name: s, verbs: ['create'], kind: 'Eviction', group: 'policy', version: 'v1' });
        break;
      case 'token':
        out.push({
          name: s,
          verbs: ['create'],
          kind: 'TokenRequest',
          group: 'authentication.k8s.io',
          version: 'v1',
        });
        break;
      case 'finalize':
        out.push({ name: s, verbs: ['update'], kind: def.kind });
        break;
      case 'ephemeralcontainers':
        out.push({ name: s, verbs: ['get', 'patch', 'update'], kind: def.kind });
        break;
      case 'exec':
      case 'attach':
      case 'portforward':
        out.push({
          name: s,
          verbs: ['create', 'get'],
          kind:
            s === 'portforward'
              ? 'PodPortForwardOptions'
              : s === 'exec'
                ? 'PodExecOptions'
                : 'PodAttachOptions',
        });
        break;
      case 'proxy':
        out.push({
          name: s,
          verbs: ['create', 'delete', 'get', 'patch', 'update'],
          kind:
            def.kind === 'Pod'
              ? 'PodProxyOptions'
              : def.kind === 'Node'
                ? 'NodeProxyOptions'
                : 'ServiceProxyOptions',
        });
        break;
      default:
        out.push({ name: s, verbs: ['get'], kind: def.kind });
    }
  }
  return out;
}

/** /api */
export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(catalog: Catalog, group: string) {
  const versions = catalog.versions(group).map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions, preferredVersion: versions[0] };
}

/** /apis */
export function apiGroupList(catalog: Catalog) {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: catalog
      .groups()
      .filter((g) => g !== '')
      .map((g) => groupEntry(catalog, g)),
  };
}

/** /apis/{group} */
export function apiGroup(catalog: Catalog, group: string) {
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(catalog, group) };
}

/** /api/v1, /apis/{group}/{version} */
export function apiResourceList(catalog: Catalog, group: string, version: string) {
  const resources: Record<string, unknown>[] = [];
  for (const def of catalog.resources(group, version)) {
    const r: Record<string, unknown> = {
      name: def.resource,
      singularName: def.singular,
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: [...def.verbs],
    };
    if (def.shortNames.length) r.shortNames = [...def.shortNames];
    if (def.categories.length) r.categories = [...def.categories];
    resources.push(r);
    for (const s of subresourcesOf(def)) {
      const sr: Record<string, unknown> = {
        name: `${def.resource}/${s.name}`,
        singularName: '',
        namespaced: def.namespaced,
        kind: s.kind,
        verbs: s.verbs,
      };
      if (s.group) sr.group = s.group;
      if (s.version) sr.version = s.version;
      resources.push(sr);
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

function aggregatedResource(def: ResourceDef) {
  const r: Record<string, unknown> = {
    resource: def.resource,
    responseKind: { group: def.group, version: def.version, kind: def.kind },
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: [...def.verbs],
  };
  if (def.shortNames.length) r.shortNames = [...def.shortNames];
  if (def.categories.length) r.categories = [...def.categories];
  const subs = subresourcesOf(def);
  if (subs.length) {
    r.subresources = subs.map((s) => ({
      subresource: s.name,
      responseKind: { group: s.group ?? def.group, version: s.version ?? def.version, kind: s.kind },
      verbs: s.verbs,
    }));
  }
  return r;
}

/** Aggregated discovery: the core group (root 'api') or every named group (root 'apis'). */
export function aggregatedDiscovery(catalog: Catalog, root: 'api' | 'apis') {
  const groups = catalog.groups().filter((g) => (root === 'api' ? g === '' : g !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g, creationTimestamp: null },
      versions: catalog.versions(g).map((v) => ({
        version: v,
        resources: catalog.resources(g, v).map(aggregatedResource),
        freshness: 'Current',
      })),
    })),
  };
}
