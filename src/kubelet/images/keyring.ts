/**
 * imagePullSecrets → registry credentials, as the kubelet's credentialprovider keyring does it.
 *
 * Secrets of type kubernetes.io/dockerconfigjson (`.dockerconfigjson`: `{"auths": {KEY: entry}}`)
 * and kubernetes.io/dockercfg (`.dockercfg`: `{KEY: entry}`) are read; an entry has username and
 * password, or `auth` (base64 "user:pass"). A KEY is a registry, optionally with a scheme, a port,
 * a path and `*` globs in the host ("https://index.docker.io/v1/", "*.example.com", "host:5000/team").
 *
 * `lookup(image)` returns the credentials whose key matches the image's repository — same number
 * of host labels each matching its glob, the same port, the key's path a prefix of the image's —
 * most specific key first; failing that, Docker Hub credentials for an image on Docker Hub.
 * The kubelet tries each in turn and stops at the first successful pull.
 */
import type { Secret } from 'kubernetes-types/core/v1.js';
import type { AuthConfig } from '../cri/types.ts';
import { repositoryOf } from './reference.ts';

export const SECRET_TYPE_DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';
export const SECRET_TYPE_DOCKERCFG = 'kubernetes.io/dockercfg';

/** One registry's credentials from a docker config file. */
interface DockerConfigEntry {
  username?: string;
  password?: string;
  auth?: string;
  email?: string;
  identitytoken?: string;
  registrytoken?: string;
}

const DEFAULT_REGISTRY_HOST = 'index.docker.io';

function entryToAuth(e: DockerConfigEntry): AuthConfig | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  let username = typeof e.username === 'string' ? e.username : '';
  let password = typeof e.password === 'string' ? e.password : '';
  if (typeof e.auth === 'string' && e.auth.length > 0) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined; // the kubelet rejects such an entry
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const auth: AuthConfig = { username, password };
  if (typeof e.identitytoken === 'string' && e.identitytoken) auth.identityToken = e.identitytoken;
  if (typeof e.registrytoken === 'string' && e.registrytoken) auth.registryToken = e.registrytoken;
  return auth;
}

/** A registry key, reduced to host[:port][/path] as the keyring indexes it. */
function keyOf(location: string): string | undefined {
  let value = location;
  if (!value.startsWith('https://') && !value.startsWith('http://')) value = `https://${value}`;
  let url: URL;
  try {
    // A '*' is not valid in a WHATWG host; stand it in and put it back.
    url = new URL(value.replaceAll('*', '__glob__'));
  } catch {
    return undefined;
  }
  let path = url.pathname;
  if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
  const host = url.host.replaceAll('__glob__', '*');
  return path.length > 0 && path !== '/' ? host + path : host;
}

/** Matches a glob ('*' within one label) against a host label. */
function labelMatch(glob: string, label: string): boolean {
  const re = new RegExp(
    `^${glob
      .split('*')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^.]*')}$`,
  );
  return re.test(label);
}

function splitHostPort(hostport: string): [string, string] {
  const colon = hostport.lastIndexOf(':');
  return colon >= 0 ? [hostport.slice(0, colon), hostport.slice(colon + 1)] : [hostport, ''];
}

/** URLsMatchStr: does keyring key `key` cover repository `repo` (both schemeless)? */
export function keyMatches(key: string, repo: string): boolean {
  const [keyHostPort, ...keyPath] = key.split('/');
  const [repoHostPort, ...repoPath] = repo.split('/');
  if (keyHostPort === undefined || repoHostPort === undefined) return false;
  const [keyHost, keyPort] = splitHostPort(keyHostPort);
  const [repoHost, repoPort] = splitHostPort(repoHostPort);
  if (keyPort !== repoPort) return false;
  const keyLabels = keyHost.toLowerCase().split('.');
  const repoLabels = repoHost.toLowerCase().split('.');
  if (keyLabels.length !== repoLabels.length) return false;
  if (!keyLabels.every((g, i) => labelMatch(g, repoLabels[i]!))) return false;
  return `/${repoPath.join('/')}`.startsWith(`/${keyPath.join('/')}`);
}

/** Does `repo` (as repositoryOf returns it) live on Docker Hub? */
function isDefaultRegistry(repo: string): boolean {
  const first = repo.split('/')[0] ?? '';
  return first === 'docker.io' || first === DEFAULT_REGISTRY_HOST;
}

/** Credentials from imagePullSecrets, looked up per image. */
export class DockerKeyring {
  readonly #creds = new Map<string, AuthConfig[]>();
  #index: string[] = [];

  /** Adds the entries of a docker config (`{KEY: entry}`) under each KEY. */
  add(config: Record<string, DockerConfigEntry>): void {
    for (const [location, entry] of Object.entries(config)) {
      const key = keyOf(location);
      const auth = entryToAuth(entry);
      if (!key || !auth) continue;
      const list = this.#creds.get(key) ?? [];
      list.push(auth);
      this.#creds.set(key, list);
    }
    // Reverse-sorted, so that longer keys come before their prefixes.
    this.#index = [...this.#creds.keys()].sort().reverse();
  }

  /** The credentials to try for `image`, most specific first; [] when none (pull anonymously). */
  lookup(image: string): AuthConfig[] {
    let repo: string;
    try {
      repo = repositoryOf(image);
    } catch {
      return [];
    }
    const out: AuthConfig[] = [];
    for (const key of this.#index) {
      if (keyMatches(key, repo)) out.push(...(this.#creds.get(key) ?? []));
    }
    if (out.length === 0 && isDefaultRegistry(repo))
      return [...(this.#creds.get(DEFAULT_REGISTRY_HOST) ?? [])];
    return out;
  }
}

/** Reads the docker config in a pull secret; undefined when the secret is of another type or malformed. */
export function dockerConfigOfSecret(secret: Secret): Record<string, DockerConfigEntry> | undefined {
  const decode = (key: string): unknown => {
    const b64 = secret.data?.[key];
    const text = b64 !== undefined ? Buffer.from(b64, 'base64').toString('utf8') : secret.stringData?.[key];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  if (secret.type === SECRET_TYPE_DOCKER_CONFIG_JSON) {
    const parsed = decode('.dockerconfigjson') as { auths?: Record<string, DockerConfigEntry> } | undefined;
    return parsed && typeof parsed.auths === 'object' && parsed.auths !== null ? parsed.auths : undefined;
  }
  if (secret.type === SECRET_TYPE_DOCKERCFG) {
    const parsed = decode('.dockercfg');
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, DockerConfigEntry>)
      : undefined;
  }
  return undefined;
}

/** A keyring from a pod's resolved imagePullSecrets (secrets of other types are ignored). */
export function keyringFromSecrets(secrets: readonly Secret[]): DockerKeyring {
  const keyring = new DockerKeyring();
  for (const secret of secrets) {
    const config = dockerConfigOfSecret(secret);
    if (config) keyring.add(config);
  }
  return keyring;
}

/** The credentials to try when pulling `image` for a pod with these imagePullSecrets. */
export function credentialsFor(secrets: readonly Secret[], image: string): AuthConfig[] {
  return keyringFromSecrets(secrets).lookup(image);
}
