/**
 * Reads what a request is about from its method and path, as k8s.io/apiserver's RequestInfoFactory
 * does: API group, version, namespace, resource, name, subresource and verb.
 */

export type Verb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'deletecollection'
  | 'connect';

export interface ResourceRequest {
  kind: 'resource';
  verb: Verb;
  /** '' for the core group. */
  group: string;
  version: string;
  /** '' when the request spans namespaces or the resource is cluster-scoped. */
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  /** The path segments after the subresource (pods/proxy/…). */
  rest: string[];
}

/** A discovery request: /api, /api/v1, /apis, /apis/g, /apis/g/v. */
export interface DiscoveryRequest {
  kind: 'discovery';
  /** 'api' for the legacy core group root, 'apis' for named groups. */
  root: 'api' | 'apis';
  group?: string;
  version?: string;
}

export type RequestInfo = ResourceRequest | DiscoveryRequest | { kind: 'other'; path: string };

/** Query parameters that make a GET a watch. */
function isWatch(query: URLSearchParams): boolean {
  const w = query.get('watch');
  return w === 'true' || w === '1';
}

const NAMESPACE_SUBRESOURCES: ReadonlySet<string> = new Set(['status', 'finalize']);
const CONNECT_SUBRESOURCES: ReadonlySet<string> = new Set(['exec', 'attach', 'portforward', 'proxy']);

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts[0] !== 'api' && parts[0] !== 'apis') return { kind: 'other', path };
  let i = 1;
  let group = '';
  if (parts[0] === 'apis') {
    if (parts.length === 1) return { kind: 'discovery', root: 'apis' };
    group = parts[1]!;
    i = 2;
    if (parts.length === 2) return { kind: 'discovery', root: 'apis', group };
  } else if (parts.length === 1) {
    return { kind: 'discovery', root: 'api' };
  }
  const version = parts[i++]!;
  if (parts.length === i) return { kind: 'discovery', root: parts[0] as 'api' | 'apis', group, version };
  let rest = parts.slice(i).map((p) => (p.includes('%') ? decodeURIComponent(p) : p));
  let watchPath = false;
  if (rest[0] === 'watch') {
    // Deprecated /watch/ paths.
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  // /namespaces/{ns}/{resource}/… unless the third segment is a namespace's own subresource
  // (/namespaces/{name}/status, /finalize): then it is about the namespace object.
  if (rest[0] === 'namespaces' && rest.length >= 3 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) {
    namespace = rest[1]!;
    rest = rest.slice(2);
  }
  const [resource = '', name = '', subresource = '', ...more] = rest;
  let verb: Verb;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = watchPath || isWatch(query) ? 'watch' : name ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      verb = 'connect';
  }
  if (CONNECT_SUBRESOURCES.has(subresource)) verb = 'connect';
  return { kind: 'resource', verb, group, version, namespace, resource, name, subresource, rest: more };
}
