/**
 * apps/v1 Deployment and ReplicaSet: SetDefaults_Deployment / SetDefaults_ReplicaSet and
 * ValidateDeploymentSpec / ValidateReplicaSetSpec, their status rules, and the strategies'
 * selector immutability (pkg/apis/apps/v1/defaults.go, pkg/apis/apps/validation,
 * pkg/registry/apps/{deployment,replicaset}/strategy.go).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import type { KubeObject } from '../../object.ts';
import {
  collisionCountDecrement,
  immutable,
  intOrPercentValue,
  isNotMoreThan100Percent,
  type KindRules,
  nonNegative,
  nonNegativeFields,
  notGreater,
  objSpec,
  objStatus,
  ROOT,
  SPEC,
  semanticEqual,
  validatePositiveIntOrPercent,
} from './common.ts';
import {
  goIntOrString,
  goInvalid,
  goLabelSelector,
  goNotSupported,
  goPointer,
  goScalar,
  goStruct,
} from './gofmt.ts';
import { defaultEmpty, defaultUnset, ensureObj, fe, isSet, num, num0, type Obj, obj } from './json.ts';
import type { PodTemplateHelpers } from './podtemplate.ts';
import { a, labelSelectorShape, o, podTemplateShape, shapeErrors } from './shape.ts';
import { defaultPodTemplate, validateReplicaSetTemplate, validateRequiredSelector } from './template.ts';

const deploymentShape = o({
  spec: o({
    replicas: 'int32',
    selector: labelSelectorShape,
    template: podTemplateShape,
    strategy: o({
      type: 'string',
      rollingUpdate: o({ maxUnavailable: 'intstr', maxSurge: 'intstr' }),
    }),
    minReadySeconds: 'int32',
    revisionHistoryLimit: 'int32',
    paused: 'bool',
    progressDeadlineSeconds: 'int32',
  }),
});

const replicaSetShape = o({
  spec: o({
    replicas: 'int32',
    minReadySeconds: 'int32',
    selector: labelSelectorShape,
    template: podTemplateShape,
  }),
});

const conditionsShape = a(o({ type: 'string', status: 'string' }));

const deploymentStatusShape = o({
  status: o({
    observedGeneration: 'int64',
    replicas: 'int32',
    updatedReplicas: 'int32',
    readyReplicas: 'int32',
    availableReplicas: 'int32',
    unavailableReplicas: 'int32',
    terminatingReplicas: 'int32',
    collisionCount: 'int32',
    conditions: conditionsShape,
  }),
});

const replicaSetStatusShape = o({
  status: o({
    replicas: 'int32',
    fullyLabeledReplicas: 'int32',
    readyReplicas: 'int32',
    availableReplicas: 'int32',
    terminatingReplicas: 'int32',
    observedGeneration: 'int64',
    conditions: conditionsShape,
  }),
});

// ---- Deployment

export function defaultDeployment(obj: KubeObject, pod: PodTemplateHelpers): void {
  const spec = ensureObj(obj, 'spec');
  if (!spec) return;
  defaultUnset(spec, 'replicas', 1);
  const strategy = ensureObj(spec, 'strategy');
  if (strategy) {
    defaultEmpty(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const ru = ensureObj(strategy, 'rollingUpdate');
      if (ru) {
        defaultUnset(ru, 'maxUnavailable', '25%');
        defaultUnset(ru, 'maxSurge', '25%');
      }
    }
  }
  defaultUnset(spec, 'revisionHistoryLimit', 10);
  defaultUnset(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(spec, 'template', pod);
}

/** ValidateRollingUpdateDeployment */
function validateRollingUpdateDeployment(ru: Obj, path: FieldPath): FieldError[] {
  const mu = path.child('maxUnavailable');
  const errs = [
    ...validatePositiveIntOrPercent(ru.maxUnavailable, mu),
    ...validatePositiveIntOrPercent(ru.maxSurge, path.child('maxSurge')),
  ];
  if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0)
    errs.push(
      goInvalid(
        mu,
        ru.maxUnavailable ?? 0,
        goIntOrString(ru.maxUnavailable),
        'may not be 0 when `maxSurge` is 0',
      ),
    );
  errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, mu));
  return errs;
}

/** ValidateDeploymentStrategy */
function validateDeploymentStrategy(strategy: Obj, path: FieldPath): FieldError[] {
  const ru = strategy.rollingUpdate;
  switch (strategy.type) {
    case 'Recreate':
      return isSet(ru)
        ? [
            fe.forbidden(
              path.child('rollingUpdate'),
              "may not be specified when strategy `type` is 'Recreate'",
            ),
          ]
        : [];
    case 'RollingUpdate':
      return isSet(ru)
        ? validateRollingUpdateDeployment(obj(ru), path.child('rollingUpdate'))
        : [fe.required(path.child('rollingUpdate'), 'this should be defaulted and never be nil')];
    default: {
      const rendered = goStruct('apps.DeploymentStrategy', [
        ['Type', goScalar(strategy.type, '""')],
        ['RollingUpdate', goPointer('apps.RollingUpdateDeployment', ru)],
      ]);
      return [goNotSupported(path, strategy, rendered, ['Recreate', 'RollingUpdate'])];
    }
  }
}

/** ValidateDeploymentSpec */
function validateDeploymentSpec(spec: Obj, pod: PodTemplateHelpers): FieldError[] {
  const errs = [
    ...nonNegative(spec.replicas, SPEC.child('replicas')),
    ...validateRequiredSelector(spec.selector, SPEC.child('selector'), 'deployment'),
    ...validateReplicaSetTemplate(spec, SPEC.child('template'), SPEC.child('selector'), pod),
    ...validateDeploymentStrategy(obj(spec.strategy), SPEC.child('strategy')),
    ...nonNegative(spec.minReadySeconds, SPEC.child('minReadySeconds')),
    ...nonNegative(spec.revisionHistoryLimit, SPEC.child('revisionHistoryLimit')),
  ];
  const pds = num(spec.progressDeadlineSeconds);
  if (pds !== undefined) {
    errs.push(...nonNegative(pds, SPEC.child('progressDeadlineSeconds')));
    if (pds <= num0(spec.minReadySeconds))
      errs.push(
        fe.invalid(SPEC.child('progressDeadlineSeconds'), pds, 'must be greater than minReadySeconds'),
      );
  }
  return errs;
}

function validateDeployment(obj: KubeObject, pod: PodTemplateHelpers): FieldError[] {
  const shape = shapeErrors(obj, deploymentShape, ROOT);
  return shape.length ? shape : validateDeploymentSpec(objSpec(obj), pod);
}

/** Selector immutability (apps/v1 strategies of Deployments, ReplicaSets and DaemonSets). */
export function selectorImmutable(obj: KubeObject, old: KubeObject): FieldError[] {
  return immutable(objSpec(obj).selector, objSpec(old).selector, SPEC.child('selector'), goLabelSelector);
}

/** ValidateDeploymentStatus, and collisionCount may not decrease. */
function validateDeploymentStatusUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, deploymentStatusShape, ROOT);
  if (shape.length) return shape;
  const status = objStatus(obj);
  const errs = nonNegativeFields(status, [
    'observedGeneration',
    'replicas',
    'updatedReplicas',
    'readyReplicas',
    'availableReplicas',
    'unavailableReplicas',
    'terminatingReplicas',
    'collisionCount',
  ]);
  errs.push(
    ...notGreater(status, 'updatedReplicas', 'replicas', 'cannot be greater than status.replicas'),
    ...notGreater(status, 'readyReplicas', 'replicas', 'cannot be greater than status.replicas'),
    ...notGreater(status, 'availableReplicas', 'replicas', 'cannot be greater than status.replicas'),
    ...notGreater(status, 'availableReplicas', 'readyReplicas', 'cannot be greater than readyReplicas'),
    ...collisionCountDecrement(status, objStatus(old)),
  );
  return errs;
}

export function deploymentRules(pod: PodTemplateHelpers): KindRules {
  return {
    defaults: (obj) => defaultDeployment(obj, pod),
    prepareForUpdate(obj, old) {
      // Annotations are copied to the ReplicaSets, so changing them is a new generation too.
      if (!semanticEqual(obj.metadata.annotations ?? {}, old.metadata.annotations ?? {}))
        obj.metadata.generation = (old.metadata.generation ?? 0) + 1;
    },
    validateCreate: (obj) => validateDeployment(obj, pod),
    validateUpdate(obj, old) {
      return [...validateDeployment(obj, pod), ...selectorImmutable(obj, old)];
    },
    validateStatusUpdate: validateDeploymentStatusUpdate,
  };
}

// ---- ReplicaSet

export function defaultReplicaSet(obj: KubeObject, pod: PodTemplateHelpers): void {
  const spec = ensureObj(obj, 'spec');
  if (!spec) return;
  defaultUnset(spec, 'replicas', 1);
  defaultPodTemplate(spec, 'template', pod);
}

/** ValidateReplicaSetSpec (its empty-selector message says "deployment", as Kubernetes' does). */
function validateReplicaSet(obj: KubeObject, pod: PodTemplateHelpers): FieldError[] {
  const shape = shapeErrors(obj, replicaSetShape, ROOT);
  if (shape.length) return shape;
  const spec = objSpec(obj);
  return [
    ...nonNegative(spec.replicas, SPEC.child('replicas')),
    ...nonNegative(spec.minReadySeconds, SPEC.child('minReadySeconds')),
    ...validateRequiredSelector(spec.selector, SPEC.child('selector'), 'deployment'),
    ...validateReplicaSetTemplate(spec, SPEC.child('template'), SPEC.child('selector'), pod),
  ];
}

/** ValidateReplicaSetStatus */
function validateReplicaSetStatusUpdate(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, replicaSetStatusShape, ROOT);
  if (shape.length) return shape;
  const status = objStatus(obj);
  return [
    ...nonNegativeFields(status, [
      'replicas',
      'fullyLabeledReplicas',
      'readyReplicas',
      'availableReplicas',
      'terminatingReplicas',
      'observedGeneration',
    ]),
    ...notGreater(status, 'fullyLabeledReplicas', 'replicas', 'cannot be greater than status.replicas'),
    ...notGreater(status, 'readyReplicas', 'replicas', 'cannot be greater than status.replicas'),
    ...notGreater(status, 'availableReplicas', 'replicas', 'cannot be greater than status.replicas'),
    ...notGreater(status, 'availableReplicas', 'readyReplicas', 'cannot be greater than readyReplicas'),
  ];
}

export function replicaSetRules(pod: PodTemplateHelpers): KindRules {
  return {
    defaults: (obj) => defaultReplicaSet(obj, pod),
    validateCreate: (obj) => validateReplicaSet(obj, pod),
    validateUpdate(obj, old) {
      return [...validateReplicaSet(obj, pod), ...selectorImmutable(obj, old)];
    },
    validateStatusUpdate: validateReplicaSetStatusUpdate,
  };
}
