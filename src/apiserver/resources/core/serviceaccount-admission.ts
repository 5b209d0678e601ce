/**
 * The ServiceAccount admission plugin on pod create (plugin/pkg/admission/serviceaccount): a pod
 * runs as `default` unless it names a service account; that account must exist (the `default` one is
 * waited for briefly, as the controller makes it); and unless the pod or the account opts out with
 * `automountServiceAccountToken: false`, every container and init container gets the projected
 * `kube-api-access-<random>` volume — a bound token, the cluster CA and the namespace — read-only at
 * /var/run/secrets/kubernetes.io/serviceaccount. Mirror pods are left alone and may not name one.
 */
import { ApiError } from '../../../api/errors.ts';
import type { KubeObject } from '../../object.ts';
import type { ResourceHooks } from '../../registry/registry.ts';
import { MIRROR_POD_ANNOTATION } from './annotations.ts';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
/** DefaultAPITokenMountPath. */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** ServiceAccountVolumeName: the prefix of the projected volume's name. */
export const SERVICE_ACCOUNT_VOLUME_PREFIX = 'kube-api-access-';
/** The ConfigMap the root CA publisher keeps in every namespace. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** WarnOnlyBoundTokenExpirationSeconds. */
const TOKEN_EXPIRATION_SECONDS = 3607;

/** names.SimpleNameGenerator's alphabet (no vowels, no confusable characters). */
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

type Obj = Record<string, unknown>;

/** Reads a ServiceAccount; null when it does not exist. */
export type ServiceAccountLookup = (namespace: string, name: string) => Promise<KubeObject | null>;

export interface ServiceAccountAdmissionOptions {
  /** Lookups of `default` before giving up (10, as upstream; the controller creates it). */
  defaultAttempts?: number;
  /** Wait between lookups, ms (upstream: 100–200 ms). */
  retryIntervalMs?: () => number;
  /** Five random name characters (tests pin them). */
  randomSuffix?: () => string;
}

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}

function isMirrorPod(pod: KubeObject): boolean {
  return pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined;
}

function specOf(pod: KubeObject): Obj {
  if (typeof pod.spec !== 'object' || pod.spec === null) pod.spec = {};
  return pod.spec as Obj;
}

/**
 * The synchronous part, run before validation (it is part of the pod create strategy here): a pod
 * that names no service account runs as `default`.
 */
export function defaultServiceAccountName(pod: KubeObject): void {
  if (isMirrorPod(pod)) return;
  const spec = specOf(pod);
  if (typeof spec.serviceAccountName !== 'string' || spec.serviceAccountName === '') {
    spec.serviceAccountName = DEFAULT_SERVICE_ACCOUNT;
    // The deprecated field mirrors it (v1 conversion).
    spec.serviceAccount = DEFAULT_SERVICE_ACCOUNT;
  }
}

/** The projected source of the token volume (TokenVolumeSource), with its defaults written out. */
export function tokenVolumeSource(): Obj {
  return {
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ],
  };
}

/** shouldAutomount: the pod's setting wins, then the service account's; default true. */
export function shouldAutomount(sa: KubeObject | null, pod: KubeObject): boolean {
  const podSetting = specOf(pod).automountServiceAccountToken;
  if (typeof podSetting === 'boolean') return podSetting;
  const saSetting = (sa as Obj | null)?.automountServiceAccountToken;
  if (typeof saSetting === 'boolean') return saSetting;
  return true;
}

/** mountServiceAccountToken: the volume (reused if one named kube-api-access-* exists) and the mounts. */
export function mountServiceAccountToken(pod: KubeObject, suffix: () => string = randomSuffix): void {
  const spec = specOf(pod);
  const volumes = (Array.isArray(spec.volumes) ? spec.volumes : []) as Obj[];
  const existing = volumes.find(
    (v) => typeof v.name === 'string' && v.name.startsWith(SERVICE_ACCOUNT_VOLUME_PREFIX),
  );
  const volumeName = (existing?.name as string | undefined) ?? `${SERVICE_ACCOUNT_VOLUME_PREFIX}${suffix()}`;
  let needsVolume = false;
  for (const field of ['initContainers', 'containers']) {
    const containers = spec[field];
    if (!Array.isArray(containers)) continue;
    for (const c of containers as Obj[]) {
      const mounts = (Array.isArray(c.volumeMounts) ? c.volumeMounts : []) as Obj[];
      // A mount at the token path already (the user's own) keeps it.
      if (mounts.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
      c.volumeMounts = [
        ...mounts,
        { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH },
      ];
      needsVolume = true;
    }
  }
  if (!existing && needsVolume)
    spec.volumes = [...volumes, { name: volumeName, projected: tokenVolumeSource() }];
}

/**
 * getServiceAccount: the account, looked up again a few times when it is `default` (the service
 * account controller makes it right after the namespace).
 */
async function findServiceAccount(
  lookup: ServiceAccountLookup,
  namespace: string,
  name: string,
  opts: ServiceAccountAdmissionOptions,
): Promise<KubeObject | null> {
  const attempts = name === DEFAULT_SERVICE_ACCOUNT ? (opts.defaultAttempts ?? 10) : 1;
  const interval = opts.retryIntervalMs ?? (() => 100 + Math.floor(Math.random() * 100));
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, interval()));
    const sa = await lookup(namespace, name);
    if (sa) return sa;
  }
  return null;
}

/** The plugin's Admit on a pod being created (it mutates `pod`); throws 403 Forbidden when it refuses it. */
export async function admitPod(
  pod: KubeObject,
  lookup: ServiceAccountLookup,
  opts: ServiceAccountAdmissionOptions = {},
): Promise<void> {
  const name = pod.metadata.name ?? '';
  const namespace = pod.metadata.namespace ?? '';
  const spec = specOf(pod);
  const forbidden = (reason: string) => ApiError.forbidden({ group: '', resource: 'pods' }, name, reason);
  if (isMirrorPod(pod)) {
    if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName !== '')
      throw forbidden('a mirror pod may not reference service accounts');
    const volumes = (Array.isArray(spec.volumes) ? spec.volumes : []) as Obj[];
    if (volumes.some((v) => v.secret !== undefined))
      throw forbidden('a mirror pod may not reference secrets');
    if (
      volumes.some(
        (v) =>
          Array.isArray((v.projected as Obj | undefined)?.sources) &&
          ((v.projected as Obj).sources as Obj[]).some((s) => s.secret !== undefined),
      )
    )
      throw forbidden('a mirror pod may not reference secrets');
    return;
  }
  defaultServiceAccountName(pod);
  const saName = spec.serviceAccountName as string;
  const sa = await findServiceAccount(lookup, namespace, saName, opts);
  if (!sa)
    throw forbidden(
      `error looking up service account ${namespace}/${saName}: serviceaccount "${saName}" not found`,
    );
  if (shouldAutomount(sa, pod)) mountServiceAccountToken(pod, opts.randomSuffix);
  // The account's image pull secrets, unless the pod has its own.
  const pullSecrets = (sa as Obj).imagePullSecrets;
  const podPull = spec.imagePullSecrets;
  if (
    (!Array.isArray(podPull) || podPull.length === 0) &&
    Array.isArray(pullSecrets) &&
    pullSecrets.length > 0
  ) {
    spec.imagePullSecrets = (pullSecrets as Obj[]).map((s) => ({ name: s.name }));
  }
}

/** The plugin as the pod registry's create hook (it runs for dry runs too: it reserves nothing). */
export function serviceAccountAdmission(
  lookup: ServiceAccountLookup,
  opts: ServiceAccountAdmissionOptions = {},
): ResourceHooks {
  return {
    async beforeCreate(pod) {
      await admitPod(pod, lookup, opts);
      return async () => {};
    },
  };
}
