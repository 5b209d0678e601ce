/**
 * Validation primitives with Kubernetes' exact messages (k8s.io/apimachinery/pkg/util/validation,
 * .../api/validate/content, .../api/validation/objectmeta.go and generic.go).
 *
 * The `is*` functions return the list of failure messages for a value (empty when valid), as
 * Kubernetes' do; `validate*` functions turn them into FieldErrors at a path. Lengths are counted in
 * UTF-8 bytes, as Go's len() does.
 *
 * Kubernetes words "too long" two ways and skiff keeps both: the name validators (DNS-1123 label
 * and subdomain, DNS-1035 label, port names, ConfigMap keys) say "must be no more than N
 * characters"; label keys, label values and a label key's prefix (the newer content package) say
 * "must be no more than N bytes".
 */

import { FieldError, FieldPath } from './errors.ts';

export const DNS1123_LABEL_MAX_LENGTH = 63;
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
export const DNS1035_LABEL_MAX_LENGTH = 63;
export const LABEL_VALUE_MAX_LENGTH = 63;
export const QUALIFIED_NAME_MAX_LENGTH = 63;
/** The total size of all annotation keys and values (256 KiB). */
export const TOTAL_ANNOTATION_SIZE_LIMIT_B = 256 * 1024;

/** Go's len(): the UTF-8 byte length. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Whether `s` is longer than `max` UTF-8 bytes. A UTF-16 code unit is at most 3 UTF-8 bytes, so
 * short strings are answered without encoding them.
 */
function bytesOver(s: string, max: number): boolean {
  return s.length * 3 > max && byteLength(s) > max;
}

/** validation.RegexError: `<msg> (e.g. 'a',  or 'b', regex used for validation is '<re>')`. */
export function regexError(msg: string, re: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${re}')`;
  const eg = examples.map((ex, i) => `${i > 0 ? ' or ' : ''}'${ex}', `).join('');
  return `${msg} (e.g. ${eg}regex used for validation is '${re}')`;
}

/** validation.MaxLenError (names): "must be no more than N characters". */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** content.MaxLenError (label keys and values): "must be no more than N bytes". */
export function maxBytesError(length: number): string {
  return `must be no more than ${length} bytes`;
}

/** validation.EmptyError */
export function emptyError(): string {
  return 'must be non-empty';
}

/** validation.InclusiveRangeError */
export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_ERR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL_ERR =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const LABEL_KEY_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_KEY_ERR =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${LABEL_KEY_FMT})?`;
const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const C_IDENTIFIER_FMT = '[A-Za-z_][A-Za-z0-9_]*';
const C_IDENTIFIER_ERR =
  "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'";
const ENV_VAR_NAME_FMT = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const ENV_VAR_NAME_ERR =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const RELAXED_ENV_VAR_NAME_ERR =
  "a valid environment variable name must consist only of printable ASCII characters other than '='";
const CONFIG_MAP_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_MAP_KEY_ERR = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

const whole = (fmt: string) => new RegExp(`^${fmt}$`);
const dns1123LabelRe = whole(DNS1123_LABEL_FMT);
const dns1123SubdomainRe = whole(DNS1123_SUBDOMAIN_FMT);
const dns1035LabelRe = whole(DNS1035_LABEL_FMT);
const labelKeyRe = whole(LABEL_KEY_FMT);
const labelValueRe = whole(LABEL_VALUE_FMT);
const cIdentifierRe = whole(C_IDENTIFIER_FMT);
const envVarNameRe = whole(ENV_VAR_NAME_FMT);
const configMapKeyRe = whole(CONFIG_MAP_KEY_FMT);

/** A DNS (RFC 1123) label: namespaces, most names that become hostnames. Max 63. */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (bytesOver(value, DNS1123_LABEL_MAX_LENGTH)) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!dns1123LabelRe.test(value)) {
    // A valid subdomain that is not a valid label (length was checked above) has dots.
    if (dns1123SubdomainRe.test(value)) errs.push('must not contain dots');
    else errs.push(regexError(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  }
  return errs;
}

/** A DNS (RFC 1123) subdomain: most object names. Max 253. */
export function isDNS1123Subdomain(value: string): string[] {
  return dns1123Subdomain(value, maxLenError);
}

function dns1123Subdomain(value: string, tooLong: (n: number) => string): string[] {
  const errs: string[] = [];
  if (bytesOver(value, DNS1123_SUBDOMAIN_MAX_LENGTH)) errs.push(tooLong(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!dns1123SubdomainRe.test(value)) {
    errs.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  }
  return errs;
}

/** A DNS (RFC 1035) label: Service names. Max 63. */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (bytesOver(value, DNS1035_LABEL_MAX_LENGTH)) errs.push(maxLenError(DNS1035_LABEL_MAX_LENGTH));
  if (!dns1035LabelRe.test(value))
    errs.push(regexError(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, 'my-name', 'abc-123'));
  return errs;
}

/**
 * A qualified name, the form of label keys, annotation keys (lower-cased first) and finalizers: an
 * optional DNS-1123 subdomain prefix and "/", then a name of at most 63 bytes matching
 * `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` (content.IsLabelKey).
 */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const slash = value.indexOf('/');
  let name: string;
  if (slash === -1) {
    name = value;
  } else if (value.indexOf('/', slash + 1) === -1) {
    const prefix = value.slice(0, slash);
    name = value.slice(slash + 1);
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else for (const msg of dns1123Subdomain(prefix, maxBytesError)) errs.push(`prefix part ${msg}`);
  } else {
    return [
      `a valid label key ${regexError(LABEL_KEY_ERR, LABEL_KEY_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (bytesOver(name, QUALIFIED_NAME_MAX_LENGTH)) {
    errs.push(`name part ${maxBytesError(QUALIFIED_NAME_MAX_LENGTH)}`);
  }
  if (!labelKeyRe.test(name)) {
    errs.push(`name part ${regexError(LABEL_KEY_ERR, LABEL_KEY_FMT, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

/** A label value: empty, or at most 63 bytes matching the label-key name pattern. */
export function isLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (bytesOver(value, LABEL_VALUE_MAX_LENGTH)) errs.push(maxBytesError(LABEL_VALUE_MAX_LENGTH));
  if (!labelValueRe.test(value)) {
    errs.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  }
  return errs;
}

/** A port number, 1–65535. */
export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

/** An IANA_SVC_NAME port name: 1–15 of [-a-z0-9], at least one letter, no "--", no leading or trailing '-'. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLength(port) > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port))
    errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.startsWith('-') || port.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** A C identifier, `[A-Za-z_][A-Za-z0-9_]*` (format only, no length). */
export function isCIdentifier(value: string): string[] {
  return cIdentifierRe.test(value)
    ? []
    : [regexError(C_IDENTIFIER_ERR, C_IDENTIFIER_FMT, 'my_name', 'MY_NAME', 'MyName')];
}

function chDirPrefix(value: string): string[] {
  if (value === '.') return ["must not be '.'"];
  if (value === '..') return ["must not be '..'"];
  if (value.startsWith('..')) return ["must not start with '..'"];
  return [];
}

/** The strict environment variable name rule (used before RelaxedEnvironmentVariableValidation). */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!envVarNameRe.test(value)) {
    errs.push(regexError(ENV_VAR_NAME_ERR, ENV_VAR_NAME_FMT, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1'));
  }
  return [...errs, ...chDirPrefix(value)];
}

/**
 * The environment variable name rule current Kubernetes applies (RelaxedEnvironmentVariableValidation,
 * GA in 1.34): non-empty, printable ASCII (space included) except '='.
 */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push(`environment variable name ${emptyError()}`);
  for (const ch of value) {
    const c = ch.codePointAt(0) as number;
    if (c < 0x20 || c > 0x7e || ch === '=') {
      errs.push(RELAXED_ENV_VAR_NAME_ERR);
      break;
    }
  }
  return errs;
}

/** A ConfigMap or Secret data key. */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!configMapKeyRe.test(value)) {
    errs.push(regexError(CONFIG_MAP_KEY_ERR, CONFIG_MAP_KEY_FMT, 'key.name', 'KEY_NAME', 'key-name'));
  }
  return [...errs, ...chDirPrefix(value)];
}

/**
 * Validates a kind's object names (ValidateNameFunc). `prefix` is true for generateName, whose
 * trailing '-' is masked first, exactly as Kubernetes does: the last two characters become "a".
 */
export type NameValidator = (name: string, prefix: boolean) => string[];

function maskTrailingDash(name: string): string {
  return name.endsWith('-') ? `${name.slice(0, Math.max(0, name.length - 2))}a` : name;
}

/** Names that must be DNS-1123 subdomains (most kinds). */
export const nameIsDNSSubdomain: NameValidator = (name, prefix) =>
  isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
/** Names that must be DNS-1123 labels (Namespaces, and the namespace of every namespaced object). */
export const nameIsDNSLabel: NameValidator = (name, prefix) =>
  isDNS1123Label(prefix ? maskTrailingDash(name) : name);
/** Names that must be DNS-1035 labels (Services). */
export const nameIsDNS1035Label: NameValidator = (name, prefix) =>
  isDNS1035Label(prefix ? maskTrailingDash(name) : name);

/** One FieldValueInvalid per message, all at `path` with `value`. */
export function invalidEach(path: FieldPath, value: unknown, messages: readonly string[]): FieldError[] {
  return messages.map((msg) => FieldError.invalid(path.toString(), value, msg));
}

/** ValidateLabelName: a label key (qualified name). */
export function validateLabelName(key: string, path: FieldPath): FieldError[] {
  return invalidEach(path, key, isQualifiedName(key));
}

/** ValidateLabels: every key a qualified name, every value a label value; errors at `path` itself. */
export function validateLabels(
  labels: Readonly<Record<string, string>> | null | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    errs.push(...validateLabelName(k, path), ...invalidEach(path, v, isLabelValue(v)));
  }
  return errs;
}

/** ValidateAnnotations: keys are qualified names once lower-cased; keys and values total ≤ 256 KiB. */
export function validateAnnotations(
  annotations: Readonly<Record<string, string>> | null | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    errs.push(...invalidEach(path, k, isQualifiedName(k.toLowerCase())));
    size += byteLength(k) + byteLength(v);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT_B)
    errs.push(FieldError.tooLong(path.toString(), TOTAL_ANNOTATION_SIZE_LIMIT_B));
  return errs;
}

/** metav1.OwnerReference, as far as validation looks at it. */
export interface OwnerReferenceLike {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean | null;
  blockOwnerDeletion?: boolean | null;
}

/** schema.ParseGroupVersion, or undefined for a string with more than one '/'. */
function parseGroupVersion(gv: string): { group: string; version: string } | undefined {
  if (gv === '' || gv === '/') return { group: '', version: '' };
  const parts = gv.split('/');
  if (parts.length === 1) return { group: '', version: gv };
  if (parts.length === 2) return { group: parts[0] as string, version: parts[1] as string };
  return undefined;
}

/**
 * ValidateOwnerReferences: each reference names a version, kind, name and uid, is not an Event, and
 * at most one is the controller. Like Kubernetes, errors are reported at `path.apiVersion` etc.
 * without the list index.
 */
export function validateOwnerReferences(
  refs: readonly OwnerReferenceLike[] | null | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const ref of refs ?? []) {
    const gv = parseGroupVersion(ref.apiVersion ?? '') ?? { group: '', version: '' };
    const kind = ref.kind ?? '';
    if (!gv.version)
      errs.push(
        FieldError.invalid(
          path.child('apiVersion').toString(),
          ref.apiVersion ?? '',
          'version must not be empty',
        ),
      );
    if (!kind) errs.push(FieldError.invalid(path.child('kind').toString(), kind, 'must not be empty'));
    if (!ref.name)
      errs.push(FieldError.invalid(path.child('name').toString(), ref.name ?? '', 'must not be empty'));
    if (!ref.uid)
      errs.push(FieldError.invalid(path.child('uid').toString(), ref.uid ?? '', 'must not be empty'));
    if (gv.group === '' && gv.version === 'v1' && kind === 'Event') {
      errs.push(
        FieldError.invalid(
          path.toString(),
          ref,
          `${gv.group}/${gv.version}, Kind=${kind} is disallowed from being an owner`,
        ),
      );
    }
    if (ref.controller === true) {
      const current = `${kind}/${ref.name ?? ''}`;
      if (firstController) {
        errs.push(
          FieldError.invalid(
            path.toString(),
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

/** ValidateFinalizers: each a qualified name; "orphan" and "foregroundDeletion" not both. */
export function validateFinalizers(
  finalizers: readonly string[] | null | undefined,
  path: FieldPath,
): FieldError[] {
  const list = finalizers ?? [];
  const errs: FieldError[] = [];
  for (const f of list) errs.push(...invalidEach(path, f, isQualifiedName(f)));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(
      FieldError.invalid(path.toString(), list, 'finalizer orphan and foregroundDeletion cannot be both set'),
    );
  }
  return errs;
}

/** The ObjectMeta fields validateObjectMeta reads. */
export interface ObjectMetaLike {
  name?: string;
  generateName?: string;
  namespace?: string;
  generation?: number;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  ownerReferences?: OwnerReferenceLike[] | null;
  finalizers?: string[] | null;
}

/** How a kind's metadata is validated. */
export interface ObjectMetaRules {
  /** Whether the kind is namespaced: the namespace is then required, otherwise forbidden. */
  namespaced: boolean;
  /** The kind's name rule, e.g. nameIsDNSSubdomain. */
  nameFn: NameValidator;
}

/**
 * ValidateObjectMeta on create, after name generation: generateName (with a trailing '-' allowed),
 * name (required), namespace, generation ≥ 0, labels, annotations, ownerReferences and finalizers,
 * in Kubernetes' order. `path` defaults to "metadata".
 */
export function validateObjectMeta(
  meta: ObjectMetaLike,
  rules: ObjectMetaRules,
  path: FieldPath = new FieldPath('metadata'),
): FieldError[] {
  const errs: FieldError[] = [];
  if (meta.generateName) {
    errs.push(
      ...invalidEach(path.child('generateName'), meta.generateName, rules.nameFn(meta.generateName, true)),
    );
  }
  if (!meta.name)
    errs.push(FieldError.required(path.child('name').toString(), 'name or generateName is required'));
  else errs.push(...invalidEach(path.child('name'), meta.name, rules.nameFn(meta.name, false)));
  if (rules.namespaced) {
    if (!meta.namespace) errs.push(FieldError.required(path.child('namespace').toString()));
    else
      errs.push(
        ...invalidEach(path.child('namespace'), meta.namespace, nameIsDNSLabel(meta.namespace, false)),
      );
  } else if (meta.namespace) {
    errs.push(FieldError.forbidden(path.child('namespace').toString(), 'not allowed on this type'));
  }
  if (meta.generation !== undefined && meta.generation < 0) {
    errs.push(
      FieldError.invalid(
        path.child('generation').toString(),
        meta.generation,
        'must be greater than or equal to 0',
      ),
    );
  }
  errs.push(
    ...validateLabels(meta.labels, path.child('labels')),
    ...validateAnnotations(meta.annotations, path.child('annotations')),
    ...validateOwnerReferences(meta.ownerReferences, path.child('ownerReferences')),
    ...validateFinalizers(meta.finalizers, path.child('finalizers')),
  );
  return errs;
}
