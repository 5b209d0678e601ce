/**
 * KubeletImageManager: the ImageManager contract (contracts.ts) over the CRI ImageService, as the
 * kubelet's image manager behaves (pkg/kubelet/images/image_manager.go):
 *
 *   - the name must parse; ":latest" is appended when it has neither tag nor digest
 *     (InvalidImageName otherwise);
 *   - policy: the container's imagePullPolicy, or the API default (Always for ":latest" or no tag,
 *     else IfNotPresent). Never → the image must be present (ErrImageNeverPull); IfNotPresent →
 *     pulled only when absent; Always → pulled every time (a cheap manifest check for a registry);
 *   - a failed pull starts a back-off per pod and image (10 s doubling to 5 min). Until it ends,
 *     `ensure` rejects at once with reason ImagePullBackOff and does not call the runtime;
 *   - with several pull credentials, each is tried in order until one pull succeeds;
 *   - concurrent pulls of the same image with the same credentials share one runtime call;
 *   - the events the kubelet records (Pulling, Pulled, Failed, BackOff, ErrImageNeverPull,
 *     InvalidImageName) are passed to `recordEvent`, with the kubelet's messages.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { type Clock, systemClock } from '../../util/clock.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import type { ImageManager } from '../contracts.ts';
import { CriError } from '../cri/errors.ts';
import type { AuthConfig, ImageService } from '../cri/types.ts';
import { Backoff } from './backoff.ts';
import { ImagePullError } from './errors.ts';
import { applyDefaultImageTag, defaultPullPolicy, type PullPolicy } from './reference.ts';

/** An event the kubelet records on the pod, for the container's image. */
export interface ImageEvent {
  type: 'Normal' | 'Warning';
  reason: 'Pulling' | 'Pulled' | 'Failed' | 'BackOff' | 'ErrImageNeverPull' | 'InvalidImageName';
  message: string;
  /** The container the event is about. */
  container: string;
}

export interface ImageManagerOptions {
  images: ImageService;
  clock?: Clock;
  logger?: Logger;
  recordEvent?: (pod: Pod, event: ImageEvent) => void;
  /** First back-off after a failed pull (default 10 s). */
  backoffInitialMs?: number;
  /** Longest back-off (default 5 min). */
  backoffMaxMs?: number;
}

/** The pull policy that applies to a container. */
export function pullPolicyOf(container: Container): PullPolicy {
  const p = container.imagePullPolicy;
  return p === 'Always' || p === 'IfNotPresent' || p === 'Never'
    ? p
    : defaultPullPolicy(container.image ?? '');
}

function shouldPull(policy: PullPolicy, present: boolean): boolean {
  if (policy === 'Never') return false;
  return policy === 'Always' || !present;
}

/** "NOT_FOUND" → "NotFound", as Go's codes.Code prints. */
function goCodeName(codeName: string): string {
  return codeName
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** The error text the kubelet shows for a failed CRI pull ("rpc error: code = … desc = …"). */
function pullErrorText(err: unknown): string {
  if (err instanceof CriError) return `rpc error: code = ${goCodeName(err.codeName)} desc = ${err.details}`;
  return err instanceof Error ? err.message : String(err);
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}

export class KubeletImageManager implements ImageManager {
  readonly #images: ImageService;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #record: (pod: Pod, event: ImageEvent) => void;
  readonly #backoff: Backoff;
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(opts: ImageManagerOptions) {
    this.#images = opts.images;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
    this.#record = opts.recordEvent ?? (() => {});
    this.#backoff = new Backoff(this.#clock, opts.backoffInitialMs ?? 10_000, opts.backoffMaxMs ?? 300_000);
  }

  /** True while pulls of `container`'s image for `pod` are backing off (status ImagePullBackOff). */
  inBackOff(pod: Pod, container: Container): boolean {
    return this.#backoff.isInBackOff(backoffKey(pod, container));
  }

  /** Milliseconds until the next pull of `container`'s image for `pod` may be tried. */
  backOffRemainingMs(pod: Pod, container: Container): number {
    return this.#backoff.remainingMs(backoffKey(pod, container));
  }

  async ensure(pod: Pod, container: Container, auth: AuthConfig[], signal?: AbortSignal): Promise<string> {
    const image = container.image ?? '';
    const event = (type: ImageEvent['type'], reason: ImageEvent['reason'], message: string) =>
      this.#record(pod, { type, reason, message, container: container.name });

    let tagged: string;
    try {
      tagged = applyDefaultImageTag(image);
    } catch (err) {
      const msg = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": ${(err as Error).message}`;
      event('Warning', 'InvalidImageName', msg);
      throw new ImagePullError('InvalidImageName', image, msg, { cause: err });
    }

    const policy = pullPolicyOf(container);
    const present = await this.#images.imageStatus(tagged, { signal });
    if (!shouldPull(policy, present !== undefined)) {
      if (present) {
        event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
        return present.id;
      }
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      event('Warning', 'ErrImageNeverPull', msg);
      throw new ImagePullError('ErrImageNeverPull', image, msg);
    }

    this.#backoff.gc();
    const key = backoffKey(pod, container);
    if (this.#backoff.isInBackOff(key)) {
      const msg = `Back-off pulling image "${image}"`;
      event('Normal', 'BackOff', msg);
      throw new ImagePullError('ImagePullBackOff', image, msg);
    }

    event('Normal', 'Pulling', `Pulling image "${image}"`);
    const began = this.#clock.now();
    let ref: string;
    try {
      ref = await this.#pullWithCredentials(tagged, auth, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      const text = pullErrorText(err);
      event('Warning', 'Failed', `Failed to pull image "${image}": ${text}`);
      const period = this.#backoff.next(key);
      this.#log.debug({ image, backoffMs: period, err: text }, 'image pull failed');
      throw new ImagePullError('ErrImagePull', image, text, { cause: err });
    }
    const took = formatDuration(this.#clock.now() - began);
    const size = (await this.#images.imageStatus(ref, { signal }).catch(() => undefined))?.size;
    event(
      'Normal',
      'Pulled',
      `Successfully pulled image "${image}" in ${took} (${took} including waiting)${size !== undefined ? `. Image size: ${size} bytes.` : ''}`,
    );
    return ref;
  }

  /** Tries each credential in turn (none: anonymous); rejects with the last error, or all of them. */
  async #pullWithCredentials(image: string, auth: AuthConfig[], signal?: AbortSignal): Promise<string> {
    if (auth.length === 0) return this.#pullOnce(image, undefined, signal);
    const errors: unknown[] = [];
    for (const cred of auth) {
      try {
        return await this.#pullOnce(image, cred, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    throw new AggregatePullError(errors);
  }

  /** One runtime pull, shared with concurrent callers pulling the same image with the same credential. */
  #pullOnce(image: string, auth: AuthConfig | undefined, signal?: AbortSignal): Promise<string> {
    const key = `${image}\0${JSON.stringify(auth ?? null)}`;
    let pull = this.#inflight.get(key);
    if (!pull) {
      // The shared call is not tied to one caller's signal; each caller still stops waiting on its own.
      pull = this.#images.pullImage(image, auth).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pull);
    }
    return signal ? abortable(pull, signal) : pull;
  }
}

/** Several failed pulls (one per credential), printed as Go's aggregate error: "[a, b]". */
export class AggregatePullError extends Error {
  override name = 'AggregatePullError';
  readonly errors: unknown[];
  constructor(errors: unknown[]) {
    super(`[${errors.map(pullErrorText).join(', ')}]`);
    this.errors = errors;
  }
}

function backoffKey(pod: Pod, container: Container): string {
  return `${pod.metadata?.uid ?? ''}_${container.image ?? ''}`;
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
