/**
 * The subset of Kubernetes' JSONPath (k8s.io/client-go/util/jsonpath) that CRD printer columns use,
 * evaluated with missing keys allowed:
 *
 *   .field  ['field']  ["a","b"]  .*  [*]  ..field  [0]  [-1]  [1:3]  [0,2]
 *   [?(@.type=="Ready")]  [?(@.port>80)]  [?(@.name)]        (==, !=, <, <=, >, >=, existence)
 *
 * A path may be wrapped in braces ("{.spec.replicas}") and may start with "$". Field names may
 * escape dots ("labels.app\.kubernetes\.io/name"). A path that is syntactically wrong throws
 * {@link JsonPathError}; evaluation never throws on data that does not match: it yields nothing.
 */
import { isPlainObject } from '../../object.ts';

export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPathError';
  }
}

type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
type Operand = { kind: 'path'; steps: Step[] } | { kind: 'literal'; value: string | number | boolean };

export type Step =
  | { kind: 'field'; names: string[] }
  | { kind: 'wildcard' }
  | { kind: 'recursive' }
  | { kind: 'indices'; indices: number[] }
  | { kind: 'slice'; start: number | undefined; end: number | undefined; step: number | undefined }
  | { kind: 'filter'; left: Step[]; op: CompareOp | 'exists'; right: Operand | undefined };

/** A parsed path, ready to evaluate many times. */
export interface JsonPath {
  readonly source: string;
  readonly steps: readonly Step[];
}

/** A comparison of incompatible values inside a filter: the whole evaluation yields nothing. */
class IncomparableError extends Error {}

/** Parses a JSONPath expression; throws JsonPathError. */
export function parseJsonPath(source: string): JsonPath {
  let text = source.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1).trim();
  return { source, steps: parseSteps(text, '$') };
}

/** The values `path` selects in `root` (in document order); empty when nothing matches. */
export function findResults(path: JsonPath, root: unknown): unknown[] {
  try {
    return evaluate(path.steps, [root]);
  } catch (e) {
    if (e instanceof IncomparableError) return [];
    throw e;
  }
}

// ---- parsing ----

const IDENT_END = new Set(['.', '[', ']', '(', ')', ' ', '\t', '\n', '=', '!', '<', '>', ',', '{', '}']);

function parseSteps(text: string, rootChar: '$' | '@'): Step[] {
  const steps: Step[] = [];
  let i = 0;
  if (text[i] === rootChar) i++;
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      if (text[i + 1] === '.') {
        steps.push({ kind: 'recursive' });
        i += 2;
        if (text[i] === '[') continue;
      } else {
        i++;
      }
      if (text[i] === '*') {
        steps.push({ kind: 'wildcard' });
        i++;
        continue;
      }
      const [name, next] = readIdent(text, i);
      if (name !== '') steps.push({ kind: 'field', names: [name] });
      i = next;
    } else if (c === '[') {
      const close = findClose(text, i);
      steps.push(parseBracket(text.slice(i + 1, close).trim()));
      i = close + 1;
    } else if (c !== undefined && !IDENT_END.has(c) && steps.length === 0 && i === 0) {
      // A bare leading field name ("spec.replicas") reads as ".spec.replicas".
      const [name, next] = readIdent(text, i);
      steps.push({ kind: 'field', names: [name] });
      i = next;
    } else {
      throw new JsonPathError(
        `unrecognized character in action: ${JSON.stringify(c)} in ${JSON.stringify(text)}`,
      );
    }
  }
  return steps;
}

/** A field name up to the next terminator, with backslash escapes ("app\.kubernetes\.io"). */
function readIdent(text: string, start: number): [string, number] {
  let name = '';
  let i = start;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\\' && i + 1 < text.length) {
      name += text[i + 1];
      i += 2;
      continue;
    }
    if (IDENT_END.has(c)) break;
    name += c;
    i++;
  }
  return [name, i];
}

/** The index of the "]" closing the "[" at `open`, skipping quoted strings and parentheses. */
function findClose(text: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '(' || c === '[') {
      depth++;
    } else if (c === ')' || (c === ']' && depth > 0)) {
      depth--;
    } else if (c === ']') {
      return i;
    }
  }
  throw new JsonPathError(`unclosed array expect ] in ${JSON.stringify(text)}`);
}

/** Splits on commas outside quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === '\\' && i + 1 < text.length) {
        cur += c + text[i + 1];
        i++;
        continue;
      }
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ',') {
      parts.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  parts.push(cur.trim());
  return parts;
}

function unquote(s: string): string | undefined {
  if (s.length < 2) return undefined;
  const q = s[0];
  if ((q !== '"' && q !== "'") || s[s.length - 1] !== q) return undefined;
  return s.slice(1, -1).replace(/\\(.)/g, '$1');
}

function parseIntStrict(s: string): number | undefined {
  return /^-?\d+$/.test(s) ? Number.parseInt(s, 10) : undefined;
}

function parseBracket(inner: string): Step {
  if (inner === '*') return { kind: 'wildcard' };
  if (inner.startsWith('?')) return parseFilter(inner.slice(1).trim());
  const parts = splitTopLevel(inner);
  const names = parts.map(unquote);
  if (names.every((n): n is string => n !== undefined)) return { kind: 'field', names };
  if (parts.length === 1 && inner.includes(':')) {
    const bounds = inner.split(':').map((s) => s.trim());
    if (bounds.length > 3) throw new JsonPathError(`invalid array index ${inner}`);
    const num = (s: string | undefined) => {
      if (s === undefined || s === '') return undefined;
      const n = parseIntStrict(s);
      if (n === undefined) throw new JsonPathError(`invalid array index ${inner}`);
      return n;
    };
    return { kind: 'slice', start: num(bounds[0]), end: num(bounds[1]), step: num(bounds[2]) };
  }
  const indices = parts.map(parseIntStrict);
  if (indices.every((n): n is number => n !== undefined)) return { kind: 'indices', indices };
  throw new JsonPathError(`invalid array index ${inner}`);
}

const OPERATORS: CompareOp[] = ['==', '!=', '<=', '>=', '<', '>'];

function parseFilter(text: string): Step {
  if (!text.startsWith('(') || !text.endsWith(')')) throw new JsonPathError(`unclosed filter ${text}`);
  const body = text.slice(1, -1).trim();
  // Find the first operator outside quotes.
  let quote: string | undefined;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      continue;
    }
    const op = OPERATORS.find((o) => body.startsWith(o, i));
    if (op) {
      const left = parseOperand(body.slice(0, i).trim());
      const right = parseOperand(body.slice(i + op.length).trim());
      if (left.kind !== 'path') throw new JsonPathError(`filter must start with a path: ${text}`);
      return { kind: 'filter', left: left.steps, op, right };
    }
  }
  const left = parseOperand(body);
  if (left.kind !== 'path') throw new JsonPathError(`filter must start with a path: ${text}`);
  return { kind: 'filter', left: left.steps, op: 'exists', right: undefined };
}

function parseOperand(s: string): Operand {
  if (s.startsWith('@')) return { kind: 'path', steps: parseSteps(s, '@') };
  const quoted = unquote(s);
  if (quoted !== undefined) return { kind: 'literal', value: quoted };
  if (s === 'true' || s === 'false') return { kind: 'literal', value: s === 'true' };
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return { kind: 'literal', value: Number(s) };
  throw new JsonPathError(`unrecognized filter operand ${JSON.stringify(s)}`);
}

// ---- evaluation ----

function evaluate(steps: readonly Step[], input: unknown[]): unknown[] {
  let cur = input;
  for (const step of steps) cur = apply(step, cur);
  return cur;
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isPlainObject(v)) {
    return Object.keys(v)
      .sort()
      .map((k) => v[k]);
  }
  return [];
}

/** Every value with children, `v` first, depth first (evalRecursive). */
function containers(v: unknown, out: unknown[]): void {
  const kids = children(v);
  if (kids.length === 0) return;
  out.push(v);
  for (const k of kids) containers(k, out);
}

function apply(step: Step, input: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of input) {
    switch (step.kind) {
      case 'field':
        if (isPlainObject(v)) for (const n of step.names) if (Object.hasOwn(v, n)) out.push(v[n]);
        break;
      case 'wildcard':
        out.push(...children(v));
        break;
      case 'recursive':
        containers(v, out);
        break;
      case 'indices':
        if (Array.isArray(v)) {
          for (const i of step.indices) {
            const at = i < 0 ? i + v.length : i;
            if (at >= 0 && at < v.length) out.push(v[at]);
          }
        }
        break;
      case 'slice':
        if (Array.isArray(v)) out.push(...slice(v, step));
        break;
      case 'filter':
        if (Array.isArray(v)) out.push(...v.filter((e) => passes(step, e)));
        break;
    }
  }
  return out;
}

function slice(
  v: unknown[],
  s: { start: number | undefined; end: number | undefined; step: number | undefined },
): unknown[] {
  const len = v.length;
  let start = s.start ?? 0;
  if (start < 0) start += len;
  let end = s.end ?? len;
  if (end < 0) end += len;
  end = Math.min(end, len);
  const step = s.step ?? 1;
  if (step <= 0 || start < 0 || start >= len) return [];
  const out: unknown[] = [];
  for (let i = start; i < end; i += step) out.push(v[i]);
  return out;
}

function passes(filter: Extract<Step, { kind: 'filter' }>, element: unknown): boolean {
  const lefts = evaluate(filter.left, [element]);
  if (filter.op === 'exists') return lefts.length > 0;
  if (lefts.length === 0 || filter.right === undefined) return false;
  const rights =
    filter.right.kind === 'path' ? evaluate(filter.right.steps, [element]) : [filter.right.value];
  if (rights.length === 0) return false;
  return compare(lefts[0], filter.op, rights[0]);
}

function compare(a: unknown, op: CompareOp, b: unknown): boolean {
  const comparable =
    (typeof a === 'number' && typeof b === 'number') ||
    (typeof a === 'string' && typeof b === 'string') ||
    (typeof a === 'boolean' && typeof b === 'boolean' && (op === '==' || op === '!='));
  // Kubernetes compares only values of one basic kind; anything else fails the whole evaluation.
  if (!comparable) throw new IncomparableError();
  const x = a as number | string | boolean;
  const y = b as number | string | boolean;
  switch (op) {
    case '==':
      return x === y;
    case '!=':
      return x !== y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}
