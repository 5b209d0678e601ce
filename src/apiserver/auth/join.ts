/**
 * How a node joins, as with k3s: the agent fetches the cluster CA from `/cacerts` (unauthenticated;
 * the agent checks it against the hash in its join token), then POSTs to
 * `/v1-skiff/node-credentials` with the token as a bearer token and gets back the node's
 * credentials, signed by the cluster CA:
 * - a client certificate `CN=system:node:<name>, O=system:nodes` for its kubelet and kube-proxy;
 * - a serving certificate for its kubelet's HTTPS port, for the node's names and addresses.
 * Both endpoints answer errors as a metav1.Status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { ApiError, FieldError } from '../../api/errors.ts';
import {
  CACERTS_PATH,
  NODE_CREDENTIALS_PATH,
  type NodeCredentials,
  type NodeCredentialsRequest,
  parseJoinToken,
  sameSecret,
} from '../../api/jointoken.ts';
import { readBody } from '../http/body.ts';
import { send } from '../http/respond.ts';
import { issueCertificate, NODES_GROUP } from './pki.ts';

export type PublicHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Checks a credentials request; throws a 422-style ApiError naming the bad field. */
export function validateCredentialsRequest(body: unknown): NodeCredentialsRequest {
  const errors: FieldError[] = [];
  const o = (body ?? {}) as Record<string, unknown>;
  const name = o.nodeName;
  if (typeof name !== 'string' || !name) errors.push(FieldError.required('nodeName'));
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    errors.push(FieldError.invalid('nodeName', name, 'must be a lowercase RFC 1123 subdomain'));
  }
  const list = (field: 'dnsNames' | 'ips', ok: (s: string) => boolean, what: string): string[] => {
    const v = o[field];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      errors.push(FieldError.invalid(field, v, 'must be a list of strings'));
      return [];
    }
    v.forEach((item, i) => {
      if (typeof item !== 'string' || !ok(item))
        errors.push(FieldError.invalid(`${field}[${i}]`, item, what));
    });
    return v.filter((s): s is string => typeof s === 'string');
  };
  const dnsNames = list('dnsNames', (s) => s.length <= 253 && DNS_SUBDOMAIN.test(s), 'must be a DNS name');
  const ips = list('ips', (s) => isIP(s) !== 0, 'must be an IP address');
  if (errors.length) throw ApiError.invalid('skiff.io', 'NodeCredentialsRequest', String(name ?? ''), errors);
  return { nodeName: name as string, dnsNames, ips };
}

/** The two public handlers, keyed by path, for the API server's `publicHandlers` option. */
export function joinHandlers(opts: {
  ca: { cert: string; key: string };
  token: string;
}): Map<string, PublicHandler> {
  const secret = parseJoinToken(opts.token).secret;
  return new Map<string, PublicHandler>([
    [
      CACERTS_PATH,
      async (req, res) => {
        if (req.method !== 'GET')
          throw ApiError.methodNotAllowed(`${req.method} is not allowed on ${CACERTS_PATH}`);
        res.writeHead(200, { 'Content-Type': 'application/x-pem-file', 'Cache-Control': 'no-cache' });
        res.end(opts.ca.cert);
      },
    ],
    [
      NODE_CREDENTIALS_PATH,
      async (req, res) => {
        if (req.method !== 'POST') {
          throw ApiError.methodNotAllowed(`${req.method} is not allowed on ${NODE_CREDENTIALS_PATH}`);
        }
        const auth = req.headers.authorization ?? '';
        let given = '';
        try {
          given = auth.startsWith('Bearer ') ? parseJoinToken(auth.slice(7)).secret : '';
        } catch {
          given = '';
        }
        if (!given || !sameSecret(given, secret)) {
          throw ApiError.unauthorized(
            'the join token is not valid for this server (see DATA_DIR/token on the server)',
          );
        }
        let body: unknown;
        try {
          body = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'));
        } catch {
          throw ApiError.badRequest('the request body must be JSON: {"nodeName": "...", "ips": [...]}');
        }
        const r = validateCredentialsRequest(body);
        const client = await issueCertificate(opts.ca, {
          commonName: `system:node:${r.nodeName}`,
          organizations: [NODES_GROUP],
          usage: 'client',
        });
        const serving = await issueCertificate(opts.ca, {
          commonName: r.nodeName,
          usage: 'server',
          dnsNames: [r.nodeName, ...(r.dnsNames ?? [])],
          ips: ['127.0.0.1', ...(r.ips ?? [])],
        });
        const answer: NodeCredentials = { ca: opts.ca.cert, client, serving };
        send(res, 200, answer);
      },
    ],
  ]);
}
