/**
 * Label selectors (k8s.io/apimachinery/pkg/labels and metav1.LabelSelector helpers).
 *
 * - {@link parseSelector} reads the string form `kubectl -l` and `?labelSelector=` use, with the
 *   same tokenizer, grammar, value sets and error messages as labels.Parse;
 * - {@link labelSelectorAsSelector} turns a metav1.LabelSelector into the same {@link Selector}, as
 *   metav1.LabelSelectorAsSelector does: a null selector matches nothing, an empty one ({}) matches
 *   everything;
 * - {@link validateLabelSelector} validates a metav1.LabelSelector inside an object (FieldErrors);
 * - {@link selectorToString} prints the canonical string form.
 */

import { compareStrings } from '../util/strings.ts';
import { ApiError, FieldError, type FieldPath } from './errors.ts';
import { isLabelValue, isQualifiedName, validateLabelName, validateLabels } from './validation.ts';

/** selection.Operator values. `!` is DoesNotExist, `exists` Exists, `gt`/`lt` the integer comparisons. */
export type SelectorOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

/** One requirement; `values` are as given (sorted and de-duplicated when parsed from a string). */
export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** Labels of an object; absent labels are an empty set. */
export type Labels = Readonly<Record<string, string>> | null | undefined;

/** A malformed label selector. `message` is Kubernetes' text; the API answers 400 BadRequest with it. */
export class LabelSelectorParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelSelectorParseError';
  }

  toApiError(): ApiError {
    return ApiError.badRequest(this.message);
  }
}

/** strconv.ParseInt(s, 10, 64), or undefined. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v >= -(1n << 63n) && v < 1n << 63n ? v : undefined;
}

function has(labels: Labels, key: string): boolean {
  return labels != null && Object.hasOwn(labels, key);
}

/** Whether one requirement matches (Requirement.Matches). */
export function requirementMatches(r: Requirement, labels: Labels): boolean {
  // One property read when the label is there: a string value is an own label (plain objects
  // inherit no string-valued properties); anything else is settled by Object.hasOwn.
  let value: string | undefined;
  let present = false;
  if (labels != null) {
    const v = (labels as Record<string, string>)[r.key];
    if (typeof v === 'string' || has(labels, r.key)) {
      present = true;
      value = v;
    }
  }
  switch (r.operator) {
    case '=':
    case '==':
    case 'in':
      return present && r.values.includes(value as string);
    case '!=':
    case 'notin':
      return !present || !r.values.includes(value as string);
    case 'exists':
      return present;
    case '!':
      return !present;
    case 'gt':
    case 'lt': {
      if (!present || r.values.length !== 1) return false;
      const have = parseInt64(value as string);
      const want = parseInt64(r.values[0] as string);
      if (have === undefined || want === undefined) return false;
      return r.operator === 'gt' ? have > want : have < want;
    }
  }
}

/** Requirement.String: `key=v`, `key in (a,b)`, `!key`, ...; several values print sorted. */
export function requirementToString(r: Requirement): string {
  if (r.operator === 'exists') return r.key;
  if (r.operator === '!') return `!${r.key}`;
  const values = r.values.length === 1 ? r.values[0] : [...r.values].sort(compareStrings).join(',');
  switch (r.operator) {
    case 'in':
      return `${r.key} in (${values})`;
    case 'notin':
      return `${r.key} notin (${values})`;
    case 'gt':
      return `${r.key}>${values}`;
    case 'lt':
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

/**
 * A parsed selector: the AND of its requirements, kept sorted by key. `nothing()` matches no labels
 * at all; an empty selector matches every set of labels.
 */
export class Selector {
  readonly requirements: readonly Requirement[];
  readonly #nothing: boolean;

  private constructor(requirements: readonly Requirement[], nothing: boolean) {
    this.requirements = [...requirements].sort((a, b) => compareStrings(a.key, b.key));
    this.#nothing = nothing;
  }

  /** Matches every object (labels.Everything). */
  static everything(): Selector {
    return new Selector([], false);
  }

  /** Matches no object (labels.Nothing). */
  static nothing(): Selector {
    return new Selector([], true);
  }

  /** The AND of the given requirements (assumed valid). */
  static of(requirements: readonly Requirement[]): Selector {
    return new Selector(requirements, false);
  }

  matches(labels: Labels): boolean {
    if (this.#nothing) return false;
    const reqs = this.requirements;
    for (let i = 0; i < reqs.length; i++) if (!requirementMatches(reqs[i]!, labels)) return false;
    return true;
  }

  /** True when it matches everything. */
  isEmpty(): boolean {
    return !this.#nothing && this.requirements.length === 0;
  }

  /** True for the selector that matches nothing. */
  matchesNothing(): boolean {
    return this.#nothing;
  }

  /** The value `label` must equal for a match, when the selector pins one (RequiresExactMatch). */
  requiresExactMatch(label: string): string | undefined {
    const r = this.requirements.find((x) => x.key === label);
    if (!r || !['=', '==', 'in'].includes(r.operator) || r.values.length !== 1) return undefined;
    return r.values[0];
  }

  toString(): string {
    return this.requirements.map(requirementToString).join(',');
  }
}

/** The canonical string of a selector: requirements sorted by key, comma-separated ("" for everything). */
export function selectorToString(selector: Selector): string {
  return selector.toString();
}

/** A selector matching exactly the given labels (labels.SelectorFromSet); empty matches everything. */
export function selectorFromSet(set: Labels): Selector {
  return Selector.of(
    Object.entries(set ?? {}).map(([key, v]) => ({ key, operator: '=' as const, values: [v] })),
  );
}

/** Renders a []string the way Go's %#v does, for NewRequirement's messages. */
function goStrings(values: readonly string[] | null): string {
  if (values === null) return '[]string(nil)';
  return `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

/** `<path>: Invalid value: <value>: <detail>` as a Go field.Error prints (path "<nil>" when absent). */
function invalidText(path: string, value: string, detail: string): string {
  return `${path}: Invalid value: ${value}: ${detail}`;
}

/**
 * labels.NewRequirement: validates and builds a requirement, or throws LabelSelectorParseError with
 * Kubernetes' aggregated message. `values === null` stands for a nil Go slice.
 */
export function newRequirement(
  key: string,
  operator: SelectorOperator,
  values: readonly string[] | null,
): Requirement {
  const errs: string[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push(invalidText('key', JSON.stringify(key), keyErrs.join('; ')));
  const vals = values ?? [];
  const list = goStrings(values);
  switch (operator) {
    case 'in':
    case 'notin':
      if (vals.length === 0)
        errs.push(invalidText('values', list, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (vals.length !== 1)
        errs.push(invalidText('values', list, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (vals.length !== 0)
        errs.push(invalidText('values', list, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (vals.length !== 1)
        errs.push(invalidText('values', list, "for 'Gt', 'Lt' operators, exactly one value is required"));
      vals.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errs.push(
            invalidText(
              `values[${i}]`,
              JSON.stringify(v),
              "for 'Gt', 'Lt' operators, the value must be an integer",
            ),
          );
        }
      });
      break;
  }
  vals.forEach((v, i) => {
    const msgs = isLabelValue(v);
    if (msgs.length) errs.push(invalidText(`values[${i}][${key}]`, JSON.stringify(v), msgs.join('; ')));
  });
  const unique = [...new Set(errs)];
  if (unique.length === 1) throw new LabelSelectorParseError(unique[0] as string);
  if (unique.length > 1) throw new LabelSelectorParseError(`[${unique.join(', ')}]`);
  return { key, operator, values: [...vals] };
}

// ---- The string form, tokenized and parsed as labels.Lexer and labels.Parser do. ----

type Token = 'error' | 'eos' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '(';

const LITERAL_TOKENS = new Map<string, Token>([
  [')', ')'],
  [',', ','],
  ['!', '!'],
  ['==', '=='],
  ['=', '='],
  ['>', '>'],
  ['in', 'in'],
  ['<', '<'],
  ['!=', '!='],
  ['notin', 'notin'],
  ['(', '('],
]);

interface Item {
  tok: Token;
  lit: string;
}

const isWhitespace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSpecial = (c: string) => c.length === 1 && '=!(),><'.includes(c);

/** The tokens of a selector string; a NUL character ends the input, as in Go. */
function lex(s: string): Item[] {
  let pos = 0;
  const read = (): string => (pos < s.length ? (s[pos++] as string) : '\0');
  const items: Item[] = [];
  for (;;) {
    let ch = read();
    while (isWhitespace(ch)) ch = read();
    let item: Item;
    if (ch === '\0') {
      item = { tok: 'eos', lit: '' };
    } else if (isSpecial(ch)) {
      pos--;
      let buf = '';
      let last: Item | undefined;
      for (;;) {
        const c = read();
        if (c === '\0') break;
        if (!isSpecial(c)) {
          pos--;
          break;
        }
        buf += c;
        const t = LITERAL_TOKENS.get(buf);
        if (t) last = { tok: t, lit: buf };
        else if (last) {
          pos--;
          break;
        }
      }
      item = last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` };
    } else {
      pos--;
      let buf = '';
      for (;;) {
        const c = read();
        if (c === '\0') break;
        if (isSpecial(c) || isWhitespace(c)) {
          pos--;
          break;
        }
        buf += c;
      }
      item = { tok: LITERAL_TOKENS.get(buf) ?? 'id', lit: buf };
    }
    items.push(item);
    if (item.tok === 'eos') return items;
  }
}

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

class Parser {
  readonly #items: Item[];
  #pos = 0;

  constructor(s: string) {
    this.#items = lex(s);
  }

  /** In the "values" context the keywords in/notin are plain identifiers. */
  #asValue(item: Item): Item {
    return item.tok === 'in' || item.tok === 'notin' ? { tok: 'id', lit: item.lit } : item;
  }

  #lookahead(values = true): Item {
    const item = this.#items[this.#pos] as Item;
    return values ? this.#asValue(item) : item;
  }

  #consume(values = true): Item {
    const item = this.#items[this.#pos++] as Item;
    return values ? this.#asValue(item) : item;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, lit } = this.#lookahead();
      if (tok === 'eos') return reqs;
      if (tok !== 'id' && tok !== '!')
        throw new LabelSelectorParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      try {
        reqs.push(this.#requirement());
      } catch (e) {
        if (e instanceof LabelSelectorParseError)
          throw new LabelSelectorParseError(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      const next = this.#consume();
      if (next.tok === 'eos') return reqs;
      if (next.tok !== ',')
        throw new LabelSelectorParseError(`found '${next.lit}', expected: ',' or 'end of string'`);
      const after = this.#lookahead();
      if (after.tok !== 'id' && after.tok !== '!') {
        throw new LabelSelectorParseError(`found '${after.lit}', expected: identifier after ','`);
      }
    }
  }

  #requirement(): Requirement {
    let { tok, lit } = this.#consume();
    let unary: SelectorOperator | undefined;
    if (tok === '!') {
      unary = '!';
      ({ tok, lit } = this.#consume());
    }
    if (tok !== 'id') throw new LabelSelectorParseError(`found '${lit}', expected: identifier`);
    const key = lit;
    const keyErrs = isQualifiedName(key);
    if (keyErrs.length)
      throw new LabelSelectorParseError(invalidText('<nil>', JSON.stringify(key), keyErrs.join('; ')));
    const ahead = this.#lookahead().tok;
    if (unary === undefined && (ahead === 'eos' || ahead === ',')) unary = 'exists';
    if (unary !== undefined) return newRequirement(key, unary, []);
    const op = this.#operator();
    const values = op === 'in' || op === 'notin' ? this.#valueSet() : this.#exactValue();
    return newRequirement(key, op, [...values].sort(compareStrings));
  }

  #operator(): SelectorOperator {
    const { tok, lit } = this.#consume(false);
    switch (tok) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        return tok;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new LabelSelectorParseError(`found '${lit}', expected: ${BINARY_OPERATORS}`);
    }
  }

  /** `( a, b, ... )`; empty entries are the empty string value. */
  #valueSet(): Set<string> {
    const open = this.#consume();
    if (open.tok !== '(') throw new LabelSelectorParseError(`found '${open.lit}' expected: '('`);
    const first = this.#lookahead();
    if (first.tok === ')') {
      this.#consume();
      return new Set(['']);
    }
    if (first.tok !== 'id' && first.tok !== ',') {
      throw new LabelSelectorParseError(`found '${first.lit}', expected: ',', ')' or identifier`);
    }
    const set = this.#identifiers();
    // Kubernetes reports the literal seen before the list here.
    if (this.#consume().tok !== ')') throw new LabelSelectorParseError(`found '${first.lit}', expected: ')'`);
    return set;
  }

  #identifiers(): Set<string> {
    const set = new Set<string>();
    for (;;) {
      const { tok, lit } = this.#consume();
      if (tok === 'id') {
        set.add(lit);
        const next = this.#lookahead();
        if (next.tok === ',') continue;
        if (next.tok === ')') return set;
        throw new LabelSelectorParseError(`found '${next.lit}', expected: ',' or ')'`);
      }
      if (tok === ',') {
        if (set.size === 0) set.add('');
        const next = this.#lookahead().tok;
        if (next === ')') {
          set.add('');
          return set;
        }
        if (next === ',') set.add('');
        continue;
      }
      throw new LabelSelectorParseError(`found '${lit}', expected: ',', or identifier`);
    }
  }

  #exactValue(): Set<string> {
    const ahead = this.#lookahead().tok;
    if (ahead === 'eos' || ahead === ',') return new Set(['']);
    const { tok, lit } = this.#consume();
    if (tok === 'id') return new Set([lit]);
    throw new LabelSelectorParseError(`found '${lit}', expected: identifier`);
  }
}

/**
 * Parses a label selector string (labels.Parse):
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by commas;
 * spaces, tabs and newlines separate tokens. Values in `(...)` are a set (sorted, de-duplicated, an
 * empty entry is the empty value). "" is the selector matching everything. Throws
 * LabelSelectorParseError with Kubernetes' message.
 */
export function parseSelector(s: string): Selector {
  return Selector.of(new Parser(s).parse());
}

// ---- metav1.LabelSelector ----

/** metav1.LabelSelectorRequirement */
export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[] | null;
}

/** metav1.LabelSelector */
export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirement[] | null;
}

const LABEL_SELECTOR_OPERATORS = new Map<string, SelectorOperator>([
  ['In', 'in'],
  ['NotIn', 'notin'],
  ['Exists', 'exists'],
  ['DoesNotExist', '!'],
]);

/**
 * metav1.LabelSelectorAsSelector: null/undefined matches nothing; a selector with no matchLabels and
 * no matchExpressions matches everything. Throws LabelSelectorParseError for an unknown operator or
 * an invalid requirement (validate with {@link validateLabelSelector} first for field errors).
 */
export function labelSelectorAsSelector(ps: LabelSelector | null | undefined): Selector {
  if (ps == null) return Selector.nothing();
  const labels = Object.entries(ps.matchLabels ?? {}).sort(([a], [b]) => compareStrings(a, b));
  const exprs = ps.matchExpressions ?? [];
  if (labels.length + exprs.length === 0) return Selector.everything();
  const reqs: Requirement[] = labels.map(([k, v]) => newRequirement(k, '=', [v]));
  for (const expr of exprs) {
    const op = LABEL_SELECTOR_OPERATORS.get(expr.operator);
    if (!op)
      throw new LabelSelectorParseError(
        `${JSON.stringify(expr.operator)} is not a valid label selector operator`,
      );
    // Go copies the values with append([]string(nil), ...), so an empty list is a nil slice.
    reqs.push(newRequirement(expr.key, op, expr.values?.length ? expr.values : null));
  }
  return Selector.of(reqs);
}

/** Options of metav1validation.LabelSelectorValidationOptions. */
export interface LabelSelectorValidationOptions {
  /** Skip the label-value check of matchExpressions values (for objects stored before it existed). */
  allowInvalidLabelValueInSelector?: boolean;
}

/**
 * metav1validation.ValidateLabelSelector: FieldErrors under `path` (e.g. spec.selector), such as
 * `spec.selector.matchExpressions[0].values[1]`. A null selector is valid.
 */
export function validateLabelSelector(
  ps: LabelSelector | null | undefined,
  path: FieldPath,
  opts: LabelSelectorValidationOptions = {},
): FieldError[] {
  if (ps == null) return [];
  const errs = validateLabels(ps.matchLabels, path.child('matchLabels'));
  (ps.matchExpressions ?? []).forEach((sr, i) => {
    const p = path.child('matchExpressions').index(i);
    const values = sr.values ?? [];
    switch (sr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) {
          errs.push(
            FieldError.required(
              p.child('values').toString(),
              "must be specified when `operator` is 'In' or 'NotIn'",
            ),
          );
        }
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) {
          errs.push(
            FieldError.forbidden(
              p.child('values').toString(),
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
          );
        }
        break;
      default:
        errs.push(
          FieldError.invalid(p.child('operator').toString(), sr.operator, 'not a valid selector operator'),
        );
    }
    errs.push(...validateLabelName(sr.key, p.child('key')));
    if (!opts.allowInvalidLabelValueInSelector) {
      values.forEach((v, j) => {
        for (const msg of isLabelValue(v))
          errs.push(FieldError.invalid(p.child('values').index(j).toString(), v, msg));
      });
    }
  });
  return errs;
}
