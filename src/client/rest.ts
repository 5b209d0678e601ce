/**
 * The REST client (client-go's rest.RESTClient + dynamic client): JSON over HTTPS with a keep-alive
 * agent (or over the API server's in-process loopback connections: transport.ts), Kubernetes' URL
 * layout, Status bodies turned into `ApiError`s, and watches streamed as newline-delimited JSON
 * events.
 */

import type { IncomingMessage } from 'node:http';
import { ApiError, type StatusDetails, type StatusReason } from '../api/errors.ts';
import { type Clock, sleep, systemClock } from '../util/clock.ts';
import {
  type CallAnswer,
  type ClientConnection,
  type ConnectionConfig,
  type Transport,
  transportFor,
} from './transport.ts';
import type {
  DeleteOptions,
  KubeObject,
  ListOptions,
  ListResult,
  PatchOptions,
  PatchType,
  ResourceRef,
  RestClient,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from './types.ts';

export type { ClientConnection, ConnectionConfig, LoopbackConnection } from './transport.ts';

const utf8 = new TextDecoder();

/** skiff's release, sent in the user agent. */
export const CLIENT_VERSION = '0.1.0';

export interface RestClientOptions {
  /** Who is calling, for the user agent `skiff-<component>/<version>`. Default "client". */
  component?: string;
  /** Default {@link CLIENT_VERSION}. */
  version?: string;
  /** Overrides the whole user agent. */
  userAgent?: string;
  /** Client-side rate limit (token bucket), requests per second; 0 or absent: none. Watches count once. */
  qps?: number;
  /** Bucket size for `qps`; default max(1, 2 × qps). */
  burst?: number;
  /** Timeout of each non-watch request, ms; default 60 s; 0 disables. */
  requestTimeoutMs?: number;
  /** For the rate limiter's waits. */
  clock?: Clock;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** Reasons Kubernetes gives bodiless errors, by code (apimachinery's NewGenericServerResponse). */
const REASON_BY_CODE: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

interface Request {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/**
 * The REST client over HTTPS ({@link ConnectionConfig}: an https:// server and TLS credentials) or,
 * for components inside the API server's process, over its loopback connections (a
 * {@link LoopbackConnection}); both speak the same HTTP to the same handlers.
 */
export class HttpRestClient implements RestClient {
  /** Where requests go: the server's origin, or `loopback://apiserver`. */
  readonly origin: string;
  readonly userAgent: string;
  readonly #transport: Transport;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #limiter: TokenBucket | null;

  constructor(config: ClientConnection, opts: RestClientOptions = {}) {
    this.#transport = transportFor(config);
    this.origin = this.#transport.origin;
    this.userAgent =
      opts.userAgent ?? `skiff-${opts.component ?? 'client'}/${opts.version ?? CLIENT_VERSION}`;
    this.#headers = { 'User-Agent': this.userAgent, Accept: 'application/json', ...this.#transport.headers };
    this.#timeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.#limiter = opts.qps ? new TokenBucket(opts.qps, opts.burst, opts.clock ?? systemClock) : null;
  }

  /** Closes idle connections and stops reusing sockets. Open watches end when their signals abort. */
  close(): void {
    this.#transport.close();
  }

  /** The URL path of a resource (collection when `name` is empty), e.g. /apis/apps/v1/namespaces/ns/deployments/x/scale. */
  static pathOf(ref: ResourceRef, namespace: string, name = '', subresource = ''): string {
    let p = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
    if (ref.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${ref.resource}`;
    if (name) p += `/${encodeURIComponent(name)}`;
    if (subresource) {
      if (!name) throw new Error(`a subresource (${subresource}) needs an object name`);
      p += `/${subresource}`;
    }
    return p;
  }

  async get<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    name: string,
  ): Promise<T> {
    requireName(name);
    return (await this.#json({ method: 'GET', path: HttpRestClient.pathOf(ref, namespace, name) })) as T;
  }

  async list<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    opts: ListOptions = {},
  ): Promise<ListResult<T>> {
    const query = new URLSearchParams();
    setParam(query, 'labelSelector', opts.labelSelector);
    setParam(query, 'fieldSelector', opts.fieldSelector);
    setParam(query, 'limit', opts.limit);
    setParam(query, 'continue', opts.continue);
    setParam(query, 'resourceVersion', opts.resourceVersion);
    setParam(query, 'resourceVersionMatch', opts.resourceVersionMatch);
    const list = (await this.#json({
      method: 'GET',
      path: HttpRestClient.pathOf(ref, namespace),
      query,
    })) as {
      items?: T[] | null;
      metadata?: { resourceVersion?: string; continue?: string };
    };
    const result: ListResult<T> = {
      items: list.items ?? [],
      resourceVersion: list.metadata?.resourceVersion ?? '',
    };
    if (list.metadata?.continue) result.continue = list.metadata.continue;
    return result;
  }

  async *watch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    opts: WatchOptions = {},
  ): AsyncIterable<WatchEvent<T>> {
    const query = new URLSearchParams({ watch: 'true' });
    setParam(query, 'resourceVersion', opts.resourceVersion);
    setParam(query, 'labelSelector', opts.labelSelector);
    setParam(query, 'fieldSelector', opts.fieldSelector);
    if (opts.allowWatchBookmarks) query.set('allowWatchBookmarks', 'true');
    setParam(query, 'timeoutSeconds', opts.timeoutSeconds);
    const { signal } = opts;
    if (signal?.aborted) return;
    let res: IncomingMessage;
    try {
      res = await this.#send(
        { method: 'GET', path: HttpRestClient.pathOf(ref, namespace), query, signal },
        false,
      );
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    if (res.statusCode !== 200) {
      const text = await readBody(res);
      throw errorFromResponse(res.statusCode ?? 0, text);
    }
    // Tear the connection down (not back to the pool) when the signal aborts or the consumer stops.
    const onAbort = () => res.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    let pending = '';
    try {
      res.setEncoding('utf8');
      for await (const chunk of res as AsyncIterable<string>) {
        pending += chunk;
        let nl = pending.indexOf('\n');
        while (nl >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line) yield parseEvent<T>(line);
          if (signal?.aborted) return;
          nl = pending.indexOf('\n');
        }
      }
      const last = pending.trim();
      if (last && !signal?.aborted) yield parseEvent<T>(last);
    } catch (err) {
      if (signal?.aborted) return;
      throw new Error(`watch ${HttpRestClient.pathOf(ref, namespace)}: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!res.complete) res.destroy();
    }
  }

  async create<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T> {
    const ns = namespace || obj.metadata.namespace || '';
    const name = opts.subresource ? (obj.metadata.name ?? '') : '';
    return (await this.#json({
      method: 'POST',
      path: HttpRestClient.pathOf(ref, ns, name, opts.subresource),
      query: writeQuery(opts),
      body: obj,
    })) as T;
  }

  async update<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    obj: T,
    opts: WriteOptions = {},
  ): Promise<T> {
    const name = obj.metadata.name ?? '';
    requireName(name);
    const ns = namespace || obj.metadata.namespace || '';
    return (await this.#json({
      method: 'PUT',
      path: HttpRestClient.pathOf(ref, ns, name, opts.subresource),
      query: writeQuery(opts),
      body: obj,
    })) as T;
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    namespace: string,
    name: string,
    type: PatchType,
    body: unknown,
    opts: PatchOptions = {},
  ): Promise<T> {
    requireName(name);
    const query = writeQuery(opts);
    if (opts.force !== undefined) query.set('force', String(opts.force));
    return (await this.#json({
      method: 'PATCH',
      path: HttpRestClient.pathOf(ref, namespace, name, opts.subresource),
      query,
      body,
      contentType: PATCH_CONTENT_TYPES[type],
    })) as T;
  }

  async delete(
    ref: ResourceRef,
    namespace: string,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<KubeObject | null> {
    requireName(name);
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    if (opts.dryRun) body.dryRun = ['All'];
    const out = (await this.#json({
      method: 'DELETE',
      path: HttpRestClient.pathOf(ref, namespace, name),
      body,
    })) as KubeObject | null;
    if (!out || out.kind === 'Status') return null;
    return out;
  }

  async createSubresource<T = unknown>(
    ref: ResourceRef,
    namespace: string,
    name: string,
    subresource: string,
    body: unknown,
  ): Promise<T> {
    requireName(name);
    return (await this.#json({
      method: 'POST',
      path: HttpRestClient.pathOf(ref, namespace, name, subresource),
      body,
    })) as T;
  }

  /** Sends a request and decodes its JSON answer; errors become `ApiError`s. */
  async #json(req: Request): Promise<unknown> {
    let code: number;
    let text: string;
    if (this.#transport.call) {
      const answer = await this.#call(this.#transport.call, req);
      code = answer.status;
      text = utf8.decode(answer.body);
    } else {
      const res = await this.#send(req, true);
      text = await readBody(res);
      code = res.statusCode ?? 0;
    }
    if (code < 200 || code >= 300) throw errorFromResponse(code, text);
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${req.method} ${req.path}: the server sent a body that is not JSON (${code})`);
    }
  }

  /** The request's headers, body bytes and path with query, as either way of sending needs them. */
  #prepare(req: Request): { headers: Record<string, string>; payload: Buffer | undefined; path: string } {
    const qs = req.query?.toString();
    const headers: Record<string, string> = { ...this.#headers };
    let payload: Buffer | undefined;
    if (req.body !== undefined) {
      payload = Buffer.from(JSON.stringify(req.body), 'utf8');
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    return { headers, payload, path: `${req.path}${qs ? `?${qs}` : ''}` };
  }

  /**
   * Issues a unary request as a loopback call and resolves with the whole answer. A failure, and no
   * answer within the request timeout, reject with the errors {@link #send}'s would.
   */
  async #call(call: NonNullable<Transport['call']>, req: Request): Promise<CallAnswer> {
    if (this.#limiter) await this.#limiter.take(req.signal);
    const { headers, payload, path } = this.#prepare(req);
    const failed = (err: Error) =>
      new Error(`${req.method} ${this.origin}${path}: ${err.message}`, { cause: err });
    const answer = call({ method: req.method, path, headers, body: payload }).catch((err: Error) => {
      throw failed(err);
    });
    if (this.#timeoutMs <= 0) return answer;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(failed(new Error(`no answer within ${this.#timeoutMs} ms`))),
        this.#timeoutMs,
      );
    });
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Issues the request and resolves with the response once its headers arrive. */
  async #send(req: Request, timed: boolean): Promise<IncomingMessage> {
    if (this.#limiter) await this.#limiter.take(req.signal);
    const { headers, payload, path } = this.#prepare(req);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const r = this.#transport.request({ method: req.method, path, headers, signal: req.signal }, resolve);
      r.on('error', (err) =>
        reject(
          req.signal?.aborted
            ? err
            : new Error(`${req.method} ${this.origin}${path}: ${err.message}`, { cause: err }),
        ),
      );
      if (timed && this.#timeoutMs > 0) {
        r.setTimeout(this.#timeoutMs, () => r.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      }
      r.end(payload);
    });
  }
}

function requireName(name: string): void {
  if (!name) throw new Error('resource name may not be empty');
}

function setParam(q: URLSearchParams, name: string, value: string | number | undefined): void {
  if (value !== undefined && value !== '') q.set(name, String(value));
}

function writeQuery(opts: WriteOptions): URLSearchParams {
  const q = new URLSearchParams();
  if (opts.dryRun) q.set('dryRun', 'All');
  setParam(q, 'fieldManager', opts.fieldManager);
  return q;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('the connection closed before the whole answer came')));
  });
}

function parseEvent<T extends KubeObject>(line: string): WatchEvent<T> {
  let e: unknown;
  try {
    e = JSON.parse(line);
  } catch {
    throw new Error(`watch: the server sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
  const ev = e as Partial<WatchEvent<T>>;
  if (typeof ev?.type !== 'string' || typeof ev.object !== 'object' || ev.object === null) {
    throw new Error(`watch: the server sent something that is not a watch event: ${line.slice(0, 200)}`);
  }
  return ev as WatchEvent<T>;
}

/** The `ApiError` of an HTTP error answer: its Status when it sent one, else one made from the code. */
export function errorFromResponse(code: number, text: string): ApiError {
  let status: {
    kind?: string;
    reason?: string;
    message?: string;
    details?: StatusDetails;
    code?: number;
  } | null = null;
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && parsed.kind === 'Status') status = parsed;
  } catch {
    // not JSON: fall through
  }
  const reason = (status?.reason || REASON_BY_CODE[code] || 'InternalError') as StatusReason;
  const message =
    status?.message || text.trim().slice(0, 500) || `the server responded with the status code ${code}`;
  return new ApiError(status?.code || code, reason, message, status?.details);
}

/** True for an ApiError with `code`. */
export function isApiError(err: unknown, code?: number): err is ApiError {
  return err instanceof ApiError && (code === undefined || err.code === code);
}

/** A 410 Gone/Expired: the resourceVersion asked for is no longer in the server's history. */
export function isGone(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 410 || err.reason === 'Gone' || err.reason === 'Expired');
}

/** A token bucket: `qps` tokens a second, up to `burst`; take() waits for one. */
class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number | undefined, clock: Clock) {
    this.#qps = qps;
    this.#burst = Math.max(1, burst ?? Math.ceil(qps * 2));
    this.#clock = clock;
    this.#tokens = this.#burst;
    this.#last = clock.now();
  }

  async take(signal?: AbortSignal): Promise<void> {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    this.#tokens -= 1; // reserve: a negative balance is the queue of waiters ahead
    if (this.#tokens >= 0) return;
    await sleep(this.#clock, (-this.#tokens / this.#qps) * 1000, signal);
  }
}
