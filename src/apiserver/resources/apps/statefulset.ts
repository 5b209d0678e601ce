/**
 * apps/v1 StatefulSet: SetDefaults_StatefulSet (with the volume claim templates' PVC defaults),
 * ValidateStatefulSetSpec, ValidateStatefulSetUpdate (only replicas, ordinals, template,
 * updateStrategy, persistentVolumeClaimRetentionPolicy and minReadySeconds may change) and the
 * status rules (pkg/apis/apps/v1/defaults.go, pkg/apis/apps/validation/validation.go).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  validateAnnotations,
  validateLabels,
} from '../../../api/validation.ts';
import { clone, type KubeObject } from '../../object.ts';
import {
  asSelector,
  collisionCountDecrement,
  intOrPercentValue,
  isNotMoreThan100Percent,
  type KindRules,
  METADATA,
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
import { goIntOrString, goInvalid, goLabelSelector, goPointer, goScalar, goStruct } from './gofmt.ts';
import {
  at,
  defaultEmpty,
  defaultUnset,
  ensureObj,
  fe,
  isObj,
  isSet,
  type Obj,
  obj,
  objItems,
  optStrMap,
  str,
} from './json.ts';
import type { PodTemplateHelpers } from './podtemplate.ts';
import { a, anyObj, labelSelectorShape, o, podTemplateShape, shapeErrors } from './shape.ts';
import {
  alwaysRestartRules,
  defaultPodTemplate,
  selectorMismatch,
  templateLabels,
  validateRequiredSelector,
} from './template.ts';

const statefulSetShape = o({
  spec: o({
    replicas: 'int32',
    selector: labelSelectorShape,
    template: podTemplateShape,
    volumeClaimTemplates: a(o({ metadata: anyObj, spec: anyObj, status: anyObj })),
    serviceName: 'string',
    podManagementPolicy: 'string',
    updateStrategy: o({
      type: 'string',
      rollingUpdate: o({ partition: 'int32', maxUnavailable: 'intstr' }),
    }),
    revisionHistoryLimit: 'int32',
    minReadySeconds: 'int32',
    persistentVolumeClaimRetentionPolicy: o({ whenDeleted: 'string', whenScaled: 'string' }),
    ordinals: o({ start: 'int32' }),
  }),
});

const statefulSetStatusShape = o({
  status: o({
    observedGeneration: 'int64',
    replicas: 'int32',
    readyReplicas: 'int32',
    currentReplicas: 'int32',
    updatedReplicas: 'int32',
    availableReplicas: 'int32',
    collisionCount: 'int32',
  }),
});

export function defaultStatefulSet(obj: KubeObject, pod: PodTemplateHelpers): void {
  const spec = ensureObj(obj, 'spec');
  if (!spec) return;
  defaultEmpty(spec, 'podManagementPolicy', 'OrderedReady');
  const us = ensureObj(spec, 'updateStrategy');
  if (us) {
    if (us.type === undefined || us.type === null || us.type === '') {
      us.type = 'RollingUpdate';
      defaultUnset(us, 'rollingUpdate', {});
    }
    if (us.type === 'RollingUpdate' && isObj(us.rollingUpdate))
      defaultUnset(us.rollingUpdate, 'partition', 0);
  }
  const policy = ensureObj(spec, 'persistentVolumeClaimRetentionPolicy');
  if (policy) {
    defaultEmpty(policy, 'whenDeleted', 'Retain');
    defaultEmpty(policy, 'whenScaled', 'Retain');
  }
  defaultUnset(spec, 'replicas', 1);
  defaultUnset(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(spec, 'template', pod);
  // The claim templates are PersistentVolumeClaims: the v1 conversion sets their apiVersion and
  // kind, and SetDefaults_PersistentVolumeClaim their volumeMode and phase.
  for (const [claim] of objItems(spec.volumeClaimTemplates)) {
    claim.apiVersion = 'v1';
    claim.kind = 'PersistentVolumeClaim';
    const claimSpec = ensureObj(claim, 'spec');
    if (claimSpec) defaultUnset(claimSpec, 'volumeMode', 'Filesystem');
    const claimStatus = ensureObj(claim, 'status');
    if (claimStatus) defaultEmpty(claimStatus, 'phase', 'Pending');
  }
}

function renderRollingUpdate(ru: unknown): string {
  const r = obj(ru);
  return goStruct('apps.RollingUpdateStatefulSetStrategy', [
    ['Partition', goScalar(r.partition, '0')],
    ['MaxUnavailable', goPointer('intstr.IntOrString', r.maxUnavailable)],
  ]);
}

/** validateRollingUpdateStatefulSet */
function validateRollingUpdate(ru: Obj, path: FieldPath): FieldError[] {
  const errs = nonNegative(ru.partition, path.child('partition'));
  if (isSet(ru.maxUnavailable)) {
    const mu = path.child('maxUnavailable');
    errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, mu));
    if (intOrPercentValue(ru.maxUnavailable) === 0)
      errs.push(goInvalid(mu, ru.maxUnavailable, goIntOrString(ru.maxUnavailable), 'cannot be 0'));
    errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, mu));
  }
  return errs;
}

function validateUpdateStrategy(us: Obj, path: FieldPath): FieldError[] {
  const ru = us.rollingUpdate;
  switch (str(us.type)) {
    case '':
      return [fe.required(path)];
    case 'OnDelete':
      return isSet(ru)
        ? [
            goInvalid(
              path.child('rollingUpdate'),
              ru,
              renderRollingUpdate(ru),
              "only allowed for updateStrategy 'RollingUpdate'",
            ),
          ]
        : [];
    case 'RollingUpdate':
      return isSet(ru) ? validateRollingUpdate(obj(ru), path.child('rollingUpdate')) : [];
    default: {
      const rendered = goStruct('apps.StatefulSetUpdateStrategy', [
        ['Type', goScalar(us.type, '""')],
        ['RollingUpdate', goPointer('apps.RollingUpdateStatefulSetStrategy', ru)],
      ]);
      return [goInvalid(path, us, rendered, "must be 'RollingUpdate' or 'OnDelete'")];
    }
  }
}

function validateRetentionPolicy(policy: unknown, path: FieldPath): FieldError[] {
  if (!isObj(policy)) return [];
  const errs: FieldError[] = [];
  for (const f of ['whenDeleted', 'whenScaled']) {
    const v = str(policy[f]);
    if (v !== 'Retain' && v !== 'Delete') errs.push(fe.notSupported(path.child(f), v, ['Retain', 'Delete']));
  }
  return errs;
}

/** ValidatePodTemplateSpecForStatefulSet: selector match, the template's labels and annotations. */
function validateTemplate(spec: Obj, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const selector = asSelector(spec.selector);
  if (!selector) {
    errs.push(goInvalid(SPEC.child('selector'), spec.selector, goLabelSelector(spec.selector), ''));
    return errs;
  }
  const template = spec.template;
  const { labels } = templateLabels(template);
  if (!selector.isEmpty() && !selector.matches(labels)) errs.push(selectorMismatch(template, path));
  // Kubernetes reports these at spec.template.labels / .annotations (without "metadata").
  errs.push(
    ...validateLabels(labels, path.child('labels')),
    ...validateAnnotations(optStrMap(at(template, 'metadata', 'annotations')), path.child('annotations')),
  );
  return errs;
}

/** ValidateStatefulSetSpec */
function validateSpec(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const pmp = str(spec.podManagementPolicy);
  if (pmp === '') errs.push(fe.required(SPEC.child('podManagementPolicy')));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel')
    errs.push(fe.invalid(SPEC.child('podManagementPolicy'), pmp, "must be 'OrderedReady' or 'Parallel'"));
  errs.push(
    ...validateUpdateStrategy(obj(spec.updateStrategy), SPEC.child('updateStrategy')),
    ...validateRetentionPolicy(
      spec.persistentVolumeClaimRetentionPolicy,
      SPEC.child('persistentVolumeClaimRetentionPolicy'),
    ),
    ...nonNegative(spec.replicas, SPEC.child('replicas')),
    ...nonNegative(spec.minReadySeconds, SPEC.child('minReadySeconds')),
  );
  if (isObj(spec.ordinals)) errs.push(...nonNegative(spec.ordinals.start, SPEC.child('ordinals.start')));
  errs.push(
    ...validateRequiredSelector(spec.selector, SPEC.child('selector'), 'statefulset'),
    ...validateTemplate(spec, SPEC.child('template')),
    ...alwaysRestartRules(spec.template, SPEC.child('template'), 'StatefulSet'),
  );
  return errs;
}

function validateStatefulSet(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, statefulSetShape, ROOT);
  return shape.length ? shape : validateSpec(objSpec(obj));
}

/**
 * StatefulSet names must be DNS labels (ValidateStatefulSetName). The registry checks the
 * subdomain rule every kind shares; this adds what a label forbids beyond it.
 */
function validateName(obj: KubeObject): FieldError[] {
  const name = obj.metadata.name;
  if (typeof name !== 'string' || isDNS1123Subdomain(name).length > 0) return [];
  return isDNS1123Label(name).map((msg) => fe.invalid(METADATA.child('name'), name, msg));
}

const MUTABLE_SPEC_FIELDS = [
  'replicas',
  'template',
  'updateStrategy',
  'minReadySeconds',
  'ordinals',
  'persistentVolumeClaimRetentionPolicy',
] as const;

/** ValidateStatefulSetUpdate: the spec rules, and no changes outside the mutable fields. */
function validateStatefulSetUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateStatefulSet(obj);
  const next = clone(objSpec(obj));
  const prev = objSpec(old);
  for (const f of MUTABLE_SPEC_FIELDS) {
    if (prev[f] === undefined) delete next[f];
    else next[f] = prev[f];
  }
  if (!semanticEqual(next, prev))
    errs.push(
      fe.forbidden(
        SPEC,
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  return errs;
}

/** ValidateStatefulSetStatusUpdate */
function validateStatusUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, statefulSetStatusShape, ROOT);
  if (shape.length) return shape;
  const status = objStatus(obj);
  const msg = 'cannot be greater than status.replicas';
  return [
    ...nonNegativeFields(status, [
      'replicas',
      'readyReplicas',
      'currentReplicas',
      'updatedReplicas',
      'availableReplicas',
      'observedGeneration',
      'collisionCount',
    ]),
    ...notGreater(status, 'readyReplicas', 'replicas', msg),
    ...notGreater(status, 'currentReplicas', 'replicas', msg),
    ...notGreater(status, 'updatedReplicas', 'replicas', msg),
    ...notGreater(status, 'availableReplicas', 'replicas', msg),
    ...notGreater(
      status,
      'availableReplicas',
      'readyReplicas',
      'cannot be greater than status.readyReplicas',
    ),
    ...collisionCountDecrement(status, objStatus(old)),
  ];
}

export function statefulSetRules(pod: PodTemplateHelpers): KindRules {
  return {
    defaults: (obj) => defaultStatefulSet(obj, pod),
    validateCreate: (obj) => [...validateName(obj), ...validateStatefulSet(obj)],
    validateUpdate: validateStatefulSetUpdate,
    validateStatusUpdate: validateStatusUpdate,
  };
}
