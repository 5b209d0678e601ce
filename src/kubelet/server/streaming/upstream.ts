/**
 * Connecting to the container runtime's streaming server (the URL CRI Exec/Attach/PortForward
 * returned, e.g. containerd's `http://127.0.0.1:<port>/exec/<token>`) with an HTTP upgrade request.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { http } from '../../../util/node-http.ts';

/** The runtime answered the upgrade with something other than 101. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  readonly statusCode: number;
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
  constructor(statusCode: number, body: string, headers: IncomingHttpHeaders) {
    super(`container runtime streaming server answered ${statusCode}: ${body.trim()}`);
    this.statusCode = statusCode;
    this.body = body;
    this.headers = headers;
  }
}

export interface UpgradedConnection {
  socket: Duplex;
  /** The 101 response (its headers carry the negotiated X-Stream-Protocol-Version). */
  response: IncomingMessage;
}

/**
 * Sends `method url` with `Connection: Upgrade` and the given headers and resolves with the raw
 * socket once the server answered 101 (bytes that arrived with the response head are put back into
 * the socket). Rejects with UpstreamError for any other answer, or the connection error.
 */
export function dialUpgrade(
  url: string,
  headers: Record<string, string | string[]>,
  opts: { method?: string; signal?: AbortSignal } = {},
): Promise<UpgradedConnection> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : http.request;
  return new Promise((resolve, reject) => {
    const req = request(u, {
      method: opts.method ?? 'POST',
      headers: { ...headers, Connection: 'Upgrade' },
      signal: opts.signal,
      // containerd's streaming server has a self-signed certificate when TLS is on.
      ...(u.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
    });
    req.on('upgrade', (response, socket, head) => {
      if (head.length) socket.unshift(head);
      resolve({ socket, response });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        reject(new UpstreamError(res.statusCode ?? 502, Buffer.concat(chunks).toString(), res.headers)),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
