/**
 * scheduling.k8s.io/v1 PriorityClass: SetDefaults_PriorityClass (preemptionPolicy) and
 * ValidatePriorityClass / ValidatePriorityClassUpdate: user classes are at most 1e9, "system-"
 * names are reserved for the built-in classes, value and preemptionPolicy are immutable
 * (pkg/apis/scheduling). The one-globalDefault rule is the Priority admission plugin's.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import type { KubeObject } from '../../object.ts';
import { immutable, type KindRules, METADATA, ROOT } from './common.ts';
import { defaultUnset, fe, num0, str } from './json.ts';
import { o, shapeErrors } from './shape.ts';

export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
const SYSTEM_PREFIX = 'system-';

/** The built-in classes (SystemPriorityClasses). */
export const SYSTEM_PRIORITY_CLASSES = [
  { name: 'system-node-critical', value: SYSTEM_CRITICAL_PRIORITY + 1000, globalDefault: false },
  { name: 'system-cluster-critical', value: SYSTEM_CRITICAL_PRIORITY, globalDefault: false },
] as const;

const priorityClassShape = o({
  value: 'int32',
  globalDefault: 'bool',
  description: 'string',
  preemptionPolicy: 'string',
});

/** IsKnownSystemPriorityClass: undefined when it is one, else the reason it is not. */
function knownSystemClassError(name: string, value: number, globalDefault: boolean): string | undefined {
  const spc = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (!spc) return `${name} is not a known system priority class`;
  if (spc.value !== value) return `value of ${spc.name} PriorityClass must be ${spc.value}`;
  if (spc.globalDefault !== globalDefault)
    return `globalDefault of ${spc.name} PriorityClass must be ${spc.globalDefault}`;
  return undefined;
}

/** ValidatePreemptionPolicy */
export function validatePreemptionPolicy(v: unknown, path: FieldPath): FieldError[] {
  const p = str(v);
  if (p === 'PreemptLowerPriority' || p === 'Never') return [];
  if (p === '') return [fe.required(path)];
  return [fe.notSupported(path, p, ['PreemptLowerPriority', 'Never'])];
}

function validatePriorityClass(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, priorityClassShape, ROOT);
  if (shape.length) return shape;
  const errs: FieldError[] = [];
  const name = obj.metadata.name ?? '';
  const value = num0(obj.value);
  if (name.startsWith(SYSTEM_PREFIX)) {
    const err = knownSystemClassError(name, value, obj.globalDefault === true);
    if (err)
      errs.push(
        fe.forbidden(
          METADATA.child('name'),
          `priority class names with '${SYSTEM_PREFIX}' prefix are reserved for system use only. error: ${err}`,
        ),
      );
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(
      fe.forbidden(
        ROOT.child('value'),
        `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`,
      ),
    );
  }
  if (obj.preemptionPolicy !== undefined && obj.preemptionPolicy !== null)
    errs.push(...validatePreemptionPolicy(obj.preemptionPolicy, ROOT.child('preemptionPolicy')));
  return errs;
}

export function priorityClassRules(): KindRules {
  return {
    defaults(obj) {
      defaultUnset(obj, 'preemptionPolicy', 'PreemptLowerPriority');
    },
    validateCreate: validatePriorityClass,
    validateUpdate(obj, old) {
      const errs = validatePriorityClass(obj);
      if (num0(obj.value) !== num0(old.value))
        errs.push(fe.forbidden(ROOT.child('value'), 'may not be changed in an update.'));
      errs.push(...immutable(obj.preemptionPolicy, old.preemptionPolicy, ROOT.child('preemptionPolicy')));
      return errs;
    },
  };
}
