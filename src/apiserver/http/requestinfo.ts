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

/** Query parameters that make a GET a watch: the first `watch` value is "true" or "1". */
function isWatch(query: URLSearchParams): boolean {
  const w = query.get('watch');
  return w === 'true' || w === '1';
}

/** Whether `s` is a namespace's own subresource (/namespaces/{name}/status, /finalize). */
function isNamespaceSubresource(s: string): boolean {
  return s === 'status' || s === 'finalize';
}

/** Whether `s` is a subresource whose every method is the verb `connect`. */
function isConnectSubresource(s: string): boolean {
  return s === 'exec' || s === 'attach' || s === 'portforward' || s === 'proxy';
}

/**
 * The verb of a request on a resource, from its method and whether it names an object; `watch` is
 * whether a GET or HEAD asks for a watch.
 */
function verbOf(method: string, named: boolean, watch: boolean): Verb {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return 'connect';
  }
}

/**
 * The non-empty '/'-separated segments of `path`, in order. Empty segments (leading, trailing and
 * doubled slashes) are dropped, so `//api//v1/` reads as `api`, `v1`.
 */
function segments(path: string): string[] {
  const parts = path.split('/');
  let n = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (p !== '') parts[n++] = p;
  }
  parts.length = n;
  return parts;
}

/** A path segment after the version, percent-decoded (throws URIError on a malformed escape). */
function decode(segment: string): string {
  return segment.includes('%') ? decodeURIComponent(segment) : segment;
}

/**
 * What a request is about. `path` is the URL's path (not decoded; empty segments are ignored) and
 * `query` its parameters (only `watch` is read, and only for GET and HEAD).
 *
 * - Paths outside /api and /apis are `{ kind: 'other', path }`, with `path` as given.
 * - /api, /apis, /apis/{group}, /api/{version} (group '') and /apis/{group}/{version} are discovery.
 * - Below the version, segments are percent-decoded; a leading `watch` segment (the deprecated
 *   /watch/ paths) makes a GET a watch; `namespaces/{ns}/{resource}/…` sets the namespace unless the
 *   third segment is `status` or `finalize` (then the request is about the namespace object, with
 *   namespace ''). The next segments are resource, name and subresource; any further ones are `rest`.
 * - Verbs: GET/HEAD are watch (legacy prefix, or ?watch=true|1), get (named) or list; POST create;
 *   PUT update; PATCH patch; DELETE delete (named) or deletecollection; any other method connect;
 *   and any method on exec, attach, portforward or proxy is connect.
 *
 * Unlike Kubernetes' RequestInfoFactory, a namespace object's own requests keep namespace '', a
 * watch of a named object is `watch`, and HEAD is treated as GET. Throws URIError on a malformed
 * percent escape below the version.
 */
export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const parts = segments(path);
  const n = parts.length;
  const root = parts[0];
  if (root !== 'api' && root !== 'apis') return { kind: 'other', path };
  let i = 1;
  let group = '';
  if (root === 'apis') {
    if (n === 1) return { kind: 'discovery', root };
    group = parts[1] as string;
    if (n === 2) return { kind: 'discovery', root, group };
    i = 2;
  } else if (n === 1) {
    return { kind: 'discovery', root };
  }
  const version = parts[i++] as string;
  if (i === n) return { kind: 'discovery', root, group, version };
  for (let j = i; j < n; j++) parts[j] = decode(parts[j] as string);
  let watchPath = false;
  if (parts[i] === 'watch') {
    // Deprecated /watch/ paths.
    watchPath = true;
    i++;
  }
  let namespace = '';
  if (parts[i] === 'namespaces' && n - i >= 3 && !isNamespaceSubresource(parts[i + 2] as string)) {
    namespace = parts[i + 1] as string;
    i += 2;
  }
  const resource = i < n ? (parts[i] as string) : '';
  const name = i + 1 < n ? (parts[i + 1] as string) : '';
  const subresource = i + 2 < n ? (parts[i + 2] as string) : '';
  const rest = i + 3 < n ? parts.slice(i + 3) : [];
  const get = method === 'GET' || method === 'HEAD';
  const verb = isConnectSubresource(subresource)
    ? 'connect'
    : verbOf(method, name !== '', get && (watchPath || isWatch(query)));
  return { kind: 'resource', verb, group, version, namespace, resource, name, subresource, rest };
}
