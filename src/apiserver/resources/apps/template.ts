/**
 * Pod-template rules the workload kinds share: defaulting the embedded pod spec, the selector
 * against the template's labels, and the restart-policy / activeDeadlineSeconds rules of
 * long-running controllers (ValidatePodTemplateSpecForReplicaSet and friends).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { validateLabelSelector } from '../../../api/labels.ts';
import { asSelector, selectorSize, toLabelSelector } from './common.ts';
import { goInvalid, goLabelSelector, goStringMap } from './gofmt.ts';
import { at, ensureObj, fe, isSet, type Obj, optStrMap, str } from './json.ts';
import type { PodTemplateHelpers } from './podtemplate.ts';

/** Ensures `parent[key]` is a template with a spec, and applies the pod defaults to that spec. */
export function defaultPodTemplate(parent: Obj, key: string, pod: PodTemplateHelpers): void {
  const template = ensureObj(parent, key);
  if (!template) return;
  const spec = ensureObj(template, 'spec');
  if (spec) pod.defaultPodSpec(spec);
}

/** The raw labels of a template (for rendering) and their string map (for matching). */
export function templateLabels(template: unknown): {
  raw: unknown;
  labels: Record<string, string> | undefined;
} {
  const raw = at(template, 'metadata', 'labels');
  return { raw, labels: optStrMap(raw) };
}

/** "`selector` does not match template `labels`" at `<templatePath>.metadata.labels`. */
export function selectorMismatch(template: unknown, templatePath: FieldPath): FieldError {
  const { raw } = templateLabels(template);
  return goInvalid(
    templatePath.child('metadata').child('labels'),
    raw ?? null,
    goStringMap(raw),
    '`selector` does not match template `labels`',
  );
}

/**
 * The selector rules of Deployments, ReplicaSets and StatefulSets: required, a valid LabelSelector,
 * not empty ("empty selector is invalid for <what>").
 */
export function validateRequiredSelector(selector: unknown, path: FieldPath, what: string): FieldError[] {
  if (!isSet(selector)) return [fe.required(path)];
  const errs = validateLabelSelector(toLabelSelector(selector), path);
  if (selectorSize(selector) === 0)
    errs.push(goInvalid(path, selector, goLabelSelector(selector), `empty selector is invalid for ${what}`));
  return errs;
}

/**
 * ValidatePodTemplateSpecForReplicaSet (also Deployments): the selector (unless it is empty) must
 * match the template's labels; the pod template itself; restartPolicy Always; no
 * activeDeadlineSeconds. A selector that does not convert is "invalid label selector" at `selectorPath`
 * (and the template is then not checked).
 */
export function validateReplicaSetTemplate(
  spec: Obj,
  templatePath: FieldPath,
  selectorPath: FieldPath,
  pod: PodTemplateHelpers,
): FieldError[] {
  const errs: FieldError[] = [];
  const selector = asSelector(spec.selector);
  if (!selector) {
    errs.push(
      goInvalid(selectorPath, spec.selector, goLabelSelector(spec.selector), 'invalid label selector'),
    );
    return errs;
  }
  const template = spec.template;
  if (!selector.isEmpty() && !selector.matches(templateLabels(template).labels))
    errs.push(selectorMismatch(template, templatePath));
  errs.push(...pod.validatePodTemplateSpec(template, templatePath));
  errs.push(...alwaysRestartRules(template, templatePath, 'ReplicaSet'));
  return errs;
}

/** restartPolicy must be Always; activeDeadlineSeconds must be unset ("... in <kind> is not Supported"). */
export function alwaysRestartRules(template: unknown, templatePath: FieldPath, kind: string): FieldError[] {
  const errs: FieldError[] = [];
  const specPath = templatePath.child('spec');
  const rp = str(at(template, 'spec', 'restartPolicy'));
  if (rp !== 'Always') errs.push(fe.notSupported(specPath.child('restartPolicy'), rp, ['Always']));
  if (isSet(at(template, 'spec', 'activeDeadlineSeconds')))
    errs.push(
      fe.forbidden(
        specPath.child('activeDeadlineSeconds'),
        `activeDeadlineSeconds in ${kind} is not Supported`,
      ),
    );
  return errs;
}
