/** The pod-specific annotations: mirror pods, legacy tolerations, deletion cost, seccomp and AppArmor. */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { fe, obj, str, strMap } from './json.ts';
import { validateTolerations } from './scheduling.ts';
import { allContainers } from './security.ts';

export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const TOLERATIONS_ANNOTATION = 'scheduler.alpha.kubernetes.io/tolerations';
const DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
export const APPARMOR_CONTAINER_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

/** GetDeletionCostFromPodAnnotations' parse: a 32-bit decimal integer, no "+" or leading zeros. */
function validDeletionCost(v: string): boolean {
  if (!/^(-[0-9]+|0|[1-9][0-9]*)$/.test(v)) return false;
  const n = Number(v);
  return Number.isInteger(n) && n >= -2147483648 && n <= 2147483647;
}

function validateSeccompAnnotation(p: string, path: FieldPath): FieldError[] {
  if (p === 'runtime/default' || p === 'docker/default' || p === 'unconfined') return [];
  if (p.startsWith('localhost/')) {
    const rest = p.slice('localhost/'.length);
    const errs: FieldError[] = [];
    if (rest.startsWith('/')) errs.push(fe.invalid(path, rest, 'must be a relative path'));
    if (rest.replaceAll('\\', '/').split('/').includes('..'))
      errs.push(fe.invalid(path, rest, "must not contain '..'"));
    return errs;
  }
  return [fe.invalid(path, p, 'must be a valid seccomp profile')];
}

/** ValidatePodSpecificAnnotations, at `path` (metadata.annotations or a template's annotations). */
export function validatePodSpecificAnnotations(
  annotations: unknown,
  spec: unknown,
  path: FieldPath,
): FieldError[] {
  const a = strMap(annotations);
  const s = obj(spec);
  const errs: FieldError[] = [];
  const mirror = a[MIRROR_POD_ANNOTATION];
  if (mirror !== undefined && !str(s.nodeName))
    errs.push(
      fe.invalid(
        path.key(MIRROR_POD_ANNOTATION),
        mirror,
        'must set spec.nodeName if mirror pod annotation is set',
      ),
    );
  const tol = a[TOLERATIONS_ANNOTATION];
  if (tol) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(tol);
    } catch (err) {
      errs.push(fe.invalid(path, TOLERATIONS_ANNOTATION, err instanceof Error ? err.message : String(err)));
    }
    if (Array.isArray(parsed) && parsed.length)
      errs.push(...validateTolerations(parsed, path.child(TOLERATIONS_ANNOTATION)));
  }
  const cost = a[DELETION_COST_ANNOTATION];
  if (cost !== undefined && !validDeletionCost(cost))
    errs.push(fe.invalid(path.key(DELETION_COST_ANNOTATION), cost, 'must be a 32bit integer'));
  if (a[SECCOMP_POD_ANNOTATION] !== undefined)
    errs.push(...validateSeccompAnnotation(a[SECCOMP_POD_ANNOTATION], path.child(SECCOMP_POD_ANNOTATION)));
  for (const [k, v] of Object.entries(a)) {
    if (k.startsWith(SECCOMP_CONTAINER_PREFIX)) errs.push(...validateSeccompAnnotation(v, path.child(k)));
  }
  const containerNames = new Set(allContainers(s, path).map(([c]) => str(c.name)));
  for (const [k, v] of Object.entries(a)) {
    if (!k.startsWith(APPARMOR_CONTAINER_PREFIX)) continue;
    const name = k.slice(APPARMOR_CONTAINER_PREFIX.length);
    if (!containerNames.has(name)) errs.push(fe.invalid(path.key(k), name, 'container not found'));
    if (v !== '' && v !== 'runtime/default' && v !== 'unconfined' && !v.startsWith('localhost/'))
      errs.push(fe.invalid(path.key(k), v, `invalid AppArmor profile name: ${JSON.stringify(v)}`));
  }
  return errs;
}
