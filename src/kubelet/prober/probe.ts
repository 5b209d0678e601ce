/**
 * Runs one probe (or lifecycle handler) of a container once, as the kubelet's prober does
 * (pkg/probe/{exec,http,tcp,grpc}): exec through CRI ExecSync with the probe's timeout; httpGet to
 * the pod IP (or `host`) with the probe's headers, HTTPS without certificate verification, status
 * 200–399 succeeding; tcpSocket connects; grpc calls grpc.health.v1.Health/Check and succeeds on
 * SERVING. Named ports are looked up in the container's ports.
 */

import https from 'node:https';
import net from 'node:net';
import type {
  Container,
  ExecAction,
  GRPCAction,
  HTTPGetAction,
  Probe,
  TCPSocketAction,
} from 'kubernetes-types/core/v1.js';
import { GrpcChannel, Status as GrpcStatus } from '../../util/grpc.ts';
import { http } from '../../util/node-http.ts';
import { CriError, GrpcCode } from '../cri/errors.ts';
import type { RuntimeService } from '../cri/types.ts';

export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeOutcome {
  result: ProbeResult;
  /** What the kubelet puts in the Unhealthy event: the command's output, the HTTP status… */
  output: string;
}

/** The kubelet's probe User-Agent. */
export const PROBE_USER_AGENT = 'kube-probe/1.30';

export interface ProbeTarget {
  containerId: string;
  container: Container;
  /** Pod IP (the node's for host-network pods). */
  podIP: string;
}

/** A port given by number or by the name of one of the container's ports. */
export function resolvePort(port: number | string | undefined, container: Container): number {
  if (typeof port === 'number') return port;
  if (port === undefined) throw new Error('port is required');
  if (/^[0-9]+$/.test(port)) return Number(port);
  const p = container.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`couldn't find port: ${port} in ${container.name}`);
  return p.containerPort;
}

export async function execProbe(
  cri: RuntimeService,
  containerId: string,
  action: ExecAction,
  timeoutSeconds: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  const cmd = action.command ?? [];
  try {
    const r = await cri.execSync(containerId, cmd, timeoutSeconds, { signal });
    const output = Buffer.concat([r.stdout, r.stderr]).toString('utf8');
    return { result: r.exitCode === 0 ? 'success' : 'failure', output };
  } catch (err) {
    if (err instanceof CriError && err.code === GrpcCode.DEADLINE_EXCEEDED) {
      return { result: 'failure', output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
    }
    return { result: 'unknown', output: err instanceof Error ? err.message : String(err) };
  }
}

function hostForUrl(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}

/** The URL an httpGet action reaches (probe.http's formatURL). */
export function httpUrl(action: HTTPGetAction, target: ProbeTarget): URL {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || target.podIP;
  const port = resolvePort(action.port, target.container);
  let path = action.path ?? '';
  if (path && !path.startsWith('/')) path = `/${path}`;
  return new URL(`${scheme}://${hostForUrl(host)}:${port}${path}`);
}

export function httpProbe(
  action: HTTPGetAction,
  target: ProbeTarget,
  timeoutSeconds: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  let url: URL;
  try {
    url = httpUrl(action, target);
  } catch (err) {
    return Promise.resolve({ result: 'unknown', output: (err as Error).message });
  }
  const headers: Record<string, string> = { 'User-Agent': PROBE_USER_AGENT, Accept: '*/*' };
  for (const h of action.httpHeaders ?? []) {
    const name = Object.keys(headers).find((k) => k.toLowerCase() === h.name.toLowerCase()) ?? h.name;
    headers[name] = h.value;
  }
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(o);
    };
    const req = lib.request(
      url,
      { method: 'GET', headers, rejectUnauthorized: false, agent: false, signal },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 10_240) body += chunk;
        });
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 400) finish({ result: 'success', output: body.slice(0, 10_240) });
          else finish({ result: 'failure', output: `HTTP probe failed with statuscode: ${code}` });
        });
        res.on('error', (err) => finish({ result: 'failure', output: err.message }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({
        result: 'failure',
        output: `Get "${url.href}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
    }, Math.max(1, timeoutSeconds) * 1000);
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish({
        result: 'failure',
        output: `Get "${url.href}": ${dialError(err, url.hostname, Number(url.port))}`,
      }),
    );
    req.end();
  });
}

function dialError(err: NodeJS.ErrnoException, host: string, port: number): string {
  const addr = `${host.replace(/^\[|\]$/g, '')}:${port}`;
  if (err.code === 'ECONNREFUSED') return `dial tcp ${addr}: connect: connection refused`;
  if (err.code === 'EHOSTUNREACH') return `dial tcp ${addr}: connect: no route to host`;
  if (err.code === 'ETIMEDOUT') return `dial tcp ${addr}: i/o timeout`;
  return err.message;
}

export function tcpProbe(
  action: TCPSocketAction,
  target: ProbeTarget,
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  let port: number;
  try {
    port = resolvePort(action.port, target.container);
  } catch (err) {
    return Promise.resolve({ result: 'unknown', output: (err as Error).message });
  }
  const host = action.host || target.podIP;
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ result: 'failure', output: `dial tcp ${host}:${port}: i/o timeout` });
    }, Math.max(1, timeoutSeconds) * 1000);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ result: 'success', output: '' });
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ result: 'failure', output: dialError(err, host, port) });
    });
  });
}

// grpc.health.v1 by hand: HealthCheckRequest { string service = 1 }, HealthCheckResponse
// { ServingStatus status = 1 } (UNKNOWN 0, SERVING 1, NOT_SERVING 2, SERVICE_UNKNOWN 3).
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** HealthCheckRequest{service}. */
export function encodeHealthRequest(service: string): Buffer {
  const s = Buffer.from(service, 'utf8');
  if (s.length === 0) return Buffer.alloc(0);
  const len: number[] = [];
  let n = s.length;
  while (n > 0x7f) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([0x0a, ...len]), s]);
}

/** HealthCheckResponse → its status number (0 when absent). */
export function decodeHealthResponse(buf: Buffer): number {
  let i = 0;
  let status = 0;
  while (i < buf.length) {
    const tag = buf[i++]!;
    const field = tag >> 3;
    const wire = tag & 7;
    if (wire === 0) {
      let v = 0;
      let shift = 0;
      for (;;) {
        const b = buf[i++]!;
        v |= (b & 0x7f) << shift;
        if ((b & 0x80) === 0) break;
        shift += 7;
      }
      if (field === 1) status = v;
    } else if (wire === 2) {
      let len = 0;
      let shift = 0;
      for (;;) {
        const b = buf[i++]!;
        len |= (b & 0x7f) << shift;
        if ((b & 0x80) === 0) break;
        shift += 7;
      }
      i += len;
    } else break;
  }
  return status;
}

const HEALTH_CHECK = '/grpc.health.v1.Health/Check';

/** pkg/probe/grpc: Health/Check on the pod IP, without TLS; SERVING succeeds. */
export async function grpcProbe(
  action: GRPCAction,
  target: ProbeTarget,
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  const channel = new GrpcChannel({ host: target.podIP, port: action.port });
  const addr = channel.address;
  let status: number;
  try {
    const res = await channel.unary(HEALTH_CHECK, encodeHealthRequest(action.service ?? ''), {
      deadlineMs: Math.max(1, timeoutSeconds) * 1000,
    });
    status = decodeHealthResponse(res);
  } catch (err) {
    const e = err as { code?: number; details?: string; message?: string };
    if (e.code === GrpcStatus.DEADLINE_EXCEEDED) {
      return { result: 'failure', output: `timeout: health rpc did not complete within ${timeoutSeconds}s` };
    }
    if (e.code === GrpcStatus.UNAVAILABLE) {
      return {
        result: 'failure',
        output: `timeout: failed to connect service "${addr}" within ${timeoutSeconds}s: ${e.details}`,
      };
    }
    return { result: 'failure', output: `error: health rpc probe failed: ${e.message}` };
  } finally {
    channel.close();
  }
  if (status === 1) return { result: 'success', output: 'service is healthy' };
  return {
    result: 'failure',
    output: `service unhealthy (responded with "${SERVING_STATUS[status] ?? status}")`,
  };
}

/** Runs `probe` once against `target`. */
export async function runProbe(
  cri: RuntimeService,
  probe: Probe,
  target: ProbeTarget,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  const timeout = probe.timeoutSeconds ?? 1;
  if (probe.exec) return execProbe(cri, target.containerId, probe.exec, timeout, signal);
  if (probe.httpGet) return httpProbe(probe.httpGet, target, timeout, signal);
  if (probe.tcpSocket) return tcpProbe(probe.tcpSocket, target, timeout);
  if (probe.grpc) return grpcProbe(probe.grpc, target, timeout);
  return { result: 'unknown', output: 'missing probe handler' };
}
