/**
 * The loopback credential: a random bearer token made once per API server process, which the
 * components running inside that process (scheduler, controller manager, …) present on the
 * in-process connections of `ApiServer.loopbackClientConfig()`. It maps to a privileged user, as
 * kube-apiserver's loopback token maps to `system:apiserver` in `system:masters`.
 *
 * Rules:
 * - The token is 256 random bits, made in memory and never written anywhere: no file, no log line,
 *   no JSON (`toJSON`/`inspect` print a placeholder). A new process has a new token.
 * - It is accepted only on the API server's in-process connections (the loopback listener); the
 *   HTTPS port does not know it (unlike kube-apiserver, which also accepts it there), so it is
 *   worthless outside the process even if it leaked.
 * - The comparison takes the same time whatever the presented value.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ADMIN_GROUP } from './pki.ts';

/** The loopback client's user name (kube-apiserver's). */
export const LOOPBACK_USER = 'system:apiserver';

/** Who a request with the loopback token is: `system:apiserver` in `system:masters`. */
export interface LoopbackIdentity {
  name: string;
  groups: string[];
}

export class LoopbackToken {
  readonly #token = randomBytes(32).toString('base64url');
  readonly #expected = Buffer.from(`Bearer ${this.#token}`);

  /** The `Authorization` header value the loopback clients send. */
  authorization(): string {
    return `Bearer ${this.#token}`;
  }

  /**
   * The loopback identity when `header` (a request's Authorization header) carries this token;
   * null otherwise, including when it is absent.
   */
  authenticate(header: string | undefined): LoopbackIdentity | null {
    if (header === undefined) return null;
    const presented = Buffer.from(header.trim());
    // Every token has the same length, so comparing lengths first tells nothing about this one.
    if (presented.length !== this.#expected.length || !timingSafeEqual(presented, this.#expected))
      return null;
    return { name: LOOPBACK_USER, groups: [ADMIN_GROUP] };
  }

  toJSON(): string {
    return '[loopback token]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'LoopbackToken [redacted]';
  }
}
