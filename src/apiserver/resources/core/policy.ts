/**
 * LimitRange and ResourceQuota: SetDefaults_LimitRangeItem, ValidateLimitRange,
 * ValidateResourceQuota (spec, scopes, scope selector, status) and ValidateResourceQuotaUpdate
 * (scopes are immutable).
 */
import type { FieldError } from '../../../api/errors.ts';
import { FieldPath } from '../../../api/errors.ts';
import { Quantity } from '../../../api/quantity.ts';
import { invalidEach, isQualifiedName } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import type { Strategy } from '../../resource.ts';
import { FIELD_IMMUTABLE } from './common.ts';
import { ensureObj, fe, isObj, jsonEqual, obj, objItems, sortedSet, str, strList } from './json.ts';
import {
  canonicalizeQuantities,
  isOvercommitAllowed,
  isStandardQuotaResourceName,
  resourceList,
  validateContainerResourceName,
  validateQuotaResourceName,
  validateResourceName,
  validateResourceQuantityValue,
} from './resources.ts';
import { o, shapeErrors } from './shape.ts';
import { limitRangeSpec, resourceQuotaSpec, resourceQuotaStatus } from './shapes.ts';

const LIMIT_KEYS = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'];

/** SetDefaults_LimitRangeItem: for Container limits, default ← max, defaultRequest ← default ← min. */
export function defaultLimitRange(lr: KubeObject): void {
  for (const [item] of objItems(obj(lr.spec).limits)) {
    for (const k of LIMIT_KEYS) canonicalizeQuantities(item[k], true);
    if (item.type !== 'Container') continue;
    const def = ensureObj(item, 'default');
    const defReq = ensureObj(item, 'defaultRequest');
    if (!def || !defReq) continue;
    for (const [k, v] of Object.entries(obj(item.max))) if (!(k in def)) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
    for (const [k, v] of Object.entries(obj(item.min))) if (!(k in defReq)) defReq[k] = v;
  }
}

const standardLimitTypes = new Set(['Pod', 'Container', 'PersistentVolumeClaim']);

function validateLimitTypeName(value: string, path: FieldPath): FieldError[] {
  const errs = invalidEach(path, value, isQualifiedName(value));
  if (errs.length) return errs;
  if (!value.includes('/') && !standardLimitTypes.has(value))
    return [fe.invalid(path, value, 'must be a standard limit type or fully qualified')];
  return [];
}

/** Go's %f */
const fixed6 = (n: number) => (Number.isFinite(n) ? n.toFixed(6) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

/** ValidateLimitRange */
export function validateLimitRange(lr: KubeObject): FieldError[] {
  const errs = shapeErrors(lr, o({ spec: limitRangeSpec }), new FieldPath(''));
  if (errs.length) return errs;
  const path = new FieldPath('spec').child('limits');
  const types = new Set<string>();
  const one = Quantity.fromInt(1);
  for (const [limit, i] of objItems(obj(lr.spec).limits)) {
    const p = path.index(i);
    const type = str(limit.type);
    errs.push(...validateLimitTypeName(type, p.child('type')));
    if (types.has(type)) errs.push(fe.duplicate(p.child('type'), type));
    types.add(type);
    const nameFn =
      type === 'Pod' || type === 'Container' ? validateContainerResourceName : validateResourceName;
    const maps: Record<string, Map<string, Quantity>> = {};
    const keys = new Set<string>();
    const collect = (field: string) => {
      const m = new Map(resourceList(limit[field]));
      maps[field] = m;
      for (const k of m.keys()) {
        errs.push(...nameFn(k, p.child(field).key(k)));
        keys.add(k);
      }
    };
    collect('max');
    collect('min');
    if (type === 'Pod') {
      maps.default = new Map();
      maps.defaultRequest = new Map();
      if (Object.keys(obj(limit.default)).length > 0)
        errs.push(fe.forbidden(p.child('default'), "may not be specified when `type` is 'Pod'"));
      if (Object.keys(obj(limit.defaultRequest)).length > 0)
        errs.push(fe.forbidden(p.child('defaultRequest'), "may not be specified when `type` is 'Pod'"));
    } else {
      collect('default');
      collect('defaultRequest');
    }
    if (type === 'PersistentVolumeClaim' && !maps.min?.has('storage') && !maps.max?.has('storage'))
      errs.push(
        fe.required(
          p.child('limits'),
          'either minimum or maximum storage value is required, but neither was provided',
        ),
      );
    collect('maxLimitRequestRatio');
    for (const k of keys) {
      const min = maps.min?.get(k);
      const max = maps.max?.get(k);
      const def = maps.default?.get(k);
      const defReq = maps.defaultRequest?.get(k);
      const ratio = maps.maxLimitRequestRatio?.get(k);
      const s = (q: Quantity) => q.toString();
      if (min && max && min.cmp(max) > 0)
        errs.push(
          fe.invalid(
            p.child('min').key(k),
            s(min),
            `min value ${s(min)} is greater than max value ${s(max)}`,
          ),
        );
      if (defReq && min && min.cmp(defReq) > 0)
        errs.push(
          fe.invalid(
            p.child('defaultRequest').key(k),
            s(defReq),
            `min value ${s(min)} is greater than default request value ${s(defReq)}`,
          ),
        );
      if (defReq && max && defReq.cmp(max) > 0)
        errs.push(
          fe.invalid(
            p.child('defaultRequest').key(k),
            s(defReq),
            `default request value ${s(defReq)} is greater than max value ${s(max)}`,
          ),
        );
      if (defReq && def && defReq.cmp(def) > 0)
        errs.push(
          fe.invalid(
            p.child('defaultRequest').key(k),
            s(defReq),
            `default request value ${s(defReq)} is greater than default limit value ${s(def)}`,
          ),
        );
      if (def && min && min.cmp(def) > 0)
        errs.push(
          fe.invalid(
            p.child('default').key(k),
            s(min),
            `min value ${s(min)} is greater than default value ${s(def)}`,
          ),
        );
      if (def && max && def.cmp(max) > 0)
        errs.push(
          fe.invalid(
            p.child('default').key(k),
            s(max),
            `default value ${s(def)} is greater than max value ${s(max)}`,
          ),
        );
      if (ratio && ratio.cmp(one) < 0)
        errs.push(
          fe.invalid(p.child('maxLimitRequestRatio').key(k), s(ratio), `ratio ${s(ratio)} is less than 1`),
        );
      if (ratio && min && max) {
        const limit = Number(max.milliValue()) / Number(min.milliValue());
        const r = Number(ratio.milliValue()) / 1000;
        if (r > limit)
          errs.push(
            fe.invalid(
              p.child('maxLimitRequestRatio').key(k),
              s(ratio),
              `ratio ${s(ratio)} is greater than max/min = ${fixed6(limit)}`,
            ),
          );
      }
      if (!isOvercommitAllowed(k) && def && defReq && def.cmp(defReq) !== 0)
        errs.push(
          fe.invalid(
            p.child('defaultRequest').key(k),
            s(defReq),
            `default value ${s(def)} must equal to defaultRequest value ${s(defReq)} in ${k}`,
          ),
        );
    }
  }
  return errs;
}

const standardScopes = new Set([
  'Terminating',
  'NotTerminating',
  'BestEffort',
  'NotBestEffort',
  'PriorityClass',
  'CrossNamespacePodAffinity',
  'VolumeAttributesClass',
]);
const podComputeResources = new Set([
  'cpu',
  'memory',
  'limits.cpu',
  'limits.memory',
  'requests.cpu',
  'requests.memory',
]);

/** IsResourceQuotaScopeValidForResource */
function scopeValidFor(scope: string, resource: string): boolean {
  switch (scope) {
    case 'Terminating':
    case 'NotTerminating':
    case 'NotBestEffort':
    case 'PriorityClass':
      return resource === 'pods' || podComputeResources.has(resource);
    case 'BestEffort':
      return resource === 'pods';
    default:
      return true;
  }
}

const conflicting = [
  ['BestEffort', 'NotBestEffort'],
  ['Terminating', 'NotTerminating'],
] as const;

/** ValidateResourceQuotaSpec */
function validateQuotaSpec(spec: unknown, path: FieldPath): FieldError[] {
  const s = obj(spec);
  const errs: FieldError[] = [];
  const hard = resourceList(s.hard);
  for (const [k, q] of hard) {
    const p = path.child('hard').key(k);
    errs.push(...validateQuotaResourceName(k, p), ...validateResourceQuantityValue(k, q, p));
  }
  const hardNames = sortedSet(hard.map(([k]) => k));
  const scopes = strList(s.scopes);
  if (scopes.length) {
    const sp = path.child('scopes');
    for (const scope of scopes) {
      if (!standardScopes.has(scope)) errs.push(fe.invalid(sp, scopes, 'unsupported scope'));
      for (const k of hardNames) {
        if (isStandardQuotaResourceName(k) && !scopeValidFor(scope, k))
          errs.push(fe.invalid(sp, scopes, 'unsupported scope applied to resource'));
      }
    }
    for (const [a, b] of conflicting) {
      if (scopes.includes(a) && scopes.includes(b)) errs.push(fe.invalid(sp, scopes, 'conflicting scopes'));
    }
  }
  if (isObj(s.scopeSelector)) {
    const mp = path.child('scopeSelector').child('matchExpressions');
    const seen = new Set<string>();
    for (const [req] of objItems(s.scopeSelector.matchExpressions)) {
      const scope = str(req.scopeName);
      const op = str(req.operator);
      const values = strList(req.values);
      if (!standardScopes.has(scope))
        errs.push(fe.invalid(mp.child('scopeName'), scope, 'unsupported scope'));
      for (const k of hardNames) {
        if (isStandardQuotaResourceName(k) && !scopeValidFor(scope, k))
          errs.push(fe.invalid(mp, s.scopeSelector, 'unsupported scope applied to resource'));
      }
      if (
        [
          'BestEffort',
          'NotBestEffort',
          'Terminating',
          'NotTerminating',
          'CrossNamespacePodAffinity',
        ].includes(scope) &&
        op !== 'Exists'
      )
        errs.push(
          fe.invalid(
            mp.child('operator'),
            op,
            "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
          ),
        );
      switch (op) {
        case 'In':
        case 'NotIn':
          if (values.length === 0)
            errs.push(
              fe.required(
                mp.child('values'),
                "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
              ),
            );
          break;
        case 'Exists':
        case 'DoesNotExist':
          if (values.length !== 0)
            errs.push(
              fe.invalid(
                mp.child('values'),
                values,
                "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
              ),
            );
          break;
        default:
          errs.push(fe.invalid(mp.child('operator'), op, 'not a valid selector operator'));
      }
      seen.add(scope);
    }
    for (const [a, b] of conflicting) {
      if (seen.has(a) && seen.has(b)) errs.push(fe.invalid(mp, scopes, 'conflicting scopes'));
    }
  }
  return errs;
}

/** ValidateResourceQuotaStatus */
function validateQuotaStatus(status: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of ['hard', 'used']) {
    for (const [k, q] of resourceList(obj(status)[key])) {
      const p = path.child(key).key(k);
      errs.push(...validateQuotaResourceName(k, p), ...validateResourceQuantityValue(k, q, p));
    }
  }
  return errs;
}

export function defaultResourceQuota(rq: KubeObject): void {
  canonicalizeQuantities(obj(rq.spec).hard);
  canonicalizeQuantities(obj(rq.status).hard);
  canonicalizeQuantities(obj(rq.status).used);
}

/** ValidateResourceQuota (metadata aside) */
export function validateResourceQuota(rq: KubeObject): FieldError[] {
  const errs = shapeErrors(
    rq,
    o({ spec: resourceQuotaSpec, status: resourceQuotaStatus }),
    new FieldPath(''),
  );
  if (errs.length) return errs;
  return [
    ...validateQuotaSpec(rq.spec, new FieldPath('spec')),
    ...validateQuotaStatus(rq.status, new FieldPath('status')),
  ];
}

/** ValidateResourceQuotaUpdate: scopes may not change. */
export function validateResourceQuotaUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  const a = sortedSet(strList(obj(next.spec).scopes));
  const b = sortedSet(strList(obj(old.spec).scopes));
  return jsonEqual(a, b)
    ? []
    : [fe.invalid(new FieldPath('spec').child('scopes'), strList(obj(next.spec).scopes), FIELD_IMMUTABLE)];
}

export function limitRangeStrategy(): Partial<Strategy> {
  return { defaults: defaultLimitRange, validate: (lr) => validateLimitRange(lr) };
}

export function resourceQuotaStrategy(): Partial<Strategy> {
  return {
    defaults: defaultResourceQuota,
    validate: (rq) => validateResourceQuota(rq),
    validateUpdate: (n, o2, ctx) => (ctx.subresource === 'status' ? [] : validateResourceQuotaUpdate(n, o2)),
  };
}
