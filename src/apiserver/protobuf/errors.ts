/**
 * Errors of the protobuf codec. They are {@link ApiError}s, so the HTTP layer renders them as a
 * `metav1.Status` with no mapping of its own.
 */
import { ApiError } from '../../api/errors.ts';

/** 400: the body is not a well-formed Kubernetes protobuf message (bad magic, truncation, wrong types). */
export class ProtobufDecodeError extends ApiError {
  constructor(detail: string) {
    super(400, 'BadRequest', `unable to decode protobuf body: ${detail}`);
    this.name = 'ProtobufDecodeError';
  }
}

/**
 * A kind skiff has no protobuf schema for. Decoding a request body: 415 UnsupportedMediaType (the
 * client should send JSON). Encoding a response: 406 NotAcceptable, as Kubernetes answers for an
 * object that is not protobuf-marshalable; callers answering an Accept list should fall back to JSON.
 */
export class UnsupportedProtobufKindError extends ApiError {
  readonly apiVersion: string;
  readonly kind: string;

  constructor(apiVersion: string, kind: string, direction: 'decode' | 'encode') {
    const what = `kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`;
    if (direction === 'decode') {
      super(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format: skiff cannot decode ${what} from protobuf - send it as application/json`,
      );
    } else {
      super(406, 'NotAcceptable', `object ${what} cannot be encoded to a protobuf message`);
    }
    this.name = 'UnsupportedProtobufKindError';
    this.apiVersion = apiVersion;
    this.kind = kind;
  }
}

/** 500: the object handed to the encoder does not fit its schema (a server bug, not a client error). */
export class ProtobufEncodeError extends ApiError {
  constructor(detail: string) {
    super(500, 'InternalError', `Internal error occurred: unable to encode protobuf: ${detail}`);
    this.name = 'ProtobufEncodeError';
  }
}
