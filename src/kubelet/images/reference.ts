/**
 * Image references as the kubelet reads them (docker/distribution's reference grammar):
 * `[domain[:port]/]path[:tag][@digest]`, path components lowercase. Used to reject bad names
 * (InvalidImageName), add the default tag, pick the default pull policy and find the registry a
 * pull secret must match.
 */

/** A parsed reference. `domain` is "docker.io" for short names, `path` "library/x" for one-word names. */
export interface ImageReference {
  domain: string;
  path: string;
  tag?: string;
  digest?: string;
}

/** Thrown for a string that is not an image reference. */
export class InvalidReferenceError extends Error {
  override name = 'InvalidReferenceError';
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const NAME_MAX = 255;

function isDomain(s: string): boolean {
  if (/^\[[0-9a-fA-F:]+\](?::\d+)?$/.test(s)) return true; // [ipv6]:port
  const [host, port, ...rest] = s.split(':');
  if (rest.length > 0 || host === undefined) return false;
  if (port !== undefined && !/^\d+$/.test(port)) return false;
  return host.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

/**
 * Parses `ref` as ParseNormalizedNamed does; rejects with InvalidReferenceError ("invalid reference
 * format", "repository name must be lowercase", …).
 */
export function parseImageReference(ref: string): ImageReference {
  if (ref.length === 0) throw new InvalidReferenceError('invalid reference format: empty');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidReferenceError('invalid reference format: bad digest');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError('invalid reference format: bad tag');
  }
  let domain = 'docker.io';
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase()
    ) {
      if (!isDomain(first)) throw new InvalidReferenceError('invalid reference format: bad domain');
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (path.length === 0) throw new InvalidReferenceError('invalid reference format: empty name');
  const components = path.split('/');
  if (!components.every((c) => COMPONENT.test(c))) {
    if (components.every((c) => COMPONENT.test(c.toLowerCase()))) {
      throw new InvalidReferenceError('invalid reference format: repository name must be lowercase');
    }
    throw new InvalidReferenceError('invalid reference format');
  }
  if (domain === 'docker.io' && components.length === 1) path = `library/${path}`;
  if (`${domain}/${path}`.length > NAME_MAX) {
    throw new InvalidReferenceError(`repository name must not be more than ${NAME_MAX} characters`);
  }
  const out: ImageReference = { domain, path };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/**
 * The kubelet's applyDefaultImageTag: `image` with ":latest" appended when it has neither tag nor
 * digest. The name is not otherwise rewritten (the runtime normalises it). Throws
 * InvalidReferenceError for an invalid name.
 */
export function applyDefaultImageTag(image: string): string {
  const ref = parseImageReference(image);
  return ref.tag === undefined && ref.digest === undefined ? `${image}:latest` : image;
}

/** The repository to look credentials up for: "docker.io/library/busybox", "host:5000/x/y". */
export function repositoryOf(image: string): string {
  const ref = parseImageReference(image);
  return `${ref.domain}/${ref.path}`;
}

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/**
 * The API server's default imagePullPolicy: Always when the tag is "latest" or there is neither
 * tag nor digest, otherwise IfNotPresent. An unparsable name gets IfNotPresent (the pull then
 * fails with InvalidImageName anyway).
 */
export function defaultPullPolicy(image: string): PullPolicy {
  let ref: ImageReference;
  try {
    ref = parseImageReference(image);
  } catch {
    return 'IfNotPresent';
  }
  if (ref.digest !== undefined) return ref.tag === 'latest' ? 'Always' : 'IfNotPresent';
  return ref.tag === undefined || ref.tag === 'latest' ? 'Always' : 'IfNotPresent';
}
