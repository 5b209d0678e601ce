/**
 * batch/v1 JobSpec rules shared by Jobs and CronJobs' jobTemplate: validateJobSpec with the pod
 * failure policy, success policy and pod replacement policy rules (pkg/apis/batch/validation).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { byteLength, isDNS1123Subdomain, regexError } from '../../../api/validation.ts';
import { nonNegative, validateQualifiedName } from './common.ts';
import { goInvalid, goScalar } from './gofmt.ts';
import { at, fe, isSet, num, type Obj, obj, objItems, str } from './json.ts';
import type { PodTemplateHelpers } from './podtemplate.ts';
import { a, labelSelectorShape, type ObjShape, o, podTemplateShape } from './shape.ts';

const MAX_PARALLELISM_FOR_INDEXED_JOB = 100000;
const MAX_FAILED_INDEXES_FOR_INDEXED_JOB = 100_000;
const COMPLETIONS_SOFT_LIMIT = 100_000;
const PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS = 10_000;
const MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS = 10_000;
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_ON_EXIT_CODES_VALUES = 255;
const MAX_ON_POD_CONDITIONS_PATTERNS = 20;
const MAX_MANAGED_BY_LENGTH = 63;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;
const MAX_SUCCESS_POLICY_RULES = 20;

const POD_FAILURE_POLICY_ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
const ON_EXIT_CODES_OPERATORS = ['In', 'NotIn'];
const CONDITION_STATUSES = ['False', 'True', 'Unknown'];

/** The JSON shape of a batch/v1 JobSpec (the fields the rules here read). */
export const jobSpecShape: ObjShape = o({
  parallelism: 'int32',
  completions: 'int32',
  activeDeadlineSeconds: 'int64',
  backoffLimit: 'int32',
  backoffLimitPerIndex: 'int32',
  maxFailedIndexes: 'int32',
  selector: labelSelectorShape,
  manualSelector: 'bool',
  template: podTemplateShape,
  ttlSecondsAfterFinished: 'int32',
  completionMode: 'string',
  suspend: 'bool',
  podReplacementPolicy: 'string',
  managedBy: 'string',
  podFailurePolicy: o({
    rules: a(
      o({
        action: 'string',
        onExitCodes: o({ containerName: 'string', operator: 'string', values: a('int32') }),
        onPodConditions: a(o({ type: 'string', status: 'string' })),
      }),
    ),
  }),
  successPolicy: o({ rules: a(o({ succeededIndexes: 'string', succeededCount: 'int32' })) }),
});

/** Go's %q of a []string: `["a" "b"]`. */
function goQuotedList(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}

/** Go's `%#v` of a []int32. */
function goInt32s(v: unknown): string {
  return Array.isArray(v) ? `[]int32{${v.map((x) => goScalar(x, '0')).join(', ')}}` : '[]int32(nil)';
}

const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRe = new RegExp(`^${HTTP_PATH_FMT}$`);

/** validation.IsDomainPrefixedPath */
function isDomainPrefixedPath(path: FieldPath, value: string): FieldError[] {
  if (value.length === 0) return [fe.required(path)];
  const slash = value.indexOf('/');
  const host = slash < 0 ? value : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (slash < 0 || host.length === 0 || rest.length === 0)
    return [fe.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = isDNS1123Subdomain(host).map((msg) => fe.invalid(path, host, msg));
  if (!httpPathRe.test(rest)) errs.push(fe.invalid(path, rest, regexError('Invalid path', HTTP_PATH_FMT)));
  return errs;
}

/** parseIndexInterval: `x` or `x-y`, each below `completions`. */
function parseIndexInterval(interval: string, completions: number): [number, number] {
  const limits = interval.split('-');
  if (limits.length > 2)
    throw new Error(
      `the fragment ${JSON.stringify(interval)} violates the requirement that an index interval can have at most two parts separated by '-'`,
    );
  const parse = (s: string): number => {
    if (!/^[+-]?[0-9]+$/.test(s))
      throw new Error(`cannot convert string to integer for index: ${JSON.stringify(s)}`);
    const n = Number.parseInt(s, 10);
    if (n >= completions) throw new Error(`too large index: ${JSON.stringify(s)}`);
    return n;
  };
  const x = parse(limits[0] as string);
  if (limits.length === 1) return [x, x];
  const y = parse(limits[1] as string);
  if (x >= y) throw new Error(`non-increasing order, previous: ${x}, current: ${y}`);
  return [x, y];
}

/** validateIndexesFormat: the number of indexes, or throws the parse error. */
export function indexesCount(indexes: string, completions: number): number {
  if (indexes.length === 0) return 0;
  let last: number | undefined;
  let total = 0;
  for (const interval of indexes.split(',')) {
    const [x, y] = parseIndexInterval(interval, completions);
    if (last !== undefined && last >= x)
      throw new Error(`non-increasing order, previous: ${last}, current: ${x}`);
    total += y - x + 1;
    last = y;
  }
  return total;
}

function validatePodFailurePolicy(spec: Obj, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const rulesPath = path.child('rules');
  const raw = at(spec, 'podFailurePolicy', 'rules');
  const rules = objItems(raw);
  const rulesLen = Array.isArray(raw) ? raw.length : 0;
  if (rulesLen > MAX_POD_FAILURE_POLICY_RULES)
    errs.push(fe.tooMany(rulesPath, rulesLen, MAX_POD_FAILURE_POLICY_RULES));
  const containerNames = new Set<string>();
  for (const list of ['containers', 'initContainers'])
    for (const [c] of objItems(at(spec, 'template', 'spec', list))) containerNames.add(str(c.name));
  for (const [rule, i] of rules) {
    const rulePath = rulesPath.index(i);
    const actionPath = rulePath.child('action');
    const action = str(rule.action);
    if (action === '')
      errs.push(fe.required(actionPath, `valid values: ${goQuotedList(POD_FAILURE_POLICY_ACTIONS)}`));
    else if (action === 'FailIndex') {
      if (!isSet(spec.backoffLimitPerIndex))
        errs.push(fe.invalid(actionPath, action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!POD_FAILURE_POLICY_ACTIONS.includes(action))
      errs.push(fe.notSupported(actionPath, action, POD_FAILURE_POLICY_ACTIONS));
    const hasExitCodes = isSet(rule.onExitCodes);
    const conditions = Array.isArray(rule.onPodConditions) ? rule.onPodConditions : [];
    if (hasExitCodes)
      errs.push(...validateOnExitCodes(obj(rule.onExitCodes), rulePath.child('onExitCodes'), containerNames));
    if (conditions.length > 0)
      errs.push(...validateOnPodConditions(conditions, rulePath.child('onPodConditions')));
    if (hasExitCodes && conditions.length > 0)
      errs.push(
        fe.invalid(rulePath, undefined, 'specifying both OnExitCodes and OnPodConditions is not supported'),
      );
    if (!hasExitCodes && conditions.length === 0)
      errs.push(
        fe.invalid(rulePath, undefined, 'specifying one of OnExitCodes and OnPodConditions is required'),
      );
  }
  return errs;
}

function validateOnExitCodes(req: Obj, path: FieldPath, containerNames: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  const operator = str(req.operator);
  const opPath = path.child('operator');
  if (operator === '')
    errs.push(fe.required(opPath, `valid values: ${goQuotedList(ON_EXIT_CODES_OPERATORS)}`));
  else if (!ON_EXIT_CODES_OPERATORS.includes(operator))
    errs.push(fe.notSupported(opPath, operator, ON_EXIT_CODES_OPERATORS));
  if (typeof req.containerName === 'string' && !containerNames.has(req.containerName))
    errs.push(
      fe.invalid(
        path.child('containerName'),
        req.containerName,
        'must be one of the container or initContainer names in the pod template',
      ),
    );
  const valuesPath = path.child('values');
  const values = Array.isArray(req.values) ? req.values.map((v) => num(v) ?? 0) : [];
  if (values.length === 0)
    errs.push(
      goInvalid(valuesPath, req.values ?? null, goInt32s(req.values), 'at least one value is required'),
    );
  else if (values.length > MAX_ON_EXIT_CODES_VALUES)
    errs.push(fe.tooMany(valuesPath, values.length, MAX_ON_EXIT_CODES_VALUES));
  let ordered = true;
  const seen = new Set<number>();
  values.forEach((v, j) => {
    if (operator === 'In' && v === 0)
      errs.push(fe.invalid(valuesPath.index(j), v, 'must not be 0 for the In operator'));
    if (seen.has(v)) errs.push(fe.duplicate(valuesPath.index(j), v));
    else seen.add(v);
    if (j > 0 && (values[j - 1] as number) > v) ordered = false;
  });
  if (!ordered) errs.push(goInvalid(valuesPath, req.values, goInt32s(req.values), 'must be ordered'));
  return errs;
}

function validateOnPodConditions(patterns: unknown[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (patterns.length > MAX_ON_POD_CONDITIONS_PATTERNS)
    errs.push(fe.tooMany(path, patterns.length, MAX_ON_POD_CONDITIONS_PATTERNS));
  patterns.forEach((p, j) => {
    const pattern = obj(p);
    const patternPath = path.index(j);
    errs.push(...validateQualifiedName(str(pattern.type), patternPath.child('type')));
    const status = str(pattern.status);
    const statusPath = patternPath.child('status');
    if (status === '')
      errs.push(fe.required(statusPath, `valid values: ${goQuotedList(CONDITION_STATUSES)}`));
    else if (!CONDITION_STATUSES.includes(status))
      errs.push(fe.notSupported(statusPath, status, CONDITION_STATUSES));
  });
  return errs;
}

function validateSuccessPolicy(spec: Obj, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const rulesPath = path.child('rules');
  const raw = at(spec, 'successPolicy', 'rules');
  const rulesLen = Array.isArray(raw) ? raw.length : 0;
  if (rulesLen === 0)
    errs.push(
      fe.required(rulesPath, 'at least one rules must be specified when the successPolicy is specified'),
    );
  if (rulesLen > MAX_SUCCESS_POLICY_RULES)
    errs.push(fe.tooMany(rulesPath, rulesLen, MAX_SUCCESS_POLICY_RULES));
  const completions = num(spec.completions) ?? 0;
  for (const [rule, i] of objItems(raw)) {
    const rulePath = rulesPath.index(i);
    const indexes = rule.succeededIndexes;
    const count = num(rule.succeededCount);
    if (!isSet(indexes) && count === undefined)
      errs.push(
        fe.required(rulePath, 'at least one of succeededCount or succeededIndexes must be specified'),
      );
    let total = 0;
    if (typeof indexes === 'string') {
      const p = rulePath.child('succeededIndexes');
      if (byteLength(indexes) > MAX_SUCCEEDED_INDEXES_LENGTH)
        errs.push(fe.tooLong(p, MAX_SUCCEEDED_INDEXES_LENGTH));
      try {
        total = indexesCount(indexes, completions);
      } catch (err) {
        errs.push(fe.invalid(p, indexes, `error parsing succeededIndexes: ${(err as Error).message}`));
      }
    }
    if (count !== undefined) {
      const p = rulePath.child('succeededCount');
      errs.push(...nonNegative(count, p));
      if (count > completions)
        errs.push(
          fe.invalid(
            p,
            count,
            `must be less than or equal to ${completions} (the number of specified completions)`,
          ),
        );
      if (typeof indexes === 'string' && count > total)
        errs.push(
          fe.invalid(
            p,
            count,
            `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`,
          ),
        );
    }
  }
  return errs;
}

function validatePodReplacementPolicy(spec: Obj, path: FieldPath): FieldError[] {
  if (!isSet(spec.podReplacementPolicy)) return [];
  const v = str(spec.podReplacementPolicy);
  if (isSet(spec.podFailurePolicy)) return v === 'Failed' ? [] : [fe.notSupported(path, v, ['Failed'])];
  return v === 'Failed' || v === 'TerminatingOrFailed'
    ? []
    : [fe.notSupported(path, v, ['Failed', 'TerminatingOrFailed'])];
}

function validateIndexedLimits(spec: Obj, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const completions = num(spec.completions);
  const parallelism = num(spec.parallelism);
  const maxFailed = num(spec.maxFailedIndexes);
  if (completions === undefined)
    errs.push(fe.required(path.child('completions'), 'when completion mode is Indexed'));
  if (parallelism !== undefined && parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB)
    errs.push(
      fe.invalid(
        path.child('parallelism'),
        parallelism,
        `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`,
      ),
    );
  if (completions !== undefined && maxFailed !== undefined && maxFailed > completions)
    errs.push(
      fe.invalid(path.child('maxFailedIndexes'), maxFailed, 'must be less than or equal to completions'),
    );
  if (maxFailed !== undefined && maxFailed > MAX_FAILED_INDEXES_FOR_INDEXED_JOB)
    errs.push(
      fe.invalid(
        path.child('maxFailedIndexes'),
        maxFailed,
        `must be less than or equal to ${MAX_FAILED_INDEXES_FOR_INDEXED_JOB}`,
      ),
    );
  if (completions !== undefined && completions > COMPLETIONS_SOFT_LIMIT && isSet(spec.backoffLimitPerIndex)) {
    const suffix = `when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`;
    if (maxFailed === undefined)
      errs.push(
        fe.required(
          path.child('maxFailedIndexes'),
          `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`,
        ),
      );
    if (parallelism !== undefined && parallelism > PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS)
      errs.push(
        fe.invalid(
          path.child('parallelism'),
          parallelism,
          `must be less than or equal to ${PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} ${suffix}`,
        ),
      );
    if (maxFailed !== undefined && maxFailed > MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS)
      errs.push(
        fe.invalid(
          path.child('maxFailedIndexes'),
          maxFailed,
          `must be less than or equal to ${MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS} ${suffix}`,
        ),
      );
  }
  return errs;
}

/** validateJobSpec: everything but the selector (Jobs add it; CronJob templates must not set it). */
export function validateJobSpec(spec: Obj, path: FieldPath, pod: PodTemplateHelpers): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of [
    'parallelism',
    'completions',
    'activeDeadlineSeconds',
    'backoffLimit',
    'ttlSecondsAfterFinished',
    'backoffLimitPerIndex',
  ])
    errs.push(...nonNegative(spec[f], path.child(f)));
  if (isSet(spec.maxFailedIndexes)) {
    errs.push(...nonNegative(spec.maxFailedIndexes, path.child('maxFailedIndexes')));
    if (!isSet(spec.backoffLimitPerIndex))
      errs.push(fe.required(path.child('backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  }
  if (typeof spec.managedBy === 'string') {
    errs.push(...isDomainPrefixedPath(path.child('managedBy'), spec.managedBy));
    if (spec.managedBy.length > MAX_MANAGED_BY_LENGTH)
      errs.push(fe.tooLong(path.child('managedBy'), MAX_MANAGED_BY_LENGTH));
  }
  const mode = typeof spec.completionMode === 'string' ? spec.completionMode : undefined;
  if (mode !== undefined) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed')
      errs.push(fe.notSupported(path.child('completionMode'), mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') errs.push(...validateIndexedLimits(spec, path));
  }
  if (mode === undefined || mode === 'NonIndexed') {
    for (const f of ['backoffLimitPerIndex', 'maxFailedIndexes'])
      if (isSet(spec[f])) errs.push(fe.invalid(path.child(f), spec[f], 'requires indexed completion mode'));
  }
  if (isSet(spec.podFailurePolicy))
    errs.push(...validatePodFailurePolicy(spec, path.child('podFailurePolicy')));
  if (isSet(spec.successPolicy)) {
    if (mode !== 'Indexed')
      errs.push(
        fe.invalid(path.child('successPolicy'), spec.successPolicy, 'requires indexed completion mode'),
      );
    else errs.push(...validateSuccessPolicy(spec, path.child('successPolicy')));
  }
  errs.push(...validatePodReplacementPolicy(spec, path.child('podReplacementPolicy')));
  const templatePath = path.child('template');
  errs.push(...pod.validatePodTemplateSpec(spec.template, templatePath));
  const rpPath = templatePath.child('spec').child('restartPolicy');
  const rp = str(at(spec.template, 'spec', 'restartPolicy'));
  if (rp === 'Always' || rp === '') errs.push(fe.required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (rp !== 'OnFailure' && rp !== 'Never')
    errs.push(fe.notSupported(rpPath, rp, ['OnFailure', 'Never']));
  else if (isSet(spec.podFailurePolicy) && rp !== 'Never')
    errs.push(fe.invalid(rpPath, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

/** SetDefaults_PodFailurePolicyOnPodConditionsPattern: an unset status is "True". */
export function defaultPodFailurePolicy(spec: Obj): void {
  for (const [rule] of objItems(at(spec, 'podFailurePolicy', 'rules')))
    for (const [pattern] of objItems(rule.onPodConditions))
      if (!isSet(pattern.status) || pattern.status === '') pattern.status = 'True';
}
