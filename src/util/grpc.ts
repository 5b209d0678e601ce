/**
 * A gRPC client for unary calls over HTTP/2 (node:http2): the part of gRPC a kubelet speaks — CRI
 * on a unix socket, grpc.health.v1 probes over TCP. Bodies are raw protobuf bytes; encoding them is
 * the caller's business.
 *
 * Why not @grpc/grpc-js: for unary calls its channel, interceptor, filter and retry layers cost more
 * CPU than the HTTP/2 underneath (~40% of the kubelet's JavaScript time in a 30-pod burst) and ~2 MB
 * of an agent's memory. The protocol itself is small (PROTOCOL-HTTP2.md in grpc/grpc):
 *
 *   request:  HEADERS :method POST, :path /pkg.Service/Method, content-type application/grpc,
 *             te trailers, grpc-timeout; DATA one length-prefixed message; END_STREAM
 *   response: HEADERS :status 200; DATA one length-prefixed message; trailers grpc-status,
 *             grpc-message — or a single HEADERS frame carrying the status (Trailers-Only)
 *
 * Contract of {@link GrpcChannel}:
 *  - One HTTP/2 session, opened by the first call and again after it ends (peer gone, GOAWAY).
 *    Calls never wait for a connection that failed: they reject with UNAVAILABLE at once, as
 *    grpc-js does for calls without waitForReady.
 *  - Every call has a deadline unless `deadlineMs` is 0: the server is told (grpc-timeout) and the
 *    stream is cancelled locally when it passes (DEADLINE_EXCEEDED).
 *  - An aborted `signal` cancels the stream (RST_STREAM CANCEL) and rejects with `signal.reason`.
 *  - Failures reject with {@link GrpcError}: the server's status and message, or the code gRPC gives
 *    a transport failure (UNAVAILABLE for a connection that fails or drops, HTTP statuses mapped as
 *    gRPC maps them, RESOURCE_EXHAUSTED for a message over `maxMessageBytes`, INTERNAL for a frame
 *    that is not gRPC).
 *  - An idle channel does not keep the process alive; close() ends the session and fails every
 *    later call.
 */
import http2 from 'node:http2';
import net from 'node:net';

/** gRPC status codes used here (google.rpc.Code). */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** Go's names of the codes, for messages as grpc-go prints them. */
const CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/**
 * A failed call: the gRPC status code and its message (`details`, as grpc-js names it). The error's
 * message reads as grpc-go's: `rpc error: code = NotFound desc = …`.
 */
export class GrpcError extends Error {
  override name = 'GrpcError';
  readonly code: number;
  readonly details: string;

  constructor(code: number, details: string, options?: { cause?: unknown }) {
    super(`rpc error: code = ${CODE_NAMES[code] ?? `Code(${code})`} desc = ${details}`, options);
    this.code = code;
    this.details = details;
  }
}

export interface GrpcChannelOptions {
  /** Largest message sent or received, bytes (default 4 MiB, gRPC's default receive limit). */
  maxMessageBytes?: number;
}

export interface UnaryCallOptions {
  /** Time allowed for the whole call, ms; 0 means none. */
  deadlineMs: number;
  signal?: AbortSignal;
}

/** Where a channel connects: a unix socket path, or a TCP host and port. */
export type GrpcTarget = { socketPath: string } | { host: string; port: number };

const DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024;
/** A session is replaced before its client stream IDs (odd, 31 bits) run out. */
const MAX_STREAMS_PER_SESSION = 2 ** 30 - 1;

/** HTTP status → gRPC code, when a response is not gRPC (grpc/doc/http-grpc-status-mapping.md). */
function httpStatusCode(status: number): number {
  switch (status) {
    case 400:
      return Status.INTERNAL;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Status.UNAVAILABLE;
    default:
      return Status.UNKNOWN;
  }
}

/** The grpc-timeout header for `ms`: at most 8 digits, in milliseconds or, beyond, in seconds. */
export function grpcTimeout(ms: number): string {
  const m = Math.max(1, Math.ceil(ms));
  if (m < 1e8) return `${m}m`;
  return `${Math.min(99_999_999, Math.ceil(m / 1000))}S`;
}

/** grpc-message is percent-encoded; a malformed one is returned as it came. */
function decodeMessage(raw: unknown): string {
  if (typeof raw !== 'string') return '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** `buf` framed as one uncompressed gRPC message. */
function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = 0;
  out.writeUInt32BE(body.length, 1);
  out.set(body, 5);
  return out;
}

export class GrpcChannel {
  readonly #target: GrpcTarget;
  readonly #authority: string;
  readonly #max: number;
  #conn: Connection | undefined;
  #closed = false;

  constructor(target: GrpcTarget, opts: GrpcChannelOptions = {}) {
    this.#target = target;
    this.#max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE;
    if ('socketPath' in target) this.#authority = 'localhost';
    else
      this.#authority = target.host.includes(':')
        ? `[${target.host}]:${target.port}`
        : `${target.host}:${target.port}`;
  }

  /** A human-readable address, for messages. */
  get address(): string {
    return 'socketPath' in this.#target ? `unix://${this.#target.socketPath}` : this.#authority;
  }

  /**
   * Calls `path` (`/package.Service/Method`) with one request message; resolves with the response
   * message's bytes.
   */
  unary(path: string, request: Uint8Array, opts: UnaryCallOptions): Promise<Buffer> {
    const { signal, deadlineMs } = opts;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.#closed) return Promise.reject(new GrpcError(Status.FAILED_PRECONDITION, 'channel closed'));
    if (request.length > this.#max) {
      return Promise.reject(
        new GrpcError(
          Status.RESOURCE_EXHAUSTED,
          `request message of ${request.length} bytes is over the limit of ${this.#max}`,
        ),
      );
    }
    return new Promise<Buffer>((resolve, reject) => {
      const headers: http2.OutgoingHttpHeaders = {
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
      };
      if (deadlineMs > 0) headers['grpc-timeout'] = grpcTimeout(deadlineMs);
      let stream: http2.ClientHttp2Stream;
      const conn = this.#connection();
      try {
        stream = conn.session.request(headers);
      } catch (err) {
        reject(new GrpcError(Status.UNAVAILABLE, messageOf(err), { cause: err }));
        return;
      }
      conn.begin();
      const chunks: Buffer[] = [];
      let received = 0;
      let httpStatus = 0;
      let status: number | undefined;
      let message = '';
      let failure: unknown;
      let timer: NodeJS.Timeout | undefined;
      const fail = (err: unknown) => {
        if (failure === undefined) failure = err;
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      };
      const onAbort = () => fail(abortReason(signal));
      if (deadlineMs > 0) {
        timer = setTimeout(
          () => fail(new GrpcError(Status.DEADLINE_EXCEEDED, 'Deadline exceeded')),
          deadlineMs,
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const readStatus = (h: http2.IncomingHttpHeaders) => {
        const s = h['grpc-status'];
        if (s === undefined) return;
        status = Number(s);
        message = decodeMessage(h['grpc-message']);
      };
      stream.on('response', (h) => {
        httpStatus = Number(h[':status']);
        readStatus(h); // Trailers-Only
      });
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > this.#max + 5) {
          fail(
            new GrpcError(
              Status.RESOURCE_EXHAUSTED,
              `response message is over the limit of ${this.#max} bytes`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      stream.on('trailers', readStatus);
      stream.on('error', (err) => {
        fail(new GrpcError(Status.UNAVAILABLE, `${this.address}: ${messageOf(err)}`, { cause: err }));
      });
      stream.on('close', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        conn.end();
        if (failure !== undefined) return reject(failure);
        const settled = this.#settle(httpStatus, status, message, chunks, received, stream.rstCode);
        if (settled instanceof GrpcError) reject(settled);
        else resolve(settled);
      });
      stream.end(frame(request));
    });
  }

  /** Ends the session; calls in flight fail with UNAVAILABLE, later ones with FAILED_PRECONDITION. */
  close(): void {
    this.#closed = true;
    const c = this.#conn;
    this.#conn = undefined;
    c?.session.destroy();
  }

  /** The outcome of a stream that closed without a local failure. */
  #settle(
    httpStatus: number,
    status: number | undefined,
    message: string,
    chunks: Buffer[],
    received: number,
    rstCode: number | undefined,
  ): Buffer | GrpcError {
    if (status === undefined) {
      if (httpStatus !== 0 && httpStatus !== 200) {
        return new GrpcError(httpStatusCode(httpStatus), `received HTTP status ${httpStatus}`);
      }
      if (rstCode !== undefined && rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
        const code =
          rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ? Status.UNAVAILABLE : Status.INTERNAL;
        return new GrpcError(code, `stream closed with HTTP/2 error code ${rstCode}`);
      }
      return new GrpcError(Status.UNKNOWN, 'no status received');
    }
    if (status !== Status.OK) return new GrpcError(status, message);
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
    if (body.length < 5) return new GrpcError(Status.INTERNAL, 'response carries no message');
    if (body[0] !== 0) return new GrpcError(Status.INTERNAL, 'compressed response, none was asked for');
    const length = body.readUInt32BE(1);
    if (length !== body.length - 5) {
      return new GrpcError(
        Status.INTERNAL,
        `response framing: ${length} bytes announced, ${body.length - 5} sent`,
      );
    }
    return body.subarray(5);
  }

  /** The open connection, or a new one. */
  #connection(): Connection {
    const c = this.#conn;
    if (c && !c.session.closed && !c.session.destroyed && c.streams < MAX_STREAMS_PER_SESSION) {
      c.streams++;
      return c;
    }
    if (c && !c.session.closed && !c.session.destroyed) c.session.close(); // its streams finish
    const target = this.#target;
    const session = http2.connect(`http://${this.#authority}`, {
      createConnection: () =>
        'socketPath' in target ? net.connect(target.socketPath) : net.connect(target.port, target.host),
      settings: { enablePush: false },
    });
    const conn = new Connection(session);
    // Errors reach the streams; the session's own are only caught so they never go unhandled.
    session.on('error', () => {});
    const forget = () => {
      if (this.#conn === conn) this.#conn = undefined;
    };
    session.on('goaway', forget);
    session.on('close', forget);
    this.#conn = conn;
    conn.streams++;
    return conn;
  }
}

/** One HTTP/2 session and its streams: referenced (keeps the process alive) only while calls run. */
class Connection {
  readonly session: http2.ClientHttp2Session;
  /** Streams opened on it. */
  streams = 0;
  #active = 0;

  constructor(session: http2.ClientHttp2Session) {
    this.session = session;
    session.unref();
  }

  begin(): void {
    if (this.#active++ === 0) this.session.ref();
  }

  end(): void {
    if (--this.#active === 0 && !this.session.destroyed) this.session.unref();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
