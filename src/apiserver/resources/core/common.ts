/**
 * Validation helpers shared by the core kinds, after pkg/apis/core/validation and
 * k8s.io/apimachinery/pkg/api/validation. Messages are Kubernetes' own.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { type LabelSelector, validateLabelSelector } from '../../../api/labels.ts';
import {
  inclusiveRangeError,
  invalidEach,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  regexError,
  validateLabels,
} from '../../../api/validation.ts';
import { fe, isObj, jsonEqual, objItems, str, strList, strMap } from './json.ts';

/** apimachineryvalidation.FieldImmutableErrorMsg */
export const FIELD_IMMUTABLE = 'field is immutable';
/** apimachineryvalidation.IsNegativeErrorMsg */
export const IS_NEGATIVE = 'must be greater than or equal to 0';
export const IS_NOT_POSITIVE = 'must be greater than zero';
export const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';

export function validateDNS1123Label(value: string, path: FieldPath): FieldError[] {
  return invalidEach(path, value, isDNS1123Label(value));
}

export function validateDNS1123Subdomain(value: string, path: FieldPath): FieldError[] {
  return invalidEach(path, value, isDNS1123Subdomain(value));
}

export function validateQualifiedName(value: string, path: FieldPath): FieldError[] {
  return invalidEach(path, value, isQualifiedName(value));
}

/** ValidateNonnegativeField */
export function validateNonnegative(value: number | undefined, path: FieldPath): FieldError[] {
  return value !== undefined && value < 0 ? [fe.invalid(path, value, IS_NEGATIVE)] : [];
}

/** ValidateImmutableField */
export function validateImmutable(next: unknown, old: unknown, path: FieldPath): FieldError[] {
  return jsonEqual(norm(next), norm(old)) ? [] : [fe.invalid(path, next, FIELD_IMMUTABLE)];
}

/** null and undefined are the same unset value. */
function norm(v: unknown): unknown {
  return v === null ? undefined : v;
}

const MAX_ID = 2147483647;

/** IsValidUserID / IsValidGroupID */
export function validateID(value: number | undefined, path: FieldPath): FieldError[] {
  if (value === undefined) return [];
  return value < 0 || value > MAX_ID ? [fe.invalid(path, value, inclusiveRangeError(0, MAX_ID))] : [];
}

/** A file mode (0–0777). */
export function validateFileMode(value: number | undefined, path: FieldPath): FieldError[] {
  if (value === undefined) return [];
  return value > 0o777 || value < 0 ? [fe.invalid(path, value, FILE_MODE_ERROR)] : [];
}

const HTTP_HEADER_FMT = '[-A-Za-z0-9]+';
const httpHeaderRe = /^[-A-Za-z0-9]+$/;

/** IsHTTPHeaderName */
export function isHTTPHeaderName(value: string): string[] {
  return httpHeaderRe.test(value)
    ? []
    : [
        regexError(
          "a valid HTTP header must consist of alphanumeric characters or '-'",
          HTTP_HEADER_FMT,
          'X-Header-Name',
        ),
      ];
}

/** Whether any path segment (split on '/' or '\\') is "..". */
function hasBacksteps(p: string): boolean {
  return p.replaceAll('\\', '/').split('/').includes('..');
}

/** validatePathNoBacksteps */
export function validatePathNoBacksteps(p: string, path: FieldPath): FieldError[] {
  return hasBacksteps(p) ? [fe.invalid(path, p, "must not contain '..'")] : [];
}

/** validateLocalDescendingPath: relative, no "..". */
export function validateLocalDescendingPath(p: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (p.startsWith('/')) errs.push(fe.invalid(path, p, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(p, path));
  return errs;
}

/** ValidateLocalNonReservedPath: as validateLocalDescendingPath, and not starting with "..". */
export function validateLocalNonReservedPath(p: string, path: FieldPath): FieldError[] {
  const errs = validateLocalDescendingPath(p, path);
  if (p.startsWith('..') && !p.startsWith('../')) errs.push(fe.invalid(path, p, "must not start with '..'"));
  return errs;
}

/** A metav1.LabelSelector built from arbitrary JSON (wrong-typed parts dropped), for validateLabelSelector. */
export function toLabelSelector(v: unknown): LabelSelector | undefined {
  if (!isObj(v)) return undefined;
  return {
    matchLabels: strMap(v.matchLabels),
    matchExpressions: objItems(v.matchExpressions).map(([e]) => ({
      key: str(e.key),
      operator: str(e.operator),
      values: strList(e.values),
    })),
  };
}

/** ValidateLabelSelector on arbitrary JSON. */
export function validateSelector(v: unknown, path: FieldPath): FieldError[] {
  return validateLabelSelector(toLabelSelector(v), path);
}

/** ValidateLabels on arbitrary JSON (a map of strings). */
export function validateLabelMap(v: unknown, path: FieldPath): FieldError[] {
  return validateLabels(strMap(v), path);
}
