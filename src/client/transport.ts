/**
 * How a client's requests reach the API server: HTTPS to a URL with the kubeconfig's TLS credentials
 * (every external client, and standalone components such as `skiff scheduler --kubeconfig`), or the
 * API server's loopback connections inside its own process (kube-apiserver's LoopbackClientConfig:
 * plain HTTP/1.1 over in-memory streams, authenticated by the process's loopback token).
 *
 * Both are node `http`/`https` requests through a keep-alive Agent, so the REST client, discovery and
 * watches speak the same HTTP on either; only the connections and the credential differ.
 */
import type { ClientRequest, Agent as HttpAgent, IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import type { ClientConfig } from '../apiserver/auth/kubeconfig.ts';
import { http } from '../util/node-http.ts';

/** Where and how to connect over HTTPS: a kubeconfig's {@link ClientConfig}, or just the parts that matter. */
export type ConnectionConfig = Pick<ClientConfig, 'server'> & Partial<Omit<ClientConfig, 'server'>>;

/**
 * A connection to the API server inside this process (what `ApiServer.loopbackClientConfig()`
 * returns). Only code in the API server's process can hold one; it carries no address.
 */
export interface LoopbackConnection {
  /** Opens a new in-memory HTTP/1.1 connection to the API server; throws when it no longer serves. */
  dial(): Duplex;
  /** The Authorization header value for every request on those connections (the loopback token). */
  authorization(): string;
  /**
   * When present: serves one unary request (anything but a watch or an upgrade) without HTTP framing,
   * through the same handler as a request on a dialed connection (see apiserver/loopback/call.ts).
   * Resolves with the whole answer, whatever its status; rejects only when the request could not be
   * served (the server is not serving, or it reset the call).
   */
  call?(req: CallRequest): Promise<CallAnswer>;
}

/** A unary loopback call's request: the request line's method and path (with query), headers, body. */
export interface CallRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/** A unary loopback call's answer: status code, headers (by the names the handler wrote) and body. */
export interface CallAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** What a client can be built on: an HTTPS {@link ConnectionConfig} or a {@link LoopbackConnection}. */
export type ClientConnection = ConnectionConfig | LoopbackConnection;

/** One request, as the transport needs it (the path includes the query string). */
export interface TransportRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

export interface Transport {
  /** Where requests go, for error messages: the server URL (origin and path prefix), or `loopback://apiserver`. */
  readonly origin: string;
  /** Headers every request carries (Authorization, for a bearer credential). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Starts a request; `path` is the API path (the transport adds a server URL's path prefix).
   * Errors are emitted on the returned ClientRequest, as node's `request` does.
   */
  request(req: TransportRequest, onResponse: (res: IncomingMessage) => void): ClientRequest;
  /**
   * When present: a unary request without HTTP framing ({@link LoopbackConnection.call}). As with
   * {@link request}, the caller sends the transport's {@link headers}. Callers use it for every
   * request but watches.
   */
  readonly call?: (req: CallRequest) => Promise<CallAnswer>;
  /** Closes idle connections and stops reusing sockets; requests in flight end on their own. */
  close(): void;
}

/** Whether `c` is an in-process connection rather than an HTTPS config. */
export function isLoopback(c: ClientConnection): c is LoopbackConnection {
  return typeof (c as Partial<LoopbackConnection>).dial === 'function';
}

/** The transport for `c`. HTTPS configs must have an https:// server URL. */
export function transportFor(c: ClientConnection): Transport {
  return isLoopback(c) ? new LoopbackTransport(c) : new HttpsTransport(c);
}

/** HTTPS with the config's CA, client certificate and bearer token; keep-alive connections. */
export class HttpsTransport implements Transport {
  readonly origin: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #url: URL;
  readonly #agent: HttpsAgent;
  readonly #base: string;

  constructor(config: ConnectionConfig) {
    this.#url = new URL(config.server);
    if (this.#url.protocol !== 'https:') {
      throw new Error(`skiff's client speaks HTTPS only; server is ${config.server}`);
    }
    this.#base = this.#url.pathname.replace(/\/+$/, '');
    this.origin = `${this.#url.origin}${this.#base}`;
    this.#agent = new HttpsAgent({
      keepAlive: true,
      ca: config.ca,
      cert: config.cert,
      key: config.key,
      rejectUnauthorized: !config.insecureSkipTlsVerify,
      servername: config.tlsServerName,
    });
    const headers: Record<string, string> = {};
    if (config.token) headers.Authorization = `Bearer ${config.token}`;
    this.#headers = Object.freeze(headers);
  }

  get headers(): Readonly<Record<string, string>> {
    return this.#headers;
  }

  request(req: TransportRequest, onResponse: (res: IncomingMessage) => void): ClientRequest {
    return httpsRequest(
      {
        agent: this.#agent,
        protocol: 'https:',
        hostname: this.#url.hostname.replace(/^\[|\]$/g, ''),
        port: this.#url.port || 443,
        method: req.method,
        path: `${this.#base}${req.path}`,
        headers: req.headers,
        signal: req.signal,
      },
      onResponse,
    );
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** The loopback host name requests carry in their Host header (never resolved). */
const LOOPBACK_HOST = 'loopback.apiserver.invalid';

/** Plain HTTP over the API server's in-memory connections, with the loopback token. */
export class LoopbackTransport implements Transport {
  readonly origin = 'loopback://apiserver';
  readonly #agent: HttpAgent;
  readonly #headers: Readonly<Record<string, string>>;
  readonly call?: (req: CallRequest) => Promise<CallAnswer>;

  constructor(connection: LoopbackConnection) {
    this.#agent = new LoopbackAgent(connection);
    this.#headers = Object.freeze({ Authorization: connection.authorization() });
    if (connection.call) this.call = connection.call.bind(connection);
  }

  /** A getter over a private field, so the token is in no enumerable property (logs, JSON). */
  get headers(): Readonly<Record<string, string>> {
    return this.#headers;
  }

  request(req: TransportRequest, onResponse: (res: IncomingMessage) => void): ClientRequest {
    return http.request(
      {
        agent: this.#agent,
        host: LOOPBACK_HOST,
        method: req.method,
        path: req.path,
        headers: req.headers,
        signal: req.signal,
      },
      onResponse,
    );
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** A keep-alive agent whose connections come from the API server's dial(). */
class LoopbackAgent extends http.Agent {
  readonly #connection: LoopbackConnection;

  constructor(connection: LoopbackConnection) {
    super({ keepAlive: true });
    this.#connection = connection;
  }

  override createConnection(
    _options: unknown,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    try {
      return this.#connection.dial();
    } catch (err) {
      // Reported as the request's 'error', like a refused TCP connection.
      callback?.(err as Error, undefined as never);
      return undefined;
    }
  }
}
