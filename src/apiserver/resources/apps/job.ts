/**
 * batch/v1 Job: SetDefaults_Job, the generated selector and template labels of the job strategy's
 * PrepareForCreate, ValidateJob / ValidateJobUpdate (what may change, and what only while the Job is
 * suspended and has not started), and the basic status rules (pkg/apis/batch/v1/defaults.go,
 * pkg/apis/batch/validation, pkg/registry/batch/job/strategy.go).
 */
import type { FieldError } from '../../../api/errors.ts';
import { validateLabelSelector } from '../../../api/labels.ts';
import { isDNS1123Label } from '../../../api/validation.ts';
import { clone, type KubeObject } from '../../object.ts';
import {
  asSelector,
  immutable,
  type KindRules,
  METADATA,
  nonNegative,
  objSpec,
  objStatus,
  ROOT,
  SPEC,
  STATUS,
  semanticEqual,
  toLabelSelector,
} from './common.ts';
import { goInvalid, goLabelSelector, goStringMap } from './gofmt.ts';
import { defaultPodFailurePolicy, jobSpecShape, validateJobSpec } from './jobspec.ts';
import { at, defaultUnset, ensureObj, fe, isObj, isSet, num, type Obj, obj, optStrMap, str } from './json.ts';
import type { PodTemplateHelpers } from './podtemplate.ts';
import { a, o, shapeErrors } from './shape.ts';
import { defaultPodTemplate, selectorMismatch, templateLabels } from './template.ts';

export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_JOB_NAME_LABEL = 'job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';

const INT32_MAX = 2147483647;

const jobShape = o({ spec: jobSpecShape });

const jobStatusShape = o({
  status: o({
    active: 'int32',
    succeeded: 'int32',
    failed: 'int32',
    ready: 'int32',
    terminating: 'int32',
    uncountedTerminatedPods: o({ succeeded: a('string'), failed: a('string') }),
  }),
});

/** SetDefaults_Job, with the pod defaults of its template. */
export function defaultJob(obj: KubeObject, pod: PodTemplateHelpers): void {
  const spec = ensureObj(obj, 'spec');
  if (!spec) return;
  if (!isSet(spec.completions) && !isSet(spec.parallelism)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  defaultUnset(spec, 'parallelism', 1);
  defaultUnset(spec, 'backoffLimit', isSet(spec.backoffLimitPerIndex) ? INT32_MAX : 6);
  // A Job without labels takes its template's (after PrepareForCreate, the generated ones too).
  const labels = optStrMap(at(spec, 'template', 'metadata', 'labels'));
  if (labels && Object.keys(obj.metadata.labels ?? {}).length === 0) obj.metadata.labels = { ...labels };
  defaultUnset(spec, 'completionMode', 'NonIndexed');
  defaultUnset(spec, 'suspend', false);
  defaultPodFailurePolicy(spec);
  defaultUnset(spec, 'podReplacementPolicy', isSet(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed');
  defaultUnset(spec, 'manualSelector', false);
  defaultPodTemplate(spec, 'template', pod);
}

/**
 * The job strategy's PrepareForCreate selector generation: unless spec.manualSelector is true,
 * labels the pod template with the job's name and uid (job-name, controller-uid and their
 * batch.kubernetes.io/ forms, keeping any the user set) and selects batch.kubernetes.io/controller-uid.
 * Needs metadata.name and metadata.uid set.
 */
export function jobPrepareForCreate(obj: KubeObject): void {
  const spec = ensureObj(obj, 'spec');
  if (!spec || spec.manualSelector === true) return;
  const template = ensureObj(spec, 'template');
  const meta = template && ensureObj(template, 'metadata');
  const labels = meta && ensureObj(meta, 'labels');
  const name = obj.metadata.name ?? '';
  const uid = obj.metadata.uid ?? '';
  if (labels) {
    for (const key of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL])
      if (!Object.hasOwn(labels, key)) labels[key] = name;
    for (const key of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL])
      if (!Object.hasOwn(labels, key)) labels[key] = uid;
  }
  const selector = ensureObj(spec, 'selector');
  const matchLabels = selector && ensureObj(selector, 'matchLabels');
  if (matchLabels && !Object.hasOwn(matchLabels, CONTROLLER_UID_LABEL))
    matchLabels[CONTROLLER_UID_LABEL] = uid;
}

/** ValidateHasLabel at spec.template.metadata.labels[key]. */
function validateHasLabel(template: unknown, key: string, expected: string): FieldError[] {
  const { raw, labels } = templateLabels(template);
  const path = SPEC.child('template').child('metadata').child('labels').key(key);
  if (!labels || !Object.hasOwn(labels, key)) return [fe.required(path, `must be '${expected}'`)];
  if (labels[key] !== expected) return [goInvalid(path, raw, goStringMap(raw), `must be '${expected}'`)];
  return [];
}

/** validateGeneratedSelector: a generated selector and template labels must be the job's own. */
function validateGeneratedSelector(obj: KubeObject, requirePrefixedLabels: boolean): FieldError[] {
  const spec = objSpec(obj);
  if (spec.manualSelector === true || !isSet(spec.selector)) return [];
  const errs: FieldError[] = [];
  const uid = obj.metadata.uid ?? '';
  const name = obj.metadata.name ?? '';
  if (uid === '') errs.push(fe.required(METADATA.child('uid')));
  errs.push(
    ...validateHasLabel(spec.template, LEGACY_CONTROLLER_UID_LABEL, uid),
    ...validateHasLabel(spec.template, LEGACY_JOB_NAME_LABEL, name),
  );
  const expected: Record<string, string> = {
    [LEGACY_CONTROLLER_UID_LABEL]: uid,
    [LEGACY_JOB_NAME_LABEL]: name,
  };
  if (requirePrefixedLabels) {
    errs.push(
      ...validateHasLabel(spec.template, CONTROLLER_UID_LABEL, uid),
      ...validateHasLabel(spec.template, JOB_NAME_LABEL, name),
    );
    expected[CONTROLLER_UID_LABEL] = uid;
    expected[JOB_NAME_LABEL] = name;
  }
  const selector = asSelector(spec.selector);
  if (selector && !selector.matches(expected))
    errs.push(
      goInvalid(
        SPEC.child('selector'),
        spec.selector,
        goLabelSelector(spec.selector),
        '`selector` not auto-generated',
      ),
    );
  return errs;
}

/** ValidateJob: the generated selector, ValidateJobSpec, and room for Indexed pods' hostnames. */
function validateJob(obj: KubeObject, pod: PodTemplateHelpers, requirePrefixedLabels: boolean): FieldError[] {
  const shape = shapeErrors(obj, jobShape, ROOT);
  if (shape.length) return shape;
  const spec = objSpec(obj);
  const errs = validateGeneratedSelector(obj, requirePrefixedLabels);
  errs.push(...validateJobSpec(spec, SPEC, pod));
  if (!isSet(spec.selector)) errs.push(fe.required(SPEC.child('selector')));
  else errs.push(...validateLabelSelector(toLabelSelector(spec.selector), SPEC.child('selector')));
  const selector = asSelector(spec.selector);
  if (selector && !selector.matches(templateLabels(spec.template).labels))
    errs.push(selectorMismatch(spec.template, SPEC.child('template')));
  const completions = num(spec.completions);
  if (spec.completionMode === 'Indexed' && completions !== undefined && completions > 0) {
    const name = obj.metadata.name ?? '';
    const hostname = `${name}-${completions - 1}`;
    if (isDNS1123Label(hostname).length > 0)
      errs.push(
        fe.invalid(
          METADATA.child('name'),
          name,
          `will not able to create pod with invalid DNS label: ${hostname}`,
        ),
      );
  }
  return errs;
}

/** validatePodTemplateUpdate: a template is immutable, but a suspended Job that never started may change its scheduling directives. */
function validateTemplateUpdate(spec: Obj, oldSpec: Obj, oldStatus: Obj): FieldError[] {
  let oldTemplate: unknown = oldSpec.template;
  if (oldSpec.suspend === true && !isSet(oldStatus.startTime) && isObj(oldSpec.template)) {
    const next = obj(spec.template);
    const nextSpec = obj(next.spec);
    const prev = clone(oldSpec.template);
    const prevSpec = ensureObj(prev, 'spec') ?? {};
    const nextAff = nextSpec.affinity;
    const prevAff = prevSpec.affinity;
    if (!isSet(nextAff) && isObj(prevAff)) {
      delete prevAff.nodeAffinity;
      if (semanticEqual(prevAff, {})) delete prevSpec.affinity;
    } else if (isObj(nextAff) && !isSet(prevAff)) {
      prevSpec.affinity = { nodeAffinity: nextAff.nodeAffinity };
    } else if (isObj(nextAff) && isObj(prevAff)) {
      prevAff.nodeAffinity = nextAff.nodeAffinity;
    }
    prevSpec.nodeSelector = nextSpec.nodeSelector;
    prevSpec.tolerations = nextSpec.tolerations;
    prevSpec.schedulingGates = nextSpec.schedulingGates;
    const prevMeta = ensureObj(prev, 'metadata') ?? {};
    const nextMeta = obj(next.metadata);
    prevMeta.annotations = nextMeta.annotations;
    prevMeta.labels = nextMeta.labels;
    oldTemplate = prev;
  }
  return immutable(spec.template, oldTemplate, SPEC.child('template'));
}

/** validateCompletions: immutable, except an Indexed Job may change it together with parallelism. */
function validateCompletions(spec: Obj, oldSpec: Obj): FieldError[] {
  const path = SPEC.child('completions');
  if (spec.completionMode !== 'Indexed') return immutable(spec.completions, oldSpec.completions, path);
  if (semanticEqual(spec.completions, oldSpec.completions) || !isSet(spec.completions)) return [];
  if (spec.completions !== spec.parallelism)
    return [fe.invalid(path, spec.completions, 'can only be modified in tandem with spec.parallelism')];
  return [];
}

/** The job strategy's ValidateUpdate: ValidateJob and ValidateJobSpecUpdate. */
function validateJobUpdate(obj: KubeObject, old: KubeObject, pod: PodTemplateHelpers): FieldError[] {
  const spec = objSpec(obj);
  const oldSpec = objSpec(old);
  // Jobs created before the batch.kubernetes.io/ labels existed are not required to have them.
  const oldLabels = templateLabels(oldSpec.template).labels ?? {};
  const requirePrefixed =
    Object.hasOwn(oldLabels, JOB_NAME_LABEL) && Object.hasOwn(oldLabels, CONTROLLER_UID_LABEL);
  const errs = validateJob(obj, pod, requirePrefixed);
  errs.push(
    ...validateCompletions(spec, oldSpec),
    ...immutable(spec.selector, oldSpec.selector, SPEC.child('selector'), goLabelSelector),
    ...validateTemplateUpdate(spec, oldSpec, objStatus(old)),
    ...immutable(spec.completionMode, oldSpec.completionMode, SPEC.child('completionMode')),
    ...immutable(spec.podFailurePolicy, oldSpec.podFailurePolicy, SPEC.child('podFailurePolicy')),
    ...immutable(spec.backoffLimitPerIndex, oldSpec.backoffLimitPerIndex, SPEC.child('backoffLimitPerIndex')),
    ...immutable(spec.managedBy, oldSpec.managedBy, SPEC.child('managedBy')),
    ...immutable(spec.successPolicy, oldSpec.successPolicy, SPEC.child('successPolicy')),
  );
  return errs;
}

/** validateJobStatus (the counters and uncountedTerminatedPods). */
function validateJobStatusUpdate(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, jobStatusShape, ROOT);
  if (shape.length) return shape;
  const status = objStatus(obj);
  const errs: FieldError[] = [];
  for (const f of ['active', 'succeeded', 'failed', 'ready', 'terminating'])
    errs.push(...nonNegative(status[f], STATUS.child(f)));
  const uncounted = status.uncountedTerminatedPods;
  if (isObj(uncounted)) {
    const path = STATUS.child('uncountedTerminatedPods');
    const seen = new Set<string>();
    for (const list of ['succeeded', 'failed']) {
      const items = Array.isArray(uncounted[list]) ? (uncounted[list] as unknown[]) : [];
      items.forEach((k, i) => {
        const p = path.child(list).index(i);
        const uid = str(k);
        if (uid === '') errs.push(fe.invalid(p, uid, 'must not be empty'));
        else if (seen.has(uid)) errs.push(fe.duplicate(p, uid));
        else seen.add(uid);
      });
    }
  }
  return errs;
}

export function jobRules(pod: PodTemplateHelpers): KindRules {
  return {
    defaults: (obj) => defaultJob(obj, pod),
    prepareForCreate(obj) {
      obj.status = {};
      jobPrepareForCreate(obj);
    },
    validateCreate: (obj) => validateJob(obj, pod, true),
    validateUpdate: (obj, old) => validateJobUpdate(obj, old, pod),
    validateStatusUpdate: validateJobStatusUpdate,
  };
}
