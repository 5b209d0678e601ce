/**
 * Bad values rendered the way Kubernetes' field.Error prints them. For a struct or map value Go
 * prints `%#v` of the internal type, so users see e.g.
 *
 *   spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable
 *   spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`
 *
 * {@link goInvalid} and {@link goNotSupported} build FieldErrors whose message shows such a
 * rendering while `value` keeps the JSON value. Pointers inside structs print as Go would, with a
 * fixed stand-in address (Go's is a heap address nobody can reproduce).
 */
import { FieldError, type FieldPath } from '../../../api/errors.ts';
import { arr, isObj, isSet, type Obj } from './json.ts';

/** A string as Go's %q / %#v prints it (close enough: JSON's escaping). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's byte-wise string order, as fmt sorts map keys. */
function goSort(keys: string[]): string[] {
  return keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** `%#v` of a map[string]string: `map[string]string{"a":"b", "c":"d"}`, nil as `map[string]string(nil)`. */
export function goStringMap(v: unknown): string {
  if (!isObj(v)) return 'map[string]string(nil)';
  const entries = goSort(Object.keys(v).filter((k) => typeof v[k] === 'string')).map(
    (k) => `${goQuote(k)}:${goQuote(v[k] as string)}`,
  );
  return `map[string]string{${entries.join(', ')}}`;
}

/** `%#v` of a []string: `[]string{"a", "b"}`, nil as `[]string(nil)`. */
export function goStringSlice(v: unknown): string {
  if (!Array.isArray(v)) return '[]string(nil)';
  return `[]string{${v.map((x) => goQuote(String(x))).join(', ')}}`;
}

/** `%v` of a []string: `[a b c]` (as cron's "found 6: [...]" messages print fields). */
export function goPlainSlice(v: readonly string[]): string {
  return `[${v.join(' ')}]`;
}

/** `%#v` of a v1.LabelSelector (the value a *LabelSelector field error carries). */
export function goLabelSelector(v: unknown): string {
  if (!isObj(v)) return 'null';
  const exprs = Array.isArray(v.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${v.matchExpressions
        .map((r) => {
          const req = isObj(r) ? r : {};
          return `v1.LabelSelectorRequirement{Key:${goQuote(String(req.key ?? ''))}, Operator:${goQuote(
            String(req.operator ?? ''),
          )}, Values:${goStringSlice(req.values)}}`;
        })
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${goStringMap(v.matchLabels)}, MatchExpressions:${exprs}}`;
}

/** `%#v` of an intstr.IntOrString. */
export function goIntOrString(v: unknown): string {
  if (typeof v === 'string') return `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`;
  const n = typeof v === 'number' ? v : 0;
  return `intstr.IntOrString{Type:0, IntVal:${n}, StrVal:""}`;
}

/** `%#v` of a pointer field inside a struct: `(*T)(nil)` or `(*T)(0xc000000000)`. */
export function goPointer(type: string, v: unknown): string {
  return isSet(v) ? `(*${type})(0xc000000000)` : `(*${type})(nil)`;
}

/** `%#v` of a struct from rendered fields: `T{A:x, B:y}`. */
export function goStruct(type: string, fields: [string, string][]): string {
  return `${type}{${fields.map(([k, x]) => `${k}:${x}`).join(', ')}}`;
}

/** `%#v` of a scalar: strings quoted, numbers and booleans bare, absent as the zero value given. */
export function goScalar(v: unknown, zero: string): string {
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return zero;
}

/** `%#v` of a []T of structs rendered by `item`. */
export function goSlice(type: string, v: unknown, item: (x: Obj) => string): string {
  if (!Array.isArray(v)) return `[]${type}(nil)`;
  return `[]${type}{${arr(v)
    .map((x) => item(isObj(x) ? x : {}))
    .join(', ')}}`;
}

const TYPE_TEXT = {
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
} as const;

/** A FieldError whose message renders the bad value as given (Go's `%#v`) rather than as JSON. */
class GoValueError extends FieldError {
  readonly #rendered: string;

  constructor(
    type: 'FieldValueInvalid' | 'FieldValueNotSupported',
    field: string,
    value: unknown,
    rendered: string,
    detail: string,
  ) {
    super(type, field, value, detail);
    this.#rendered = rendered;
  }

  override detailMessage(): string {
    const base = `${TYPE_TEXT[this.type as keyof typeof TYPE_TEXT]}: ${this.#rendered}`;
    return this.detail ? `${base}: ${this.detail}` : base;
  }
}

/** field.Invalid with a Go-rendered value. */
export function goInvalid(path: FieldPath, value: unknown, rendered: string, detail: string): FieldError {
  return new GoValueError('FieldValueInvalid', path.toString(), value, rendered, detail);
}

/** field.NotSupported with a Go-rendered value. */
export function goNotSupported(
  path: FieldPath,
  value: unknown,
  rendered: string,
  supported: readonly string[],
): FieldError {
  const detail = supported.length ? `supported values: ${supported.map((s) => goQuote(s)).join(', ')}` : '';
  return new GoValueError('FieldValueNotSupported', path.toString(), value, rendered, detail);
}
