/**
 * OpenAPI v3 value validation as the API server runs it on custom resources: a port of kube-openapi's
 * SchemaValidator (pkg/validation/validate) with its messages ("spec.replicas in body must be of type
 * integer: \"string\""), turned into field errors the way apiextensions-apiserver's
 * kubeOpenAPIResultToFieldErrors does (Required, Unsupported value, Too long, Too many, Invalid value).
 *
 * Faithful details worth knowing: a root-level problem and every anyOf/oneOf/allOf/not failure is
 * reported at the field path `<nil>` (the API server validates with a nil path), and the name inside
 * messages is kube-openapi's own (`spec.items[0].name`, `spec.labels.key` for map values).
 */
import { FieldError } from '../../../api/errors.ts';
import { formatValidates, isStringFormat } from './formats.ts';
import type { SchemaNode } from './node.ts';
import { deepEqual, goFloat, isJsonInteger, isObject } from './util.ts';

type Code =
  | 'invalidType'
  | 'required'
  | 'tooLong'
  | 'tooShort'
  | 'pattern'
  | 'enum'
  | 'multipleOf'
  | 'multipleOfMustBePositive'
  | 'max'
  | 'min'
  | 'unique'
  | 'maxItems'
  | 'minItems'
  | 'tooFewProperties'
  | 'tooManyProperties'
  | 'unallowedProperty';

/** One kube-openapi error: a `*errors.Validation` (with a name) or a composite message. */
type OpenAPIError =
  | {
      kind: 'validation';
      code: Code;
      name: string;
      value: unknown;
      valid?: number;
      values?: readonly unknown[];
      message: string;
    }
  | { kind: 'composite'; message: string };

interface Result {
  errors: OpenAPIError[];
  /** How many checks passed: anyOf/oneOf report the failures of the branch that got furthest. */
  matchCount: number;
}

type Kind = 'null' | 'string' | 'int' | 'float' | 'bool' | 'slice' | 'map';

const IN = 'body';

function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return isJsonInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'slice';
  return 'map';
}

/** The JSON type and Go format kube-openapi infers from a decoded value (schemaInfoForType). */
function schemaInfo(kind: Kind): [string, string] {
  switch (kind) {
    case 'string':
      return ['string', ''];
    case 'int':
      return ['integer', 'int64'];
    case 'float':
      return ['number', 'double'];
    case 'bool':
      return ['boolean', ''];
    case 'slice':
      return ['array', ''];
    default:
      return ['object', ''];
  }
}

function v(
  code: Code,
  name: string,
  value: unknown,
  message: string,
  extra: Partial<OpenAPIError> = {},
): OpenAPIError {
  return { kind: 'validation', code, name, value, message, ...extra } as OpenAPIError;
}

function fail(...errors: OpenAPIError[]): Result {
  return { errors, matchCount: 0 };
}

function ok(): Result {
  return { errors: [], matchCount: 0 };
}

function merge(into: Result, ...from: Result[]): Result {
  for (const r of from) {
    into.errors.push(...r.errors);
    into.matchCount += r.matchCount;
  }
  return into;
}

/** `%s in body must be of type %s: %q` (a string value) or `… must be of type %s`. */
function invalidType(name: string, typeName: string, value: unknown): OpenAPIError {
  const msg =
    typeof value === 'string'
      ? `${name} in ${IN} must be of type ${typeName}: ${JSON.stringify(value)}`
      : `${name} in ${IN} must be of type ${typeName}`;
  return v('invalidType', name, value, msg);
}

function typeCheck(n: SchemaNode, kind: Kind, path: string): Result {
  const types = n.types;
  if (kind === 'null') {
    if (types.length > 0 && !types.includes('null') && !n.nullable)
      return fail(invalidType(path, types.join(','), 'null'));
    return { errors: [], matchCount: 1 };
  }
  const [schType, format] = schemaInfo(kind);
  const isIntFloat = schType === 'integer' && types.includes('number');
  if (
    kind !== 'string' &&
    kind !== 'slice' &&
    n.format !== '' &&
    !(types.includes(schType) || format === n.format || isIntFloat)
  ) {
    return fail(invalidType(path, n.format, format));
  }
  if (
    !(types.includes('number') || types.includes('integer')) &&
    n.format !== '' &&
    (kind === 'string' || kind === 'slice')
  ) {
    return { errors: [], matchCount: 1 };
  }
  if (!(types.includes(schType) || isIntFloat)) return fail(invalidType(path, types.join(','), schType));
  return { errors: [], matchCount: 1 };
}

function stringCheck(n: SchemaNode, data: string, path: string): Result {
  const { maxLength, minLength } = n.limits;
  const runes = maxLength !== undefined || minLength !== undefined ? [...data].length : 0;
  if (maxLength !== undefined && runes > maxLength) {
    return fail(
      v('tooLong', path, data, `${path} in ${IN} should be at most ${Math.trunc(maxLength)} chars long`, {
        valid: Math.trunc(maxLength),
      }),
    );
  }
  if (minLength !== undefined && runes < minLength) {
    return fail(
      v('tooShort', path, data, `${path} in ${IN} should be at least ${Math.trunc(minLength)} chars long`),
    );
  }
  const pattern = n.pattern;
  if (pattern) {
    const src = n.src.pattern ?? '';
    if (!pattern.ok) {
      return fail(
        v(
          'pattern',
          path,
          data,
          `${path} in ${IN} should match '${src}, but pattern is invalid: ${pattern.error}'`,
        ),
      );
    }
    pattern.re.lastIndex = 0;
    if (!pattern.re.test(data))
      return fail(v('pattern', path, data, `${path} in ${IN} should match '${src}'`));
  }
  return ok();
}

function formatCheck(n: SchemaNode, data: string, path: string): Result {
  if (formatValidates(n.format, data)) return ok();
  return fail(invalidType(path, n.format, data));
}

/** swag.IsFloat64AJSONInteger */
function isFloatInteger(f: number): boolean {
  if (!Number.isFinite(f)) return false;
  if (Number.isInteger(f)) return true;
  const g = Math.trunc(f);
  const diff = Math.abs(f - g);
  if (f === 0 || g === 0) return diff < 1e-9 * Number.MIN_VALUE;
  return diff / Math.min(Math.abs(f) + Math.abs(g), Number.MAX_VALUE) < 1e-9;
}

function numberCheck(n: SchemaNode, data: number, kind: Kind, path: string): Result {
  const { multipleOf, maximum, exclusiveMaximum, minimum, exclusiveMinimum } = n.limits;
  const res = ok();
  const isInt = kind === 'int';
  if (multipleOf !== undefined) {
    const factor = Math.trunc(multipleOf);
    if (isInt && factor !== 0) {
      if (factor < 0) res.errors.push(mustBePositive(path, factor));
      else if (data % factor !== 0) {
        res.errors.push(v('multipleOf', path, data, `${path} in ${IN} should be a multiple of ${factor}`));
      }
    } else if (multipleOf < 0) {
      res.errors.push(mustBePositive(path, goFloat(multipleOf)));
    } else {
      const mult = multipleOf < 1 ? (1 / multipleOf) * data : data / multipleOf;
      if (!isFloatInteger(mult)) {
        res.errors.push(
          v('multipleOf', path, data, `${path} in ${IN} should be a multiple of ${goFloat(multipleOf)}`),
        );
      }
    }
  }
  if (minimum !== undefined) {
    const bound = isInt ? Math.trunc(minimum) : minimum;
    if ((!exclusiveMinimum && data < bound) || (exclusiveMinimum && data <= bound)) {
      const shown = isInt ? String(bound) : goFloat(bound);
      const how = exclusiveMinimum ? 'greater than' : 'greater than or equal to';
      res.errors.push(v('min', path, data, `${path} in ${IN} should be ${how} ${shown}`));
    }
  }
  if (maximum !== undefined) {
    const bound = isInt ? Math.trunc(maximum) : maximum;
    if ((!exclusiveMaximum && data > bound) || (exclusiveMaximum && data >= bound)) {
      const shown = isInt ? String(bound) : goFloat(bound);
      const how = exclusiveMaximum ? 'less than' : 'less than or equal to';
      res.errors.push(v('max', path, data, `${path} in ${IN} should be ${how} ${shown}`));
    }
  }
  if (res.errors.length === 0) res.matchCount = 1;
  return res;
}

function mustBePositive(path: string, factor: number | string): OpenAPIError {
  return v(
    'multipleOfMustBePositive',
    path,
    factor,
    `factor MultipleOf declared for ${path} must be positive: ${factor}`,
  );
}

function sliceCheck(n: SchemaNode, data: unknown[], path: string): Result {
  const res = ok();
  if (n.items) {
    for (let i = 0; i < data.length; i++) merge(res, validateNode(n.items, data[i], `${path}[${i}]`));
  }
  const { minItems, maxItems, uniqueItems } = n.limits;
  const size = data.length;
  if (minItems !== undefined && size < minItems) {
    res.errors.push(
      v('minItems', path, size, `${path} in ${IN} should have at least ${Math.trunc(minItems)} items`),
    );
  }
  if (maxItems !== undefined && size > maxItems) {
    res.errors.push(
      v('maxItems', path, size, `${path} in ${IN} should have at most ${Math.trunc(maxItems)} items`, {
        valid: Math.trunc(maxItems),
      }),
    );
  }
  if (uniqueItems && data.some((x, i) => data.slice(0, i).some((y) => deepEqual(x, y)))) {
    res.errors.push(v('unique', path, undefined, `${path} in ${IN} shouldn't contain duplicates`));
  }
  res.matchCount += 1;
  return res;
}

/** basicCommonValidator: enum membership (a null never matches). */
function enumCheck(n: SchemaNode, data: unknown, path: string): Result {
  if (!n.enum) return ok();
  if (data !== null && data !== undefined && n.enum.some((e) => e !== null && deepEqual(data, e)))
    return ok();
  const shown = n.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join(' ');
  return fail(
    v('enum', path, data ?? null, `${path} in ${IN} should be one of [${shown}]`, { values: n.enum }),
  );
}

function objectCheck(n: SchemaNode, data: Record<string, unknown>, path: string): Result {
  const keys = Object.keys(data);
  const { minProperties, maxProperties } = n.limits;
  if (minProperties !== undefined && keys.length < minProperties) {
    return fail(
      v(
        'tooFewProperties',
        path,
        keys.length,
        `${path} in ${IN} should have at least ${Math.trunc(minProperties)} properties`,
      ),
    );
  }
  if (maxProperties !== undefined && keys.length > maxProperties) {
    return fail(
      v(
        'tooManyProperties',
        path,
        keys.length,
        `${path} in ${IN} should have at most ${Math.trunc(maxProperties)} properties`,
        {
          valid: Math.trunc(maxProperties),
        },
      ),
    );
  }
  const res = ok();
  const ap = n.additionalProperties;
  if (ap === false) {
    for (const k of keys) {
      if (!n.properties.has(k)) {
        res.errors.push(v('unallowedProperty', path, k, `${path}.${k} in ${IN} is a forbidden property`));
      }
    }
  } else if (typeof ap === 'object') {
    for (const k of keys) if (!n.properties.has(k)) merge(res, validateNode(ap, data[k], `${path}.${k}`));
  }
  for (const [name, prop] of n.properties) {
    if (Object.hasOwn(data, name))
      merge(res, validateNode(prop, data[name], path === '' ? name : `${path}.${name}`));
  }
  for (const r of n.required) {
    if (!Object.hasOwn(data, r))
      res.errors.push(v('required', `${path}.${r}`, undefined, `${path}.${r} in ${IN} is required`));
  }
  res.matchCount += 1;
  return res;
}

function composite(message: string): OpenAPIError {
  return { kind: 'composite', message };
}

/** schemaPropsValidator: anyOf, oneOf, allOf, not. */
function junctorCheck(n: SchemaNode, data: unknown, path: string): Result {
  const res = ok();
  if (n.anyOf.length > 0) {
    let best: Result | undefined;
    let succeeded = false;
    for (const s of n.anyOf) {
      const r = validateNode(s, data, path);
      if (r.errors.length === 0) {
        succeeded = true;
        best = undefined;
        merge(res, r);
        break;
      }
      if (!best || r.matchCount > best.matchCount) best = r;
    }
    if (!succeeded)
      res.errors.push(composite(`${JSON.stringify(path)} must validate at least one schema (anyOf)`));
    if (best) merge(res, best);
  }
  if (n.oneOf.length > 0) {
    let best: Result | undefined;
    let first: Result | undefined;
    let validated = 0;
    for (const s of n.oneOf) {
      const r = validateNode(s, data, path);
      if (r.errors.length === 0) {
        validated++;
        best = undefined;
        first ??= r;
        continue;
      }
      if (validated === 0 && (!best || r.matchCount > best.matchCount)) best = r;
    }
    if (validated !== 1) {
      const extra = validated === 0 ? 'Found none valid' : `Found ${validated} valid alternatives`;
      res.errors.push(
        composite(`${JSON.stringify(path)} must validate one and only one schema (oneOf). ${extra}`),
      );
      if (best) merge(res, best);
    } else if (first) merge(res, first);
  }
  if (n.allOf.length > 0) {
    let validated = 0;
    for (const s of n.allOf) {
      const r = validateNode(s, data, path);
      if (r.errors.length === 0) validated++;
      merge(res, r);
    }
    if (validated !== n.allOf.length) {
      const extra = validated === 0 ? '. None validated' : '';
      res.errors.push(composite(`${JSON.stringify(path)} must validate all the schemas (allOf)${extra}`));
    }
  }
  if (n.not && validateNode(n.not, data, path).errors.length === 0) {
    res.errors.push(composite(`${JSON.stringify(path)} must not validate the schema (not)`));
  }
  res.matchCount += 1;
  return res;
}

/** SchemaValidator.Validate for one node: every applicable check, in kube-openapi's order. */
function validateNode(n: SchemaNode, data: unknown, path: string): Result {
  const res = ok();
  const kind = kindOf(data);
  if (kind === 'null') return merge(res, typeCheck(n, kind, path), enumCheck(n, data, path));
  if (n.types.length > 0 || n.format !== '') merge(res, typeCheck(n, kind, path));
  merge(res, junctorCheck(n, data, path));
  if (kind === 'string') {
    merge(res, stringCheck(n, data as string, path));
    if (n.format !== '' && isStringFormat(n.format)) merge(res, formatCheck(n, data as string, path));
  }
  if (kind === 'int' || kind === 'float') merge(res, numberCheck(n, data as number, kind, path));
  if (kind === 'slice') merge(res, sliceCheck(n, data as unknown[], path));
  merge(res, enumCheck(n, data, path));
  if (kind === 'map' && isObject(data)) merge(res, objectCheck(n, data, path));
  res.matchCount += 1;
  return res;
}

function childPath(prefix: string | undefined, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/** kubeOpenAPIResultToFieldErrors */
function toFieldErrors(prefix: string | undefined, errors: readonly OpenAPIError[]): FieldError[] {
  const nilPath = prefix ?? '<nil>';
  return errors.map((e) => {
    if (e.kind === 'composite') return FieldError.invalid(nilPath, '', e.message);
    const path = e.name.length > 0 && e.name !== '.' ? childPath(prefix, e.name.replace(/^\./, '')) : nilPath;
    // field.Error prints a nil value as the string "null" (quoted).
    const value = e.value === undefined ? '' : e.value === null ? 'null' : e.value;
    switch (e.code) {
      case 'required':
        return FieldError.required(path);
      case 'enum':
        return FieldError.notSupported(
          path,
          value,
          (e.values ?? []).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))),
        );
      case 'tooLong':
        return FieldError.tooLong(path, e.valid ?? -1);
      case 'maxItems':
      case 'tooManyProperties':
        return tooMany(path, e.value as number, e.valid ?? -1);
      case 'invalidType':
        return FieldError.typeInvalid(path, value, e.message);
      default:
        return FieldError.invalid(path, value, e.message);
    }
  });
}

/** field.TooMany: "Too many: 4: must have at most 3 items" (the count is shown, as Kubernetes does). */
function tooMany(path: string, actual: number, max: number): FieldError {
  const detail = max >= 0 ? `must have at most ${max} ${max === 1 ? 'item' : 'items'}` : 'has too many items';
  return new FieldError('FieldValueTooMany', path, actual, detail);
}

/**
 * Validates a decoded JSON value against a compiled schema, as `ValidateCustomResource(fldPath, …)`.
 * `fldPath` prefixes every field path; without it, root-level errors are reported at `<nil>`.
 */
export function validateValue(root: SchemaNode, value: unknown, fldPath?: string): FieldError[] {
  const res = validateNode(root, value, '');
  return toFieldErrors(fldPath, res.errors);
}
