/**
 * The request side of server-side apply (k8s.io/apiserver/pkg/endpoints/handlers/patch.go and
 * rest.go): decoding an `application/apply-patch+yaml` body, validating the patch options, checking
 * the result's name and namespace against the URL, and the manager name derived from the User-Agent
 * when a write names none.
 */
import { parseAllDocuments } from 'yaml';
import { ApiError, FieldError } from '../../api/errors.ts';
import type { KubeObject } from '../object.ts';
import type { Json, JsonObject } from '../patch/json.ts';
import { isObject, jsonKind } from '../patch/json.ts';

export const APPLY_PATCH = 'application/apply-patch+yaml';

/** The longest field manager name Kubernetes accepts (bytes). */
export const FIELD_MANAGER_MAX_LENGTH = 128;

/** What the request URL says the object is. */
export interface ApplyTarget {
  apiVersion: string;
  kind: string;
  /** The name in the URL. */
  name?: string;
  /** The namespace in the URL ('' for cluster-scoped resources). */
  namespace?: string;
}

/**
 * Decodes an apply patch body (YAML or JSON, one document) into the applied configuration. A body
 * that is not an object is 400 "error decoding YAML: ..."; an empty one is `{}` (which then fails the
 * kind check, as in Kubernetes). With `target`, also rejects (400) what the field manager and handler
 * would: another apiVersion/kind ("invalid object type: apps/v1, Kind=Deployment"), managedFields,
 * and a name or namespace that contradicts the URL.
 */
export function decodeApplyPatch(body: Uint8Array | string, target?: ApplyTarget): JsonObject {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  let value: Json;
  try {
    const [doc] = parseAllDocuments(text, { uniqueKeys: false });
    if (!doc || Array.isArray(doc)) value = null;
    else {
      if (doc.errors.length > 0) throw doc.errors[0];
      value = (doc.toJS({ maxAliasCount: 100 }) ?? null) as Json;
    }
  } catch (err) {
    throw ApiError.badRequest(
      `error decoding YAML: error converting YAML to JSON: yaml: ${(err as Error).message}`,
    );
  }
  if (value === null) value = {};
  if (!isObject(value)) {
    throw ApiError.badRequest(
      `error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonKind(value)} into Go value of type map[string]interface {}`,
    );
  }
  if (!target) return value;
  if (value.apiVersion !== target.apiVersion || value.kind !== target.kind) {
    throw ApiError.badRequest(`invalid object type: ${gvk(value)}`);
  }
  const md = isObject(value.metadata) ? value.metadata : undefined;
  if (md && Array.isArray(md.managedFields)) throw ApiError.badRequest('metadata.managedFields must be nil');
  const ns = typeof md?.namespace === 'string' ? md.namespace : '';
  if (target.namespace && ns && ns !== target.namespace) throw namespaceMismatch();
  const name = typeof md?.name === 'string' ? md.name : undefined;
  if (target.name !== undefined && name !== undefined && name !== target.name) {
    throw nameMismatch(name, target.name);
  }
  return value;
}

function gvk(obj: JsonObject): string {
  const av = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  const parts = av.split('/');
  if (parts.length > 2) return '/, Kind=';
  const [group, version] = parts.length === 1 ? ['', parts[0]] : parts;
  return `${group}/${version}, Kind=${kind}`;
}

function namespaceMismatch(): ApiError {
  return ApiError.badRequest(
    'the namespace of the provided object does not match the namespace sent on the request',
  );
}

function nameMismatch(objName: string, urlName: string): ApiError {
  return ApiError.badRequest(
    `the name of the object (${objName}) does not match the name on the URL (${urlName})`,
  );
}

/**
 * What the patch handler checks on the object an apply produced (EnsureObjectNamespaceMatchesRequestNamespace
 * and checkName): an unset namespace takes the URL's, a cluster-scoped URL clears it, another one is
 * 400; the name must be the URL's (an apply that creates an object must name it). Modifies `obj`.
 */
export function checkAppliedObject(obj: KubeObject, name: string, namespace: string): void {
  obj.metadata ??= {};
  const ns = obj.metadata.namespace ?? '';
  if (ns !== namespace) {
    if (ns === '') obj.metadata.namespace = namespace;
    else if (namespace === '') delete obj.metadata.namespace;
    else throw namespaceMismatch();
  }
  const objName = obj.metadata.name ?? '';
  if (objName !== name) throw nameMismatch(objName, name);
}

/** The patch options server-side apply reads. */
export interface PatchOptions {
  fieldManager?: string;
  /** The `force` query parameter as given (undefined when absent). */
  force?: boolean;
}

/**
 * ValidatePatchOptions: apply requires a fieldManager, `force` is only for apply, and a field manager
 * is at most 128 bytes of printable characters. Throws 422 `PatchOptions.meta.k8s.io "" is invalid: ...`.
 */
export function validatePatchOptions(opts: PatchOptions, isApply: boolean): void {
  const errs: FieldError[] = [];
  if (!isApply) {
    if (opts.force !== undefined)
      errs.push(FieldError.forbidden('force', 'may not be specified for non-apply patch'));
  } else if (!opts.fieldManager) {
    errs.push(FieldError.required('fieldManager', 'is required for apply patch'));
  }
  errs.push(...validateFieldManager(opts.fieldManager ?? ''));
  if (errs.length > 0) throw ApiError.invalid('meta.k8s.io', 'PatchOptions', '', errs);
}

/** ValidateFieldManager (also for create and update options). */
export function validateFieldManager(manager: string): FieldError[] {
  const errs: FieldError[] = [];
  if (Buffer.byteLength(manager, 'utf8') > FIELD_MANAGER_MAX_LENGTH) {
    errs.push(FieldError.tooLong('fieldManager', FIELD_MANAGER_MAX_LENGTH));
  }
  let pos = 0;
  for (const ch of manager) {
    if (!isPrint(ch)) {
      const cp = (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
      errs.push(
        FieldError.invalid('fieldManager', manager, `invalid character U+${cp} (at position ${pos})`),
      );
    }
    pos += Buffer.byteLength(ch, 'utf8');
  }
  return errs;
}

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/**
 * The manager of a write that names none (prefixFromUserAgent): the User-Agent up to its first `/`,
 * without unprintable characters, cut to 128 bytes. `kubectl/v1.35.2 (linux/amd64) kubernetes/abc` →
 * `kubectl`; `Helm/3.17.2` → `Helm`. (kubectl itself names most writes: `kubectl-client-side-apply`,
 * `kubectl-edit`, `kubectl-label`, `kubectl-create`, ...; an empty result is recorded as "unknown".)
 */
export function managerFromUserAgent(userAgent: string | undefined): string {
  const prefix = (userAgent ?? '').split('/')[0] ?? '';
  let out = '';
  let bytes = 0;
  for (const ch of prefix) {
    if (!isPrint(ch)) continue;
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** managerOrUserAgent: the fieldManager parameter if given, else the User-Agent's prefix. */
export function managerOrUserAgent(fieldManager: string | undefined, userAgent: string | undefined): string {
  return fieldManager ? fieldManager : managerFromUserAgent(userAgent);
}
