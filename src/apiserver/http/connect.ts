/**
 * The pod subresources that reach the node: log (a plain GET) and exec, attach and portforward
 * (connection upgrades: SPDY or websockets). The API server checks the request the way Kubernetes
 * does — the pod exists and is on a node, the container is valid — then relays it to the kubelet of
 * the pod's node (its address and port from the Node object), as kube-apiserver's proxy does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { ApiError } from '../../api/errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceDef } from '../resource.ts';

/** How the API server authenticates to kubelets (its client certificate) and trusts them. */
export interface KubeletClientConfig {
  cert: string;
  key: string;
  ca: string;
}

export const STREAMING_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward']);

interface Target {
  host: string;
  port: number;
  path: string;
}

function containersOf(pod: KubeObject): string[] {
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  const names = (list: unknown) =>
    Array.isArray(list) ? list.filter(isPlainObject).map((c) => String(c.name ?? '')) : [];
  return [...names(spec.containers), ...names(spec.initContainers), ...names(spec.ephemeralContainers)];
}

/** The container a request is about: the one named, or the only one. 400 otherwise, as Kubernetes. */
function pickContainer(pod: KubeObject, query: URLSearchParams): string {
  const name = pod.metadata.name ?? '';
  const all = containersOf(pod);
  const wanted = query.get('container');
  if (wanted) {
    if (!all.includes(wanted)) throw ApiError.badRequest(`container ${wanted} is not valid for pod ${name}`);
    return wanted;
  }
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  const main = Array.isArray(spec.containers) ? spec.containers.filter(isPlainObject) : [];
  if (main.length === 1) return String(main[0]!.name ?? '');
  const choices = main.map((c) => String(c.name ?? '')).join(' ');
  throw ApiError.badRequest(
    `a container name must be specified for pod ${name}, choose one of: [${choices}]`,
  );
}

/**
 * Where the kubelet serves this request: checks the pod, its node and the container, and builds the
 * kubelet path (/containerLogs/…, /exec/…, /attach/…, /portForward/…) with the query passed on.
 */
export async function resolveKubeletTarget(
  registry: Registry,
  pods: ResourceDef,
  nodes: ResourceDef,
  namespace: string,
  name: string,
  subresource: string,
  query: URLSearchParams,
): Promise<Target> {
  const pod = await registry.get(pods, namespace, name);
  const nodeName = isPlainObject(pod.spec) && typeof pod.spec.nodeName === 'string' ? pod.spec.nodeName : '';
  const container = subresource === 'portforward' ? '' : pickContainer(pod, query);
  if (!nodeName) throw ApiError.badRequest(`pod ${name} does not have a host assigned`);
  const node = await registry.get(nodes, '', nodeName);
  const status = isPlainObject(node.status) ? node.status : {};
  const port = Number(
    (status.daemonEndpoints as { kubeletEndpoint?: { Port?: unknown } } | undefined)?.kubeletEndpoint?.Port ??
      10250,
  );
  const addresses = Array.isArray(status.addresses) ? status.addresses.filter(isPlainObject) : [];
  const address =
    addresses.find((a) => a.type === 'InternalIP')?.address ??
    addresses.find((a) => a.type === 'Hostname')?.address ??
    addresses[0]?.address;
  if (typeof address !== 'string' || !address) {
    throw ApiError.unavailable(`node ${nodeName} reports no address for its kubelet`);
  }
  const q = new URLSearchParams(query);
  q.delete('container');
  const rest = q.toString() ? `?${q}` : '';
  const base = `${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  const path =
    subresource === 'log'
      ? `/containerLogs/${base}/${encodeURIComponent(container)}${rest}`
      : subresource === 'portforward'
        ? `/portForward/${base}${rest}`
        : `/${subresource}/${base}/${encodeURIComponent(container)}${rest}`;
  return { host: address, port, path };
}

/** A kubelet error answer as the Status kube-apiserver makes of it. */
function kubeletError(code: number, body: string): ApiError {
  if (code === 400) return ApiError.badRequest(body);
  if (code === 500) return ApiError.internal(body);
  if (code === 404)
    return new ApiError(404, 'NotFound', body || 'the server could not find the requested resource');
  return new ApiError(code, 'InternalError', body || `the server responded with the status code ${code}`);
}

/** Relays a GET (pods/log) to the kubelet and streams the answer back. */
export function proxyGet(
  target: Target,
  kubelet: KubeletClientConfig,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = httpsRequest(
      {
        host: target.host,
        port: target.port,
        path: target.path,
        method: 'GET',
        cert: kubelet.cert,
        key: kubelet.key,
        ca: kubelet.ca,
      },
      (up) => {
        const code = up.statusCode ?? 502;
        if (code < 200 || code > 206) {
          // The kubelet answers errors in plain text; clients get them as a Status, as
          // kube-apiserver's GenericHttpResponseChecker renders them.
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('end', () => reject(kubeletError(code, Buffer.concat(chunks).toString().trim())));
          up.on('error', reject);
          return;
        }
        res.writeHead(code, {
          'Content-Type': up.headers['content-type'] ?? 'text/plain',
          'Cache-Control': 'no-cache, private',
        });
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', reject);
      },
    );
    out.on('error', (err) =>
      reject(
        ApiError.unavailable(`error dialing the kubelet at ${target.host}:${target.port}: ${err.message}`),
      ),
    );
    req.on('close', () => out.destroy());
    out.end();
  });
}

/**
 * Relays an upgraded connection (exec, attach, portforward) to the kubelet: the original request
 * head goes to the kubelet over TLS, and from then on bytes flow both ways untouched.
 */
export function proxyUpgrade(
  target: Target,
  kubelet: KubeletClientConfig,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
): void {
  const upstream = tlsConnect(
    {
      host: target.host,
      port: target.port,
      cert: kubelet.cert,
      key: kubelet.key,
      ca: kubelet.ca,
      // SNI carries host names only; an IP address is checked against the certificate's IP SANs.
      ...(isIP(target.host) ? {} : { servername: target.host }),
    },
    () => {
      const lines = [`${req.method} ${target.path} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i]!;
        if (k.toLowerCase() === 'host' || k.toLowerCase() === 'authorization') continue;
        lines.push(`${k}: ${req.rawHeaders[i + 1]}`);
      }
      lines.push(`Host: ${target.host}:${target.port}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    },
  );
  const fail = (err: Error) => {
    if (!client.destroyed) {
      const body = JSON.stringify(
        ApiError.unavailable(
          `error dialing the kubelet at ${target.host}:${target.port}: ${err.message}`,
        ).toStatus(),
      );
      client.end(
        `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    }
  };
  upstream.on('error', fail);
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
}
