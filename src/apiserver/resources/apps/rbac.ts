/**
 * rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding and ClusterRoleBinding: the v1
 * defaults (roleRef and subject apiGroups) and ValidateRole / ValidateClusterRole /
 * ValidateRoleBinding / ValidateClusterRoleBinding, with roleRef immutable on update
 * (pkg/apis/rbac/v1/defaults.go, pkg/apis/rbac/validation). Escalation checks belong to
 * authorization, not here.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { validateLabelSelector } from '../../../api/labels.ts';
import { isDNS1123Subdomain } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import { asSelector, type KindRules, ROOT, toLabelSelector } from './common.ts';
import { goInvalid, goLabelSelector, goQuote, goStruct } from './gofmt.ts';
import { arr, obj as asObj, defaultEmpty, ensureObj, fe, isSet, type Obj, objItems, str } from './json.ts';
import { a, labelSelectorShape, o, shapeErrors, strs } from './shape.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

const ruleShape = o({
  verbs: strs,
  apiGroups: strs,
  resources: strs,
  resourceNames: strs,
  nonResourceURLs: strs,
});
const roleShape = o({ rules: a(ruleShape) });
const clusterRoleShape = o({
  rules: a(ruleShape),
  aggregationRule: o({ clusterRoleSelectors: a(labelSelectorShape) }),
});
const bindingShape = o({
  roleRef: o({ apiGroup: 'string', kind: 'string', name: 'string' }),
  subjects: a(o({ kind: 'string', apiGroup: 'string', name: 'string', namespace: 'string' })),
});

/** ValidateRBACName (path.IsValidPathSegmentName). */
function pathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
}

/** ValidatePolicyRule */
function validatePolicyRule(rule: Obj, namespaced: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (arr(rule.verbs).length === 0)
    errs.push(fe.required(path.child('verbs'), 'verbs must contain at least one value'));
  const urls = arr(rule.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced)
      errs.push(
        fe.invalid(path.child('nonResourceURLs'), urls, 'namespaced rules cannot apply to non-resource URLs'),
      );
    if (
      arr(rule.apiGroups).length > 0 ||
      arr(rule.resources).length > 0 ||
      arr(rule.resourceNames).length > 0
    )
      errs.push(
        fe.invalid(
          path.child('nonResourceURLs'),
          urls,
          'rules cannot apply to both regular resources and non-resource URLs',
        ),
      );
    return errs;
  }
  if (arr(rule.apiGroups).length === 0)
    errs.push(fe.required(path.child('apiGroups'), 'resource rules must supply at least one api group'));
  if (arr(rule.resources).length === 0)
    errs.push(fe.required(path.child('resources'), 'resource rules must supply at least one resource'));
  return errs;
}

function validateRules(obj: KubeObject, namespaced: boolean): FieldError[] {
  return objItems(obj.rules).flatMap(([rule, i]) =>
    validatePolicyRule(rule, namespaced, ROOT.child('rules').index(i)),
  );
}

function validateRole(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, roleShape, ROOT);
  return shape.length ? shape : validateRules(obj, true);
}

function validateClusterRole(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, clusterRoleShape, ROOT);
  if (shape.length) return shape;
  const errs = validateRules(obj, false);
  if (isSet(obj.aggregationRule)) {
    const path = ROOT.child('aggregationRule').child('clusterRoleSelectors');
    const selectors = arr(asObj(obj.aggregationRule).clusterRoleSelectors);
    if (selectors.length === 0)
      errs.push(fe.required(path, 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    selectors.forEach((sel, i) => {
      errs.push(...validateLabelSelector(toLabelSelector(sel), path.index(i)));
      if (!asSelector(sel))
        errs.push(goInvalid(path.index(i), sel, goLabelSelector(sel), 'invalid label selector.'));
    });
  }
  return errs;
}

/** ValidateRoleBindingSubject */
function validateSubject(subject: Obj, namespaced: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(subject.name);
  const apiGroup = str(subject.apiGroup);
  if (name.length === 0) errs.push(fe.required(path.child('name')));
  switch (str(subject.kind)) {
    case 'ServiceAccount':
      if (name.length > 0)
        errs.push(...isDNS1123Subdomain(name).map((msg) => fe.invalid(path.child('name'), name, msg)));
      if (apiGroup.length > 0) errs.push(fe.notSupported(path.child('apiGroup'), apiGroup, ['']));
      if (!namespaced && str(subject.namespace).length === 0) errs.push(fe.required(path.child('namespace')));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) errs.push(fe.notSupported(path.child('apiGroup'), apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(fe.notSupported(path.child('kind'), str(subject.kind), ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** ValidateRoleBinding / ValidateClusterRoleBinding */
function validateBinding(obj: KubeObject, namespaced: boolean): FieldError[] {
  const shape = shapeErrors(obj, bindingShape, ROOT);
  if (shape.length) return shape;
  const errs: FieldError[] = [];
  const roleRef = asObj(obj.roleRef);
  const refPath = ROOT.child('roleRef');
  const apiGroup = str(roleRef.apiGroup);
  if (apiGroup !== RBAC_GROUP) errs.push(fe.notSupported(refPath.child('apiGroup'), apiGroup, [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  const kind = str(roleRef.kind);
  if (!kinds.includes(kind)) errs.push(fe.notSupported(refPath.child('kind'), kind, kinds));
  const name = str(roleRef.name);
  if (name.length === 0) errs.push(fe.required(refPath.child('name')));
  else errs.push(...pathSegmentName(name).map((msg) => fe.invalid(refPath.child('name'), name, msg)));
  for (const [subject, i] of objItems(obj.subjects))
    errs.push(...validateSubject(subject, namespaced, ROOT.child('subjects').index(i)));
  return errs;
}

function renderRoleRef(ref: Obj): string {
  return goStruct('rbac.RoleRef', [
    ['APIGroup', goQuote(str(ref.apiGroup))],
    ['Kind', goQuote(str(ref.kind))],
    ['Name', goQuote(str(ref.name))],
  ]);
}

function validateBindingUpdate(obj: KubeObject, old: KubeObject, namespaced: boolean): FieldError[] {
  const errs = validateBinding(obj, namespaced);
  const ref = asObj(obj.roleRef);
  const oldRef = asObj(old.roleRef);
  if (['apiGroup', 'kind', 'name'].some((f) => str(ref[f]) !== str(oldRef[f])))
    errs.push(goInvalid(ROOT.child('roleRef'), obj.roleRef, renderRoleRef(ref), 'cannot change roleRef'));
  return errs;
}

/** SetDefaults_RoleBinding / _ClusterRoleBinding and SetDefaults_Subject. */
function defaultBinding(obj: KubeObject): void {
  const ref = ensureObj(obj, 'roleRef');
  if (ref) defaultEmpty(ref, 'apiGroup', RBAC_GROUP);
  for (const [subject] of objItems(obj.subjects)) {
    if (str(subject.apiGroup) !== '') continue;
    if (subject.kind === 'ServiceAccount') subject.apiGroup = '';
    else if (subject.kind === 'User' || subject.kind === 'Group') subject.apiGroup = RBAC_GROUP;
  }
}

export function roleRules(): KindRules {
  return { validateCreate: validateRole };
}

export function clusterRoleRules(): KindRules {
  return { validateCreate: validateClusterRole };
}

export function roleBindingRules(): KindRules {
  return {
    defaults: defaultBinding,
    validateCreate: (obj) => validateBinding(obj, true),
    validateUpdate: (obj, old) => validateBindingUpdate(obj, old, true),
  };
}

export function clusterRoleBindingRules(): KindRules {
  return {
    defaults: defaultBinding,
    validateCreate: (obj) => validateBinding(obj, false),
    validateUpdate: (obj, old) => validateBindingUpdate(obj, old, false),
  };
}
