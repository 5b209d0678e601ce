/**
 * Errors from the container runtime. Every CRI method rejects with a `CriError` when the runtime
 * answers with a gRPC error status (or the call fails at the transport level), so callers branch on
 * `code` (a gRPC status code) rather than on message text.
 */

/** gRPC status codes by name (google.rpc.Code). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type GrpcCodeName = keyof typeof GrpcCode;

const NAMES = new Map<number, GrpcCodeName>(
  (Object.entries(GrpcCode) as [GrpcCodeName, number][]).map(([name, code]) => [code, name]),
);

/** The name of a gRPC status code ("NOT_FOUND"), or "UNKNOWN" for a number outside the table. */
export function grpcCodeName(code: number): GrpcCodeName {
  return NAMES.get(code) ?? 'UNKNOWN';
}

/** A runtime error: the gRPC status of a failed CRI call. */
export class CriError extends Error {
  override name = 'CriError';
  /** gRPC status code (see {@link GrpcCode}). */
  readonly code: number;
  /** The code's name, e.g. "NOT_FOUND". */
  readonly codeName: GrpcCodeName;
  /** The runtime's own message (gRPC `details`). */
  readonly details: string;
  /** The CRI method that failed, e.g. "RunPodSandbox". */
  readonly method: string;

  constructor(method: string, code: number, details: string, options?: { cause?: unknown }) {
    super(`${method}: ${grpcCodeName(code)}: ${details}`, options);
    this.method = method;
    this.code = code;
    this.codeName = grpcCodeName(code);
    this.details = details;
  }
}

/** True when `err` is a CriError with code NOT_FOUND (the sandbox, container or image is gone). */
export function isNotFound(err: unknown): boolean {
  return err instanceof CriError && err.code === GrpcCode.NOT_FOUND;
}

/** True when `err` says the runtime could not be reached (socket missing, connection refused). */
export function isUnavailable(err: unknown): boolean {
  return err instanceof CriError && err.code === GrpcCode.UNAVAILABLE;
}
