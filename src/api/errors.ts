/**
 * API errors: typed errors that become a `metav1.Status` at the HTTP edge, with the codes, reasons
 * and messages Kubernetes uses (k8s.io/apimachinery/pkg/api/errors and .../util/validation/field).
 */

/** A group + resource, as Kubernetes names them in errors: `pods`, `deployments.apps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

/** metav1.StatusCause */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** metav1.StatusDetails */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** metav1.Status as it goes on the wire. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

/** Reasons (metav1.StatusReason) used by skiff. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'Timeout'
  | 'ServerTimeout'
  | 'InternalError'
  | 'ServiceUnavailable';

/** An error a client sees as a Status. Throw it anywhere; the HTTP layer renders it. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;

  constructor(
    code: number,
    reason: StatusReason,
    message: string,
    details?: StatusDetails,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Status {
    const s: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details && Object.keys(this.details).length > 0) s.details = this.details;
    return s;
  }

  static badRequest(message: string, causes?: StatusCause[]): ApiError {
    return new ApiError(400, 'BadRequest', message, causes ? { causes } : undefined);
  }

  static unauthorized(message = 'Unauthorized'): ApiError {
    return new ApiError(401, 'Unauthorized', message);
  }

  static forbidden(gr: GroupResource, name: string, reason: string): ApiError {
    const what = name ? `${qualified(gr)} "${name}"` : qualified(gr);
    return new ApiError(403, 'Forbidden', `${what} is forbidden: ${reason}`, {
      name: name || undefined,
      group: gr.group || undefined,
      kind: gr.resource,
    });
  }

  static notFound(gr: GroupResource, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, {
      name,
      group: gr.group || undefined,
      kind: gr.resource,
    });
  }

  /** A URL that names no resource: Kubernetes answers a bare 404 "the server could not find the requested resource". */
  static noResource(): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  }

  static alreadyExists(gr: GroupResource, name: string): ApiError {
    return new ApiError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, {
      name,
      group: gr.group || undefined,
      kind: gr.resource,
    });
  }

  static conflict(gr: GroupResource, name: string, reason: string): ApiError {
    return new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${reason}`,
      { name, group: gr.group || undefined, kind: gr.resource },
    );
  }

  /** 422: the object fails validation. `kind` is the object's Kind (e.g. "Pod"). */
  static invalid(group: string, kind: string, name: string, errors: FieldError[]): ApiError {
    const list = errors.map((e) => e.toString());
    const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
    return new ApiError(
      422,
      'Invalid',
      `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${summary}`,
      {
        name,
        group: group || undefined,
        kind,
        causes: errors.map((e) => ({ reason: e.type, message: e.detailMessage(), field: e.field })),
      },
    );
  }

  /** 410: a resourceVersion or continue token older than the retained history. */
  static gone(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  }

  static methodNotAllowed(message: string): ApiError {
    return new ApiError(405, 'MethodNotAllowed', message);
  }

  static notAcceptable(message: string): ApiError {
    return new ApiError(406, 'NotAcceptable', message);
  }

  static unsupportedMediaType(): ApiError {
    return new ApiError(
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
  }

  static tooLarge(message = 'Request entity too large: limit is 3145728'): ApiError {
    return new ApiError(413, 'RequestEntityTooLarge', message);
  }

  static tooManyRequests(message: string, retryAfterSeconds = 1): ApiError {
    return new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds });
  }

  static timeout(message: string): ApiError {
    return new ApiError(504, 'Timeout', message);
  }

  static internal(message: string, cause?: unknown): ApiError {
    return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, undefined, { cause });
  }

  static unavailable(message: string): ApiError {
    return new ApiError(503, 'ServiceUnavailable', message);
  }
}

/** field.ErrorType values, as they appear in Status causes. */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound'
  | 'FieldValueTypeInvalid';

const typeText: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueNotFound: 'Not found',
  FieldValueTypeInvalid: 'Invalid value',
};

/** Renders a value the way field.Error does: strings quoted, numbers and booleans bare, objects as JSON. */
function renderValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** One field's validation failure (field.Error). */
export class FieldError {
  readonly type: FieldErrorType;
  readonly field: string;
  readonly value: unknown;
  readonly detail: string;
  /** Whether `value` is shown in the message (Required, Forbidden and TooMany omit it, as Kubernetes does). */
  readonly #showValue: boolean;

  constructor(type: FieldErrorType, field: string, value: unknown, detail = '', showValue = true) {
    this.type = type;
    this.field = field;
    this.value = value;
    this.detail = detail;
    this.#showValue = showValue;
  }

  /** The message without the field path, as in a Status cause. */
  detailMessage(): string {
    let s = typeText[this.type];
    if (this.#showValue && this.value !== undefined) s += `: ${renderValue(this.value)}`;
    if (this.detail) s += `: ${this.detail}`;
    return s;
  }

  toString(): string {
    return `${this.field}: ${this.detailMessage()}`;
  }

  static required(field: string, detail = ''): FieldError {
    return new FieldError('FieldValueRequired', field, undefined, detail, false);
  }

  static invalid(field: string, value: unknown, detail: string): FieldError {
    return new FieldError('FieldValueInvalid', field, value, detail);
  }

  static notSupported(field: string, value: unknown, supported: readonly string[]): FieldError {
    const detail = supported.length
      ? `supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}`
      : '';
    return new FieldError('FieldValueNotSupported', field, value, detail);
  }

  static duplicate(field: string, value: unknown): FieldError {
    return new FieldError('FieldValueDuplicate', field, value);
  }

  static forbidden(field: string, detail: string): FieldError {
    return new FieldError('FieldValueForbidden', field, undefined, detail, false);
  }

  static tooLong(field: string, maxLength: number): FieldError {
    return new FieldError(
      'FieldValueTooLong',
      field,
      undefined,
      `may not be more than ${maxLength} bytes`,
      false,
    );
  }

  static tooMany(field: string, actual: number, max: number): FieldError {
    return new FieldError('FieldValueTooMany', field, actual, `must have at most ${max} items`, false);
  }

  static notFound(field: string, value: unknown): FieldError {
    return new FieldError('FieldValueNotFound', field, value);
  }

  static typeInvalid(field: string, value: unknown, detail: string): FieldError {
    return new FieldError('FieldValueTypeInvalid', field, value, detail);
  }
}

/** Builds field paths the way Kubernetes prints them: `spec.containers[0].ports[1].containerPort`, `metadata.labels[app]`. */
export class FieldPath {
  readonly path: string;
  constructor(path = '') {
    this.path = path;
  }
  child(name: string): FieldPath {
    return new FieldPath(this.path ? `${this.path}.${name}` : name);
  }
  index(i: number): FieldPath {
    return new FieldPath(`${this.path}[${i}]`);
  }
  key(k: string): FieldPath {
    return new FieldPath(`${this.path}[${k}]`);
  }
  toString(): string {
    return this.path;
  }
}
