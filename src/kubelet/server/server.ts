/**
 * The kubelet's HTTPS server, for the API server only (it requires a client certificate signed by the
 * cluster CA): container logs, exec, attach and port-forward, as kube-apiserver relays them from
 * `pods/log`, `pods/exec`, `pods/attach` and `pods/portforward`.
 *
 *   GET /containerLogs/{ns}/{pod}/{container}?follow&previous&tailLines&sinceSeconds&sinceTime&timestamps&limitBytes
 *   upgrade /exec/{ns}/{pod}/{container}?command=…&stdin&stdout&stderr&tty
 *   upgrade /attach/{ns}/{pod}/{container}?stdin&stdout&stderr&tty
 *   upgrade /portForward/{ns}/{pod}
 *
 * exec/attach: CRI Exec/Attach give a URL on the runtime's streaming server. A websocket client
 * (kubectl ≥ 1.30, `v5.channel.k8s.io`) is bridged to SPDY v4 there (remotecommand.ts); a SPDY
 * client (kubectl's fallback) is relayed to it byte for byte — both ends speak the same protocol.
 * portForward: CRI PortForward gives the URL; a plain SPDY upgrade (kubectl 1.32) is relayed, and a
 * websocket carrying SPDY (`SPDY/3.1+portforward.k8s.io`, kubectl 1.35) is unwrapped: each binary
 * message is a piece of the SPDY byte stream, which goes to the runtime over a plain SPDY upgrade.
 * `ws` and the SPDY session are loaded at the first websocket upgrade: a node that serves none (most
 * of the time) keeps them out of memory.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { WebSocket } from 'ws';
import type { Clock } from '../../util/clock.ts';
import { systemClock } from '../../util/clock.ts';
import type { Logger } from '../../util/log.ts';
import { silentLogger } from '../../util/log.ts';
import type { PodLookup, RunningPodInfo } from '../contracts.ts';
import type { ContainerStatus, RuntimeService } from '../cri/types.ts';
import { KubeletHttpError, toHttpError } from './errors.ts';
import { serveContainerLogs } from './logs/handler.ts';
import { splice, writeHttpError, writeSwitchingProtocols } from './streaming/http.ts';
import {
  bridgeRemoteCommand,
  parseStreamQuery,
  SPDY_V4,
  type StreamOptions,
  WS_V4,
  WS_V5,
} from './streaming/remotecommand.ts';
import { tunnel } from './streaming/tunnel.ts';
import { dialUpgrade } from './streaming/upstream.ts';

export interface KubeletServerOptions {
  /** PEM serving certificate and key; `ca` is the cluster CA client certificates must chain to. */
  cert: string;
  key: string;
  ca: string;
  /** Default 10250; 0 picks a free port. */
  port?: number;
  /** Default '0.0.0.0'. */
  address?: string;
  pods: PodLookup;
  runtime: RuntimeService;
  logger?: Logger;
  clock?: Clock;
  /** How often a followed log file is looked at (ms); default 200. */
  logPollMs?: number;
  /**
   * Client certificate common names allowed to use the server (e.g. the API server's
   * `kube-apiserver-kubelet-client`); others get 403. Unset: any certificate the CA signed.
   */
  allowedClients?: string[];
}

const TUNNEL_PREFIX = 'SPDY/3.1+';

function segments(pathname: string): string[] {
  return pathname
    .split('/')
    .filter(Boolean)
    .map((s) => decodeURIComponent(s));
}

function isWebsocket(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

function headerList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

export class KubeletServer {
  readonly #opts: KubeletServerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #server: Server;
  readonly #websockets = new Set<WebSocket>();
  readonly #sockets = new Set<Duplex>();
  readonly #abort = new AbortController();

  constructor(opts: KubeletServerOptions) {
    this.#opts = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? systemClock;
    this.#server = createServer({
      cert: opts.cert,
      key: opts.key,
      ca: opts.ca,
      requestCert: true,
      rejectUnauthorized: true,
    });
    this.#server.on('secureConnection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    this.#server.on('request', (req, res) => {
      this.#handleRequest(req, res).catch((err: unknown) => this.#fail(res, err));
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', (err) => this.#log.debug({ err }, 'kubelet upgrade socket error'));
      this.#handleUpgrade(req, socket, head).catch((err: unknown) => {
        const e = toHttpError(err);
        if (e.code >= 500) this.#log.warn({ err, url: req.url }, 'kubelet streaming request failed');
        writeHttpError(socket, e.code, e.message);
      });
    });
    this.#server.on('tlsClientError', (err) => this.#log.debug({ err }, 'kubelet TLS client error'));
  }

  /** Starts listening; resolves with the bound port. */
  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#opts.port ?? 10250, this.#opts.address ?? '0.0.0.0', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const port = this.port;
    this.#log.debug({ port }, 'kubelet server listening');
    return port;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Stops listening and ends every open connection (log follows, exec sessions, forwards). */
  async stop(): Promise<void> {
    this.#abort.abort();
    for (const ws of this.#websockets) ws.terminate();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---- plain requests: logs ----

  /** 403 unless the client certificate's CN is allowed (the kubelet's authorization, narrowed). */
  #authorize(req: IncomingMessage, verb: string, subresource: string): void {
    const allowed = this.#opts.allowedClients;
    if (!allowed) return;
    const cn = (req.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN;
    const user = Array.isArray(cn) ? cn.join(',') : (cn ?? '');
    if (!allowed.includes(user)) {
      throw new KubeletHttpError(
        403,
        `Forbidden (user=${user}, verb=${verb}, resource=nodes, subresource=${subresource})`,
      );
    }
  }

  async #handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = segments(url.pathname);
    if (parts[0] === 'healthz' && parts.length === 1) {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    this.#authorize(req, (req.method ?? 'GET').toLowerCase() === 'get' ? 'get' : 'create', 'proxy');
    if (parts[0] === 'containerLogs' && parts.length === 4 && req.method === 'GET') {
      const pod = this.#pod(parts[1]!, parts[2]!);
      await serveContainerLogs(req, res, pod, parts[3]!, url.searchParams, {
        status: (id) => this.#status(id),
        clock: this.#clock,
        signal: this.#abort.signal,
        pollMs: this.#opts.logPollMs,
      });
      return;
    }
    if (['exec', 'attach', 'portForward'].includes(parts[0] ?? '')) {
      throw new KubeletHttpError(400, 'Upgrade request required');
    }
    throw new KubeletHttpError(404, `404 page not found`);
  }

  #fail(res: ServerResponse, err: unknown): void {
    const e = toHttpError(err);
    if (e.code >= 500) this.#log.warn({ err }, 'kubelet request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(e.code, { 'Content-Type': 'text/plain; charset=utf-8' }).end(e.message);
  }

  #pod(namespace: string, name: string): RunningPodInfo {
    const pod = this.#opts.pods.find(namespace, name);
    if (!pod) throw new KubeletHttpError(404, `pod "${name}" does not exist`);
    return pod;
  }

  async #status(id: string): Promise<ContainerStatus | undefined> {
    try {
      return await this.#opts.runtime.containerStatus(id);
    } catch (err) {
      if ((err as { code?: number }).code === 5) return undefined; // gRPC NOT_FOUND
      throw err;
    }
  }

  // ---- upgrades: exec, attach, port-forward ----

  async #handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (head.length) socket.unshift(head);
    this.#authorize(req, 'create', 'proxy');
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const parts = segments(url.pathname);
    const kind = parts[0];
    this.#log.debug(
      {
        path: url.pathname,
        upgrade: req.headers.upgrade,
        websocketProtocols: req.headers['sec-websocket-protocol'],
        streamProtocols: req.headers['x-stream-protocol-version'],
      },
      'streaming request',
    );
    if ((kind === 'exec' || kind === 'attach') && parts.length === 4) {
      const pod = this.#pod(parts[1]!, parts[2]!);
      const container = parts[3]!;
      const id = pod.containers.get(container);
      const status = id ? await this.#status(id) : undefined;
      if (!id || status?.state !== 'CONTAINER_RUNNING') {
        throw new KubeletHttpError(404, `container not found ("${container}")`);
      }
      const o = parseStreamQuery(url.searchParams);
      if (kind === 'exec' && o.command.length === 0)
        throw new KubeletHttpError(400, 'you must specify at least 1 command');
      if (!o.stdin && !o.stdout && !o.stderr) {
        throw new KubeletHttpError(400, 'you must specify at least 1 of stdin, stdout, stderr');
      }
      if (o.tty && o.stderr) o.stderr = false;
      const streamUrl =
        kind === 'exec'
          ? await this.#opts.runtime.exec({
              containerId: id,
              cmd: o.command,
              tty: o.tty,
              stdin: o.stdin,
              stdout: o.stdout,
              stderr: o.stderr,
            })
          : await this.#opts.runtime.attach({
              containerId: id,
              tty: o.tty,
              stdin: o.stdin,
              stdout: o.stdout,
              stderr: o.stderr,
            });
      if (isWebsocket(req)) await this.#websocketRemoteCommand(req, socket, streamUrl, o);
      else await this.#relaySpdy(req, socket, streamUrl);
      return;
    }
    if (kind === 'portForward' && parts.length === 3) {
      const pod = this.#pod(parts[1]!, parts[2]!);
      if (!pod.sandboxId) throw new KubeletHttpError(404, `pod "${pod.name}" has no sandbox`);
      const streamUrl = await this.#opts.runtime.portForward(pod.sandboxId, []);
      if (isWebsocket(req)) await this.#websocketTunnel(req, socket, streamUrl);
      else await this.#relaySpdy(req, socket, streamUrl);
      return;
    }
    throw new KubeletHttpError(404, '404 page not found');
  }

  /**
   * Completes the websocket handshake with `protocol` as the subprotocol. The offered list is taken
   * out of the request first: `ws` rejects subprotocols that are not RFC 7230 tokens, and
   * Kubernetes' `SPDY/3.1+portforward.k8s.io` has a '/' in it. So the answer header is added here.
   */
  async #acceptWebsocket(req: IncomingMessage, socket: Duplex, protocol: string): Promise<WebSocket> {
    delete req.headers['sec-websocket-protocol'];
    const { WebSocketServer } = await import('ws');
    return new Promise((resolve) => {
      const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
      wss.on('headers', (headers) => headers.push(`Sec-WebSocket-Protocol: ${protocol}`));
      wss.handleUpgrade(req, socket, Buffer.alloc(0), (ws) => {
        this.#websockets.add(ws);
        ws.once('close', () => this.#websockets.delete(ws));
        resolve(ws);
      });
    });
  }

  async #websocketRemoteCommand(
    req: IncomingMessage,
    socket: Duplex,
    streamUrl: string,
    o: StreamOptions,
  ): Promise<void> {
    const offered = headerList(req.headers['sec-websocket-protocol']);
    const protocol = offered.includes(WS_V5) ? WS_V5 : offered.includes(WS_V4) ? WS_V4 : undefined;
    if (!protocol) {
      throw new KubeletHttpError(
        400,
        `unable to upgrade: none of the requested protocols [${offered.join(' ')}] are supported (want ${WS_V5})`,
      );
    }
    const { SpdySession } = await import('./spdy/session.ts');
    const upstream = await dialUpgrade(
      streamUrl,
      { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': SPDY_V4 },
      {
        signal: this.#abort.signal,
      },
    );
    const session = new SpdySession(upstream.socket, { client: true, logger: this.#log });
    let ws: WebSocket;
    try {
      ws = await this.#acceptWebsocket(req, socket, protocol);
    } catch (err) {
      session.destroy();
      throw err;
    }
    this.#log.debug({ transport: 'websocket', protocol }, 'remote command session open');
    await bridgeRemoteCommand(ws, session, o, protocol, this.#log);
  }

  /** A SPDY client (kubectl's exec fallback, or port-forward from kubectl ≤ 1.34): pass it through. */
  async #relaySpdy(req: IncomingMessage, socket: Duplex, streamUrl: string): Promise<void> {
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'spdy/3.1') {
      throw new KubeletHttpError(400, `unsupported upgrade ${req.headers.upgrade ?? ''}`);
    }
    const protocols = headerList(req.headers['x-stream-protocol-version']);
    const upstream = await dialUpgrade(
      streamUrl,
      { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols },
      {
        method: req.method === 'GET' ? 'GET' : 'POST',
        signal: this.#abort.signal,
      },
    );
    writeSwitchingProtocols(socket, upstream.response.rawHeaders);
    this.#log.debug(
      { transport: 'spdy', protocol: upstream.response.headers['x-stream-protocol-version'], path: req.url },
      'relaying SPDY session',
    );
    await splice(socket, upstream.socket);
  }

  /** kubectl ≥ 1.35 port-forward: SPDY tunnelled in websocket binary messages. */
  async #websocketTunnel(req: IncomingMessage, socket: Duplex, streamUrl: string): Promise<void> {
    const offered = headerList(req.headers['sec-websocket-protocol']);
    const spdyProtocols = offered
      .filter((p) => p.startsWith(TUNNEL_PREFIX))
      .map((p) => p.slice(TUNNEL_PREFIX.length));
    if (spdyProtocols.length === 0)
      throw new KubeletHttpError(400, 'unable to upgrade: no tunneling spdy protocols provided');
    const upstream = await dialUpgrade(
      streamUrl,
      { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': spdyProtocols },
      {
        signal: this.#abort.signal,
      },
    );
    const chosen = String(upstream.response.headers['x-stream-protocol-version'] ?? spdyProtocols[0]);
    let ws: WebSocket;
    try {
      ws = await this.#acceptWebsocket(req, socket, `${TUNNEL_PREFIX}${chosen}`);
    } catch (err) {
      upstream.socket.destroy();
      throw err;
    }
    this.#log.debug(
      { transport: 'websocket', protocol: `${TUNNEL_PREFIX}${chosen}` },
      'port-forward tunnel open',
    );
    await tunnel(ws, upstream.socket, this.#log);
  }
}
