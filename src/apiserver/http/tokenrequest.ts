/**
 * The serviceaccounts/token subresource: POST an authentication.k8s.io/v1 TokenRequest, get back a
 * signed service account token (pkg/registry/core/serviceaccount/storage/token.go). The token is
 * bound to the service account's UID and optionally to a Pod (and its Node), a Secret or a Node.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, FieldError } from '../../api/errors.ts';
import type { Clock } from '../../util/clock.ts';
import {
  EXPIRATION_EXTENSION_SECONDS,
  type ObjectGetter,
  type ObjectRef,
  type ServiceAccountTokens,
  WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS,
} from '../auth/serviceaccount/index.ts';
import type { Catalog } from '../catalog.ts';
import { isPlainObject, type KubeObject, rfc3339 } from '../object.ts';
import type { Registry } from '../registry/registry.ts';
import { readObject } from './body.ts';
import { negotiate } from './negotiate.ts';
import type { ResourceRequest } from './requestinfo.ts';
import { send } from './respond.ts';

const GROUP = 'authentication.k8s.io';
const API_VERSION = `${GROUP}/v1`;
/** TokenRequestSpec.expirationSeconds when unset. */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32 - 1;

export interface TokenRequestDeps {
  registry: Registry;
  catalog: Catalog;
  clock: Clock;
  tokens: ServiceAccountTokens;
}

interface BoundObjectRef {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

/** Reads core/v1 objects from the registry for the token authenticator: null when absent. */
export function registryObjectGetter(registry: () => Registry, catalog: Catalog): ObjectGetter {
  return async (resource, namespace, name) => {
    const def = catalog.get('', 'v1', resource);
    if (!def) return null;
    try {
      return await registry().get(def, namespace, name);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return null;
      throw err;
    }
  };
}

async function getCore(deps: TokenRequestDeps, resource: string, namespace: string, name: string) {
  const def = deps.catalog.get('', 'v1', resource);
  if (!def) throw ApiError.internal(`${resource} are not served`);
  return deps.registry.get(def, namespace, name);
}

function invalid(name: string, errs: FieldError[]): ApiError {
  return ApiError.invalid(GROUP, 'TokenRequest', name, errs);
}

/** POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token. */
export async function handleTokenRequest(
  deps: TokenRequestDeps,
  info: ResourceRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (info.verb !== 'create') throw ApiError.methodNotAllowed('serviceaccounts/token only supports POST');
  const ns = info.namespace;
  const name = info.name;
  if (!ns || !name) throw ApiError.noResource();
  const body = await readObject(req, { apiVersion: API_VERSION, kind: 'TokenRequest' });
  if (!isPlainObject(body))
    throw ApiError.badRequest('the body must be an authentication.k8s.io/v1 TokenRequest');
  if (body.apiVersion !== undefined && body.apiVersion !== API_VERSION)
    throw ApiError.badRequest(
      `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${API_VERSION})`,
    );
  if (body.kind !== undefined && body.kind !== 'TokenRequest')
    throw ApiError.badRequest(
      `the kind in the data (${String(body.kind)}) does not match the expected kind (TokenRequest)`,
    );
  const meta = isPlainObject(body.metadata) ? body.metadata : {};
  if (meta.name && meta.name !== name)
    throw invalid(name, [
      FieldError.invalid('metadata.name', meta.name, 'must match the service account name if specified'),
    ]);
  if (meta.namespace && meta.namespace !== ns)
    throw invalid(name, [
      FieldError.invalid(
        'metadata.namespace',
        meta.namespace,
        'must match the service account namespace if specified',
      ),
    ]);

  const sa = await getCore(deps, 'serviceaccounts', ns, name);
  const spec = body.spec === undefined || body.spec === null ? {} : body.spec;
  if (!isPlainObject(spec)) throw invalid('', [FieldError.typeInvalid('spec', spec, 'must be an object')]);
  const errs: FieldError[] = [];
  let audiences: string[] = deps.tokens.audiences;
  if (spec.audiences !== undefined && spec.audiences !== null) {
    if (!Array.isArray(spec.audiences) || !spec.audiences.every((a) => typeof a === 'string'))
      errs.push(FieldError.typeInvalid('spec.audiences', spec.audiences, 'must be a list of strings'));
    else if (spec.audiences.length > 0) audiences = spec.audiences as string[];
  }
  let expirationSeconds = DEFAULT_EXPIRATION_SECONDS;
  const exp = spec.expirationSeconds;
  if (exp !== undefined && exp !== null) {
    if (typeof exp !== 'number' || !Number.isInteger(exp))
      errs.push(FieldError.typeInvalid('spec.expirationSeconds', exp, 'must be an integer'));
    else if (exp < MIN_EXPIRATION_SECONDS)
      errs.push(
        FieldError.invalid('spec.expirationSeconds', exp, 'may not specify a duration less than 10 minutes'),
      );
    else if (exp > MAX_EXPIRATION_SECONDS)
      errs.push(
        FieldError.invalid(
          'spec.expirationSeconds',
          exp,
          'may not specify a duration larger than 2^32 seconds',
        ),
      );
    else expirationSeconds = exp;
  }
  let ref: BoundObjectRef | undefined;
  if (spec.boundObjectRef !== undefined && spec.boundObjectRef !== null) {
    if (!isPlainObject(spec.boundObjectRef))
      errs.push(FieldError.typeInvalid('spec.boundObjectRef', spec.boundObjectRef, 'must be an object'));
    else {
      ref = spec.boundObjectRef as BoundObjectRef;
      for (const f of ['kind', 'apiVersion', 'name', 'uid'] as const) {
        if (ref[f] !== undefined && ref[f] !== null && typeof ref[f] !== 'string')
          errs.push(FieldError.typeInvalid(`spec.boundObjectRef.${f}`, ref[f], 'must be a string'));
      }
    }
  }
  if (errs.length > 0) throw invalid('', errs);

  const now = deps.clock.now();
  let pod: ObjectRef | undefined;
  let node: ObjectRef | undefined;
  let secret: ObjectRef | undefined;
  if (ref) {
    const [group, version] = (ref.apiVersion ?? '').includes('/')
      ? (ref.apiVersion ?? '').split('/', 2)
      : ['', ref.apiVersion ?? ''];
    const kind = ref.kind ?? '';
    const refName = ref.name ?? '';
    let obj: KubeObject;
    if (group === '' && kind === 'Pod') {
      obj = await getCore(deps, 'pods', ns, refName);
      const podSa = (obj.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName;
      if (podSa !== name)
        throw ApiError.badRequest(
          `cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`,
        );
      pod = { name: obj.metadata.name ?? refName, uid: obj.metadata.uid ?? '' };
      const nodeName = (obj.spec as { nodeName?: string } | undefined)?.nodeName;
      if (nodeName) {
        const n = await getCore(deps, 'nodes', '', nodeName).catch(() => null);
        if (n) node = { name: nodeName, uid: n.metadata.uid ?? '' };
      }
    } else if (group === '' && kind === 'Node') {
      obj = await getCore(deps, 'nodes', '', refName);
      node = { name: obj.metadata.name ?? refName, uid: obj.metadata.uid ?? '' };
    } else if (group === '' && kind === 'Secret') {
      obj = await getCore(deps, 'secrets', ns, refName);
      secret = { name: obj.metadata.name ?? refName, uid: obj.metadata.uid ?? '' };
    } else {
      throw ApiError.badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${kind}`);
    }
    if (ref.uid && ref.uid !== obj.metadata.uid) {
      throw ApiError.conflict(
        { group, resource: kind },
        refName,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
  }

  const warnings: string[] = [];
  const max = deps.tokens.maxExpirationSeconds;
  if (max > 0 && expirationSeconds > max) {
    warnings.push(`requested expiration of ${expirationSeconds} seconds shortened to ${max} seconds`);
    expirationSeconds = max;
  }
  // The admission plugin's 3607 s pod tokens for the API server's own audiences last a year (while
  // use after 3607 s is reported), so clients that do not reload tokens keep working.
  let lifetime = expirationSeconds;
  let warnAfterSeconds = 0;
  if (
    deps.tokens.extendExpiration &&
    pod &&
    expirationSeconds === WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS &&
    deps.tokens.isApiAudiences(audiences)
  ) {
    warnAfterSeconds = expirationSeconds;
    lifetime = Math.max(EXPIRATION_EXTENSION_SECONDS, max);
  }
  const claims = deps.tokens.claims({
    serviceAccount: { namespace: ns, name, uid: sa.metadata.uid ?? '' },
    pod,
    node,
    secret,
    audiences,
    expirationSeconds: lifetime,
    warnAfterSeconds,
    now,
  });
  const token = deps.tokens.sign(claims);
  const out = {
    kind: 'TokenRequest',
    apiVersion: API_VERSION,
    metadata: { ...meta, name, namespace: ns, creationTimestamp: rfc3339(now) },
    spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
    status: { token, expirationTimestamp: rfc3339(now + expirationSeconds * 1000) },
  };
  const headers: Record<string, string> = {};
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
  send(res, 201, out, negotiate(req.headers.accept, []), headers);
}
