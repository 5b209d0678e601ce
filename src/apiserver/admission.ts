/**
 * The admission plugins of skiff's API server that `skiff server --disable-admission-plugins` can turn
 * off, by their Kubernetes names (kube-apiserver's flag of the same name). Both are on by default,
 * as in Kubernetes:
 * - `ServiceAccount`: a pod without a service account runs as `default`, which must exist, and gets
 *   the projected API token volume (service account tokens are still served and accepted without it);
 * - `DefaultTolerationSeconds`: a pod that does not tolerate the not-ready and unreachable NoExecute
 *   taints gets tolerations for them (--default-not-ready-toleration-seconds and
 *   --default-unreachable-toleration-seconds).
 * Kubernetes' other plugins are not separate steps in skiff, so their names are refused.
 */
export const ADMISSION_PLUGINS = ['DefaultTolerationSeconds', 'ServiceAccount'] as const;

export type AdmissionPlugin = (typeof ADMISSION_PLUGINS)[number];

/** A --disable-admission-plugins value skiff cannot honour. */
export class AdmissionPluginError extends Error {
  constructor(name: string) {
    super(
      `--disable-admission-plugins: "${name}" is not an admission plugin skiff can turn off; the ones it has are ${ADMISSION_PLUGINS.join(', ')}`,
    );
    this.name = 'AdmissionPluginError';
  }
}

/**
 * The plugins a --disable-admission-plugins value names (comma-separated, blanks ignored, as
 * kube-apiserver reads it). Throws {@link AdmissionPluginError} on a name skiff does not have.
 */
export function parseDisabledAdmissionPlugins(value: string | undefined): ReadonlySet<AdmissionPlugin> {
  const out = new Set<AdmissionPlugin>();
  for (const raw of (value ?? '').split(',')) {
    const name = raw.trim();
    if (!name) continue;
    if (!(ADMISSION_PLUGINS as readonly string[]).includes(name)) throw new AdmissionPluginError(name);
    out.add(name as AdmissionPlugin);
  }
  return out;
}
