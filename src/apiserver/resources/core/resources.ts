/**
 * Resource names and quantities (pkg/apis/core/helper and the resource parts of
 * pkg/apis/core/validation): which names are standard, integer or overcommittable, request ≤ limit,
 * and the canonical form quantities are stored in.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { parseQuantity, Quantity } from '../../../api/quantity.ts';
import { isQualifiedName } from '../../../api/validation.ts';
import { IS_NEGATIVE, validateDNS1123Label } from './common.ts';
import { arr, fe, isObj, type Obj, obj, str } from './json.ts';

/** The parsed quantity, or undefined for anything that is not one. */
export function quantity(v: unknown): Quantity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  try {
    return parseQuantity(v);
  } catch {
    return undefined;
  }
}

/** The entries of a ResourceList whose values parse. */
export function resourceList(v: unknown): [string, Quantity][] {
  const out: [string, Quantity][] = [];
  for (const [k, x] of Object.entries(obj(v))) {
    const q = quantity(x);
    if (q) out.push([k, q]);
  }
  return out;
}

const MAX_NANO = (1n << 63n) - 1n;

/** Quantity.RoundUp(milli): values finer than 1m are rounded up to the next milli. */
function roundUpMilli(q: Quantity): Quantity {
  const n = q.scaledValue(-9);
  if (n >= MAX_NANO || n <= -MAX_NANO || n % 1_000_000n === 0n) return q;
  return Quantity.fromMilli(q.milliValue(), q.format);
}

/**
 * Rewrites every parseable quantity in a map to its canonical string, as Kubernetes serializes
 * them; `milli` also rounds up to millis (SetDefaults_ResourceList). Unparseable values are kept
 * for validation to report.
 */
export function canonicalizeQuantities(list: unknown, milli = false): void {
  if (!isObj(list)) return;
  for (const [k, x] of Object.entries(list)) {
    const q = quantity(x);
    if (q) list[k] = (milli ? roundUpMilli(q) : q).toString();
  }
}

/** Canonicalizes a single quantity field in place. */
export function canonicalizeQuantityField(o: Obj, key: string): void {
  const q = quantity(o[key]);
  if (q) o[key] = q.toString();
}

// ---- names (pkg/apis/core/helper)

const HUGEPAGES_PREFIX = 'hugepages-';
const REQUESTS_HUGEPAGES_PREFIX = 'requests.hugepages-';

export const isHugePageResourceName = (n: string) => n.startsWith(HUGEPAGES_PREFIX);
const isQuotaHugePageResourceName = (n: string) =>
  n.startsWith(HUGEPAGES_PREFIX) || n.startsWith(REQUESTS_HUGEPAGES_PREFIX);

/** IsNativeResource: unprefixed or in *kubernetes.io/. */
export function isNativeResource(n: string): boolean {
  return !n.includes('/') || n.includes('kubernetes.io/');
}

/** IsExtendedResourceName */
export function isExtendedResourceName(n: string): boolean {
  if (isNativeResource(n) || n.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${n}`).length === 0;
}

/** IsOvercommitAllowed: native and not hugepages. */
export function isOvercommitAllowed(n: string): boolean {
  return isNativeResource(n) && !isHugePageResourceName(n);
}

const standardContainerResources = new Set(['cpu', 'memory', 'ephemeral-storage']);

const standardQuotaResources = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'persistentvolumeclaims',
  'configmaps',
  'services.nodeports',
  'services.loadbalancers',
]);

const standardResources = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'storage',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
]);

const integerResources = new Set([
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
]);

export const isStandardContainerResourceName = (n: string) =>
  standardContainerResources.has(n) || isHugePageResourceName(n);
export const isStandardQuotaResourceName = (n: string) =>
  standardQuotaResources.has(n) || isQuotaHugePageResourceName(n);
export const isStandardResourceName = (n: string) =>
  standardResources.has(n) || isQuotaHugePageResourceName(n);
export const isIntegerResourceName = (n: string) => integerResources.has(n) || isExtendedResourceName(n);

/** validateResourceName */
export function validateResourceName(value: string, path: FieldPath): FieldError[] {
  const errs = isQualifiedName(value).map((msg) => fe.invalid(path, value, msg));
  if (errs.length > 0) return errs;
  if (!value.includes('/') && !isStandardResourceName(value)) {
    return [fe.invalid(path, value, 'must be a standard resource type or fully qualified')];
  }
  return [];
}

/** validateContainerResourceName */
export function validateContainerResourceName(value: string, path: FieldPath): FieldError[] {
  const errs = validateResourceName(value, path);
  if (!value.includes('/')) {
    if (!isStandardContainerResourceName(value)) {
      errs.push(fe.invalid(path, value, 'must be a standard resource for containers'));
    }
  } else if (!isNativeResource(value) && !isExtendedResourceName(value)) {
    errs.push(fe.invalid(path, value, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** ValidateResourceQuotaResourceName */
export function validateQuotaResourceName(value: string, path: FieldPath): FieldError[] {
  const errs = validateResourceName(value, path);
  if (!value.includes('/') && !isStandardQuotaResourceName(value)) {
    errs.push(fe.invalid(path, value, 'must be a standard resource for quota'));
  }
  return errs;
}

/** ValidateResourceQuantityValue: not negative; a whole number for integer resources. */
export function validateResourceQuantityValue(name: string, q: Quantity, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (q.sign() < 0) errs.push(fe.invalid(path, q.toString(), IS_NEGATIVE));
  if (isIntegerResourceName(name) && q.milliValue() % 1000n !== 0n) {
    errs.push(fe.invalid(path, q.toString(), 'must be an integer'));
  }
  return errs;
}

/** ValidatePositiveQuantityValue */
export function validatePositiveQuantity(q: Quantity, path: FieldPath): FieldError[] {
  return q.sign() <= 0 ? [fe.invalid(path, q.toString(), 'must be greater than zero')] : [];
}

/** validateBasicResource */
export function validateBasicResource(q: Quantity, path: FieldPath): FieldError[] {
  return q.value() < 0n ? [fe.invalid(path, Number(q.value()), 'must be a valid resource quantity')] : [];
}

/** IsHugePageResourceValueDivisible */
function hugePageDivisible(name: string, q: Quantity): boolean {
  const size = quantity(name.slice(HUGEPAGES_PREFIX.length));
  if (!size || size.sign() <= 0 || size.milliValue() % 1000n !== 0n) return false;
  return q.value() % size.value() === 0n;
}

/**
 * validateResourceRequirements for a container (validateContainerResourceName) or any other name
 * rule: names, quantities, request ≤ limit (= for hugepages and extended resources), hugepages
 * need cpu or memory, claims name pod.spec.resourceClaims entries.
 */
export function validateResourceRequirements(
  requirements: unknown,
  podClaimNames: ReadonlySet<string>,
  path: FieldPath,
  nameFn: (name: string, p: FieldPath) => FieldError[] = validateContainerResourceName,
): FieldError[] {
  const r = obj(requirements);
  const errs: FieldError[] = [];
  const limPath = path.child('limits');
  const reqPath = path.child('requests');
  const limits = new Map(resourceList(r.limits));
  let limCPUOrMem = false;
  let reqCPUOrMem = false;
  let limHuge = false;
  let reqHuge = false;
  for (const [name, q] of limits) {
    const p = limPath.key(name);
    errs.push(...nameFn(name, p), ...validateResourceQuantityValue(name, q, p));
    if (isHugePageResourceName(name)) {
      limHuge = true;
      if (!hugePageDivisible(name, q)) {
        errs.push(fe.invalid(p, q.toString(), `${q.toString()} is not positive integer multiple of ${name}`));
      }
    }
    if (name === 'cpu' || name === 'memory') limCPUOrMem = true;
  }
  for (const [name, q] of resourceList(r.requests)) {
    const p = reqPath.key(name);
    errs.push(...nameFn(name, p), ...validateResourceQuantityValue(name, q, p));
    const limit = limits.get(name);
    if (limit) {
      if (q.cmp(limit) !== 0 && !isOvercommitAllowed(name)) {
        errs.push(fe.invalid(reqPath, q.toString(), `must be equal to ${name} limit of ${limit.toString()}`));
      } else if (q.cmp(limit) > 0) {
        errs.push(
          fe.invalid(
            reqPath,
            q.toString(),
            `must be less than or equal to ${name} limit of ${limit.toString()}`,
          ),
        );
      }
    } else if (!isOvercommitAllowed(name)) {
      errs.push(fe.required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePageResourceName(name)) {
      reqHuge = true;
      if (!hugePageDivisible(name, q)) {
        errs.push(fe.invalid(p, q.toString(), `${q.toString()} is not positive integer multiple of ${name}`));
      }
    }
    if (name === 'cpu' || name === 'memory') reqCPUOrMem = true;
  }
  if (!limCPUOrMem && !reqCPUOrMem && (reqHuge || limHuge)) {
    errs.push(fe.forbidden(path, 'HugePages require cpu or memory'));
  }
  errs.push(...validateResourceClaimNames(r.claims, podClaimNames, path.child('claims')));
  return errs;
}

/** validateResourceClaimNames */
function validateResourceClaimNames(claims: unknown, podClaimNames: ReadonlySet<string>, path: FieldPath) {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  arr(claims).forEach((c, i) => {
    const name = str(obj(c).name);
    const request = str(obj(c).request);
    const p = path.index(i);
    if (!name) {
      errs.push(fe.required(p));
      return;
    }
    if (names.has(name)) {
      errs.push(fe.duplicate(p, name));
    } else {
      const key = request ? `${name}/${request}` : name;
      if (request) errs.push(...validateDNS1123Label(request, p.child('request')));
      if (names.has(key)) errs.push(fe.duplicate(p, key));
      else if (!request && [...names].some((k) => k.startsWith(`${name}/`))) errs.push(fe.duplicate(p, name));
      names.add(key);
    }
    if (!podClaimNames.has(name)) {
      const list = [...podClaimNames].sort();
      const detail = `must be one of the names in pod.spec.resourceClaims${list.length ? `: ${list.join(', ')}` : ' which is empty'}`;
      errs.push(fe.withDetail('FieldValueNotFound', p, name, detail));
    }
  });
  return errs;
}
