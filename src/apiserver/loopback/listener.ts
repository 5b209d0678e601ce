/**
 * The API server's loopback listener: a plain-HTTP `http.Server` that listens on nothing. Its only
 * connections are the in-memory ones {@link LoopbackListener.dial} makes for callers in this process,
 * so it has no address, no port and no file that another process could reach. Requests on it go to
 * the same handler as the HTTPS port's; only the transport (and so the credential) differ.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { CallAnswer, CallRequest } from '../../client/transport.ts';
import { http } from '../../util/node-http.ts';
import { CallConnection, serveCall } from './call.ts';
import { MemorySocket } from './socket.ts';

/** dial() on a listener that is not open (before the API server listens, or after it closed). */
export class LoopbackClosedError extends Error {
  readonly code = 'ECONNREFUSED';
  constructor() {
    super('connect ECONNREFUSED: the API server is not serving (loopback)');
    this.name = 'LoopbackClosedError';
  }
}

export interface LoopbackListenerOptions {
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** How long an idle keep-alive connection stays open, ms (default 65 s, as the HTTPS port). */
  keepAliveTimeoutMs?: number;
}

export class LoopbackListener {
  readonly #server: Server;
  /** Server ends of every connection this listener made: what {@link owns} answers from. */
  readonly #ours = new WeakSet<object>();
  /** Server ends still open, to tear down on close(). */
  readonly #open = new Set<Duplex>();
  /** What every call's `req.socket` is. */
  readonly #calls = new CallConnection();
  readonly #onRequest: LoopbackListenerOptions['onRequest'];
  #serving = false;

  constructor(opts: LoopbackListenerOptions) {
    this.#onRequest = opts.onRequest;
    this.#ours.add(this.#calls);
    this.#server = http.createServer({ requestTimeout: 0 }, opts.onRequest);
    this.#server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;
    this.#server.on('upgrade', opts.onUpgrade);
  }

  /** Starts accepting dial()s. */
  open(): void {
    this.#serving = true;
  }

  /**
   * A new connection to the API server: the client end of an in-memory HTTP/1.1 connection whose
   * server end is served by the API server's handler. Throws {@link LoopbackClosedError} unless open.
   */
  dial(): Duplex {
    if (!this.#serving) throw new LoopbackClosedError();
    const [client, server] = MemorySocket.pair();
    this.#serve(server);
    return client;
  }

  /**
   * Serves a connection whose client end lives in another thread of this process (the server end of
   * a PortSocket pair, see thread.ts). Throws {@link LoopbackClosedError} unless open.
   */
  accept(serverEnd: Duplex): void {
    if (!this.#serving) throw new LoopbackClosedError();
    this.#serve(serverEnd);
  }

  /**
   * Serves one unary request without HTTP framing (call.ts), by the same handler as the connections'
   * requests; resolves with its whole answer. Rejects with {@link LoopbackClosedError} unless open.
   * The handler starts on the next turn of the event loop, as a request written on a connection
   * reaches it: a component calling in a loop takes turns with network clients and timers.
   */
  async call(req: CallRequest): Promise<CallAnswer> {
    if (!this.#serving) throw new LoopbackClosedError();
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!this.#serving) throw new LoopbackClosedError();
    return serveCall(req, this.#calls, this.#onRequest);
  }

  #serve(server: Duplex): void {
    this.#ours.add(server);
    this.#open.add(server);
    server.once('close', () => this.#open.delete(server));
    this.#server.emit('connection', server);
  }

  /** Whether `socket` (a request's `req.socket`) is the server end of one of this listener's connections. */
  owns(socket: object): boolean {
    return this.#ours.has(socket);
  }

  /** Number of open connections. */
  get connections(): number {
    return this.#open.size;
  }

  /** Stops accepting dial()s and tears down every open connection (their requests and watches end). */
  close(): void {
    this.#serving = false;
    for (const s of this.#open) s.destroy();
    this.#open.clear();
  }
}
