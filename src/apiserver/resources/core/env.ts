/**
 * Environment variables: ValidateEnv, ValidateEnvFrom and the downward API field and resource
 * selectors they (and downwardAPI volumes) use.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import {
  invalidEach,
  isConfigMapKey,
  isRelaxedEnvVarName,
  nameIsDNSSubdomain,
} from '../../../api/validation.ts';
import { validateQualifiedName } from './common.ts';
import { fe, isObj, type Obj, objItems, optObj, sortedSet, str } from './json.ts';
import { quantity } from './resources.ts';

const validEnvFieldPaths = sortedSet([
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);
export const validVolumeFieldPaths = sortedSet([
  'metadata.name',
  'metadata.namespace',
  'metadata.labels',
  'metadata.annotations',
  'metadata.uid',
]);
const validResourceFieldPaths = sortedSet([
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
]);
const hugePagePrefixes = ['requests.hugepages-', 'limits.hugepages-'];

const downwardLabels = new Set([
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.serviceAccountName',
  'spec.schedulerName',
  'status.phase',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);

/** fieldpath.SplitMaybeSubscriptedPath */
function splitSubscript(fieldPath: string): [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const s = fieldPath.slice(0, -2);
  const i = s.indexOf("['");
  if (i <= 0) return undefined;
  return [s.slice(0, i), s.slice(i + 2)];
}

/** validateObjectFieldSelector */
export function validateObjectFieldSelector(
  fs: Obj,
  expressions: readonly string[],
  path: FieldPath,
): FieldError[] {
  const apiVersion = str(fs.apiVersion);
  const fieldPath = str(fs.fieldPath);
  if (!apiVersion) return [fe.required(path.child('apiVersion'))];
  if (!fieldPath) return [fe.required(path.child('fieldPath'))];
  // podshelper.ConvertDownwardAPIFieldLabel
  let internal = fieldPath;
  let convErr = '';
  const sub = splitSubscript(fieldPath);
  if (apiVersion !== 'v1') convErr = `unsupported pod version: ${apiVersion}`;
  else if (sub) {
    if (sub[0] !== 'metadata.annotations' && sub[0] !== 'metadata.labels')
      convErr = `field label does not support subscript: ${fieldPath}`;
  } else if (fieldPath === 'spec.host') internal = 'spec.nodeName';
  else if (!downwardLabels.has(fieldPath)) convErr = `field label not supported: ${fieldPath}`;
  if (convErr) {
    return [fe.invalid(path.child('fieldPath'), fieldPath, `error converting fieldPath: ${convErr}`)];
  }
  if (sub) {
    if (sub[0] === 'metadata.annotations') return validateQualifiedName(sub[1].toLowerCase(), path);
    if (sub[0] === 'metadata.labels') return validateQualifiedName(sub[1], path);
    return [fe.invalid(path, sub[0], 'does not support subscript')];
  }
  if (!expressions.includes(internal))
    return [fe.notSupported(path.child('fieldPath'), internal, expressions)];
  return [];
}

const cpuDivisors = new Set(['1m', '1']);
const byteDivisors = new Set([
  '1',
  '1k',
  '1M',
  '1G',
  '1T',
  '1P',
  '1E',
  '1Ki',
  '1Mi',
  '1Gi',
  '1Ti',
  '1Pi',
  '1Ei',
]);
const BYTE_DIVISORS_TEXT = '1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei';

/** validateContainerResourceDivisor */
function validateDivisor(resource: string, divisor: unknown, path: FieldPath): FieldError[] {
  const q = quantity(divisor);
  if (!q || q.isZero()) return [];
  const d = q.toString();
  const p = path.child('divisor');
  const errs: FieldError[] = [];
  switch (resource) {
    case 'limits.cpu':
    case 'requests.cpu':
      if (!cpuDivisors.has(d))
        errs.push(
          fe.invalid(p, resource, "only divisor's values 1m and 1 are supported with the cpu resource"),
        );
      break;
    case 'limits.memory':
    case 'requests.memory':
      if (!byteDivisors.has(d))
        errs.push(
          fe.invalid(
            p,
            resource,
            `only divisor's values ${BYTE_DIVISORS_TEXT} are supported with the memory resource`,
          ),
        );
      break;
    case 'limits.ephemeral-storage':
    case 'requests.ephemeral-storage':
      if (!byteDivisors.has(d))
        errs.push(
          fe.invalid(
            p,
            resource,
            `only divisor's values ${BYTE_DIVISORS_TEXT} are supported with the local ephemeral storage resource`,
          ),
        );
      break;
  }
  if (hugePagePrefixes.some((x) => resource.startsWith(x)) && !byteDivisors.has(d)) {
    errs.push(
      fe.invalid(
        p,
        resource,
        `only divisor's values ${BYTE_DIVISORS_TEXT} are supported with the hugepages resource`,
      ),
    );
  }
  return errs;
}

/** validateContainerResourceFieldSelector */
export function validateResourceFieldSelector(fs: Obj, path: FieldPath, volume: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const resource = str(fs.resource);
  if (volume && !str(fs.containerName)) errs.push(fe.required(path.child('containerName')));
  else if (!resource) errs.push(fe.required(path.child('resource')));
  else if (
    !validResourceFieldPaths.includes(resource) &&
    !hugePagePrefixes.some((x) => resource.startsWith(x))
  ) {
    errs.push(fe.notSupported(path.child('resource'), resource, validResourceFieldPaths));
  }
  errs.push(...validateDivisor(resource, fs.divisor, path));
  return errs;
}

/** validateConfigMapKeySelector / validateSecretKeySelector */
function validateKeySelector(s: Obj, path: FieldPath): FieldError[] {
  const name = str(s.name);
  const key = str(s.key);
  const errs = invalidEach(path.child('name'), name, nameIsDNSSubdomain(name, false));
  if (!key) errs.push(fe.required(path.child('key')));
  else errs.push(...invalidEach(path.child('key'), key, isConfigMapKey(key)));
  return errs;
}

/** ValidateEnv (with RelaxedEnvironmentVariableValidation, GA in 1.34) */
export function validateEnv(env: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [ev, i] of objItems(env)) {
    const p = path.index(i);
    const name = str(ev.name);
    if (!name) errs.push(fe.required(p.child('name')));
    else errs.push(...invalidEach(p.child('name'), name, isRelaxedEnvVarName(name)));
    const from = optObj(ev.valueFrom);
    if (!from) continue;
    const fp = p.child('valueFrom');
    let n = 0;
    if (isObj(from.fieldRef)) {
      n++;
      errs.push(...validateObjectFieldSelector(from.fieldRef, validEnvFieldPaths, fp.child('fieldRef')));
    }
    if (isObj(from.resourceFieldRef)) {
      n++;
      errs.push(...validateResourceFieldSelector(from.resourceFieldRef, fp.child('resourceFieldRef'), false));
    }
    if (isObj(from.configMapKeyRef)) {
      n++;
      errs.push(...validateKeySelector(from.configMapKeyRef, fp.child('configMapKeyRef')));
    }
    if (isObj(from.secretKeyRef)) {
      n++;
      errs.push(...validateKeySelector(from.secretKeyRef, fp.child('secretKeyRef')));
    }
    if (n === 0) {
      errs.push(
        fe.invalid(
          fp,
          '',
          'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
        ),
      );
    } else if (str(ev.value) !== '') {
      errs.push(fe.invalid(fp, '', 'may not be specified when `value` is not empty'));
    } else if (n > 1) {
      errs.push(fe.invalid(fp, '', 'may not have more than one field specified at a time'));
    }
  }
  return errs;
}

/** ValidateEnvFrom */
export function validateEnvFrom(envFrom: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [ev, i] of objItems(envFrom)) {
    const p = path.index(i);
    const prefix = str(ev.prefix);
    if (prefix) errs.push(...invalidEach(p.child('prefix'), prefix, isRelaxedEnvVarName(prefix)));
    let n = 0;
    for (const key of ['configMapRef', 'secretRef'] as const) {
      const ref = ev[key];
      if (!isObj(ref)) continue;
      n++;
      const name = str(ref.name);
      const np = p.child(key).child('name');
      if (!name) errs.push(fe.required(np));
      else errs.push(...invalidEach(np, name, nameIsDNSSubdomain(name, true)));
    }
    if (n === 0) errs.push(fe.invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(fe.invalid(path, '', 'may not have more than one field specified at a time'));
  }
  return errs;
}
