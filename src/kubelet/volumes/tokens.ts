/**
 * Service account tokens for projected volumes, as the kubelet's token manager gets them: a
 * TokenRequest (`POST serviceaccounts/<name>/token`) bound to the pod, cached and renewed once 80% of
 * its lifetime has passed (or after 24 h).
 */
import { SERVICE_ACCOUNTS } from '../../client/resources.ts';
import type { RestClient } from '../../client/types.ts';
import { type Clock, systemClock } from '../../util/clock.ts';
import { VolumeError } from '../contracts.ts';

export interface TokenRequestSpec {
  namespace: string;
  serviceAccount: string;
  podName: string;
  podUid: string;
  /** Empty: the API server's own audiences. */
  audience: string;
  expirationSeconds: number;
}

interface TokenRequestStatus {
  status?: { token?: string; expirationTimestamp?: string };
}

const MAX_AGE_MS = 24 * 3600 * 1000;

export class TokenSource {
  readonly #client: RestClient;
  readonly #clock: Clock;
  readonly #cache = new Map<string, { token: string; issued: number; expires: number }>();

  constructor(client: RestClient, clock: Clock = systemClock) {
    this.#client = client;
    this.#clock = clock;
  }

  /** A token for `spec`, requested anew when the cached one is due for renewal. */
  async token(spec: TokenRequestSpec): Promise<string> {
    const key = JSON.stringify([
      spec.namespace,
      spec.serviceAccount,
      spec.podUid,
      spec.audience,
      spec.expirationSeconds,
    ]);
    const now = this.#clock.now();
    const hit = this.#cache.get(key);
    if (hit && now < hit.issued + (hit.expires - hit.issued) * 0.8 && now < hit.issued + MAX_AGE_MS)
      return hit.token;
    let tr: TokenRequestStatus;
    try {
      tr = await this.#client.createSubresource<TokenRequestStatus>(
        SERVICE_ACCOUNTS,
        spec.namespace,
        spec.serviceAccount,
        'token',
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: spec.audience ? [spec.audience] : null,
            expirationSeconds: spec.expirationSeconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: spec.podName, uid: spec.podUid },
          },
        },
      );
    } catch (err) {
      throw new VolumeError(`failed to fetch token: ${(err as Error).message}`);
    }
    const token = tr.status?.token;
    if (!token) throw new VolumeError('failed to fetch token: the TokenRequest returned no token');
    const exp = Date.parse(tr.status?.expirationTimestamp ?? '');
    const expires = Number.isFinite(exp) ? exp : now + spec.expirationSeconds * 1000;
    this.#cache.set(key, { token, issued: now, expires });
    return token;
  }

  /** Drops the tokens of a pod that is gone. */
  forget(podUid: string): void {
    for (const k of this.#cache.keys()) if ((JSON.parse(k) as string[])[2] === podUid) this.#cache.delete(k);
  }
}
