/**
 * Service account tokens: the signer kube-apiserver uses for TokenRequest
 * (`--service-account-signing-key-file`, `--service-account-issuer`) and the authenticator that
 * accepts them as bearer tokens (`--service-account-key-file`, `--api-audiences`): signature, time,
 * audience, and — as the legacy validator does — that the service account and the object the token
 * is bound to still exist with the UIDs in the token.
 */
import type { KeyObject } from 'node:crypto';
import type { KubeObject } from '../../object.ts';
import type { TokenAuthenticator, UserInfo } from '../../server.ts';
import {
  audiencesOf,
  type ClaimsInput,
  DEFAULT_ISSUER,
  kubernetesClaim,
  serviceAccountClaims,
  serviceAccountGroups,
  serviceAccountUsername,
  type TokenClaims,
} from './claims.ts';
import { decodeJwt, keyIdOf, privateKeyOf, publicKeyOf, signJwt, verifyJwtSignature } from './jwt.ts';

/** go-jose's jwt.DefaultLeeway: clock skew tolerated on exp/nbf/iat, and on deletion times. */
export const LEEWAY_SECONDS = 60;

export interface ServiceAccountTokenOptions {
  /** PEM private key that signs tokens (`--service-account-signing-key-file`). */
  signingKey: string | KeyObject;
  /** PEM public keys that verify tokens (`--service-account-key-file`); default: the signing key's. */
  publicKeys?: (string | KeyObject)[];
  /** `--service-account-issuer` (default https://kubernetes.default.svc.cluster.local). */
  issuer?: string;
  /** `--api-audiences`: audiences the API server accepts, and TokenRequest's default (default [issuer]). */
  audiences?: string[];
  /** `--service-account-extend-token-expiration` (default true): pod-bound 3607 s tokens last a year. */
  extendExpiration?: boolean;
  /** `--service-account-max-token-expiration` in seconds; 0/undefined: no limit. */
  maxExpirationSeconds?: number;
}

/** Reads the objects a token names; null when absent. */
export type ObjectGetter = (
  resource: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes',
  namespace: string,
  name: string,
) => Promise<KubeObject | null>;

/** Who a valid token authenticates. */
export interface ServiceAccountInfo {
  namespace: string;
  name: string;
  uid: string;
  podName?: string;
  podUid?: string;
  nodeName?: string;
  nodeUid?: string;
}

/** Why a token that is ours was refused (the request gets a 401). */
export class TokenError extends Error {}

export class ServiceAccountTokens {
  readonly issuer: string;
  readonly audiences: string[];
  readonly extendExpiration: boolean;
  readonly maxExpirationSeconds: number;
  readonly #signingKey: KeyObject;
  readonly #kid: string;
  readonly #publicKeys: KeyObject[];
  readonly #kids: string[];

  constructor(opts: ServiceAccountTokenOptions) {
    this.issuer = opts.issuer ?? DEFAULT_ISSUER;
    this.audiences = opts.audiences?.length ? [...opts.audiences] : [this.issuer];
    this.extendExpiration = opts.extendExpiration ?? true;
    this.maxExpirationSeconds = opts.maxExpirationSeconds ?? 0;
    this.#signingKey = privateKeyOf(opts.signingKey);
    this.#kid = keyIdOf(publicKeyOf(this.#signingKey));
    this.#publicKeys = (opts.publicKeys?.length ? opts.publicKeys : [this.#signingKey]).map(publicKeyOf);
    this.#kids = this.#publicKeys.map(keyIdOf);
  }

  /** Whether `audiences` are exactly the API server's own (TokenRequest extends only those tokens). */
  isApiAudiences(audiences: readonly string[]): boolean {
    const a = new Set(audiences);
    return a.size === this.audiences.length && this.audiences.every((x) => a.has(x));
  }

  /** Claims for a new token, issued by this server. */
  claims(input: ClaimsInput): TokenClaims {
    return serviceAccountClaims(this.issuer, input);
  }

  /** Signs claims into a token (JWS compact serialization, `kid` = the signing key's ID). */
  sign(claims: TokenClaims): string {
    return signJwt(claims as unknown as Record<string, unknown>, this.#signingKey, this.#kid);
  }

  /**
   * Validates a bearer token at `now` (ms): null when it is not a service account token of this
   * issuer (another authenticator may know it); a TokenError when it is one but not valid.
   */
  async validate(token: string, get: ObjectGetter, now: number): Promise<ServiceAccountInfo | null> {
    const jwt = decodeJwt(token);
    if (!jwt || jwt.payload.iss !== this.issuer) return null;
    if (!verifyJwtSignature(jwt, this.#publicKeys, this.#kids)) throw new TokenError('invalid signature');
    const p = jwt.payload;
    const t = Math.floor(now / 1000);
    for (const c of ['exp', 'nbf', 'iat'] as const) {
      if (p[c] !== undefined && typeof p[c] !== 'number') throw new TokenError(`malformed ${c} claim`);
    }
    if (typeof p.exp !== 'number') throw new TokenError('service account token has no expiry');
    if (t - LEEWAY_SECONDS > p.exp) throw new TokenError('service account token has expired');
    if (typeof p.nbf === 'number' && t + LEEWAY_SECONDS < p.nbf)
      throw new TokenError('service account token is not valid yet');
    if (typeof p.iat === 'number' && t + LEEWAY_SECONDS < p.iat)
      throw new TokenError('service account token is issued in the future');
    const auds = audiencesOf(p);
    if (!auds.some((a) => this.audiences.includes(a))) {
      throw new TokenError(
        `token audiences ${JSON.stringify(auds)} is invalid for the target audiences ${JSON.stringify(this.audiences)}`,
      );
    }
    const k = kubernetesClaim(p);
    if (!k) throw new TokenError('service account token claims are malformed');
    return validateBoundObjects(k, get, now);
  }

  /** A TokenAuthenticator for the API server; `onReject` hears why a token of ours was refused. */
  authenticator(
    get: ObjectGetter,
    now: () => number,
    onReject?: (reason: string) => void,
  ): TokenAuthenticator {
    return async (token) => {
      try {
        const info = await this.validate(token, get, now());
        return info ? serviceAccountUser(info) : null;
      } catch (err) {
        onReject?.((err as Error).message);
        return null;
      }
    };
  }
}

/** The user of a service account token. */
export function serviceAccountUser(info: ServiceAccountInfo): UserInfo {
  return {
    name: serviceAccountUsername(info.namespace, info.name),
    groups: [...serviceAccountGroups(info.namespace), 'system:authenticated'],
  };
}

function deletedBefore(obj: KubeObject, cutoff: number): boolean {
  const ts = obj.metadata.deletionTimestamp;
  return typeof ts === 'string' && Date.parse(ts) < cutoff;
}

/**
 * The validator's checks (pkg/serviceaccount/claims.go): the service account, and the pod, secret or
 * node the token is bound to, exist with the UIDs in the token and were not deleted before now
 * minus the leeway.
 */
async function validateBoundObjects(
  k: NonNullable<ReturnType<typeof kubernetesClaim>>,
  get: ObjectGetter,
  now: number,
): Promise<ServiceAccountInfo> {
  const cutoff = now - LEEWAY_SECONDS * 1000;
  const ns = k.namespace;
  const saRef = k.serviceaccount;
  const sa = await get('serviceaccounts', ns, saRef.name);
  if (!sa) throw new TokenError(`serviceaccounts "${saRef.name}" not found`);
  if (deletedBefore(sa, cutoff)) throw new TokenError(`service account ${ns}/${saRef.name} has been deleted`);
  if ((sa.metadata.uid ?? '') !== saRef.uid)
    throw new TokenError(
      `service account UID (${sa.metadata.uid ?? ''}) does not match claim (${saRef.uid})`,
    );
  const info: ServiceAccountInfo = { namespace: ns, name: saRef.name, uid: saRef.uid };
  if (k.secret) {
    const secret = await get('secrets', ns, k.secret.name);
    if (!secret || deletedBefore(secret, cutoff))
      throw new TokenError('service account token has been invalidated');
    if ((secret.metadata.uid ?? '') !== k.secret.uid)
      throw new TokenError(
        `secret UID (${secret.metadata.uid ?? ''}) does not match service account secret ref claim (${k.secret.uid})`,
      );
  }
  if (k.pod) {
    const pod = await get('pods', ns, k.pod.name);
    if (!pod || deletedBefore(pod, cutoff))
      throw new TokenError('service account token has been invalidated');
    if ((pod.metadata.uid ?? '') !== k.pod.uid)
      throw new TokenError(
        `pod UID (${pod.metadata.uid ?? ''}) does not match service account pod ref claim (${k.pod.uid})`,
      );
    info.podName = k.pod.name;
    info.podUid = k.pod.uid;
  }
  if (k.node) {
    if (!k.pod) {
      // A node-bound token: the node must still be there.
      const node = await get('nodes', '', k.node.name);
      if (!node || deletedBefore(node, cutoff))
        throw new TokenError('service account token has been invalidated');
      if ((node.metadata.uid ?? '') !== k.node.uid)
        throw new TokenError(
          `node UID (${node.metadata.uid ?? ''}) does not match service account node ref claim (${k.node.uid})`,
        );
    }
    info.nodeName = k.node.name;
    info.nodeUid = k.node.uid;
  }
  return info;
}
