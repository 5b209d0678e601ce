/**
 * Rules shared by the kinds in this folder (apimachinery's and core's small validators, as the
 * apps/batch/policy validation packages use them), and {@link kindStrategy}, which turns a kind's
 * Kubernetes-style rules into skiff Strategy hooks.
 */
import type { FieldError } from '../../../api/errors.ts';
import { FieldPath } from '../../../api/errors.ts';
import {
  type LabelSelector,
  LabelSelectorParseError,
  type LabelSelectorRequirement,
  labelSelectorAsSelector,
  type Selector,
} from '../../../api/labels.ts';
import { isQualifiedName, regexError } from '../../../api/validation.ts';
import { jsonEqual, type KubeObject } from '../../object.ts';
import type { Strategy, WriteContext } from '../../resource.ts';
import { goIntOrString, goInvalid } from './gofmt.ts';
import { fe, isObj, num, type Obj, optStrMap, strList } from './json.ts';

// ---- numbers

/** ValidateNonnegativeField, for a field that may be unset. */
export function nonNegative(v: unknown, path: FieldPath): FieldError[] {
  const n = num(v);
  return n !== undefined && n < 0 ? [fe.invalid(path, n, 'must be greater than or equal to 0')] : [];
}

// ---- intstr.IntOrString

const PERCENT_FMT = '[0-9]+%';
const percentRe = new RegExp(`^${PERCENT_FMT}$`);

/** validation.IsValidPercent */
export function isValidPercent(s: string): string[] {
  return percentRe.test(s)
    ? []
    : [
        regexError(
          "a valid percent string must be a numeric string followed by an ending '%'",
          PERCENT_FMT,
          '1%',
          '93%',
        ),
      ];
}

/** ValidatePositiveIntOrPercent (apps validation): a non-negative int or a valid percent string. */
export function validatePositiveIntOrPercent(v: unknown, path: FieldPath): FieldError[] {
  if (typeof v === 'string') return isValidPercent(v).map((msg) => goInvalid(path, v, goIntOrString(v), msg));
  return nonNegative(typeof v === 'number' ? v : 0, path);
}

/** The percentage of a valid percent string, else undefined (getPercentValue). */
function percentValue(v: unknown): number | undefined {
  if (typeof v !== 'string' || isValidPercent(v).length > 0) return undefined;
  return Number.parseInt(v.slice(0, -1), 10);
}

/** getIntOrPercentValue: the percentage, the int, or a string's Atoi value (0 when it is not a number). */
export function intOrPercentValue(v: unknown): number {
  const p = percentValue(v);
  if (p !== undefined) return p;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^[+-]?[0-9]+$/.test(v)) return Number.parseInt(v, 10);
  return 0;
}

/** IsNotMoreThan100Percent */
export function isNotMoreThan100Percent(v: unknown, path: FieldPath): FieldError[] {
  const p = percentValue(v);
  if (p === undefined || p <= 100) return [];
  return [goInvalid(path, v, goIntOrString(v), 'must not be greater than 100%')];
}

// ---- selectors

/** A typed copy of a metav1.LabelSelector (wrong-typed parts dropped), or undefined for nil. */
export function toLabelSelector(v: unknown): LabelSelector | undefined {
  if (!isObj(v)) return undefined;
  const out: LabelSelector = {};
  const ml = optStrMap(v.matchLabels);
  if (ml) out.matchLabels = ml;
  if (Array.isArray(v.matchExpressions)) {
    out.matchExpressions = v.matchExpressions.map((r): LabelSelectorRequirement => {
      const req: Obj = isObj(r) ? r : {};
      const x: LabelSelectorRequirement = {
        key: typeof req.key === 'string' ? req.key : '',
        operator: typeof req.operator === 'string' ? req.operator : '',
      };
      if (Array.isArray(req.values)) x.values = strList(req.values);
      return x;
    });
  }
  return out;
}

/** metav1.LabelSelectorAsSelector, or undefined where it fails. A nil selector matches nothing. */
export function asSelector(v: unknown): Selector | undefined {
  try {
    return labelSelectorAsSelector(toLabelSelector(v));
  } catch (err) {
    if (err instanceof LabelSelectorParseError) return undefined;
    throw err;
  }
}

/** The number of matchLabels plus matchExpressions of a selector object. */
export function selectorSize(v: unknown): number {
  if (!isObj(v)) return 0;
  const ml = isObj(v.matchLabels) ? Object.keys(v.matchLabels).length : 0;
  const me = Array.isArray(v.matchExpressions) ? v.matchExpressions.length : 0;
  return ml + me;
}

// ---- names

/** ValidateQualifiedName (core validation). */
export function validateQualifiedName(value: string, path: FieldPath): FieldError[] {
  return isQualifiedName(value).map((msg) => fe.invalid(path, value, msg));
}

// ---- equality

/** JSON normalised the way Go's semantic equality sees it: unset, empty lists and empty maps drop out. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    const n = normalize(x);
    if (n === undefined || n === null) continue;
    if (Array.isArray(n) && n.length === 0) continue;
    if (isObj(n) && Object.keys(n).length === 0) continue;
    out[k] = n;
  }
  return out;
}

/** apiequality.Semantic.DeepEqual, for JSON: unset, null, [] and {} fields are alike inside objects. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  const na = a === null ? undefined : normalize(a);
  const nb = b === null ? undefined : normalize(b);
  return jsonEqual(na, nb);
}

/**
 * ValidateImmutableField: "field is immutable" when the values differ. `render` prints the new
 * value as Go would (default: JSON); an unset value prints as "null", as Go's does.
 */
export function immutable(
  next: unknown,
  old: unknown,
  path: FieldPath,
  render?: (v: unknown) => string,
): FieldError[] {
  if (semanticEqual(next, old)) return [];
  if (next === undefined || next === null) return [fe.invalid(path, 'null', 'field is immutable')];
  return [
    render
      ? goInvalid(path, next, render(next), 'field is immutable')
      : fe.invalid(path, next, 'field is immutable'),
  ];
}

// ---- strategies

/**
 * A kind's rules in Kubernetes' terms: the strategy's Validate (create) and ValidateUpdate
 * (everything an update must satisfy, spec rules included), and the status strategy's
 * ValidateUpdate for writes through /status.
 */
export interface KindRules {
  /** SetDefaults_<Kind>, in place; idempotent. */
  defaults?(obj: KubeObject): void;
  prepareForCreate?(obj: KubeObject, ctx: WriteContext): void;
  /** PrepareForUpdate of the main resource (and the scale subresource); not run for /status writes. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: WriteContext): void;
  /** The strategy's Validate: the errors of a new object. */
  validateCreate?(obj: KubeObject, ctx: WriteContext): FieldError[];
  /** The strategy's ValidateUpdate: all the errors of an update. Defaults to validateCreate. */
  validateUpdate?(obj: KubeObject, old: KubeObject, ctx: WriteContext): FieldError[];
  /** The status strategy's ValidateUpdate, for writes through /status. */
  validateStatusUpdate?(obj: KubeObject, old: KubeObject, ctx: WriteContext): FieldError[];
}

/** Objects being updated, marked by prepareForUpdate (the registry runs it before validation). */
const updating = new WeakSet<object>();

/**
 * Strategy hooks from a kind's rules. Kubernetes validates an update with ValidateUpdate alone,
 * which for several kinds differs from create validation (names not re-checked, old values
 * grandfathered); skiff's registry runs validate() and then validateUpdate() on an update. So
 * prepareForUpdate marks the object, validate() returns nothing for a marked object, and
 * validateUpdate() returns the whole update verdict.
 */
export function kindStrategy(rules: KindRules): Partial<Strategy> {
  const s: Partial<Strategy> = {
    prepareForUpdate(obj, old, ctx) {
      updating.add(obj);
      if (ctx.subresource !== 'status') rules.prepareForUpdate?.(obj, old, ctx);
    },
    validate(obj, ctx) {
      if (updating.has(obj)) return [];
      return rules.validateCreate?.(obj, ctx) ?? [];
    },
    validateUpdate(obj, old, ctx) {
      if (ctx.subresource === 'status') return rules.validateStatusUpdate?.(obj, old, ctx) ?? [];
      if (rules.validateUpdate) return rules.validateUpdate(obj, old, ctx);
      return rules.validateCreate?.(obj, ctx) ?? [];
    },
  };
  if (rules.defaults) s.defaults = rules.defaults;
  if (rules.prepareForCreate) s.prepareForCreate = rules.prepareForCreate;
  return s;
}

/** The root path `spec`, and friends. */
export const SPEC = new FieldPath('spec');
export const STATUS = new FieldPath('status');
export const METADATA = new FieldPath('metadata');

/** The empty root path (shape checks of a whole object). */
export const ROOT = new FieldPath('');

/** obj.spec as an object (empty if it is not one). */
export function objSpec(o: KubeObject): Obj {
  return isObj(o.spec) ? o.spec : {};
}

/** obj.status as an object (empty if it is not one). */
export function objStatus(o: KubeObject): Obj {
  return isObj(o.status) ? o.status : {};
}

/** ValidateNonnegativeField for each named status field (`status.<name>`). */
export function nonNegativeFields(status: Obj, names: readonly string[]): FieldError[] {
  return names.flatMap((n) => nonNegative(status[n], STATUS.child(n)));
}

/** `status.<field>` may not exceed `status.<than>` (both zero when unset). */
export function notGreater(status: Obj, field: string, than: string, msg: string): FieldError[] {
  const v = num(status[field]) ?? 0;
  return v > (num(status[than]) ?? 0) ? [fe.invalid(STATUS.child(field), v, msg)] : [];
}

/** status.collisionCount may not decrease or be removed (IsDecremented). */
export function collisionCountDecrement(status: Obj, oldStatus: Obj): FieldError[] {
  const next = num(status.collisionCount);
  const prev = num(oldStatus.collisionCount);
  const decremented = next === undefined ? prev !== undefined : prev !== undefined && next < prev;
  return decremented ? [fe.invalid(STATUS.child('collisionCount'), next ?? 0, 'cannot be decremented')] : [];
}
