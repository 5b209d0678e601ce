/**
 * The `paths` of a group-version document: the operations of every resource, shaped as
 * kube-apiserver's OpenAPI v3 (operation ids, tags, actions, parameters, request bodies, responses,
 * `x-kubernetes-group-version-kind`).
 *
 * kubectl's rule (cli-runtime query_param_verifier_v3.go): for an object of kind K it walks the
 * document's paths; the first PATCH operation whose `x-kubernetes-group-version-kind` is K decides,
 * and it supports server-side field validation when one of that operation's own parameters is named
 * `fieldValidation`. Path order is not fixed, so every PATCH operation here carries it.
 */
import { REF } from './crd.ts';
import type { Parameter, Schema } from './data.ts';

/** What the paths of one resource are built from. */
export interface PathResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  subresources: readonly string[];
  verbs: readonly string[];
  /** Component names of the kind and its list. */
  schema: string;
  listSchema: string;
  /** Custom resources take no strategic merge patch. */
  custom: boolean;
}

type Operation = Record<string, unknown>;
type PathItem = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const PATCH_SCHEMA = `${META}Patch`;
const STATUS_SCHEMA = `${META}Status`;
const DELETE_OPTIONS_SCHEMA = `${META}DeleteOptions`;

/** Components the subresources refer to, with the group-version-kind of their operations. */
export const SUBRESOURCE_KINDS: Record<
  string,
  { schema: string; gvk: { group: string; version: string; kind: string } }
> = {
  scale: {
    schema: 'io.k8s.api.autoscaling.v1.Scale',
    gvk: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  },
  binding: { schema: 'io.k8s.api.core.v1.Binding', gvk: { group: '', version: 'v1', kind: 'Binding' } },
  eviction: {
    schema: 'io.k8s.api.policy.v1.Eviction',
    gvk: { group: 'policy', version: 'v1', kind: 'Eviction' },
  },
  token: {
    schema: 'io.k8s.api.authentication.v1.TokenRequest',
    gvk: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
  },
};

/** Components every group-version document refers to. */
export const COMMON_SCHEMAS = [STATUS_SCHEMA, DELETE_OPTIONS_SCHEMA, PATCH_SCHEMA];

const LIST_PARAMS = [
  'allowWatchBookmarks',
  'continue',
  'fieldSelector',
  'labelSelector',
  'limit',
  'resourceVersion',
  'resourceVersionMatch',
  'sendInitialEvents',
  'timeoutSeconds',
  'watch',
];
const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation'];
const PATCH_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force'];
const DELETE_PARAMS = ['dryRun', 'gracePeriodSeconds', 'orphanDependents', 'propagationPolicy'];
const DELETE_COLLECTION_PARAMS = [
  'continue',
  'dryRun',
  'fieldSelector',
  'gracePeriodSeconds',
  'labelSelector',
  'limit',
  'orphanDependents',
  'propagationPolicy',
  'resourceVersion',
  'resourceVersionMatch',
  'sendInitialEvents',
  'timeoutSeconds',
];
const CONNECT_PARAMS: Record<string, string[]> = {
  log: [
    'container',
    'follow',
    'insecureSkipTLSVerifyBackend',
    'limitBytes',
    'previous',
    'sinceSeconds',
    'tailLines',
    'timestamps',
  ],
  exec: ['command', 'container', 'stderr', 'stdin', 'stdout', 'tty'],
  attach: ['container', 'stderr', 'stdin', 'stdout', 'tty'],
  portforward: ['ports'],
  proxy: ['path'],
};

const JSON_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const WATCH_TYPES = ['application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];
const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

/** Builds path items; `parameters` are the named query parameters of the bundled data. */
export class PathBuilder {
  readonly #parameters: Record<string, Parameter>;

  constructor(parameters: Record<string, Parameter>) {
    this.#parameters = parameters;
  }

  /** The path items of one resource, keyed by path. */
  build(r: PathResource): Record<string, PathItem> {
    const paths: Record<string, PathItem> = {};
    const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    const scope = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}` : `${prefix}/${r.resource}`;
    const ids = new OperationIds(r);
    const gvk = { group: r.group, kind: r.kind, version: r.version };
    const verbs = new Set(r.verbs);
    const pathParams = (withName: boolean): Parameter[] => [
      ...(withName ? [this.#nameParam(r.kind)] : []),
      ...(r.namespaced ? [this.#namespaceParam()] : []),
      this.#param('pretty'),
    ];

    // The collection.
    const collection: PathItem = {};
    if (verbs.has('list')) {
      collection.get = this.#op({
        id: ids.id('list', r.namespaced),
        description: `list or watch objects of kind ${r.kind}`,
        action: 'list',
        gvk,
        params: LIST_PARAMS,
        responses: { '200': ok(r.listSchema, [...JSON_TYPES, ...WATCH_TYPES]) },
        tag: ids.tag,
      });
    }
    if (verbs.has('create')) {
      collection.post = this.#op({
        id: ids.id('create', r.namespaced),
        description: `create ${article(r.kind)}`,
        action: 'post',
        gvk,
        params: WRITE_PARAMS,
        body: r.schema,
        responses: {
          '200': ok(r.schema),
          '201': ok(r.schema, JSON_TYPES, 'Created'),
          '202': ok(r.schema, JSON_TYPES, 'Accepted'),
        },
        tag: ids.tag,
      });
    }
    if (verbs.has('deletecollection')) {
      collection.delete = this.#op({
        id: ids.id('delete', r.namespaced, 'Collection'),
        description: `delete collection of ${r.kind}`,
        action: 'deletecollection',
        gvk,
        params: DELETE_COLLECTION_PARAMS,
        body: DELETE_OPTIONS_SCHEMA,
        bodyOptional: true,
        responses: { '200': ok(STATUS_SCHEMA) },
        tag: ids.tag,
      });
    }
    if (Object.keys(collection).length > 0) paths[scope] = { ...collection, parameters: pathParams(false) };

    // Listing across namespaces.
    if (r.namespaced && verbs.has('list')) {
      paths[`${prefix}/${r.resource}`] = {
        get: this.#op({
          id: `list${ids.gv}${r.kind}ForAllNamespaces`,
          description: `list or watch objects of kind ${r.kind}`,
          action: 'list',
          gvk,
          params: LIST_PARAMS,
          responses: { '200': ok(r.listSchema, [...JSON_TYPES, ...WATCH_TYPES]) },
          tag: ids.tag,
        }),
        parameters: [this.#param('pretty')],
      };
    }

    // One object.
    const item: PathItem = {};
    if (verbs.has('get')) {
      item.get = this.#op({
        id: ids.id('read', r.namespaced),
        description: `read the specified ${r.kind}`,
        action: 'get',
        gvk,
        params: [],
        responses: { '200': ok(r.schema) },
        tag: ids.tag,
      });
    }
    if (verbs.has('update')) item.put = this.#replace(ids, r.namespaced, '', r.kind, r.schema, gvk);
    if (verbs.has('patch')) item.patch = this.#patch(ids, r.namespaced, '', r.kind, r.schema, gvk, r.custom);
    if (verbs.has('delete')) {
      item.delete = this.#op({
        id: ids.id('delete', r.namespaced),
        description: `delete ${article(r.kind)}`,
        action: 'delete',
        gvk,
        params: DELETE_PARAMS,
        body: DELETE_OPTIONS_SCHEMA,
        bodyOptional: true,
        responses: { '200': ok(r.schema), '202': ok(r.schema, JSON_TYPES, 'Accepted') },
        tag: ids.tag,
      });
    }
    if (Object.keys(item).length > 0) paths[`${scope}/{name}`] = { ...item, parameters: pathParams(true) };

    // Subresources.
    for (const sub of r.subresources) {
      const path = `${scope}/{name}/${sub}`;
      const suffix = camel(sub);
      const special = SUBRESOURCE_KINDS[sub];
      if (sub === 'scale' && special) {
        const sgvk = special.gvk;
        paths[path] = {
          get: this.#op({
            id: ids.id('read', r.namespaced, '', suffix),
            description: `read scale of the specified ${r.kind}`,
            action: 'get',
            gvk: sgvk,
            params: [],
            responses: { '200': ok(special.schema) },
            tag: ids.tag,
          }),
          put: this.#replace(
            ids,
            r.namespaced,
            suffix,
            `scale of the specified ${r.kind}`,
            special.schema,
            sgvk,
          ),
          patch: this.#patch(
            ids,
            r.namespaced,
            suffix,
            `scale of the specified ${r.kind}`,
            special.schema,
            sgvk,
            r.custom,
          ),
          parameters: pathParams(true),
        };
      } else if (special) {
        // binding, eviction, token: create a related object.
        paths[path] = {
          post: this.#op({
            id: ids.id('create', r.namespaced, '', suffix),
            description: `create ${sub} of ${article(r.kind)}`,
            action: 'post',
            gvk: special.gvk,
            params: WRITE_PARAMS,
            body: special.schema,
            responses: {
              '200': ok(special.schema),
              '201': ok(special.schema, JSON_TYPES, 'Created'),
              '202': ok(special.schema, JSON_TYPES, 'Accepted'),
            },
            tag: ids.tag,
          }),
          parameters: pathParams(true),
        };
      } else if (CONNECT_PARAMS[sub]) {
        paths[path] = this.#connect(ids, r, sub, suffix, pathParams(true));
      } else {
        // status, approval, ephemeralcontainers, resize, finalize: the object itself.
        const what = `${sub} of the specified ${r.kind}`;
        paths[path] = {
          get: this.#op({
            id: ids.id('read', r.namespaced, '', suffix),
            description: `read ${what}`,
            action: 'get',
            gvk,
            params: [],
            responses: { '200': ok(r.schema) },
            tag: ids.tag,
          }),
          put: this.#replace(ids, r.namespaced, suffix, what, r.schema, gvk),
          patch: this.#patch(ids, r.namespaced, suffix, what, r.schema, gvk, r.custom),
          parameters: pathParams(true),
        };
      }
    }
    return paths;
  }

  #replace(
    ids: OperationIds,
    namespaced: boolean,
    suffix: string,
    what: string,
    schema: string,
    gvk: object,
  ): Operation {
    return this.#op({
      id: ids.id('replace', namespaced, '', suffix),
      description: suffix ? `replace ${what}` : `replace the specified ${what}`,
      action: 'put',
      gvk,
      params: WRITE_PARAMS,
      body: schema,
      responses: { '200': ok(schema), '201': ok(schema, JSON_TYPES, 'Created') },
      tag: ids.tag,
    });
  }

  #patch(
    ids: OperationIds,
    namespaced: boolean,
    suffix: string,
    what: string,
    schema: string,
    gvk: object,
    custom: boolean,
  ): Operation {
    const types = custom
      ? PATCH_TYPES.filter((t) => t !== 'application/strategic-merge-patch+json')
      : PATCH_TYPES;
    return this.#op({
      id: ids.id('patch', namespaced, '', suffix),
      description: suffix ? `partially update ${what}` : `partially update the specified ${what}`,
      action: 'patch',
      gvk,
      params: PATCH_PARAMS,
      body: PATCH_SCHEMA,
      bodyTypes: types,
      responses: { '200': ok(schema), '201': ok(schema, JSON_TYPES, 'Created') },
      tag: ids.tag,
    });
  }

  #connect(
    ids: OperationIds,
    r: PathResource,
    sub: string,
    suffix: string,
    pathParams: Parameter[],
  ): PathItem {
    const params = CONNECT_PARAMS[sub] ?? [];
    const options = sub === 'portforward' ? 'PortForward' : camel(sub);
    const gvk = { group: r.group, kind: `${r.kind}${options}Options`, version: r.version };
    if (sub === 'log') {
      return {
        get: this.#op({
          id: ids.id('read', r.namespaced, '', suffix),
          description: `read log of the specified ${r.kind}`,
          action: 'get',
          gvk: { group: r.group, kind: r.kind, version: r.version },
          params,
          responses: { '200': okString() },
          tag: ids.tag,
        }),
        parameters: pathParams,
      };
    }
    const item: PathItem = { parameters: pathParams };
    const methods =
      sub === 'proxy' ? ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'] : ['get', 'post'];
    for (const method of methods) {
      item[method] = this.#op({
        id: ids.id(`connect${camel(method)}`, r.namespaced, '', suffix),
        description: `connect ${method.toUpperCase()} requests to ${sub} of ${r.kind}`,
        action: 'connect',
        gvk,
        params: method === 'get' || method === 'post' || sub === 'proxy' ? params : [],
        responses: { '200': okString() },
        tag: ids.tag,
      });
    }
    return item;
  }

  #op(o: {
    id: string;
    description: string;
    action: string;
    gvk: object;
    params: string[];
    body?: string;
    bodyOptional?: boolean;
    bodyTypes?: string[];
    responses: Record<string, unknown>;
    tag: string;
  }): Operation {
    const op: Operation = { tags: [o.tag], description: o.description, operationId: o.id };
    const params = o.params.map((name) => this.#param(name));
    if (params.length > 0) op.parameters = params;
    if (o.body) {
      const content: Record<string, { schema: Schema }> = {};
      for (const t of o.bodyTypes ?? ['*/*']) content[t] = { schema: { $ref: REF + o.body } };
      op.requestBody = { content, ...(o.bodyOptional ? {} : { required: true }) };
    }
    op.responses = { ...o.responses, '401': { description: 'Unauthorized' } };
    op['x-kubernetes-action'] = o.action;
    op['x-kubernetes-group-version-kind'] = o.gvk;
    return op;
  }

  #param(name: string): Parameter {
    const p = this.#parameters[name];
    if (!p) throw new Error(`no parameter ${name} in the OpenAPI data`);
    return p;
  }

  #nameParam(kind: string): Parameter {
    return {
      name: 'name',
      in: 'path',
      description: `name of the ${kind}`,
      required: true,
      schema: { type: 'string', uniqueItems: true },
    };
  }

  #namespaceParam(): Parameter {
    return {
      name: 'namespace',
      in: 'path',
      description: 'object name and auth scope, such as for teams and projects',
      required: true,
      schema: { type: 'string', uniqueItems: true },
    };
  }
}

/** Operation ids as kube-apiserver makes them: verb, group and version, Namespaced, kind, subresource. */
class OperationIds {
  readonly gv: string;
  readonly tag: string;
  readonly #kind: string;

  constructor(r: PathResource) {
    const groupWords = r.group === '' ? ['core'] : r.group.replace(/\.k8s\.io$/, '').split(/[.-]/);
    this.gv = groupWords.map(camel).join('') + camel(r.version);
    this.tag = `${groupWords[0]}${groupWords.slice(1).map(camel).join('')}_${r.version}`;
    this.#kind = r.kind;
  }

  id(verb: string, namespaced: boolean, collection = '', suffix = ''): string {
    return `${verb}${this.gv}${collection}${namespaced ? 'Namespaced' : ''}${this.#kind}${suffix}`;
  }
}

function ok(schema: string, types: string[] = JSON_TYPES, description = 'OK'): object {
  const content: Record<string, { schema: Schema }> = {};
  for (const t of types) content[t] = { schema: { $ref: REF + schema } };
  return { description, content };
}

function okString(): object {
  return { description: 'OK', content: { '*/*': { schema: { type: 'string' } } } };
}

function camel(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}
