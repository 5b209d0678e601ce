/**
 * policy/v1 PodDisruptionBudget: ValidatePodDisruptionBudgetSpec (minAvailable xor maxUnavailable,
 * each a non-negative int or a percentage up to 100%, the selector, unhealthyPodEvictionPolicy) and
 * ValidatePodDisruptionBudgetStatusUpdate (pkg/apis/policy/validation).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { validateLabelSelector } from '../../../api/labels.ts';
import { isQualifiedName, regexError } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import {
  isNotMoreThan100Percent,
  type KindRules,
  nonNegativeFields,
  objSpec,
  objStatus,
  ROOT,
  SPEC,
  STATUS,
  toLabelSelector,
  validatePositiveIntOrPercent,
} from './common.ts';
import { goInvalid, goPointer, goStruct } from './gofmt.ts';
import { fe, isSet, num, type Obj, objItems, str } from './json.ts';
import { a, labelSelectorShape, m, o, shapeErrors } from './shape.ts';

const pdbShape = o({
  spec: o({
    minAvailable: 'intstr',
    maxUnavailable: 'intstr',
    selector: labelSelectorShape,
    unhealthyPodEvictionPolicy: 'string',
  }),
});

const pdbStatusShape = o({
  status: o({
    observedGeneration: 'int64',
    disruptedPods: m('string'),
    disruptionsAllowed: 'int32',
    currentHealthy: 'int32',
    desiredHealthy: 'int32',
    expectedPods: 'int32',
    conditions: a(
      o({
        type: 'string',
        status: 'string',
        observedGeneration: 'int64',
        lastTransitionTime: 'string',
        reason: 'string',
        message: 'string',
      }),
    ),
  }),
});

const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

function renderSpec(spec: Obj): string {
  return goStruct('policy.PodDisruptionBudgetSpec', [
    ['MinAvailable', goPointer('intstr.IntOrString', spec.minAvailable)],
    ['Selector', goPointer('v1.LabelSelector', spec.selector)],
    ['MaxUnavailable', goPointer('intstr.IntOrString', spec.maxUnavailable)],
    [
      'UnhealthyPodEvictionPolicy',
      goPointer('policy.UnhealthyPodEvictionPolicyType', spec.unhealthyPodEvictionPolicy),
    ],
  ]);
}

function validatePdb(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, pdbShape, ROOT);
  if (shape.length) return shape;
  const spec = objSpec(obj);
  const errs: FieldError[] = [];
  if (isSet(spec.minAvailable) && isSet(spec.maxUnavailable))
    errs.push(goInvalid(SPEC, spec, renderSpec(spec), 'minAvailable and maxUnavailable cannot be both set'));
  for (const f of ['minAvailable', 'maxUnavailable']) {
    if (!isSet(spec[f])) continue;
    errs.push(
      ...validatePositiveIntOrPercent(spec[f], SPEC.child(f)),
      ...isNotMoreThan100Percent(spec[f], SPEC.child(f)),
    );
  }
  errs.push(...validateLabelSelector(toLabelSelector(spec.selector), SPEC.child('selector')));
  if (isSet(spec.unhealthyPodEvictionPolicy)) {
    const p = str(spec.unhealthyPodEvictionPolicy);
    if (!UNHEALTHY_POD_EVICTION_POLICIES.includes(p))
      errs.push(
        fe.notSupported(SPEC.child('unhealthyPodEvictionPolicy'), p, UNHEALTHY_POD_EVICTION_POLICIES),
      );
  }
  return errs;
}

const CONDITION_REASON_FMT = '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?';
const conditionReasonRe = new RegExp(`^${CONDITION_REASON_FMT}$`);
const CONDITION_REASON_ERR =
  "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'";

/** metav1validation.ValidateConditions */
export function validateConditions(conditions: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  for (const [c, i] of objItems(conditions)) {
    const p = path.index(i);
    const type = str(c.type);
    if (seen.has(type)) errs.push(fe.duplicate(p.child('type'), type));
    seen.add(type);
    errs.push(...isQualifiedName(type).map((msg) => fe.invalid(p.child('type'), type, msg)));
    const status = str(c.status);
    if (!['False', 'True', 'Unknown'].includes(status))
      errs.push(fe.notSupported(p.child('status'), status, ['False', 'True', 'Unknown']));
    const og = num(c.observedGeneration);
    if (og !== undefined && og < 0)
      errs.push(fe.invalid(p.child('observedGeneration'), og, 'must be greater than or equal to zero'));
    if (!isSet(c.lastTransitionTime) || c.lastTransitionTime === '')
      errs.push(fe.required(p.child('lastTransitionTime'), 'must be set'));
    const reason = str(c.reason);
    if (reason === '') errs.push(fe.required(p.child('reason'), 'must be set'));
    else {
      if (!conditionReasonRe.test(reason))
        errs.push(
          fe.invalid(
            p.child('reason'),
            reason,
            regexError(CONDITION_REASON_ERR, CONDITION_REASON_FMT, 'ResourceReason', 'Resource_Reason'),
          ),
        );
      if (reason.length > 1024) errs.push(fe.tooLong(p.child('reason'), 1024));
    }
    if (str(c.message).length > 32 * 1024) errs.push(fe.tooLong(p.child('message'), 32 * 1024));
  }
  return errs;
}

function validatePdbStatusUpdate(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, pdbStatusShape, ROOT);
  if (shape.length) return shape;
  const status = objStatus(obj);
  return [
    ...validateConditions(status.conditions, STATUS.child('conditions')),
    ...nonNegativeFields(status, ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods']),
  ];
}

export function podDisruptionBudgetRules(): KindRules {
  return {
    validateCreate: validatePdb,
    validateUpdate: validatePdb,
    validateStatusUpdate: validatePdbStatusUpdate,
  };
}
