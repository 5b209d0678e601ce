/**
 * The join token a server prints and stores in DATA_DIR/token, and agents pass with `--token`. Its
 * shape is k3s's: `K10<sha256 of the cluster CA bundle, hex>::server:<secret>`. The hash lets an
 * agent trust the server's CA before it has it (it fetches /cacerts unverified, then checks the
 * hash); the secret proves to the server that the agent may join. A bare secret (no `K10` prefix)
 * is accepted too; the agent then cannot pin the CA and says so.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface JoinToken {
  /** Hex SHA-256 of the CA bundle's PEM text, or undefined for a bare secret. */
  caHash?: string;
  secret: string;
}

/** Hex SHA-256 of a CA bundle, as the token carries it. */
export function caHash(caPem: string): string {
  return createHash('sha256').update(caPem).digest('hex');
}

/** A new token for a cluster CA: a 32-byte random secret. */
export function newJoinToken(caPem: string): string {
  return formatJoinToken({ caHash: caHash(caPem), secret: randomBytes(32).toString('hex') });
}

export function formatJoinToken(t: JoinToken): string {
  return t.caHash ? `K10${t.caHash}::server:${t.secret}` : t.secret;
}

/** Parses a token; throws an Error that says what is wrong with a malformed one. */
export function parseJoinToken(text: string): JoinToken {
  const token = text.trim();
  if (!token.startsWith('K10')) {
    if (!token || /\s/.test(token)) throw new Error('the join token is empty or contains spaces');
    return { secret: token };
  }
  const m = /^K10([0-9a-f]{64})::[^:]+:(.+)$/.exec(token);
  if (!m) throw new Error('the join token is malformed: expected K10<ca-hash>::server:<secret>');
  return { caHash: m[1]!, secret: m[2]! };
}

/** Constant-time comparison of the secrets of two tokens. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const CACERTS_PATH = '/cacerts';
export const NODE_CREDENTIALS_PATH = '/v1-skiff/node-credentials';

/** What an agent sends to get its credentials. */
export interface NodeCredentialsRequest {
  nodeName: string;
  /** Names and addresses its kubelet serves on (the serving certificate's SANs). */
  dnsNames?: string[];
  ips?: string[];
}

/** What the server answers: the cluster CA and the node's client and kubelet serving certificates. */
export interface NodeCredentials {
  ca: string;
  client: { cert: string; key: string };
  serving: { cert: string; key: string };
}
