/**
 * The REST verbs on resources: get, list, watch, create, update, patch, delete, deletecollection,
 * and the status and scale subresources (k8s.io/apiserver/pkg/endpoints/handlers).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, FieldError } from '../../api/errors.ts';
import type { Clock } from '../../util/clock.ts';
import type { Logger } from '../../util/log.ts';
import type { Catalog } from '../catalog.ts';
import { isPlainObject, type KubeObject, rfc3339 } from '../object.ts';
import { unknownBuiltinFields } from '../openapi/unknown.ts';
import { writtenJson } from '../registry/codec.ts';
import { type DeleteOptions, parseResourceVersion, type Registry } from '../registry/registry.ts';
import { apiVersionOf, type ResourceDef, storagePrefix } from '../resource.ts';
import {
  APPLY_PATCH,
  applyObject,
  checkAppliedObject,
  decodeApplyPatch,
  resetFieldsFor,
  validateFieldManager,
  validatePatchOptions,
} from '../ssa/index.ts';
import { type IncludeObject, type Printer, toTable } from '../table/table.ts';
import type { WatchCaches } from '../watchcache/index.ts';
import { decodeBody, readBody, readObject } from './body.ts';
import {
  type KubeletClientConfig,
  proxyGet,
  resolveKubeletTarget,
  STREAMING_SUBRESOURCES,
} from './connect.ts';
import { bodyEncoding, negotiate, parseMediaType, type ResponseFormat } from './negotiate.ts';
import { bindPod, evictPod } from './pods.ts';
import type { ResourceRequest } from './requestinfo.ts';
import { send, sendJsonPieces } from './respond.ts';
import { getScale, scaleSubresourceUpdate } from './scale.ts';
import { buildFilter } from './selectors.ts';
import { serveWatch } from './watch.ts';

/** Applies a PATCH body of the given content type to `original` and returns the result; `original` is left unchanged. */
export type Patcher = (
  contentType: string,
  original: KubeObject,
  patch: Buffer,
  def: ResourceDef,
) => KubeObject;

export interface HandlerDeps {
  catalog: Catalog;
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** Table printer for a resource (by def); undefined → the default table. */
  printerFor(def: ResourceDef): Printer;
  patch: Patcher;
  /** How often idle watches send bookmarks, in ms. */
  bookmarkIntervalMs: number;
  /** Credentials for reaching kubelets (pods/log, exec, attach, portforward). */
  kubeletClient?: KubeletClientConfig;
  /** The watch caches lists and watches are served from. */
  caches: WatchCaches;
  /** Called with +1 when a watch starts and -1 when it ends. */
  onWatch?(def: ResourceDef, delta: number): void;
}

export interface RequestContext {
  user: string;
  query: URLSearchParams;
  userAgent?: string;
}

function dryRun(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const v of values) {
    if (v !== 'All')
      throw ApiError.badRequest(`Invalid dryRun value: "${v}"; the only supported value is "All"`);
  }
  return values.length > 0;
}

type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/**
 * Applies fieldValidation to an object about to be written: unknown fields are refused (Strict, 400
 * with Kubernetes' strict decoding message), reported as warnings (Warn) or ignored.
 */
function checkFields(def: ResourceDef, obj: unknown, mode: FieldValidation, warnings: string[]): void {
  if (mode === 'Ignore') return;
  const unknown = def.unknownFields
    ? def.unknownFields(obj)
    : (unknownBuiltinFields(def.group, def.version, def.kind, obj) ?? []);
  if (unknown.length === 0) return;
  const texts = unknown.map((f) => `unknown field "${f}"`);
  if (mode === 'Strict') {
    throw ApiError.badRequest(
      `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${texts.join(', ')}`,
    );
  }
  warnings.push(...texts);
}

/** Sets the Warning headers of a response (RFC 7234 warn-code 299), as kube-apiserver does. */
function setWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0) return;
  res.setHeader(
    'Warning',
    warnings.map((w) => `299 - ${JSON.stringify(w)}`),
  );
}

function fieldValidation(query: URLSearchParams): FieldValidation {
  const v = query.get('fieldValidation') ?? 'Warn';
  if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore') {
    throw ApiError.badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got "${v}"`);
  }
  return v;
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw ApiError.badRequest(`invalid value for ${name}: "${v}": must be an integer`);
  return Number(v);
}

/** Sends an object or list in the negotiated format, as a Table when asked. */
function respondObject(
  deps: HandlerDeps,
  def: ResourceDef,
  res: ServerResponse,
  req: IncomingMessage,
  ctx: RequestContext,
  code: number,
  body: KubeObject | { kind: string; items: KubeObject[]; metadata: Record<string, unknown> },
  justWritten = false,
): void {
  const isList = Array.isArray((body as { items?: unknown }).items);
  const format = negotiate(
    req.headers.accept,
    isList ? ['Table', 'PartialObjectMetadataList'] : ['Table', 'PartialObjectMetadata'],
  );
  if (justWritten && format.as === null && format.encoding === 'json') {
    // The object as the registry stored it, with its resourceVersion: no second encode.
    const pieces = writtenJson(body as KubeObject);
    if (pieces) {
      sendJsonPieces(res, code, pieces);
      return;
    }
  }
  send(res, code, render(deps, def, format, ctx, body), format);
}

export function render(
  deps: HandlerDeps,
  def: ResourceDef,
  format: ResponseFormat,
  ctx: RequestContext,
  body: KubeObject | { kind: string; items: KubeObject[]; metadata: Record<string, unknown> },
): unknown {
  const isList = Array.isArray((body as { items?: unknown }).items);
  if (format.as === 'Table') {
    const include = (ctx.query.get('includeObject') ?? 'Metadata') as IncludeObject;
    if (!['None', 'Metadata', 'Object'].includes(include)) {
      throw ApiError.badRequest(`includeObject must be one of None, Metadata, Object`);
    }
    const objects = isList ? (body as { items: KubeObject[] }).items : [body as KubeObject];
    const listMeta = isList
      ? (body as { metadata: Record<string, unknown> }).metadata
      : { resourceVersion: (body as KubeObject).metadata.resourceVersion };
    return toTable(objects, deps.printerFor(def), {
      now: deps.clock.now(),
      include,
      listMeta: listMeta as Record<string, string>,
    });
  }
  if (format.as === 'PartialObjectMetadata') {
    const o = body as KubeObject;
    return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
  }
  if (format.as === 'PartialObjectMetadataList') {
    const l = body as { items: KubeObject[]; metadata: Record<string, unknown> };
    return {
      kind: 'PartialObjectMetadataList',
      apiVersion: 'meta.k8s.io/v1',
      metadata: l.metadata,
      items: l.items.map((o) => ({
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: o.metadata,
      })),
    };
  }
  return body;
}

/** DeleteOptions from the body (if any) and the query. */
async function deleteOptions(
  req: IncomingMessage,
  query: URLSearchParams,
  user: string,
): Promise<DeleteOptions> {
  let body: Record<string, unknown> = {};
  const raw = await readBody(req);
  if (raw.length > 0) {
    const decoded = decodeBody(raw, bodyEncoding(req.headers['content-type']), {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
    });
    if (!isPlainObject(decoded)) throw ApiError.badRequest('DeleteOptions must be a JSON object');
    body = decoded;
  }
  const opts: DeleteOptions = { user };
  const grace = body.gracePeriodSeconds ?? intParam(query, 'gracePeriodSeconds');
  if (grace !== undefined && grace !== null) {
    if (typeof grace !== 'number' || !Number.isInteger(grace))
      throw ApiError.badRequest('gracePeriodSeconds must be an integer');
    opts.gracePeriodSeconds = grace;
  }
  let policy = (body.propagationPolicy ?? query.get('propagationPolicy') ?? undefined) as string | undefined;
  const orphan =
    body.orphanDependents ??
    (query.has('orphanDependents') ? query.get('orphanDependents') === 'true' : undefined);
  if (policy === undefined && orphan !== undefined) policy = orphan ? 'Orphan' : 'Background';
  if (policy !== undefined) {
    if (policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
      throw ApiError.invalid('', 'DeleteOptions', '', [
        FieldError.notSupported('propagationPolicy', policy, ['Foreground', 'Background', 'Orphan']),
      ]);
    }
    opts.propagationPolicy = policy;
  }
  const pre = body.preconditions;
  if (isPlainObject(pre)) {
    opts.preconditions = {
      uid: typeof pre.uid === 'string' ? pre.uid : undefined,
      resourceVersion: typeof pre.resourceVersion === 'string' ? pre.resourceVersion : undefined,
    };
  }
  const dr = body.dryRun;
  if (Array.isArray(dr) && dr.length > 0) {
    if (dr.some((v) => v !== 'All'))
      throw ApiError.badRequest('Invalid dryRun value; the only supported value is "All"');
    opts.dryRun = true;
  }
  if (dryRun(query)) opts.dryRun = true;
  return opts;
}

/** Kinds whose delete returns the object rather than a Status (Store.ReturnDeletedObject). */
function returnsDeletedObject(def: ResourceDef): boolean {
  return def.group === '' && def.resource === 'pods';
}

export async function handleResource(
  deps: HandlerDeps,
  info: ResourceRequest,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
): Promise<void> {
  const def = deps.catalog.get(info.group, info.version, info.resource);
  if (!def) throw ApiError.noResource();
  if (info.namespace && !def.namespaced) throw ApiError.noResource();
  const { registry } = deps;
  const ns = info.namespace;
  const name = info.name;
  const sub = info.subresource;
  const query = ctx.query;
  if (def.namespaced && name && !ns && !(def.group === '' && def.resource === 'namespaces')) {
    // A named namespaced object needs its namespace in the URL.
    throw ApiError.noResource();
  }
  const writeOpts = {
    dryRun: dryRun(query),
    user: ctx.user,
    fieldManager: query.get('fieldManager') || undefined,
    userAgent: ctx.userAgent,
  };
  if (writeOpts.fieldManager !== undefined) validateFieldManager(writeOpts.fieldManager);
  if (def.group === '' && def.resource === 'pods' && (sub === 'binding' || sub === 'eviction')) {
    if (info.verb !== 'create') throw ApiError.methodNotAllowed(`${sub} only supports POST`);
    const body = await readObject(
      req,
      sub === 'binding'
        ? { apiVersion: 'v1', kind: 'Binding' }
        : { apiVersion: 'policy/v1', kind: 'Eviction' },
    );
    const opts = { dryRun: dryRun(query), user: ctx.user };
    if (sub === 'binding') await bindPod(registry, def, ns, name, body, deps.clock.now(), opts);
    else {
      const pdbs = deps.catalog.get('policy', 'v1', 'poddisruptionbudgets');
      if (!pdbs) throw ApiError.internal('poddisruptionbudgets are not served');
      await evictPod(registry, def, pdbs, ns, name, body, deps.clock.now(), opts);
    }
    return send(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }
  if (def.group === '' && def.resource === 'pods' && STREAMING_SUBRESOURCES.has(sub)) {
    if (sub !== 'log') throw ApiError.badRequest('Upgrade request required');
    if (info.verb !== 'get') throw ApiError.methodNotAllowed('pods/log only supports GET');
    const nodes = deps.catalog.get('', 'v1', 'nodes')!;
    const target = await resolveKubeletTarget(registry, def, nodes, ns, name, sub, query);
    if (!deps.kubeletClient) throw ApiError.unavailable('this API server has no kubelet client credentials');
    return proxyGet(target, deps.kubeletClient, req, res);
  }
  if (def.group === '' && def.resource === 'namespaces' && sub === 'finalize') {
    // The namespace controller clears spec.finalizers through here.
    if (info.verb !== 'update') throw ApiError.methodNotAllowed('namespaces/finalize only supports PUT');
    const body = await readObject(req, { apiVersion: 'v1', kind: 'Namespace' });
    const { object } = await registry.update(def, '', name, body, { ...writeOpts, subresource: 'finalize' });
    return respondObject(deps, def, res, req, ctx, 200, object);
  }
  if (sub && sub !== 'status' && sub !== 'scale') {
    throw ApiError.noResource();
  }
  if (sub === 'status' && !def.strategy.statusSubresource) throw ApiError.noResource();
  if (sub === 'scale' && !def.scale) throw ApiError.noResource();

  switch (info.verb) {
    case 'get': {
      const obj = await registry.get(def, ns, name);
      if (sub === 'scale') return send(res, 200, getScale(def, obj), negotiate(req.headers.accept, []));
      return respondObject(deps, def, res, req, ctx, 200, obj);
    }
    case 'list': {
      const filter = buildFilter(def, query);
      const rv = query.get('resourceVersion') ?? '';
      const match = parseRvMatch(query);
      const limit = intParam(query, 'limit');
      const cont = query.get('continue') ?? undefined;
      // As kube-apiserver: RV=0 is served from the cache (ignoring limit), and so are unpaginated
      // lists at the latest or a not-older-than revision; paginated and exact reads go to storage.
      const fromCache =
        !cont && match !== 'Exact' && (rv === '0' || (!limit && (rv === '' || match === 'NotOlderThan')));
      if (fromCache) {
        const cache = deps.caches.for(def);
        if (rv === '') await cache.waitFor(await registry.store.currentRevision());
        else if (rv !== '0') await cache.waitFor(parseResourceVersion(rv) ?? 0);
        const { items, revision } = await cache.list(keyPrefix(def, ns), filter);
        return respondObject(deps, def, res, req, ctx, 200, {
          apiVersion: apiVersionOf(def),
          kind: def.listKind,
          metadata: { resourceVersion: String(revision) },
          items: def.custom ? items.map((o) => ({ ...o, apiVersion: apiVersionOf(def) })) : items,
        });
      }
      const list = await registry.list(def, ns, {
        filter,
        limit,
        continue: cont,
        resourceVersion: rv || undefined,
        resourceVersionMatch: match,
      });
      return respondObject(deps, def, res, req, ctx, 200, list);
    }
    case 'watch': {
      if (name) {
        const fs = query.get('fieldSelector');
        query.set('fieldSelector', fs ? `${fs},metadata.name=${name}` : `metadata.name=${name}`);
      }
      return serveWatch(deps, def, ns, req, res, ctx);
    }
    case 'create': {
      if (name) throw ApiError.methodNotAllowed(`POST is not supported on a named ${def.resource} object`);
      const validation = fieldValidation(query);
      const body = await readObject(req, { apiVersion: apiVersionOf(def), kind: def.kind });
      const warnings: string[] = [];
      checkFields(def, body, validation, warnings);
      const created = await registry.create(def, ns, body, writeOpts);
      setWarnings(res, warnings);
      return respondObject(deps, def, res, req, ctx, 201, created, true);
    }
    case 'update': {
      if (!name) throw ApiError.methodNotAllowed(`PUT requires the name of a ${def.resource} object`);
      const validation = fieldValidation(query);
      const body = await readObject(req, { apiVersion: apiVersionOf(def), kind: def.kind });
      const warnings: string[] = [];
      if (sub !== 'scale') checkFields(def, body, validation, warnings);
      setWarnings(res, warnings);
      if (sub === 'scale') {
        const result = await scaleSubresourceUpdate(registry, def, ns, name, body, {
          dryRun: dryRun(query),
          user: ctx.user,
        });
        return send(res, 200, result, negotiate(req.headers.accept, []));
      }
      const { object, created } = await registry.update(def, ns, name, body, {
        ...writeOpts,
        subresource: sub,
      });
      return respondObject(deps, def, res, req, ctx, created ? 201 : 200, object, true);
    }
    case 'patch': {
      if (!name) throw ApiError.methodNotAllowed(`PATCH requires the name of a ${def.resource} object`);
      const validation = fieldValidation(query);
      const warnings: string[] = [];
      const contentType = parseMediaType(req.headers['content-type'] ?? '').type;
      const isApply = contentType === APPLY_PATCH;
      const forceParam = query.get('force');
      if (forceParam !== null && forceParam !== 'true' && forceParam !== 'false') {
        throw ApiError.badRequest(`invalid value for force: "${forceParam}": must be true or false`);
      }
      validatePatchOptions(
        {
          fieldManager: writeOpts.fieldManager,
          force: forceParam === null ? undefined : forceParam === 'true',
        },
        isApply,
      );
      const raw = await readBody(req);
      if (sub === 'scale') {
        const result = await scaleSubresourceUpdate(
          registry,
          def,
          ns,
          name,
          (current: KubeObject) => {
            const scale = getScale(def, current);
            return deps.patch(contentType, scale as unknown as KubeObject, raw, def);
          },
          { dryRun: writeOpts.dryRun, user: ctx.user },
        );
        return send(res, 200, result, negotiate(req.headers.accept, []));
      }
      if (isApply) {
        const apiVersion = apiVersionOf(def);
        const applied = decodeApplyPatch(raw, { apiVersion, kind: def.kind, name, namespace: ns });
        checkFields(def, applied, validation, warnings);
        setWarnings(res, warnings);
        const subresource = sub;
        const { object, created } = await registry.patch(
          def,
          ns,
          name,
          (current) => {
            const result = applyObject(current, applied, {
              manager: writeOpts.fieldManager ?? '',
              force: forceParam === 'true',
              apiVersion,
              kind: def.kind,
              subresource: subresource || undefined,
              schema: registry.ssaSchema(def),
              now: rfc3339(deps.clock.now()),
              resetFields: resetFieldsFor({
                subresource,
                hasStatusSubresource: def.strategy.statusSubresource,
              }),
            }) as KubeObject;
            checkAppliedObject(result, name, ns);
            return result;
          },
          { ...writeOpts, subresource, apply: true, createIfMissing: true },
        );
        return respondObject(deps, def, res, req, ctx, created ? 201 : 200, object);
      }
      const { object, created } = await registry.patch(
        def,
        ns,
        name,
        (current) => {
          if (!current) throw ApiError.notFound({ group: def.group, resource: def.resource }, name);
          // `current` is this attempt's own copy and the patcher leaves its input alone: no clone.
          const patched = deps.patch(contentType, current, raw, def);
          warnings.length = 0;
          checkFields(def, patched, validation, warnings);
          return patched;
        },
        { ...writeOpts, subresource: sub },
      );
      setWarnings(res, warnings);
      return respondObject(deps, def, res, req, ctx, created ? 201 : 200, object);
    }
    case 'delete': {
      if (sub) throw ApiError.methodNotAllowed(`DELETE is not supported on ${def.resource}/${sub}`);
      const opts = await deleteOptions(req, query, ctx.user);
      const { object, deleted } = await registry.delete(def, ns, name, opts);
      if (deleted && !returnsDeletedObject(def)) {
        return send(res, 200, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name, group: def.group, kind: def.resource, uid: object.metadata.uid },
        });
      }
      const code = !deleted && opts.propagationPolicy && opts.propagationPolicy !== 'Orphan' ? 202 : 200;
      return respondObject(deps, def, res, req, ctx, code, object);
    }
    case 'deletecollection': {
      const opts = await deleteOptions(req, query, ctx.user);
      const list = await registry.list(def, ns, { filter: buildFilter(def, query) });
      for (const obj of list.items) {
        try {
          await registry.delete(def, obj.metadata.namespace ?? '', obj.metadata.name!, opts);
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
      return respondObject(deps, def, res, req, ctx, 200, list);
    }
    default:
      throw ApiError.methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
}

/** The storage key prefix of `def`'s objects in `namespace` ('' for all). */
export function keyPrefix(def: ResourceDef, namespace: string): string {
  return def.namespaced && namespace ? `${storagePrefix(def)}${namespace}/` : storagePrefix(def);
}

function parseRvMatch(query: URLSearchParams): 'Exact' | 'NotOlderThan' | '' {
  const v = query.get('resourceVersionMatch') ?? '';
  if (v !== '' && v !== 'Exact' && v !== 'NotOlderThan') {
    throw ApiError.badRequest(
      `resourceVersionMatch: Unsupported value: "${v}": supported values: "Exact", "NotOlderThan"`,
    );
  }
  if (v && !query.get('resourceVersion')) {
    throw ApiError.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
  }
  return v;
}
