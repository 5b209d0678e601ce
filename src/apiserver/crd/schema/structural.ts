/**
 * Structural schema rules (apiextensions-apiserver pkg/apiserver/schema/validation.go and
 * complete.go): every specified node has a `type` (unless x-kubernetes-int-or-string or
 * x-kubernetes-preserve-unknown-fields), the root is an object, arrays have `items`, root
 * `metadata` restricts at most `name` and `generateName`, x-kubernetes-embedded-resource objects are
 * well-formed, and value validations (allOf/anyOf/oneOf/not) only constrain what the structural part
 * already specifies and carry no type, default, description, nullable or extension of their own.
 * Errors come sorted by their text, as Kubernetes sorts them.
 */
import { FieldError, type FieldPath } from '../../../api/errors.ts';
import { compileGoRegexp } from './regex.ts';
import type { JSONSchemaProps } from './types.ts';
import { isObject, own } from './util.ts';

type Level = 'root' | 'item' | 'field';

function props(s: JSONSchemaProps): [string, JSONSchemaProps][] {
  return isObject(s.properties) ? Object.entries(s.properties).filter(([, v]) => isObject(v)) : [];
}

function schemas(v: unknown): JSONSchemaProps[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function itemsSchema(s: JSONSchemaProps): JSONSchemaProps | undefined {
  return isObject(s.items) ? s.items : undefined;
}

function hasType(s: JSONSchemaProps): boolean {
  return typeof s.type === 'string' && s.type !== '';
}

/** `{type: integer}` and `{type: string}`, nothing else: the one anyOf an int-or-string may carry. */
function isIntOrStringAnyOf(anyOf: unknown): boolean {
  const list = schemas(anyOf);
  if (list.length !== 2 || !Array.isArray(anyOf) || anyOf.length !== 2) return false;
  const only = (s: JSONSchemaProps, t: string) => Object.keys(s).length === 1 && s.type === t;
  return only(list[0] as JSONSchemaProps, 'integer') && only(list[1] as JSONSchemaProps, 'string');
}

/** The fields of a structural schema besides type, default and properties (what root metadata must not set). */
const STRUCTURAL_KEYS = [
  'items',
  'additionalProperties',
  'title',
  'description',
  'nullable',
  'format',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'enum',
  'maxProperties',
  'minProperties',
  'required',
  'allOf',
  'oneOf',
  'anyOf',
  'not',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;

/** Whether a field holds something the structural schema keeps (Go's non-zero value). */
function isSet(key: string, v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return key === 'additionalProperties' || v;
  if (typeof v === 'string') return v !== '';
  return true;
}

/** Root metadata may carry type, a (separately rejected) default, and name/generateName properties. */
function metadataIsRestricted(m: JSONSchemaProps): boolean {
  const keys = props(m).map(([k]) => k);
  if (!keys.every((k) => k === 'name' || k === 'generateName')) return false;
  return STRUCTURAL_KEYS.every((k) => !isSet(k, m[k]));
}

function invariants(s: JSONSchemaProps, lvl: Level, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const items = itemsSchema(s);
  if (s.type === 'array' && s.items === undefined)
    errs.push(FieldError.required(path.child('items').toString(), 'must be specified'));
  if (items) errs.push(...invariants(items, 'item', path.child('items')));
  for (const [k, v] of props(s)) errs.push(...invariants(v, 'field', path.child('properties').key(k)));

  // generic
  if (s.additionalProperties !== undefined) {
    if (lvl === 'root')
      errs.push(
        FieldError.forbidden(path.child('additionalProperties').toString(), 'must not be used at the root'),
      );
    if (isObject(s.additionalProperties)) {
      errs.push(...invariants(s.additionalProperties, 'field', path.child('additionalProperties')));
    }
  }

  // extensions
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (intOrString && preserve) {
    errs.push(
      FieldError.invalid(
        path.child('x-kubernetes-preserve-unknown-fields').toString(),
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  }
  if (intOrString && embedded) {
    errs.push(
      FieldError.invalid(
        path.child('x-kubernetes-embedded-resource').toString(),
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  }

  const skipAnyOf = isIntOrStringAnyOf(s.anyOf);
  const firstAllOf = schemas(s.allOf)[0];
  const skipFirstAllOfAnyOf = firstAllOf !== undefined && isIntOrStringAnyOf(firstAllOf.anyOf);
  errs.push(...valueValidation(s, skipAnyOf, skipFirstAllOfAnyOf, path));

  const checkMetadata = lvl === 'root' || embedded;
  const typeStr = typeof s.type === 'string' ? s.type : '';
  if (embedded && typeStr !== 'object') {
    const p = path.child('type').toString();
    const msg = 'must be object if x-kubernetes-embedded-resource is true';
    errs.push(typeStr === '' ? FieldError.required(p, msg) : FieldError.invalid(p, typeStr, msg));
  } else if (!hasType(s) && !intOrString && !preserve) {
    const msg =
      lvl === 'root'
        ? 'must not be empty at the root'
        : lvl === 'item'
          ? 'must not be empty for specified array items'
          : 'must not be empty for specified object fields';
    errs.push(FieldError.required(path.child('type').toString(), msg));
  }
  if (embedded && s.additionalProperties !== undefined) {
    errs.push(
      FieldError.forbidden(
        path.child('additionalProperties').toString(),
        'must not be used if x-kubernetes-embedded-resource is set',
      ),
    );
  }
  if (lvl === 'root' && typeStr !== '' && typeStr !== 'object') {
    errs.push(FieldError.invalid(path.child('type').toString(), typeStr, 'must be object at the root'));
  }

  const p = isObject(s.properties) ? s.properties : undefined;
  const kind = own(p, 'kind');
  const apiVersion = own(p, 'apiVersion');
  const metadata = own(p, 'metadata');
  const typeOf = (x: JSONSchemaProps) => (typeof x.type === 'string' ? x.type : '');
  if (checkMetadata && isObject(kind) && kind.type !== 'string') {
    errs.push(
      FieldError.invalid(
        path.child('properties').key('kind').child('type').toString(),
        typeOf(kind),
        'must be string',
      ),
    );
  }
  if (checkMetadata && isObject(apiVersion) && apiVersion.type !== 'string') {
    errs.push(
      FieldError.invalid(
        path.child('properties').key('apiVersion').child('type').toString(),
        typeOf(apiVersion),
        'must be string',
      ),
    );
  }
  if (checkMetadata && isObject(metadata) && metadata.type !== 'object') {
    errs.push(
      FieldError.invalid(
        path.child('properties').key('metadata').child('type').toString(),
        typeOf(metadata),
        'must be object',
      ),
    );
  }
  if (lvl === 'root' && isObject(metadata) && !metadataIsRestricted(metadata)) {
    errs.push(
      FieldError.forbidden(
        path.child('properties').key('metadata').toString(),
        'must not specify anything other than name and generateName, but metadata is implicitly specified',
      ),
    );
  }
  if (embedded && !preserve && props(s).length === 0) {
    errs.push(
      FieldError.required(
        path.child('properties').toString(),
        'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields',
      ),
    );
  }
  return errs;
}

/** validateValueValidation: the junctors of a node, and its pattern. */
function valueValidation(
  v: JSONSchemaProps,
  skipAnyOf: boolean,
  skipFirstAllOfAnyOf: boolean,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!skipAnyOf)
    schemas(v.anyOf).forEach((s, i) => {
      errs.push(...nested(s, false, path.child('anyOf').index(i)));
    });
  schemas(v.allOf).forEach((s, i) => {
    errs.push(...nested(s, skipFirstAllOfAnyOf && i === 0, path.child('allOf').index(i)));
  });
  schemas(v.oneOf).forEach((s, i) => {
    errs.push(...nested(s, false, path.child('oneOf').index(i)));
  });
  if (isObject(v.not)) errs.push(...nested(v.not, false, path.child('not')));
  if (typeof v.pattern === 'string' && v.pattern !== '') {
    const re = compileGoRegexp(v.pattern);
    if (!re.ok) {
      errs.push(
        FieldError.invalid(
          path.child('pattern').toString(),
          v.pattern,
          `must be a valid regular expression, but isn't: ${re.error}`,
        ),
      );
    }
  }
  return errs;
}

/** validateNestedValueValidation: inside a junctor only value validations may appear. */
function nested(v: JSONSchemaProps, skipAnyOf: boolean, path: FieldPath): FieldError[] {
  const errs = valueValidation(v, skipAnyOf, false, path);
  const items = itemsSchema(v);
  if (items) errs.push(...nested(items, false, path.child('items')));
  for (const [k, p] of props(v)) errs.push(...nested(p, false, path.child('properties').key(k)));
  const forbid = (field: string, detail: string) =>
    errs.push(FieldError.forbidden(path.child(field).toString(), detail));
  if (hasType(v)) forbid('type', 'must be empty to be structural');
  if (v.additionalProperties !== undefined)
    forbid('additionalProperties', 'must be undefined to be structural');
  if (v.default !== undefined && v.default !== null) forbid('default', 'must be undefined to be structural');
  if (typeof v.title === 'string' && v.title !== '') forbid('title', 'must be empty to be structural');
  if (typeof v.description === 'string' && v.description !== '')
    forbid('description', 'must be empty to be structural');
  if (v.nullable === true) forbid('nullable', 'must be false to be structural');
  if (v['x-kubernetes-preserve-unknown-fields'] === true)
    forbid('x-kubernetes-preserve-unknown-fields', 'must be false to be structural');
  if (v['x-kubernetes-embedded-resource'] === true)
    forbid('x-kubernetes-embedded-resource', 'must be false to be structural');
  if (v['x-kubernetes-int-or-string'] === true)
    forbid('x-kubernetes-int-or-string', 'must be false to be structural');
  if (Array.isArray(v['x-kubernetes-list-map-keys']) && v['x-kubernetes-list-map-keys'].length > 0) {
    forbid('x-kubernetes-list-map-keys', 'must be empty to be structural');
  }
  if (v['x-kubernetes-list-type'] !== undefined)
    forbid('x-kubernetes-list-type', 'must be undefined to be structural');
  if (own(isObject(v.properties) ? v.properties : undefined, 'metadata') !== undefined) {
    errs.push(
      FieldError.forbidden(
        path.child('properties').key('metadata').toString(),
        'must not be specified in a nested context',
      ),
    );
  }
  return errs;
}

/** complete.go: what a junctor constrains must be specified structurally. */
function completeness(
  v: JSONSchemaProps,
  s: JSONSchemaProps | undefined,
  sPath: FieldPath,
  vPath: FieldPath,
): FieldError[] {
  if (!s) return [FieldError.required(sPath.toString(), `because it is defined in ${vPath.toString()}`)];
  const errs: FieldError[] = [];
  if (isObject(v.not)) errs.push(...nestedCompleteness(v.not, s, sPath, vPath.child('not')));
  schemas(v.allOf).forEach((x, i) => {
    errs.push(...nestedCompleteness(x, s, sPath, vPath.child('allOf').index(i)));
  });
  schemas(v.anyOf).forEach((x, i) => {
    errs.push(...nestedCompleteness(x, s, sPath, vPath.child('anyOf').index(i)));
  });
  schemas(v.oneOf).forEach((x, i) => {
    errs.push(...nestedCompleteness(x, s, sPath, vPath.child('oneOf').index(i)));
  });
  return errs;
}

function nestedCompleteness(
  v: JSONSchemaProps,
  s: JSONSchemaProps,
  sPath: FieldPath,
  vPath: FieldPath,
): FieldError[] {
  const errs = completeness(v, s, sPath, vPath);
  const vItems = itemsSchema(v);
  if (vItems) {
    const sItems = itemsSchema(s);
    if (!sItems)
      errs.push(
        FieldError.required(
          sPath.child('items').toString(),
          `because it is defined in ${vPath.child('items').toString()}`,
        ),
      );
    else errs.push(...nestedCompleteness(vItems, sItems, sPath.child('items'), vPath.child('items')));
  }
  const sProps = isObject(s.properties) ? s.properties : undefined;
  for (const [k, vp] of props(v)) {
    const sp = own(sProps, k);
    const sp2 = sPath.child('properties').key(k);
    const vp2 = vPath.child('properties').key(k);
    if (!isObject(sp))
      errs.push(FieldError.required(sp2.toString(), `because it is defined in ${vp2.toString()}`));
    else errs.push(...nestedCompleteness(vp, sp, sp2, vp2));
  }
  return errs;
}

/** ValidateStructural for a CRD version's openAPIV3Schema at `path`. */
export function validateStructural(path: FieldPath, s: JSONSchemaProps): FieldError[] {
  const errs = [...invariants(s, 'root', path), ...completeness(s, s, path, path)];
  return errs.sort((a, b) => {
    const x = a.toString();
    const y = b.toString();
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
