/**
 * Field selectors (k8s.io/apimachinery/pkg/fields): `metadata.name=x,status.phase!=Running`.
 *
 * Terms are split on unescaped commas and sorted; each term splits at its first `!=`, `==` or `=`
 * (the field is taken literally, spaces included); the value is unescaped (`\\`, `\,`, `\=`), and an
 * unescaped `,` or `=` in it, or any other escape, is an error. A term whose field and value are both
 * empty (a bare "=") is dropped. A missing field compares as the empty string.
 */

import { compareStrings } from '../util/strings.ts';
import { ApiError } from './errors.ts';

/** `=` and `==` are the same test; `!=` its negation. */
export type FieldOperator = '=' | '==' | '!=';

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  readonly value: string;
}

/** Field values of an object, by field label (e.g. "metadata.name"). */
export type Fields = Readonly<Record<string, string>>;

/** A malformed field selector. `message` is Kubernetes' text; the API answers 400 BadRequest with it. */
export class FieldSelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldSelectorParseError';
  }

  toApiError(): ApiError {
    return ApiError.badRequest(this.message);
  }
}

/**
 * A field label the resource does not support. The API answers 400 BadRequest with the message:
 * "field label not supported: spec.foo" for kinds with their own field list, or, for kinds that only
 * have the default metadata.name/metadata.namespace, `"spec.foo" is not a known field selector: only
 * "metadata.name", "metadata.namespace"`.
 */
export class FieldLabelNotSupportedError extends Error {
  readonly label: string;
  constructor(label: string, message = `field label not supported: ${label}`) {
    super(message);
    this.name = 'FieldLabelNotSupportedError';
    this.label = label;
  }

  toApiError(): ApiError {
    return ApiError.badRequest(this.message);
  }
}

/** fields.EscapeValue: prefixes `\`, `,` and `=` with a backslash. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** fields.UnescapeValue: the literal value of an escaped selector value. Throws FieldSelectorParseError. */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        throw new FieldSelectorParseError(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      inSlash = false;
    } else if (c === '\\') {
      inSlash = true;
    } else if (c === ',' || c === '=') {
      // Go prints the rune with %v: its code point as a number.
      throw new FieldSelectorParseError(
        `invalid field selector: unescaped character in value: ${c.codePointAt(0)}`,
      );
    } else {
      out += c;
    }
  }
  if (inSlash) throw new FieldSelectorParseError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on commas not preceded by a backslash escape; escapes stay in the terms. */
function splitTerms(s: string): string[] {
  if (s === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

const OPERATORS: readonly FieldOperator[] = ['!=', '==', '='];

function splitTerm(term: string): [string, FieldOperator, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of OPERATORS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

/** A parsed field selector: the AND of its requirements. */
export class FieldSelector {
  readonly requirements: readonly FieldRequirement[];

  constructor(requirements: readonly FieldRequirement[]) {
    this.requirements = requirements;
  }

  /** Matches everything. */
  static everything(): FieldSelector {
    return new FieldSelector([]);
  }

  /** Whether an object with these field values matches; an absent field is "". */
  matches(fields: Fields): boolean {
    return this.requirements.every((r) => {
      const v = Object.hasOwn(fields, r.field) ? fields[r.field] : '';
      return r.operator === '!=' ? v !== r.value : v === r.value;
    });
  }

  isEmpty(): boolean {
    return this.requirements.length === 0;
  }

  /** The value `field` must equal, when an `=`/`==` term pins it (RequiresExactMatch). */
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator !== '!=')?.value;
  }

  /**
   * Rewrites every term (Transform), e.g. to convert field labels between versions; a term mapped to
   * an empty field and value is dropped. `fn` may throw (e.g. FieldLabelNotSupportedError).
   */
  transform(fn: (field: string, value: string) => [string, string]): FieldSelector {
    const out: FieldRequirement[] = [];
    for (const r of this.requirements) {
      const [field, value] = fn(r.field, r.value);
      if (field !== '' || value !== '') out.push({ field, operator: r.operator, value });
    }
    return new FieldSelector(out);
  }

  /** `field=value` terms (== printed as =), values escaped, joined by commas. */
  toString(): string {
    return this.requirements
      .map((r) => `${r.field}${r.operator === '!=' ? '!=' : '='}${escapeFieldValue(r.value)}`)
      .join(',');
  }
}

/** Parses a field selector (fields.ParseSelector). Throws FieldSelectorParseError with Kubernetes' message. */
export function parseFieldSelector(selector: string): FieldSelector {
  const parts = splitTerms(selector).sort(compareStrings);
  const reqs: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split)
      throw new FieldSelectorParseError(`invalid selector: '${selector}'; can't understand '${part}'`);
    const [field, operator, rhs] = split;
    const value = unescapeFieldValue(rhs);
    if (field !== '' || value !== '') reqs.push({ field, operator, value });
  }
  return new FieldSelector(reqs);
}

/** The field labels of `selector` that are not in `supported`, in selector order, each once. */
export function unsupportedFieldLabels(selector: FieldSelector, supported: Iterable<string>): string[] {
  const ok = new Set(supported);
  return [...new Set(selector.requirements.map((r) => r.field).filter((f) => !ok.has(f)))];
}

/**
 * Throws FieldLabelNotSupportedError for the first field label (in selector order) not in `supported`,
 * worded "field label not supported: <label>" as kinds with their own field-label conversion say.
 */
export function checkFieldLabels(selector: FieldSelector, supported: Iterable<string>): void {
  const [first] = unsupportedFieldLabels(selector, supported);
  if (first !== undefined) throw new FieldLabelNotSupportedError(first);
}

/**
 * The check for kinds with no field labels of their own (runtime.DefaultMetaV1FieldSelectorConversion):
 * only metadata.name and metadata.namespace, with Kubernetes' message for anything else.
 */
export function checkDefaultFieldLabels(selector: FieldSelector): void {
  const [first] = unsupportedFieldLabels(selector, ['metadata.name', 'metadata.namespace']);
  if (first !== undefined) {
    throw new FieldLabelNotSupportedError(
      first,
      `${JSON.stringify(first)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
    );
  }
}
