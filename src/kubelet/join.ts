/**
 * An agent's credentials: fetched once from the server with the join token (see
 * src/apiserver/auth/join.ts) and kept in DATA_DIR/agent/tls, reused on later starts while they are
 * valid for 90 more days and were issued for this node name.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import {
  CACERTS_PATH,
  caHash,
  NODE_CREDENTIALS_PATH,
  type NodeCredentials,
  type NodeCredentialsRequest,
  parseJoinToken,
} from '../api/jointoken.ts';
import type { Logger } from '../util/log.ts';

const RENEW_BEFORE_MS = 90 * 24 * 3600 * 1000;

/** Thrown when joining fails; the message says what to check. */
export class JoinError extends Error {
  override name = 'JoinError';
}

function httpsCall(
  url: URL,
  opts: {
    method: string;
    ca?: string;
    headers?: Record<string, string>;
    body?: string;
    signal?: AbortSignal;
  },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method,
        headers: opts.headers,
        ...(opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false }),
        signal: opts.signal,
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Asks the server for this node's credentials with the join token. */
export async function fetchNodeCredentials(
  server: string,
  token: string,
  req: NodeCredentialsRequest,
  signal?: AbortSignal,
): Promise<NodeCredentials> {
  const parsed = parseJoinToken(token);
  const base = new URL(server);
  let ca: string;
  try {
    const r = await httpsCall(new URL(CACERTS_PATH, base), { method: 'GET', signal });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    ca = r.body;
  } catch (err) {
    throw new JoinError(
      `cannot reach the server at ${server} for its CA: ${(err as Error).message}; check --server`,
    );
  }
  if (parsed.caHash && caHash(ca) !== parsed.caHash) {
    throw new JoinError(
      `the server at ${server} presented a CA that does not match the join token; check --server and --token`,
    );
  }
  const r = await httpsCall(new URL(NODE_CREDENTIALS_PATH, base), {
    method: 'POST',
    ca,
    headers: { Authorization: `Bearer ${token.trim()}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(req),
    signal,
  }).catch((err: Error) => {
    throw new JoinError(`joining ${server} failed: ${err.message}`);
  });
  if (r.status === 401)
    throw new JoinError(`the server refused the join token; copy it from DATA_DIR/token on the server`);
  if (r.status !== 200)
    throw new JoinError(`joining ${server} failed: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body) as NodeCredentials;
}

/** Files of an agent's credentials. */
export function credentialPaths(agentDir: string) {
  const dir = join(agentDir, 'tls');
  return {
    dir,
    ca: join(dir, 'server-ca.crt'),
    clientCert: join(dir, 'client-kubelet.crt'),
    clientKey: join(dir, 'client-kubelet.key'),
    servingCert: join(dir, 'serving-kubelet.crt'),
    servingKey: join(dir, 'serving-kubelet.key'),
  };
}

function write(path: string, data: string, mode: number): void {
  writeFileSync(`${path}.tmp`, data, { mode });
  renameSync(`${path}.tmp`, path);
}

/** Stores credentials in `agentDir/tls`. */
export function saveCredentials(agentDir: string, c: NodeCredentials): void {
  const p = credentialPaths(agentDir);
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  write(p.clientKey, c.client.key, 0o600);
  write(p.clientCert, c.client.cert, 0o644);
  write(p.servingKey, c.serving.key, 0o600);
  write(p.servingCert, c.serving.cert, 0o644);
  write(p.ca, c.ca, 0o644);
}

/** Stored credentials still good for `nodeName` (and `ips`), or undefined. */
export function loadCredentials(
  agentDir: string,
  nodeName: string,
  ips: string[],
  now = Date.now(),
): NodeCredentials | undefined {
  const p = credentialPaths(agentDir);
  if (![p.ca, p.clientCert, p.clientKey, p.servingCert, p.servingKey].every((f) => existsSync(f)))
    return undefined;
  const c: NodeCredentials = {
    ca: readFileSync(p.ca, 'utf8'),
    client: { cert: readFileSync(p.clientCert, 'utf8'), key: readFileSync(p.clientKey, 'utf8') },
    serving: { cert: readFileSync(p.servingCert, 'utf8'), key: readFileSync(p.servingKey, 'utf8') },
  };
  try {
    const client = new X509Certificate(c.client.cert);
    const serving = new X509Certificate(c.serving.cert);
    if (!client.subject.includes(`CN=system:node:${nodeName}`)) return undefined;
    for (const cert of [client, serving]) {
      if (Date.parse(cert.validTo) - now < RENEW_BEFORE_MS) return undefined;
    }
    for (const ip of ips) if (!serving.checkIP(ip)) return undefined;
  } catch {
    return undefined;
  }
  return c;
}

/** Credentials for this node: the stored ones, or new ones from the server. */
export async function ensureNodeCredentials(opts: {
  agentDir: string;
  server: string;
  token: string;
  nodeName: string;
  ips: string[];
  dnsNames?: string[];
  logger: Logger;
  signal?: AbortSignal;
}): Promise<NodeCredentials> {
  const stored = loadCredentials(opts.agentDir, opts.nodeName, opts.ips);
  if (stored) return stored;
  const creds = await fetchNodeCredentials(
    opts.server,
    opts.token,
    { nodeName: opts.nodeName, ips: opts.ips, dnsNames: opts.dnsNames ?? [] },
    opts.signal,
  );
  saveCredentials(opts.agentDir, creds);
  opts.logger.info({ node: opts.nodeName, server: opts.server }, 'node credentials issued by the server');
  return creds;
}
