/**
 * The claims of bound service account tokens (k8s.io/kubernetes/pkg/serviceaccount/claims.go): the
 * registered claims (iss, sub, aud, exp, iat, nbf, jti) and the private `kubernetes.io` claim naming
 * the service account and the object the token is bound to (pod, with its node, or secret, or node).
 */
import { randomUUID } from 'node:crypto';

/** The issuer kube-apiserver is given by default (`--service-account-issuer`), as k3s and kubeadm use. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** The pod-bound expiration the ServiceAccount admission plugin asks for: 1 h 7 s (WarnOnlyBoundTokenExpirationSeconds). */
export const WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 3607;

/** How long such tokens really last while `--service-account-extend-token-expiration` is on: a year. */
export const EXPIRATION_EXTENSION_SECONDS = 365 * 24 * 3600;

export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';

export interface ObjectRef {
  name: string;
  uid: string;
}

/** The `kubernetes.io` private claim. */
export interface KubernetesClaim {
  namespace: string;
  serviceaccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  /** Seconds since the epoch after which use of the token is reported as stale (extended tokens). */
  warnafter?: number;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': KubernetesClaim;
}

export interface ClaimsInput {
  serviceAccount: { namespace: string; name: string; uid: string };
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  audiences: string[];
  expirationSeconds: number;
  /** Seconds after which the token is reported stale; 0/undefined: never. */
  warnAfterSeconds?: number;
  /** Issue time, ms since the epoch. */
  now: number;
}

/** `system:serviceaccount:<namespace>:<name>` (serviceaccount.MakeUsername). */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`;
}

/** The groups a service account's user is in (serviceaccount.MakeGroupNames). */
export function serviceAccountGroups(namespace: string): string[] {
  return [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`];
}

/** The claims of a new token (token.Claims): a token binds to a pod (and its node), a secret or a node. */
export function serviceAccountClaims(issuer: string, input: ClaimsInput): TokenClaims {
  if (input.secret && (input.pod || input.node))
    throw new Error('internal error, token can only be bound to one object type');
  const now = Math.floor(input.now / 1000);
  const sa = input.serviceAccount;
  const k8s: KubernetesClaim = { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid } };
  if (input.pod) {
    k8s.pod = { ...input.pod };
    if (input.node) k8s.node = { ...input.node };
  } else if (input.secret) k8s.secret = { ...input.secret };
  else if (input.node) k8s.node = { ...input.node };
  if (input.warnAfterSeconds) k8s.warnafter = now + input.warnAfterSeconds;
  return {
    aud: [...input.audiences],
    exp: now + input.expirationSeconds,
    iat: now,
    iss: issuer,
    jti: randomUUID(),
    'kubernetes.io': k8s,
    nbf: now,
    sub: serviceAccountUsername(sa.namespace, sa.name),
  };
}

function ref(v: unknown): ObjectRef | undefined | null {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null) return null;
  const { name, uid } = v as { name?: unknown; uid?: unknown };
  if (typeof name !== 'string' || !name || (uid !== undefined && typeof uid !== 'string')) return null;
  return { name, uid: uid ?? '' };
}

/** The `kubernetes.io` claim of a verified payload, or null when it is missing or malformed. */
export function kubernetesClaim(payload: Record<string, unknown>): KubernetesClaim | null {
  const k = payload['kubernetes.io'];
  if (typeof k !== 'object' || k === null || Array.isArray(k)) return null;
  const c = k as Record<string, unknown>;
  const sa = ref(c.serviceaccount);
  if (typeof c.namespace !== 'string' || !c.namespace || !sa) return null;
  const out: KubernetesClaim = { namespace: c.namespace, serviceaccount: sa };
  for (const key of ['pod', 'secret', 'node'] as const) {
    const r = ref(c[key]);
    if (r === null) return null;
    if (r) out[key] = r;
  }
  if (typeof c.warnafter === 'number') out.warnafter = c.warnafter;
  return out;
}

/** The `aud` claim as a list (a single string is one audience). */
export function audiencesOf(payload: Record<string, unknown>): string[] {
  const aud = payload.aud;
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}
