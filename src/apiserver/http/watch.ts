/**
 * Serving a watch: a chunked stream of newline-delimited `{"type":…,"object":…}` events (metav1
 * WatchEvent), with timeoutSeconds, bookmarks, sendInitialEvents and Table rendering.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../object.ts';
import { parseResourceVersion } from '../registry/registry.ts';
import { apiVersionOf, type ResourceDef } from '../resource.ts';
import { type HandlerDeps, keyPrefix, type RequestContext, render } from './handlers.ts';
import { negotiate } from './negotiate.ts';
import { contentTypeOf } from './respond.ts';
import { buildFilter } from './selectors.ts';

/** Kubernetes spreads watch lifetimes between minRequestTimeout and twice that (30–60 min). */
const MIN_REQUEST_TIMEOUT_S = 1800;

function boolParam(query: URLSearchParams, name: string): boolean | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw ApiError.badRequest(`invalid value for ${name}: "${v}": must be true or false`);
}

export async function serveWatch(
  deps: HandlerDeps,
  def: ResourceDef,
  namespace: string,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
): Promise<void> {
  const { query } = ctx;
  const format = negotiate(req.headers.accept, ['Table', 'PartialObjectMetadata']);
  const filter = buildFilter(def, query);
  const timeoutParam = query.get('timeoutSeconds');
  let timeoutS = MIN_REQUEST_TIMEOUT_S * (1 + Math.random());
  if (timeoutParam !== null && timeoutParam !== '') {
    if (!/^\d+$/.test(timeoutParam))
      throw ApiError.badRequest(`invalid value for timeoutSeconds: "${timeoutParam}"`);
    // 0 means "the server's default", as in Kubernetes.
    if (Number(timeoutParam) > 0) timeoutS = Number(timeoutParam);
  }
  const sendInitialEvents = boolParam(query, 'sendInitialEvents') ?? false;
  const allowBookmarks = boolParam(query, 'allowWatchBookmarks') ?? false;
  const rv = query.get('resourceVersion') ?? undefined;
  const rvMatch = query.get('resourceVersionMatch') ?? '';
  if (sendInitialEvents) {
    if (rvMatch !== 'NotOlderThan') {
      throw ApiError.badRequest(
        'sendInitialEvents is forbidden for watch unless resourceVersionMatch=NotOlderThan',
      );
    }
    if (!allowBookmarks) throw ApiError.badRequest('sendInitialEvents requires allowWatchBookmarks=true');
  } else if (rvMatch) {
    throw ApiError.badRequest(
      'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
    );
  }

  const ac = new AbortController();
  const stop = () => ac.abort();
  req.on('close', stop);
  res.on('close', stop);
  const timer = setTimeout(stop, timeoutS * 1000);
  res.writeHead(200, {
    'Content-Type': contentTypeOf({ encoding: 'json' }),
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  req.socket.setNoDelay(true);
  deps.onWatch?.(def, 1);
  const apiVersion = apiVersionOf(def);
  const plainJson = format.as === null;
  try {
    let after: number | null = null;
    if (!sendInitialEvents && rv !== undefined && rv !== '' && rv !== '0')
      after = parseResourceVersion(rv) ?? null;
    const events = deps.caches.for(def).watch({
      keyPrefix: keyPrefix(def, namespace),
      after,
      filter,
      bookmarks: allowBookmarks,
      initialEndBookmark: sendInitialEvents && allowBookmarks,
      signal: ac.signal,
      bookmark: (revision) => ({
        kind: def.kind,
        apiVersion,
        metadata: { resourceVersion: String(revision) },
      }),
      bookmarkEveryMs: deps.bookmarkIntervalMs,
    });
    for await (const event of events) {
      if (ac.signal.aborted) break;
      let line: string | Buffer;
      if (event.type === 'ERROR' || event.type === 'BOOKMARK') {
        line = `${JSON.stringify({ type: event.type, object: event.object })}\n`;
      } else if (plainJson && event.cached && event.cached.apiVersion === apiVersion) {
        // The cached encoding (UTF-8 bytes), shared by every watcher of this event.
        line = event.cached.line(event.type);
      } else if (plainJson && event.json && (event.object as KubeObject).apiVersion === apiVersion) {
        line = `{"type":"${event.type}","object":${event.json}}\n`;
      } else {
        let obj = event.object as KubeObject;
        if (obj.apiVersion !== apiVersion) obj = { ...obj, apiVersion };
        line = `${JSON.stringify({ type: event.type, object: render(deps, def, format, ctx, obj) })}\n`;
      }
      if (!res.write(line)) {
        // Back-pressure: wait for the client to drain rather than buffer without bound.
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
      if (event.type === 'ERROR') break;
    }
  } catch (err) {
    if (!res.writableEnded && !ac.signal.aborted) {
      const api =
        err instanceof ApiError ? err : ApiError.internal((err as Error)?.message ?? String(err), err);
      res.write(`${JSON.stringify({ type: 'ERROR', object: api.toStatus() })}\n`);
    }
  } finally {
    deps.onWatch?.(def, -1);
    clearTimeout(timer);
    req.off('close', stop);
    res.off('close', stop);
    if (!res.writableEnded) res.end();
  }
}
