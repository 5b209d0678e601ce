/**
 * The API server: HTTPS, authentication, and dispatch to discovery, health, OpenAPI and the
 * resource handlers. Every error a client sees is a metav1.Status.
 *
 * Besides the HTTPS port it serves a loopback listener for the components in its own process
 * ({@link ApiServer.loopbackClientConfig}): in-memory HTTP connections, no TLS, authenticated by a
 * per-process token; the same handlers answer both.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ApiError } from '../api/errors.ts';
import type { CallAnswer, CallRequest } from '../client/transport.ts';
import { instrumentStore } from '../storage/instrumented.ts';
import type { Store } from '../storage/store.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import { type Logger, silentLogger } from '../util/log.ts';
import { http } from '../util/node-http.ts';
import type { AdmissionPlugin } from './admission.ts';
import { LoopbackToken } from './auth/loopback.ts';
import { verifyClientCert } from './auth/pki.ts';
import type { ServiceAccountTokens } from './auth/serviceaccount/index.ts';
import { Catalog } from './catalog.ts';
import { CrdManager } from './crd/manager.ts';
import { compileSchema } from './crd/schema/index.ts';
import { type KubeletClientConfig, proxyUpgrade, resolveKubeletTarget } from './http/connect.ts';
import {
  AGGREGATED_CONTENT_TYPE,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  subresourcesOf,
  wantsAggregated,
} from './http/discovery.ts';
import { type HandlerDeps, handleResource, type Patcher } from './http/handlers.ts';
import { parseRequestInfo, type RequestInfo } from './http/requestinfo.ts';
import { send, sendError } from './http/respond.ts';
import { handleTokenRequest, registryObjectGetter } from './http/tokenrequest.ts';
import { LoopbackListener } from './loopback/listener.ts';
import { ApiMetrics } from './metrics.ts';
import { OpenApiService } from './openapi/index.ts';
import { Registry } from './registry/registry.ts';
import { builtinResources } from './resources/builtin.ts';
import { serviceAccountAdmission as serviceAccountAdmissionHooks } from './resources/core/serviceaccount-admission.ts';
import { ServiceAllocator } from './services/allocator.ts';
import { serviceHooks } from './services/hooks.ts';
import { crdPrinter } from './table/printers/index.ts';
import { defaultPrinter, type Printer } from './table/table.ts';
import { WatchCaches } from './watchcache/index.ts';

/** Who made a request. */
export interface UserInfo {
  name: string;
  groups: string[];
}

/**
 * How a component in the API server's own process reaches it without TLS or TCP (kube-apiserver's
 * LoopbackClientConfig): src/client's `LoopbackConnection`. Holds the loopback token in closures
 * only; serialises to `{"loopback":true}`.
 */
export interface LoopbackClientConfig {
  /** A new in-memory HTTP/1.1 connection to this API server (throws once it has closed). */
  dial(): Duplex;
  /** The Authorization header value that authenticates requests on those connections. */
  authorization(): string;
  /**
   * Serves a connection whose client end lives in a worker thread of this process (loopback/thread.ts);
   * throws once the server has closed.
   */
  accept(serverEnd: Duplex): void;
  /** Serves one unary request without HTTP framing (loopback/call.ts); see LoopbackConnection.call. */
  call(req: CallRequest): Promise<CallAnswer>;
}

/** Finds the user of a request from its bearer token (client certificates are checked before). */
export type TokenAuthenticator = (token: string) => Promise<UserInfo | null>;

export interface ApiServerOptions {
  store: Store;
  tls: { cert: string; key: string; ca: string };
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. Default 6443. */
  port?: number;
  clock?: Clock;
  logger?: Logger;
  tokens?: TokenAuthenticator;
  /**
   * Service account tokens (auth/serviceaccount): serves serviceaccounts/token, accepts the tokens
   * as bearer tokens (after `tokens`), and turns on the ServiceAccount admission plugin for pods
   * (unless `disabledAdmissionPlugins` has it).
   */
  serviceAccounts?: ServiceAccountTokens;
  patch: Patcher;
  printers?: Map<string, Printer>;
  validateMeta: ConstructorParameters<typeof Registry>[0]['validateMeta'];
  /** Admission plugins turned off (--disable-admission-plugins); none by default. */
  disabledAdmissionPlugins?: ReadonlySet<AdmissionPlugin>;
  /** How often idle watches get a bookmark, in ms. Default 60 s, as Kubernetes. */
  bookmarkIntervalMs?: number;
  version?: { major: string; minor: string; gitVersion: string };
  /** Service cluster IP range. Default 10.43.0.0/16 (k3s's). */
  serviceCidr?: string;
  /** How long Events live, in seconds. Default 3600. */
  eventTtlSeconds?: number;
  /** Seconds of the not-ready / unreachable tolerations every pod gets (default 300 each). */
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
  /** Client certificate for reaching kubelets, and the CA their serving certificates chain to. */
  kubeletClient?: KubeletClientConfig;
  /**
   * Non-Kubernetes paths served without authentication, e.g. the node join endpoints
   * (auth/join.ts). A handler authenticates the request itself if it must, and throws ApiError.
   */
  publicHandlers?: Map<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
}

export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';

/** What /version reports: the Kubernetes release whose API skiff serves. */
export const KUBERNETES_VERSION = { major: '1', minor: '35', gitVersion: 'v1.35.0-skiff' };

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

export class ApiServer {
  readonly catalog = new Catalog();
  readonly registry: Registry;
  readonly allocator: ServiceAllocator;
  readonly metrics: ApiMetrics;
  readonly caches: WatchCaches;
  readonly openapi: OpenApiService;
  readonly #crds: CrdManager;
  readonly #stop = new AbortController();
  #unsubscribeCatalog: (() => void) | null = null;
  readonly #certUsers = new WeakMap<object, UserInfo | null>();
  readonly #opts: ApiServerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #deps: HandlerDeps;
  readonly #tokens: TokenAuthenticator | undefined;
  #server: Server | null = null;
  readonly #loopback: LoopbackListener;
  readonly #loopbackToken = new LoopbackToken();
  #ready = false;
  readonly #sockets = new Set<import('node:net').Socket>();

  constructor(opts: ApiServerOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? systemClock;
    this.metrics = new ApiMetrics(opts.store);
    const store = instrumentStore(opts.store, (op, seconds) =>
      this.metrics.storeLatency.observe({ operation: op }, seconds),
    );
    this.caches = new WatchCaches(store, this.#log);
    this.openapi = new OpenApiService(() =>
      this.catalog.all().map((def) => ({
        group: def.group,
        version: def.version,
        resource: def.resource,
        kind: def.kind,
        namespaced: def.namespaced,
        subresources: subresourcesOf(def).map((s) => s.name),
        verbs: def.verbs,
        listKind: def.listKind,
        custom: def.custom,
        schema: def.schema,
      })),
    );
    const objects = registryObjectGetter(() => this.registry, this.catalog);
    // Admission looks the pod's service account up on every create: from the watch cache when current.
    const saLookup = async (ns: string, name: string) => {
      const def = this.catalog.get('', 'v1', 'serviceaccounts');
      if (!def) return null;
      try {
        return await this.registry.getCurrent(def, ns, name);
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) return null;
        throw err;
      }
    };
    this.allocator = new ServiceAllocator(store, opts.serviceCidr ?? DEFAULT_SERVICE_CIDR);
    const disabled = opts.disabledAdmissionPlugins ?? new Set<AdmissionPlugin>();
    const serviceAccountAdmission = opts.serviceAccounts !== undefined && !disabled.has('ServiceAccount');
    this.registry = new Registry({
      store,
      clock: this.#clock,
      validateMeta: opts.validateMeta,
      logger: this.#log,
      caches: this.caches,
      hooks: new Map([
        ['/services', serviceHooks(this.allocator)],
        ...(serviceAccountAdmission ? [['/pods', serviceAccountAdmissionHooks(saLookup)] as const] : []),
      ]),
    });
    const sa = opts.serviceAccounts;
    const saAuth = sa?.authenticator(
      objects,
      () => this.#clock.now(),
      (reason) => this.#log.debug({ reason }, 'service account token rejected'),
    );
    this.#tokens =
      opts.tokens && saAuth ? async (t) => (await opts.tokens!(t)) ?? saAuth(t) : (opts.tokens ?? saAuth);
    const builtins = builtinResources({
      eventTtlSeconds: opts.eventTtlSeconds,
      defaultNotReadyTolerationSeconds: opts.defaultNotReadyTolerationSeconds,
      defaultUnreachableTolerationSeconds: opts.defaultUnreachableTolerationSeconds,
      serviceAccountAdmission,
      defaultTolerationSeconds: !disabled.has('DefaultTolerationSeconds'),
    });
    for (const def of builtins) this.catalog.add(def);
    this.#crds = new CrdManager({
      registry: this.registry,
      catalog: this.catalog,
      tools: { compile: (schema) => compileSchema(schema), printer: (columns) => crdPrinter(columns) },
      log: this.#log,
      now: () => this.#clock.now(),
      onRemoved: (group, resource) => this.caches.drop(group, resource),
    });
    this.#loopback = new LoopbackListener({
      onRequest: (req, res) => {
        this.#serve(req, res);
      },
      onUpgrade: (req, socket, head) => {
        this.#serveUpgrade(req, socket, head);
      },
    });
    const printers = opts.printers ?? new Map();
    this.#deps = {
      catalog: this.catalog,
      registry: this.registry,
      clock: this.#clock,
      log: this.#log,
      printerFor: (def) => def.printer ?? printers.get(`${def.group}/${def.resource}`) ?? defaultPrinter,
      patch: opts.patch,
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
      caches: this.caches,
      kubeletClient: opts.kubeletClient,
      onWatch: (def, delta) =>
        this.metrics.watches.inc({ group: def.group, version: def.version, resource: def.resource }, delta),
    };
  }

  /** Starts listening. Resolves with the bound port. */
  async listen(): Promise<number> {
    const server = createServer(
      {
        cert: this.#opts.tls.cert,
        key: this.#opts.tls.key,
        ca: this.#opts.tls.ca,
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      (req, res) => {
        this.#serve(req, res);
      },
    );
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.requestTimeout = 0; // watches are long-lived; handlers set their own limits
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#serveUpgrade(req, socket, head);
    });
    server.on('tlsClientError', (err) => this.#log.debug({ err: err.message }, 'TLS handshake failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port ?? 6443, this.#opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    // Serve the custom resources of the CRDs already stored before answering for them.
    await this.#crds.start(this.#stop.signal);
    // Start every resource's watch cache now, as kube-apiserver does, so a watch from a
    // resourceVersion read before its first watch still finds the events after it.
    for (const def of this.catalog.all()) this.caches.for(def);
    this.#unsubscribeCatalog = this.catalog.onChange(() => {
      for (const def of this.catalog.all()) this.caches.for(def);
    });
    this.#loopback.open();
    return (server.address() as AddressInfo).port;
  }

  /**
   * The client configuration of this process's own components: connections that never leave the
   * process (see loopback/listener.ts) and the loopback token, which authenticates as
   * `system:apiserver` in `system:masters` and is accepted on those connections only (the HTTPS port
   * refuses it). Requests go through the same authentication, admission, validation and watch code
   * as HTTPS ones. Dialing works from listen() until close().
   */
  loopbackClientConfig(): LoopbackClientConfig {
    const listener = this.#loopback;
    const token = this.#loopbackToken;
    return Object.freeze({
      dial: () => listener.dial(),
      authorization: () => token.authorization(),
      accept: (serverEnd: Duplex) => listener.accept(serverEnd),
      call: (req: CallRequest) => listener.call(req),
      toJSON: () => ({ loopback: true }),
    });
  }

  /** Marks the server ready (readyz turns 200) once the caller finished bootstrapping. */
  setReady(ready: boolean): void {
    this.#ready = ready;
  }

  /** Stops accepting connections, ends open watches and waits for the server to close. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#unsubscribeCatalog?.();
    this.caches.stop();
    this.#loopback.close();
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  async #authenticate(req: IncomingMessage): Promise<UserInfo | null> {
    // An in-process connection: the loopback token is its one credential.
    if (this.#loopback.owns(req.socket)) return this.#loopbackToken.authenticate(req.headers.authorization);
    // A TLS connection's client certificate does not change: check it once per connection.
    const socket = req.socket as TLSSocket;
    let cert = this.#certUsers.get(socket);
    if (cert === undefined) {
      const id = verifyClientCert(socket);
      cert = id ? { name: id.user, groups: id.groups } : null;
      this.#certUsers.set(socket, cert);
    }
    if (cert) return cert;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && this.#tokens) {
      return this.#tokens(auth.slice('Bearer '.length).trim());
    }
    return null;
  }

  /**
   * Handles a request; whatever escapes the handler (a bug) is logged and answered with a 500, or the
   * connection reset when the answer had started, as Kubernetes' panic recovery filter does: one bad
   * request never stops the server.
   */
  #serve(req: IncomingMessage, res: ServerResponse): void {
    this.#handle(req, res).catch((err: unknown) => {
      try {
        this.#log.error({ err, method: req.method, url: req.url }, 'request handler failed');
      } catch {
        // Not even logged: still answered below.
      }
      try {
        if (res.headersSent) res.destroy();
        else sendError(res, ApiError.internal('the request handler failed; see the server log'));
      } catch {
        res.destroy();
      }
    });
  }

  /** Handles an upgrade; as {@link #serve}, a failure that escapes is logged and the connection closed. */
  #serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#upgrade(req, socket, head).catch((err: unknown) => {
      try {
        this.#log.error({ err, method: req.method, url: req.url }, 'upgrade handler failed');
      } finally {
        socket.destroy();
      }
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://localhost');
    } catch {
      sendError(res, ApiError.badRequest('malformed request URL'));
      return;
    }
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    let info: RequestInfo;
    try {
      info = requestInfoOf(req.method ?? 'GET', path, url.searchParams);
    } catch (err) {
      sendError(res, err);
      return;
    }
    let code = 200;
    try {
      const extra = this.#opts.publicHandlers?.get(path);
      if (extra) {
        await extra(req, res);
        return;
      }
      if (
        PUBLIC_PATHS.has(path) ||
        path.startsWith('/healthz/') ||
        path.startsWith('/livez/') ||
        path.startsWith('/readyz/')
      ) {
        this.#public(path, url, res);
        return;
      }
      const user = await this.#authenticate(req);
      if (!user) throw ApiError.unauthorized();
      await this.#dispatch(req, res, path, url, info, user);
    } catch (err) {
      code = sendError(res, err).code;
      if (code >= 500) this.#log.error({ err, method: req.method, path }, 'request failed');
    } finally {
      const ms = performance.now() - started;
      this.#observe(info, code === 200 ? res.statusCode : code, ms);
      this.#log.debug({ method: req.method, path, code, ms: Math.round(ms) }, 'request');
    }
  }

  /** exec, attach and portforward: connection upgrades relayed to the pod's kubelet. */
  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refuse = (err: unknown) => {
      const api =
        err instanceof ApiError ? err : ApiError.internal((err as Error)?.message ?? String(err), err);
      const body = JSON.stringify(api.toStatus());
      socket.end(
        `HTTP/1.1 ${api.code} ${http.STATUS_CODES[api.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    try {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const user = await this.#authenticate(req);
      if (!user) throw ApiError.unauthorized();
      const info = requestInfoOf(req.method ?? 'GET', url.pathname, url.searchParams);
      if (
        info.kind !== 'resource' ||
        info.group !== '' ||
        info.resource !== 'pods' ||
        !['exec', 'attach', 'portforward'].includes(info.subresource)
      ) {
        throw ApiError.noResource();
      }
      const pods = this.catalog.get('', 'v1', 'pods')!;
      const nodes = this.catalog.get('', 'v1', 'nodes')!;
      const target = await resolveKubeletTarget(
        this.registry,
        pods,
        nodes,
        info.namespace,
        info.name,
        info.subresource,
        url.searchParams,
      );
      if (!this.#opts.kubeletClient)
        throw ApiError.unavailable('this API server has no kubelet client credentials');
      proxyUpgrade(target, this.#opts.kubeletClient, req, socket, head);
    } catch (err) {
      refuse(err);
    }
  }

  #public(path: string, url: URL, res: ServerResponse): void {
    if (path === '/version') {
      const v = this.#opts.version ?? KUBERNETES_VERSION;
      send(res, 200, {
        ...v,
        gitCommit: '',
        gitTreeState: 'clean',
        buildDate: '2026-11-25T00:00:00Z',
        goVersion: `node${process.versions.node}`,
        compiler: 'skiff',
        platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
      });
      return;
    }
    const [base = ''] = path.split('/').filter(Boolean);
    const checks: [string, boolean][] = [
      ['ping', true],
      ['etcd', true],
    ];
    if (base === 'readyz') checks.push(['ready', this.#ready]);
    const ok = checks.every(([, passed]) => passed);
    const verbose = url.searchParams.has('verbose');
    const sub = path.split('/').filter(Boolean)[1];
    if (sub) {
      const check = checks.find(([name]) => name === sub);
      if (!check) throw ApiError.noResource();
      res.writeHead(check[1] ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(check[1] ? 'ok' : `[-]${sub} failed: reason withheld`);
      return;
    }
    let body = ok ? 'ok' : `${base} check failed`;
    if (verbose || !ok) {
      body = `${checks.map(([n, p]) => `[${p ? '+' : '-'}]${n} ${p ? 'ok' : 'failed: reason withheld'}`).join('\n')}\n${base} check ${ok ? 'passed' : 'failed'}`;
    }
    res.writeHead(ok ? 200 : 500, {
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(body);
  }

  #observe(info: RequestInfo, code: number, ms: number): void {
    const labels =
      info.kind === 'resource'
        ? {
            verb: info.verb.toUpperCase(),
            group: info.group,
            version: info.version,
            resource: info.resource,
            subresource: info.subresource,
          }
        : { verb: 'GET', group: '', version: '', resource: '', subresource: '' };
    this.metrics.requests.inc({ ...labels, code: String(code) });
    if (labels.verb !== 'WATCH') this.metrics.latency.observe(labels, ms / 1000);
  }

  async #dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    url: URL,
    info: RequestInfo,
    user: UserInfo,
  ): Promise<void> {
    if (path === '/openapi/v3' || path.startsWith('/openapi/v3/')) {
      if (path === '/openapi/v3') return send(res, 200, this.openapi.v3Index());
      const doc = this.openapi.v3Document(path.slice('/openapi/v3/'.length));
      if (!doc) throw ApiError.noResource();
      const headers: Record<string, string> = { 'Content-Type': 'application/json', ETag: `"${doc.etag}"` };
      if (url.searchParams.get('hash') === doc.etag) headers['Cache-Control'] = 'public, immutable';
      else headers['Cache-Control'] = 'no-cache, private';
      if (req.headers['if-none-match'] === `"${doc.etag}"`) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      res.writeHead(200, { ...headers, 'Content-Length': doc.body.length });
      res.end(doc.body);
      return;
    }
    if (path === '/metrics') {
      const { body, contentType } = await this.metrics.text();
      res.writeHead(200, { 'Content-Type': contentType });
      res.end(body);
      return;
    }
    if (info.kind === 'discovery') {
      if (req.method !== 'GET') throw ApiError.methodNotAllowed('discovery documents are read-only');
      const accept = req.headers.accept;
      if (info.version === undefined && info.group === undefined && wantsAggregated(accept)) {
        return send(
          res,
          200,
          aggregatedDiscovery(this.catalog, info.root),
          { encoding: 'json' },
          {
            'Content-Type': AGGREGATED_CONTENT_TYPE,
          },
        );
      }
      if (info.root === 'api' && info.version === undefined) {
        const host = req.headers.host ?? `127.0.0.1:${this.#opts.port ?? 6443}`;
        return send(res, 200, apiVersions(host));
      }
      if (info.root === 'apis' && info.group === undefined) return send(res, 200, apiGroupList(this.catalog));
      const group = info.group ?? '';
      if (info.version === undefined) {
        if (this.catalog.versions(group).length === 0) throw ApiError.noResource();
        return send(res, 200, apiGroup(this.catalog, group));
      }
      if (info.root === 'api' && info.version !== 'v1') throw ApiError.noResource();
      if (!this.catalog.hasVersion(group, info.version)) throw ApiError.noResource();
      return send(res, 200, apiResourceList(this.catalog, group, info.version));
    }
    if (
      info.kind === 'resource' &&
      info.group === '' &&
      info.resource === 'serviceaccounts' &&
      info.subresource === 'token' &&
      this.#opts.serviceAccounts
    ) {
      const tokens = this.#opts.serviceAccounts;
      return handleTokenRequest(
        { registry: this.registry, catalog: this.catalog, clock: this.#clock, tokens },
        info,
        req,
        res,
      );
    }
    if (info.kind === 'resource') {
      return handleResource(this.#deps, info, req, res, {
        user: user.name,
        query: url.searchParams,
        userAgent: req.headers['user-agent'],
      });
    }
    throw ApiError.noResource();
  }
}

/**
 * {@link parseRequestInfo}, with a malformed percent-escape in the path (`/api/v1/namespaces/%zz/pods`)
 * answered as a 400, as Kubernetes' HTTP server refuses such a URL, rather than thrown as a URIError.
 */
function requestInfoOf(method: string, path: string, query: URLSearchParams): RequestInfo {
  try {
    return parseRequestInfo(method, path, query);
  } catch (err) {
    if (err instanceof URIError) {
      throw ApiError.badRequest(
        `malformed request URL: invalid percent-encoding in the path ${JSON.stringify(path)}`,
      );
    }
    throw err;
  }
}
