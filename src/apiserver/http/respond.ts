/** Writing responses: objects and lists in the negotiated encoding, and errors as Status. */
import type { ServerResponse } from 'node:http';
import { stringify as toYaml } from 'yaml';
import { ApiError } from '../../api/errors.ts';
import type { ResponseFormat } from './negotiate.ts';

export function contentTypeOf(format: Pick<ResponseFormat, 'encoding'>): string {
  return format.encoding === 'yaml' ? 'application/yaml' : 'application/json';
}

export function encode(value: unknown, format: Pick<ResponseFormat, 'encoding'>): string {
  return format.encoding === 'yaml' ? toYaml(value) : JSON.stringify(value);
}

/** Sends `value` with `code`. */
export function send(
  res: ServerResponse,
  code: number,
  value: unknown,
  format: Pick<ResponseFormat, 'encoding'> = { encoding: 'json' },
  headers: Record<string, string> = {},
): void {
  const body = encode(value, format);
  res.writeHead(code, {
    'Content-Type': contentTypeOf(format),
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(body);
}

/** Sends JSON already encoded as UTF-8 pieces (written one after the other) with `code`. */
export function sendJsonPieces(res: ServerResponse, code: number, pieces: readonly Uint8Array[]): void {
  const body = pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': body.byteLength,
    'Cache-Control': 'no-cache, private',
  });
  res.end(body);
}

/** Sends an error as a metav1.Status; anything that is not an ApiError becomes a 500. */
export function sendError(res: ServerResponse, err: unknown): ApiError {
  const api = err instanceof ApiError ? err : ApiError.internal((err as Error)?.message ?? String(err), err);
  if (res.headersSent) {
    res.destroy();
    return api;
  }
  const headers: Record<string, string> = {};
  if (api.details?.retryAfterSeconds) headers['Retry-After'] = String(api.details.retryAfterSeconds);
  send(res, api.code, api.toStatus(), { encoding: 'json' }, headers);
  return api;
}
