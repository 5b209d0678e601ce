/**
 * The PATCH content types of the Kubernetes API (JSON patch, JSON merge patch, strategic merge
 * patch), applied exactly as the API server applies them. {@link applyPatch} is the entry point;
 * {@link checkPatchContentType} lets the HTTP layer reject a content type before loading the object,
 * as Kubernetes does (415 comes before 404).
 *
 * Server-side apply (`application/apply-patch+yaml`) is not handled here.
 */

import { routeUnsupportedMediaType, undecodablePatchResult, unsupportedPatchType } from './errors.ts';
import { bodyText, isObject, type Json, type JsonObject, type PatchBody, toJsonObject } from './json.ts';
import { applyJsonPatch } from './json-patch.ts';
import { applyMergePatch } from './merge-patch.ts';
import { smpSchemaFor } from './smp-schema.ts';
import { applyStrategicMergePatch } from './strategic-merge-patch.ts';

export type { Json, JsonObject, PatchBody } from './json.ts';
export { MAX_JSON_PATCH_OPERATIONS } from './json-patch.ts';
export { BUILTIN_GROUPS, type FieldMeta, fieldMeta, type SchemaNode, smpSchemaFor } from './smp-schema.ts';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

/** One of the patch content types handled here. */
export type PatchType = typeof JSON_PATCH | typeof MERGE_PATCH | typeof STRATEGIC_MERGE_PATCH;

/** The kind being patched (of the object the patch applies to). */
export interface PatchTarget {
  /** API group, '' for the core group. */
  group: string;
  version: string;
  kind: string;
}

function apiVersionOf(t: PatchTarget): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/**
 * The patch types a kind accepts, in the order Kubernetes lists them: built-in kinds take all
 * three; custom resources (any group that is not built in) take no strategic merge patch.
 */
export function acceptedPatchTypes(target: PatchTarget): PatchType[] {
  return smpSchemaFor(apiVersionOf(target), target.kind)
    ? [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH]
    : [JSON_PATCH, MERGE_PATCH];
}

/**
 * Validates a request's Content-Type and returns the patch type, or throws 415 as Kubernetes does:
 * for built-in kinds the route first matches the type's parameters-stripped, trimmed value
 * ("415: Unsupported Media Type"); then the handler cuts at the first `;` without trimming and
 * answers "the body of the request was in an unknown format - accepted media types include: ...".
 */
export function checkPatchContentType(contentType: string, target: PatchTarget): PatchType {
  const accepted: readonly string[] = acceptedPatchTypes(target);
  const builtin = accepted.includes(STRATEGIC_MERGE_PATCH);
  if (builtin && !routeMatches(contentType, accepted)) throw routeUnsupportedMediaType();
  const semi = contentType.indexOf(';');
  const type = semi > 0 ? contentType.slice(0, semi) : contentType;
  if (!accepted.includes(type)) throw unsupportedPatchType(accepted);
  return type as PatchType;
}

/** go-restful's Consumes match: comma-separated types, parameters dropped, spaces trimmed. */
function routeMatches(contentType: string, accepted: readonly string[]): boolean {
  const header = contentType === '' ? 'application/octet-stream' : contentType;
  return header.split(',').some((part) => accepted.includes((part.split(';')[0] ?? '').trim()));
}

/**
 * Applies `patch` (the request body) of `contentType` to `original` and returns the patched object;
 * `original` is not modified. Throws ApiError: 415 for a content type the kind does not accept, 400
 * for a malformed body, 413 for a JSON patch of more than 10000 operations, 422 for a patch that
 * does not apply or yields something that is not an object.
 */
export function applyPatch(
  contentType: string,
  original: object,
  patch: PatchBody,
  target: PatchTarget,
): JsonObject {
  const type = checkPatchContentType(contentType, target);
  // The one copy of `original` (a JSON round trip: detached, and cheaper than structuredClone);
  // the patch is applied to it in place.
  const doc = toJsonObject(original);
  const body = bodyText(patch);
  let result: Json;
  switch (type) {
    case JSON_PATCH:
      result = applyJsonPatch(doc, body, { inPlace: true });
      break;
    case MERGE_PATCH:
      result = applyMergePatch(doc, body, { inPlace: true });
      break;
    case STRATEGIC_MERGE_PATCH: {
      const schema = smpSchemaFor(apiVersionOf(target), target.kind);
      if (!schema) throw unsupportedPatchType(acceptedPatchTypes(target));
      result = applyStrategicMergePatch(doc, body, schema, { inPlace: true });
      break;
    }
  }
  if (!isObject(result)) throw undecodablePatchResult(result);
  return result;
}
