/**
 * apps/v1 DaemonSet and ControllerRevision: SetDefaults_DaemonSet, ValidateDaemonSetSpec and its
 * update/status rules, the template generation kept in the deprecated.daemonset.template.generation
 * annotation (as the apps/v1 conversion of spec.templateGeneration does), and
 * ValidateControllerRevision (pkg/apis/apps/v1, pkg/apis/apps/validation,
 * pkg/registry/apps/daemonset/strategy.go).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { validateLabelSelector } from '../../../api/labels.ts';
import type { KubeObject } from '../../object.ts';
import {
  asSelector,
  collisionCountDecrement,
  immutable,
  intOrPercentValue,
  isNotMoreThan100Percent,
  type KindRules,
  nonNegative,
  nonNegativeFields,
  objSpec,
  objStatus,
  ROOT,
  SPEC,
  selectorSize,
  semanticEqual,
  toLabelSelector,
  validatePositiveIntOrPercent,
} from './common.ts';
import { selectorImmutable } from './deployment.ts';
import {
  goIntOrString,
  goInvalid,
  goLabelSelector,
  goNotSupported,
  goPointer,
  goScalar,
  goStruct,
} from './gofmt.ts';
import { defaultEmpty, defaultUnset, ensureObj, fe, isSet, type Obj, obj, str } from './json.ts';
import type { PodTemplateHelpers } from './podtemplate.ts';
import { labelSelectorShape, o, podTemplateShape, shapeErrors } from './shape.ts';
import { alwaysRestartRules, defaultPodTemplate, selectorMismatch, templateLabels } from './template.ts';

/** The annotation apps/v1 carries the internal spec.templateGeneration in. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

const daemonSetShape = o({
  spec: o({
    selector: labelSelectorShape,
    template: podTemplateShape,
    updateStrategy: o({
      type: 'string',
      rollingUpdate: o({ maxUnavailable: 'intstr', maxSurge: 'intstr' }),
    }),
    minReadySeconds: 'int32',
    revisionHistoryLimit: 'int32',
  }),
});

const daemonSetStatusShape = o({
  status: o({
    currentNumberScheduled: 'int32',
    numberMisscheduled: 'int32',
    desiredNumberScheduled: 'int32',
    numberReady: 'int32',
    observedGeneration: 'int64',
    updatedNumberScheduled: 'int32',
    numberAvailable: 'int32',
    numberUnavailable: 'int32',
    collisionCount: 'int32',
  }),
});

export function defaultDaemonSet(obj: KubeObject, pod: PodTemplateHelpers): void {
  const spec = ensureObj(obj, 'spec');
  if (!spec) return;
  const us = ensureObj(spec, 'updateStrategy');
  if (us) {
    defaultEmpty(us, 'type', 'RollingUpdate');
    if (us.type === 'RollingUpdate') {
      const ru = ensureObj(us, 'rollingUpdate');
      if (ru) {
        defaultUnset(ru, 'maxUnavailable', 1);
        defaultUnset(ru, 'maxSurge', 0);
      }
    }
  }
  defaultUnset(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(spec, 'template', pod);
}

/** ValidateRollingUpdateDaemonSet: exactly one of maxUnavailable and maxSurge is non-zero. */
function validateRollingUpdate(ru: Obj, path: FieldPath): FieldError[] {
  const mu = path.child('maxUnavailable');
  const ms = path.child('maxSurge');
  const errs = [
    ...validatePositiveIntOrPercent(ru.maxUnavailable, mu),
    ...validatePositiveIntOrPercent(ru.maxSurge, ms),
    ...isNotMoreThan100Percent(ru.maxUnavailable, mu),
    ...isNotMoreThan100Percent(ru.maxSurge, ms),
  ];
  const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
  const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
  if (hasUnavailable && hasSurge)
    errs.push(
      goInvalid(
        ms,
        ru.maxSurge,
        goIntOrString(ru.maxSurge),
        'may not be set when maxUnavailable is non-zero',
      ),
    );
  else if (!hasUnavailable && !hasSurge) errs.push(fe.required(mu, 'cannot be 0 when maxSurge is 0'));
  return errs;
}

/** ValidateDaemonSetUpdateStrategy */
function validateUpdateStrategy(us: Obj, path: FieldPath): FieldError[] {
  switch (str(us.type)) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate':
      return isSet(us.rollingUpdate)
        ? validateRollingUpdate(obj(us.rollingUpdate), path.child('rollingUpdate'))
        : [fe.required(path.child('rollingUpdate'))];
    default: {
      const rendered = goStruct('apps.DaemonSetUpdateStrategy', [
        ['Type', goScalar(us.type, '""')],
        ['RollingUpdate', goPointer('apps.RollingUpdateDaemonSet', us.rollingUpdate)],
      ]);
      return [goNotSupported(path, us, rendered, ['RollingUpdate', 'OnDelete'])];
    }
  }
}

/** ValidateDaemonSetSpec */
function validateSpec(spec: Obj, pod: PodTemplateHelpers): FieldError[] {
  const selPath = SPEC.child('selector');
  const templatePath = SPEC.child('template');
  const errs = validateLabelSelector(toLabelSelector(spec.selector), selPath);
  const selector = asSelector(spec.selector);
  if (selector && !selector.matches(templateLabels(spec.template).labels))
    errs.push(selectorMismatch(spec.template, templatePath));
  if (isSet(spec.selector) && selectorSize(spec.selector) === 0)
    errs.push(
      goInvalid(
        selPath,
        spec.selector,
        goLabelSelector(spec.selector),
        'empty selector is invalid for daemonset',
      ),
    );
  errs.push(
    ...pod.validatePodTemplateSpec(spec.template, templatePath),
    ...alwaysRestartRules(spec.template, templatePath, 'DaemonSet'),
    ...nonNegative(spec.minReadySeconds, SPEC.child('minReadySeconds')),
    ...validateUpdateStrategy(obj(spec.updateStrategy), SPEC.child('updateStrategy')),
    ...nonNegative(spec.revisionHistoryLimit, SPEC.child('revisionHistoryLimit')),
  );
  return errs;
}

function validateDaemonSet(obj: KubeObject, pod: PodTemplateHelpers): FieldError[] {
  const shape = shapeErrors(obj, daemonSetShape, ROOT);
  return shape.length ? shape : validateSpec(objSpec(obj), pod);
}

/** validateDaemonSetStatus and the collisionCount rule. */
function validateStatusUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, daemonSetStatusShape, ROOT);
  if (shape.length) return shape;
  const status = objStatus(obj);
  return [
    ...nonNegativeFields(status, [
      'currentNumberScheduled',
      'numberMisscheduled',
      'desiredNumberScheduled',
      'numberReady',
      'observedGeneration',
      'updatedNumberScheduled',
      'numberAvailable',
      'numberUnavailable',
      'collisionCount',
    ]),
    ...collisionCountDecrement(status, objStatus(old)),
  ];
}

function setTemplateGeneration(obj: KubeObject, generation: number): void {
  obj.metadata.annotations = {
    ...obj.metadata.annotations,
    [TEMPLATE_GENERATION_ANNOTATION]: String(generation),
  };
}

function templateGeneration(obj: KubeObject): number {
  const v = Number.parseInt(obj.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? '', 10);
  return Number.isFinite(v) ? v : 0;
}

export function daemonSetRules(pod: PodTemplateHelpers): KindRules {
  return {
    defaults: (obj) => defaultDaemonSet(obj, pod),
    prepareForCreate(obj) {
      obj.status = {};
      setTemplateGeneration(obj, 1);
    },
    prepareForUpdate(obj, old) {
      // Compare defaulted templates, as Kubernetes (which defaults while decoding) does.
      defaultDaemonSet(obj, pod);
      const changed = !semanticEqual(objSpec(obj).template, objSpec(old).template);
      setTemplateGeneration(obj, templateGeneration(old) + (changed ? 1 : 0));
    },
    validateCreate: (obj) => validateDaemonSet(obj, pod),
    validateUpdate: (obj, old) => [...validateDaemonSet(obj, pod), ...selectorImmutable(obj, old)],
    validateStatusUpdate: validateStatusUpdate,
  };
}

// ---- ControllerRevision

const controllerRevisionShape = o({ revision: 'int64' });

function validateControllerRevision(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, controllerRevisionShape, ROOT);
  if (shape.length) return shape;
  const errs: FieldError[] = [];
  if (!isSet(obj.data)) errs.push(fe.required(ROOT.child('data'), 'data is mandatory'));
  errs.push(...nonNegative(obj.revision, ROOT.child('revision')));
  return errs;
}

export function controllerRevisionRules(): KindRules {
  return {
    validateCreate: validateControllerRevision,
    validateUpdate: (obj, old) => [
      ...validateControllerRevision(obj),
      ...immutable(obj.data, old.data, ROOT.child('data')),
    ],
  };
}
