/**
 * Kubeconfig files: writing the admin one that `skiff server` leaves in DATA_DIR/kubeconfig.yaml
 * (shaped like k3s's: cluster, context and user all named "default"), and reading any kubeconfig
 * into what an API client needs to connect.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

export const DEFAULT_SERVER = 'https://127.0.0.1:6443';

export interface AdminKubeconfigOptions {
  /** API server URL; default {@link DEFAULT_SERVER}. */
  server?: string;
  /** The cluster CA certificate (PEM). */
  ca: string;
  /** The client certificate and key (PEM). */
  cert: string;
  key: string;
  /** Name of the cluster, user and context; default "default". */
  name?: string;
}

/** The YAML text of an admin kubeconfig with everything inline (`*-data`, base64 of the PEM). */
export function renderKubeconfig(opts: AdminKubeconfigOptions): string {
  const name = opts.name ?? 'default';
  const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: { server: opts.server ?? DEFAULT_SERVER, 'certificate-authority-data': b64(opts.ca) },
      },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    preferences: {},
    users: [{ name, user: { 'client-certificate-data': b64(opts.cert), 'client-key-data': b64(opts.key) } }],
  });
}

/**
 * Writes the admin kubeconfig to `path`, mode 0600, atomically: readers see the old file or the
 * whole new one, never a part.
 */
export function writeKubeconfig(path: string, opts: AdminKubeconfigOptions): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, renderKubeconfig(opts), { mode: 0o600, flush: true });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** What an API client needs from a kubeconfig's context. PEM values are text. */
export interface ClientConfig {
  /** The context used. */
  context: string;
  server: string;
  /** CA certificate(s) to trust; undefined means the system's roots. */
  ca?: string;
  /** Client certificate and key, when the user authenticates with one. */
  cert?: string;
  key?: string;
  /** Bearer token (from `token`, or `tokenFile`, which wins when both are set as in client-go). */
  token?: string;
  /** `insecure-skip-tls-verify`. */
  insecureSkipTlsVerify: boolean;
  /** `tls-server-name`: the name to verify the server's certificate against, when set. */
  tlsServerName?: string;
  /** The context's default namespace, when set. */
  namespace?: string;
}

export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

/**
 * Reads the kubeconfig at `path` and resolves its current context (or `opts.context`). Inline
 * `*-data` fields (base64) win over file paths, which are relative to the kubeconfig's directory.
 * Throws {@link KubeconfigError} when the file or a referenced file is unreadable or malformed.
 */
export function loadKubeconfig(path: string, opts: { context?: string } = {}): ClientConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KubeconfigError(`cannot read kubeconfig ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${path} is not valid YAML: ${(err as Error).message}`);
  }
  if (!isRecord(doc)) throw new KubeconfigError(`kubeconfig ${path} is not a mapping`);
  const base = dirname(resolve(path));
  const where = `kubeconfig ${path}`;

  const contextName = opts.context ?? str(doc['current-context'], `${where}: current-context`);
  if (!contextName) throw new KubeconfigError(`${where} has no current-context`);
  const context = named(doc.contexts, 'context', contextName, where);
  const clusterName = str(context.cluster, `${where}: context ${contextName}: cluster`);
  if (!clusterName) throw new KubeconfigError(`${where}: context ${contextName} names no cluster`);
  const cluster = named(doc.clusters, 'cluster', clusterName, where);
  const userName = str(context.user, `${where}: context ${contextName}: user`);
  const user = userName ? named(doc.users, 'user', userName, where) : {};

  const server = str(cluster.server, `${where}: cluster ${clusterName}: server`);
  if (!server || !URL.canParse(server)) {
    throw new KubeconfigError(`${where}: cluster ${clusterName} has no valid server URL`);
  }
  const cfg: ClientConfig = {
    context: contextName,
    server,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
  const ca = dataOrFile(cluster, 'certificate-authority', base, `${where}: cluster ${clusterName}`);
  if (ca !== undefined) cfg.ca = ca;
  const tlsServerName = str(cluster['tls-server-name'], `${where}: cluster ${clusterName}: tls-server-name`);
  if (tlsServerName) cfg.tlsServerName = tlsServerName;
  const userWhere = `${where}: user ${userName}`;
  const cert = dataOrFile(user, 'client-certificate', base, userWhere);
  const key = dataOrFile(user, 'client-key', base, userWhere);
  if ((cert === undefined) !== (key === undefined)) {
    throw new KubeconfigError(`${userWhere} has a client certificate without a key, or a key without one`);
  }
  if (cert !== undefined && key !== undefined) {
    cfg.cert = cert;
    cfg.key = key;
  }
  const tokenFile = str(user.tokenFile, `${userWhere}: tokenFile`);
  const token = tokenFile
    ? readRef(resolve(base, tokenFile), userWhere).trim()
    : str(user.token, `${userWhere}: token`);
  if (token) cfg.token = token;
  const namespace = str(context.namespace, `${where}: context ${contextName}: namespace`);
  if (namespace) cfg.namespace = namespace;
  return cfg;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new KubeconfigError(`${what} must be a string`);
  return v;
}

/** The `field` mapping of the entry called `name` in the list `list` (contexts, clusters, users). */
function named(list: unknown, field: string, name: string, where: string): Record<string, unknown> {
  const entries = Array.isArray(list) ? list : [];
  const entry = entries.find((e) => isRecord(e) && e.name === name);
  if (!isRecord(entry)) throw new KubeconfigError(`${where} has no ${field} named ${JSON.stringify(name)}`);
  const value = entry[field];
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new KubeconfigError(`${where}: ${field} ${name} is not a mapping`);
  return value;
}

/** `<field>-data` decoded from base64, else the file `<field>` read, else undefined. */
function dataOrFile(
  m: Record<string, unknown>,
  field: string,
  base: string,
  where: string,
): string | undefined {
  const data = str(m[`${field}-data`], `${where}: ${field}-data`);
  if (data) {
    const text = Buffer.from(data, 'base64').toString('utf8');
    if (!text.includes('-----BEGIN'))
      throw new KubeconfigError(`${where}: ${field}-data is not base64 of a PEM`);
    return text;
  }
  const file = str(m[field], `${where}: ${field}`);
  if (!file) return undefined;
  return readRef(isAbsolute(file) ? file : resolve(base, file), where);
}

function readRef(path: string, where: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new KubeconfigError(`${where}: cannot read ${path}: ${(err as Error).message}`);
  }
}
