/**
 * The scheduling parts of a pod spec and of nodes: node selectors and affinity, pod (anti-)affinity,
 * tolerations and taints, topology spread constraints (pkg/apis/core/validation).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { validateLabelSelector } from '../../../api/labels.ts';
import {
  invalidEach,
  isLabelValue,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  validateLabelName,
} from '../../../api/validation.ts';
import { IS_NOT_POSITIVE, toLabelSelector } from './common.ts';
import { fe, isObj, isSet, num, type Obj, obj, objItems, optStr, str, strList } from './json.ts';

/** ValidateNodeSelectorRequirement */
function validateNodeSelectorRequirement(
  rq: Obj,
  allowInvalidValues: boolean,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const values = strList(rq.values);
  const op = str(rq.operator);
  switch (op) {
    case 'In':
    case 'NotIn':
      if (values.length === 0)
        errs.push(fe.required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0)
        errs.push(
          fe.forbidden(
            path.child('values'),
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
          ),
        );
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1)
        errs.push(
          fe.required(path.child('values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"),
        );
      break;
    default:
      errs.push(fe.invalid(path.child('operator'), op, 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(str(rq.key), path.child('key')));
  if (!allowInvalidValues) {
    values.forEach((v, i) => {
      errs.push(...invalidEach(path.child('values').index(i), v, isLabelValue(v)));
    });
  }
  return errs;
}

/** ValidateNodeFieldSelectorRequirement */
function validateNodeFieldSelectorRequirement(rq: Obj, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const values = strList(rq.values);
  const op = str(rq.operator);
  if (op === 'In' || op === 'NotIn') {
    if (values.length !== 1)
      errs.push(
        fe.required(
          path.child('values'),
          "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
        ),
      );
  } else {
    errs.push(fe.invalid(path.child('operator'), op, 'not a valid selector operator'));
  }
  const key = str(rq.key);
  if (key !== 'metadata.name')
    errs.push(fe.invalid(path.child('key'), key, 'not a valid field selector key'));
  else
    values.forEach((v, i) => {
      errs.push(...invalidEach(path.child('values').index(i), v, nameIsDNSSubdomain(v, false)));
    });
  return errs;
}

/** ValidateNodeSelectorTerm */
function validateNodeSelectorTerm(term: Obj, allowInvalidValues: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [rq, j] of objItems(term.matchExpressions))
    errs.push(
      ...validateNodeSelectorRequirement(rq, allowInvalidValues, path.child('matchExpressions').index(j)),
    );
  for (const [rq, j] of objItems(term.matchFields))
    errs.push(...validateNodeFieldSelectorRequirement(rq, path.child('matchFields').index(j)));
  return errs;
}

/** ValidateNodeSelector */
export function validateNodeSelector(ns: Obj, allowInvalidValues: boolean, path: FieldPath): FieldError[] {
  const termPath = path.child('nodeSelectorTerms');
  const terms = objItems(ns.nodeSelectorTerms);
  if (terms.length === 0) return [fe.required(termPath, 'must have at least one node selector term')];
  return terms.flatMap(([t, i]) => validateNodeSelectorTerm(t, allowInvalidValues, termPath.index(i)));
}

function validateWeight(w: unknown, path: FieldPath): FieldError[] {
  const weight = num(w) ?? 0;
  return weight <= 0 || weight > 100 ? [fe.invalid(path, weight, 'must be in the range 1-100')] : [];
}

/** validateLabelKeys (matchLabelKeys / mismatchLabelKeys) */
function validateLabelKeys(keys: string[], selector: unknown, path: FieldPath): FieldError[] {
  if (keys.length === 0) return [];
  if (!isObj(selector)) return [fe.forbidden(path, 'must not be specified when labelSelector is not set')];
  return keys.flatMap((k, i) => validateLabelName(k, path.index(i)));
}

/** validatePodAffinityTerm */
function validatePodAffinityTerm(term: Obj, path: FieldPath): FieldError[] {
  const errs = [
    ...validateLabelSelector(toLabelSelector(term.labelSelector), path.child('labelSelector')),
    ...validateLabelSelector(toLabelSelector(term.namespaceSelector), path.child('namespaceSelector')),
  ];
  for (const ns of strList(term.namespaces))
    errs.push(...invalidEach(path.child('namespace'), ns, nameIsDNSLabel(ns, false)));
  const match = strList(term.matchLabelKeys);
  const mismatch = strList(term.mismatchLabelKeys);
  errs.push(...validateLabelKeys(match, term.labelSelector, path.child('matchLabelKeys')));
  errs.push(...validateLabelKeys(mismatch, term.labelSelector, path.child('mismatchLabelKeys')));
  if (isObj(term.labelSelector)) {
    const sel = toLabelSelector(term.labelSelector);
    const index = new Map(match.map((k, i) => [k, i]));
    const keys = new Set(Object.keys(sel?.matchLabels ?? {}));
    for (const e of sel?.matchExpressions ?? []) {
      const i = index.get(e.key);
      if (i !== undefined && keys.has(e.key))
        errs.push(fe.invalid(path.index(i), e.key, 'exists in both matchLabelKeys and labelSelector'));
      keys.add(e.key);
    }
  }
  const mismatchSet = new Set(mismatch);
  match.forEach((k, i) => {
    if (mismatchSet.has(k))
      errs.push(
        fe.invalid(
          path.child('matchLabelKeys').index(i),
          k,
          'exists in both matchLabelKeys and mismatchLabelKeys',
        ),
      );
  });
  const topologyKey = str(term.topologyKey);
  if (!topologyKey) errs.push(fe.required(path.child('topologyKey'), 'can not be empty'));
  errs.push(...validateLabelName(topologyKey, path.child('topologyKey')));
  return errs;
}

function validatePodAffinity(pa: Obj, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const req = path.child('requiredDuringSchedulingIgnoredDuringExecution');
  for (const [t, i] of objItems(pa.requiredDuringSchedulingIgnoredDuringExecution))
    errs.push(...validatePodAffinityTerm(t, req.index(i)));
  const pref = path.child('preferredDuringSchedulingIgnoredDuringExecution');
  for (const [w, i] of objItems(pa.preferredDuringSchedulingIgnoredDuringExecution)) {
    errs.push(...validateWeight(w.weight, pref.index(i).child('weight')));
    errs.push(...validatePodAffinityTerm(obj(w.podAffinityTerm), pref.index(i).child('podAffinityTerm')));
  }
  return errs;
}

/** validateAffinity */
export function validateAffinity(affinity: unknown, path: FieldPath): FieldError[] {
  if (!isObj(affinity)) return [];
  const errs: FieldError[] = [];
  const na = affinity.nodeAffinity;
  if (isObj(na)) {
    const p = path.child('nodeAffinity');
    const req = na.requiredDuringSchedulingIgnoredDuringExecution;
    if (isObj(req))
      errs.push(
        ...validateNodeSelector(req, false, p.child('requiredDuringSchedulingIgnoredDuringExecution')),
      );
    const pref = p.child('preferredDuringSchedulingIgnoredDuringExecution');
    for (const [t, i] of objItems(na.preferredDuringSchedulingIgnoredDuringExecution)) {
      errs.push(...validateWeight(t.weight, pref.index(i).child('weight')));
      errs.push(...validateNodeSelectorTerm(obj(t.preference), true, pref.index(i).child('preference')));
    }
  }
  if (isObj(affinity.podAffinity))
    errs.push(...validatePodAffinity(affinity.podAffinity, path.child('podAffinity')));
  if (isObj(affinity.podAntiAffinity))
    errs.push(...validatePodAffinity(affinity.podAntiAffinity, path.child('podAntiAffinity')));
  return errs;
}

const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** validateTaintEffect */
export function validateTaintEffect(effect: string, allowEmpty: boolean, path: FieldPath): FieldError[] {
  if (!allowEmpty && effect === '') return [fe.required(path)];
  return taintEffects.includes(effect) ? [] : [fe.notSupported(path, effect, taintEffects)];
}

/** ValidateTolerations */
export function validateTolerations(tolerations: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [t, i] of objItems(tolerations)) {
    const p = path.index(i);
    const key = str(t.key);
    const op = str(t.operator);
    const value = str(t.value);
    const effect = str(t.effect);
    if (key) errs.push(...validateLabelName(key, p.child('key')));
    if (!key && op !== 'Exists')
      errs.push(
        fe.invalid(
          p.child('operator'),
          op,
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    if (isSet(t.tolerationSeconds) && effect !== 'NoExecute')
      errs.push(
        fe.invalid(p.child('effect'), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"),
      );
    switch (op) {
      case 'Equal':
      case '': {
        const msgs = isLabelValue(value);
        if (msgs.length) errs.push(fe.invalid(p.child('operator'), value, msgs.join(';')));
        break;
      }
      case 'Exists':
        if (value)
          errs.push(
            fe.invalid(p.child('operator'), value, "value must be empty when `operator` is 'Exists'"),
          );
        break;
      default:
        errs.push(fe.notSupported(p.child('operator'), op, ['Equal', 'Exists']));
    }
    if (effect) errs.push(...validateTaintEffect(effect, true, p.child('effect')));
  }
  return errs;
}

/** validateNodeTaints */
export function validateTaints(taints: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const unique = new Map<string, Set<string>>();
  for (const [t, i] of objItems(taints)) {
    const p = path.index(i);
    const key = str(t.key);
    const value = str(t.value);
    const effect = str(t.effect);
    errs.push(...validateLabelName(key, p.child('key')));
    const msgs = isLabelValue(value);
    if (msgs.length) errs.push(fe.invalid(p.child('value'), value, msgs.join(';')));
    errs.push(...validateTaintEffect(effect, false, p.child('effect')));
    const keys = unique.get(effect) ?? new Set<string>();
    if (keys.has(key)) {
      errs.push(fe.withDetail('FieldValueDuplicate', p, t, 'taints must be unique by key and effect pair'));
      continue;
    }
    keys.add(key);
    unique.set(effect, keys);
  }
  return errs;
}

const scheduleActions = ['DoNotSchedule', 'ScheduleAnyway'];
const inclusionPolicies = ['Honor', 'Ignore'];

/** validateTopologySpreadConstraints */
export function validateTopologySpreadConstraints(constraints: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const list = objItems(constraints);
  list.forEach(([c, i], pos) => {
    const p = path.index(i);
    const maxSkew = num(c.maxSkew) ?? 0;
    if (maxSkew <= 0) errs.push(fe.invalid(p.child('maxSkew'), maxSkew, IS_NOT_POSITIVE));
    const key = str(c.topologyKey);
    if (!key) errs.push(fe.required(p.child('topologyKey'), 'can not be empty'));
    const action = str(c.whenUnsatisfiable);
    if (!scheduleActions.includes(action))
      errs.push(fe.notSupported(p.child('whenUnsatisfiable'), action, scheduleActions));
    for (const [other] of list.slice(pos + 1)) {
      if (str(other.topologyKey) === key && str(other.whenUnsatisfiable) === action) {
        errs.push(fe.duplicate(p.child('{topologyKey, whenUnsatisfiable}'), `{${key}, ${action}}`));
        break;
      }
    }
    const minDomains = num(c.minDomains);
    if (minDomains !== undefined) {
      if (minDomains <= 0) errs.push(fe.invalid(p.child('minDomains'), minDomains, IS_NOT_POSITIVE));
      if (action !== 'DoNotSchedule')
        errs.push(
          fe.invalid(
            p.child('minDomains'),
            minDomains,
            `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${action}`,
          ),
        );
    }
    for (const f of ['nodeAffinityPolicy', 'nodeTaintsPolicy']) {
      const v = optStr(c[f]);
      if (v !== undefined && !inclusionPolicies.includes(v))
        errs.push(fe.notSupported(p.child(f), v, inclusionPolicies));
    }
    const matchLabelKeys = strList(c.matchLabelKeys);
    if (matchLabelKeys.length) {
      const mp = p.child('matchLabelKeys');
      const sel = toLabelSelector(c.labelSelector);
      const keys = new Set([
        ...Object.keys(sel?.matchLabels ?? {}),
        ...(sel?.matchExpressions ?? []).map((e) => e.key),
      ]);
      if (!sel) errs.push(fe.forbidden(mp, 'must not be specified when labelSelector is not set'));
      matchLabelKeys.forEach((k, j) => {
        errs.push(...validateLabelName(k, mp.index(j)));
        if (keys.has(k))
          errs.push(fe.invalid(mp.index(j), k, 'exists in both matchLabelKeys and labelSelector'));
      });
    }
    errs.push(...validateLabelSelector(toLabelSelector(c.labelSelector), p.child('labelSelector')));
  });
  return errs;
}
