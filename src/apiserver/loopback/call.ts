/**
 * Unary loopback calls: one request and its whole answer handed over as two values, for the
 * components inside the API server's process (and its worker threads). A call goes to the same
 * handler as an HTTP request on a loopback connection (authentication by the loopback token,
 * authorization, admission, validation, metrics), as a {@link CallIncoming} request and a
 * {@link CallOutgoing} response in place of node's IncomingMessage and ServerResponse; only the HTTP
 * framing is skipped: no request line and headers to write and parse, no agent, no socket.
 *
 * Watches and connection upgrades are not calls: they stay on loopback connections (listener.ts).
 *
 * Contract of {@link serveCall}: the answer holds the status, the headers and the body the handler
 * wrote; a handler that destroys its response before ending it (as it resets a connection) rejects
 * the call with an ECONNRESET error, as a client sees a reset connection.
 */

import { EventEmitter } from 'node:events';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CallAnswer, CallRequest } from '../../client/transport.ts';
import { MemorySocketError } from './socket-base.ts';

/**
 * A call's request, as much of an IncomingMessage as the handlers use: its body is read by async
 * iteration (one chunk), and it emits 'close' once the response is done, as node's does. Not a
 * stream: a Readable's machinery would cost more than the rest of a small call.
 */
export class CallIncoming extends EventEmitter {
  readonly method: string;
  readonly url: string;
  /** Header names in lower case, as node gives them. */
  readonly headers: Record<string, string>;
  readonly rawHeaders: string[];
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly trailers: Record<string, string> = {};
  /** Stands in for the connection: the listener knows it as one of its own. */
  readonly socket: CallConnection;
  complete = false;
  aborted = false;
  #body: Uint8Array | undefined;

  constructor(req: CallRequest, socket: CallConnection) {
    super();
    this.method = req.method;
    this.url = req.path;
    this.socket = socket;
    this.#body = req.body;
    const headers: Record<string, string> = {};
    const raw: string[] = [];
    for (const [name, value] of Object.entries(req.headers)) {
      headers[name.toLowerCase()] = value;
      raw.push(name, value);
    }
    if (req.body && headers['content-length'] === undefined) {
      headers['content-length'] = String(req.body.byteLength);
      raw.push('Content-Length', headers['content-length']);
    }
    this.headers = headers;
    this.rawHeaders = raw;
  }

  /** The body, as one Buffer chunk (none when empty); read once. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    const body = this.#body;
    this.#body = undefined;
    this.complete = true;
    if (body && body.byteLength > 0) yield Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }

  /** Discards the unread body (as node's does when a handler refuses it). */
  resume(): this {
    this.#body = undefined;
    this.complete = true;
    return this;
  }

  /** No connection to time out. */
  setTimeout(_ms: number, _cb?: () => void): this {
    return this;
  }
}

type WriteCallback = (err?: Error | null) => void;

/**
 * A call's response, as much of a ServerResponse as the handlers use (headers, writeHead, write,
 * end, destroy; a Readable may be piped into it); it ends in a {@link CallAnswer}. Like
 * {@link CallIncoming}, an EventEmitter rather than a stream: writes are gathered, never refused.
 */
export class CallOutgoing extends EventEmitter {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  writableNeedDrain = false;
  destroyed = false;
  readonly #headers = new Map<string, { name: string; value: string }>();
  readonly #chunks: Buffer[] = [];
  readonly #onDone: (answer: CallAnswer | Error) => void;

  constructor(onDone: (answer: CallAnswer | Error) => void) {
    super();
    this.#onDone = onDone;
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    this.#headers.set(name.toLowerCase(), {
      name,
      value: Array.isArray(value) ? value.join(', ') : String(value),
    });
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.#headers.get(name.toLowerCase())?.value;
  }

  getHeaders(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, { value }] of this.#headers) out[k] = value;
    return out;
  }

  hasHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    this.#headers.delete(name.toLowerCase());
  }

  /** As ServerResponse.writeHead: `(code, headers)` or `(code, reason, headers)`; headers may be an object or a flat array. */
  writeHead(
    code: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders | readonly string[],
    headers?: OutgoingHttpHeaders | readonly string[],
  ): this {
    if (this.headersSent) throw new Error('Cannot write headers after they are sent to the client');
    this.statusCode = code;
    let h = headers;
    if (typeof reasonOrHeaders === 'string') this.statusMessage = reasonOrHeaders;
    else h = reasonOrHeaders;
    if (Array.isArray(h)) {
      for (let i = 0; i + 1 < h.length; i += 2) this.setHeader(String(h[i]), String(h[i + 1]));
    } else if (h) {
      for (const [name, value] of Object.entries(h as OutgoingHttpHeaders)) {
        if (value !== undefined) this.setHeader(name, value);
      }
    }
    this.headersSent = true;
    return this;
  }

  flushHeaders(): void {
    this.headersSent = true;
  }

  /** Gathers `chunk`; always true (nothing waits to drain). After end(), fails as a stream does. */
  write(chunk: string | Uint8Array, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    const callback = typeof encoding === 'function' ? encoding : cb;
    if (this.writableEnded || this.destroyed) {
      const err = new Error('write after end');
      process.nextTick(() => {
        callback?.(err);
        this.emit('error', err);
      });
      return false;
    }
    this.headersSent = true;
    this.#chunks.push(
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
    if (callback) process.nextTick(callback);
    return true;
  }

  /** Ends the answer; 'finish' and 'close' follow on the next tick, as a stream's do. */
  end(
    chunk?: string | Uint8Array | WriteCallback,
    encoding?: BufferEncoding | WriteCallback,
    cb?: WriteCallback,
  ): this {
    if (typeof chunk === 'function') return this.end(undefined, undefined, chunk);
    if (typeof encoding === 'function') return this.end(chunk, undefined, encoding);
    if (this.writableEnded || this.destroyed) return this;
    if (chunk !== undefined && chunk !== null) this.write(chunk, encoding);
    this.writableEnded = true;
    this.headersSent = true;
    process.nextTick(() => {
      if (this.destroyed) return;
      this.writableFinished = true;
      const chunks = this.#chunks;
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      this.#onDone({ status: this.statusCode, headers: this.#answerHeaders(), body });
      cb?.();
      this.emit('finish');
      this.destroyed = true;
      this.emit('close');
    });
    return this;
  }

  /** Abandons the answer: the call fails as a reset connection does (ECONNRESET), unless it had finished. */
  destroy(_err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    if (!this.writableFinished) {
      this.#onDone(new MemorySocketError('ECONNRESET', 'socket hang up: the API server reset the call'));
    }
    process.nextTick(() => this.emit('close'));
    return this;
  }

  cork(): void {}

  uncork(): void {}

  #answerHeaders(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const { name, value } of this.#headers.values()) out[name] = value;
    return out;
  }
}
/**
 * What a call's request has for `req.socket`: one per listener, so the listener knows the calls as its
 * own (the loopback token is their credential); the tuning calls a handler may make do nothing.
 */
export class CallConnection {
  readonly remoteAddress = undefined;
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
}

/**
 * Serves `req` with `handler` (the API server's request handler) as a request on the connection
 * `socket`; resolves with the whole answer (see the module's contract).
 */
export function serveCall(
  req: CallRequest,
  socket: CallConnection,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<CallAnswer> {
  return new Promise<CallAnswer>((resolve, reject) => {
    const incoming = new CallIncoming(req, socket);
    let settled = false;
    const outgoing = new CallOutgoing((a) => {
      if (settled) return;
      settled = true;
      if (a instanceof Error) reject(a);
      else resolve(a);
      // As node's request: 'close' once its response is done (or the connection gone).
      process.nextTick(() => incoming.emit('close'));
    });
    // The handlers use only the members these classes have (see CallIncoming, CallOutgoing).
    handler(incoming as unknown as IncomingMessage, outgoing as unknown as ServerResponse);
  });
}
