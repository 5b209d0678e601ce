/**
 * The errors the API server answers bad patches with (k8s.io/apiserver/pkg/endpoints/handlers/patch.go),
 * built once here so every patch type maps failures the same way.
 */
import { ApiError } from '../../api/errors.ts';
import { type Json, jsonKind } from './json.ts';

/**
 * 422 Invalid for a patch that parsed but cannot be applied: a failed JSON-patch `test`, a path that
 * does not exist, a list of lists in a strategic merge patch. Kubernetes builds it with
 * `NewGenericServerResponse(422, ...)`, which drops the underlying text; it is kept as `cause` for logs.
 */
export function patchNotApplicable(cause?: unknown): ApiError {
  return new ApiError(
    422,
    'Invalid',
    'the server rejected our request due to an error in our request',
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

/** 400 BadRequest with the decoder's or patcher's own message. */
export function badPatch(message: string): ApiError {
  return ApiError.badRequest(message);
}

/** 413 for a JSON patch with more operations than the API server takes. */
export function tooManyOperations(max: number, got: number): ApiError {
  return ApiError.tooLarge(
    `Request entity too large: The allowed maximum operations in a JSON patch is ${max}, got ${got}`,
  );
}

/** 415 from the patch handler: the content type is not one this resource accepts. */
export function unsupportedPatchType(accepted: readonly string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

/**
 * 415 from the route (go-restful) for built-in resources, before the patch handler runs: the
 * Content-Type matches none of the route's `Consumes` types.
 */
export function routeUnsupportedMediaType(): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', '415: Unsupported Media Type');
}

const findKindType =
  'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

/**
 * 422 Invalid when the patched document is not an object (a merge patch that is an array, a JSON
 * patch that replaces the root with one): the decoder cannot read apiVersion/kind from it.
 */
export function undecodablePatchResult(patched: Json): ApiError {
  const json = JSON.stringify(patched);
  const detail = `couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonKind(patched)} into Go value of type ${findKindType}`;
  const body = `Invalid value: ${JSON.stringify(json)}: ${detail}`;
  return new ApiError(422, 'Invalid', ` "" is invalid: patch: ${body}`, {
    causes: [{ reason: 'FieldValueInvalid', message: body, field: 'patch' }],
  });
}
