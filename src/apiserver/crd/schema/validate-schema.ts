/**
 * Validation of a CRD version's `schema` (apiextensions validation.go:
 * validateCustomResourceDefinitionValidation and ValidateCustomResourceDefinitionOpenAPISchema):
 * the status-subresource root restrictions, structural rules (structural.ts), defaults (they must
 * validate against their schema and be pruned), the OpenAPI features CRDs do not support ($ref,
 * patternProperties, …), additionalProperties vs properties, and the x-kubernetes-list-type /
 * list-map-keys / map-type rules. CEL rules in x-kubernetes-validations are only checked for shape.
 */
import { FieldError, type FieldPath } from '../../../api/errors.ts';
import { compileNode } from './node.ts';
import { pruneValue } from './prune.ts';
import { celRuleShapes, listAndMapTypes } from './schema-extensions.ts';
import { validateStructural } from './structural.ts';
import type { JSONSchemaProps } from './types.ts';
import { deepCopy, deepEqual, isObject, own } from './util.ts';
import { validateValue } from './validator.ts';

const OPENAPI_V3_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const META_FIELDS = new Set(['metadata', 'kind', 'apiVersion']);

/** JSON field → Go field name of JSONSchemaProps, in struct order (for the status-root rule). */
const GO_FIELDS: [string, string][] = [
  ['id', 'ID'],
  ['$schema', 'Schema'],
  ['$ref', 'Ref'],
  ['description', 'Description'],
  ['type', 'Type'],
  ['format', 'Format'],
  ['title', 'Title'],
  ['default', 'Default'],
  ['maximum', 'Maximum'],
  ['exclusiveMaximum', 'ExclusiveMaximum'],
  ['minimum', 'Minimum'],
  ['exclusiveMinimum', 'ExclusiveMinimum'],
  ['maxLength', 'MaxLength'],
  ['minLength', 'MinLength'],
  ['pattern', 'Pattern'],
  ['maxItems', 'MaxItems'],
  ['minItems', 'MinItems'],
  ['uniqueItems', 'UniqueItems'],
  ['multipleOf', 'MultipleOf'],
  ['enum', 'Enum'],
  ['maxProperties', 'MaxProperties'],
  ['minProperties', 'MinProperties'],
  ['required', 'Required'],
  ['items', 'Items'],
  ['allOf', 'AllOf'],
  ['oneOf', 'OneOf'],
  ['anyOf', 'AnyOf'],
  ['not', 'Not'],
  ['properties', 'Properties'],
  ['additionalProperties', 'AdditionalProperties'],
  ['patternProperties', 'PatternProperties'],
  ['dependencies', 'Dependencies'],
  ['additionalItems', 'AdditionalItems'],
  ['definitions', 'Definitions'],
  ['externalDocs', 'ExternalDocs'],
  ['example', 'Example'],
  ['nullable', 'Nullable'],
  ['x-kubernetes-preserve-unknown-fields', 'XPreserveUnknownFields'],
  ['x-kubernetes-embedded-resource', 'XEmbeddedResource'],
  ['x-kubernetes-int-or-string', 'XIntOrString'],
  ['x-kubernetes-list-map-keys', 'XListMapKeys'],
  ['x-kubernetes-list-type', 'XListType'],
  ['x-kubernetes-map-type', 'XMapType'],
  ['x-kubernetes-validations', 'XValidations'],
];

const ALLOWED_AT_STATUS_ROOT = [
  'Description',
  'Type',
  'Format',
  'Title',
  'Maximum',
  'ExclusiveMaximum',
  'Minimum',
  'ExclusiveMinimum',
  'MaxLength',
  'MinLength',
  'Pattern',
  'MaxItems',
  'MinItems',
  'UniqueItems',
  'MultipleOf',
  'Required',
  'Items',
  'Properties',
  'ExternalDocs',
  'Example',
  'XPreserveUnknownFields',
  'XValidations',
];

/** Go's zero value test for a decoded JSONSchemaProps field (plain bools are zero when false). */
function isGoZero(goName: string, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'boolean') {
    return (
      !v &&
      [
        'ExclusiveMaximum',
        'ExclusiveMinimum',
        'UniqueItems',
        'Nullable',
        'XEmbeddedResource',
        'XIntOrString',
      ].includes(goName)
    );
  }
  return typeof v === 'string' && v === '';
}

/** The specStandardValidator state while descending the schema. */
interface Ssv {
  allowDefaults: boolean;
  disallowDefaultsReason: string;
  insideResourceMeta: boolean;
}

function schemaList(v: unknown): JSONSchemaProps[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function schemaMap(v: unknown): [string, JSONSchemaProps][] {
  return isObject(v) ? Object.entries(v).filter((e): e is [string, JSONSchemaProps] => isObject(e[1])) : [];
}

function nonEmptyMap(v: unknown): boolean {
  return isObject(v) && Object.keys(v).length > 0;
}

/** specStandardValidatorV3.validate: OpenAPI features a CRD schema may not use. */
function standardValidate(s: JSONSchemaProps, path: FieldPath, ssv: Ssv): FieldError[] {
  const errs: FieldError[] = [];
  const p = (f: string) => path.child(f).toString();
  if (typeof s.type === 'string' && s.type !== '' && !OPENAPI_V3_TYPES.includes(s.type)) {
    errs.push(FieldError.notSupported(p('type'), s.type, OPENAPI_V3_TYPES));
  }
  if (s.default !== undefined && s.default !== null && !ssv.allowDefaults) {
    const detail = ssv.disallowDefaultsReason
      ? `must not be set ${ssv.disallowDefaultsReason}`
      : 'must not be set';
    errs.push(FieldError.forbidden(p('default'), detail));
  }
  if (typeof s.id === 'string' && s.id !== '')
    errs.push(FieldError.forbidden(p('id'), 'id is not supported'));
  if (s.additionalItems !== undefined && s.additionalItems !== null) {
    errs.push(FieldError.forbidden(p('additionalItems'), 'additionalItems is not supported'));
  }
  if (nonEmptyMap(s.patternProperties))
    errs.push(FieldError.forbidden(p('patternProperties'), 'patternProperties is not supported'));
  if (nonEmptyMap(s.definitions))
    errs.push(FieldError.forbidden(p('definitions'), 'definitions is not supported'));
  if (s.dependencies !== undefined && s.dependencies !== null) {
    errs.push(FieldError.forbidden(p('dependencies'), 'dependencies is not supported'));
  }
  if (s.$ref !== undefined && s.$ref !== null)
    errs.push(FieldError.forbidden(p('$ref'), '$ref is not supported'));
  if (s.type === 'null')
    errs.push(FieldError.forbidden(p('type'), 'type cannot be set to null, use nullable as an alternative'));
  if (Array.isArray(s.items) && s.items.length > 0) {
    errs.push(FieldError.forbidden(p('items'), 'items must be a schema object and not an array'));
  }
  if (ssv.insideResourceMeta && s['x-kubernetes-embedded-resource'] === true) {
    errs.push(
      FieldError.forbidden(p('x-kubernetes-embedded-resource'), 'must not be used inside of resource meta'),
    );
  }
  return errs;
}

/** ValidateCustomResourceDefinitionOpenAPISchema, recursively. */
function openAPISchema(s: JSONSchemaProps, path: FieldPath, ssv: Ssv, isRoot: boolean): FieldError[] {
  const errs = standardValidate(s, path, ssv);
  if (s.uniqueItems === true) {
    errs.push(
      FieldError.forbidden(
        path.child('uniqueItems').toString(),
        'uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
      ),
    );
  }
  const ap = s.additionalProperties;
  if (ap !== undefined && ap !== null) {
    if (nonEmptyMap(s.properties) && (ap === false || isObject(ap))) {
      errs.push(
        FieldError.forbidden(
          path.child('additionalProperties').toString(),
          'additionalProperties and properties are mutual exclusive',
        ),
      );
    }
    const sub = ssv.insideResourceMeta
      ? {
          ...ssv,
          allowDefaults: false,
          disallowDefaultsReason: 'inside additionalProperties applying to object metadata',
        }
      : ssv;
    if (isObject(ap)) errs.push(...openAPISchema(ap, path.child('additionalProperties'), sub, false));
  }
  for (const [k, prop] of schemaMap(s.properties)) {
    let sub = ssv;
    if ((isRoot || s['x-kubernetes-embedded-resource'] === true) && META_FIELDS.has(k)) {
      sub = { ...sub, insideResourceMeta: true };
      if (isRoot) sub = { ...sub, allowDefaults: false, disallowDefaultsReason: `in top-level ${k}` };
    }
    errs.push(...openAPISchema(prop, path.child('properties').key(k), sub, false));
  }
  if (isObject(s.not)) errs.push(...openAPISchema(s.not, path.child('not'), ssv, false));
  schemaList(s.allOf).forEach((x, i) => {
    errs.push(...openAPISchema(x, path.child('allOf').index(i), ssv, false));
  });
  schemaList(s.oneOf).forEach((x, i) => {
    errs.push(...openAPISchema(x, path.child('oneOf').index(i), ssv, false));
  });
  schemaList(s.anyOf).forEach((x, i) => {
    errs.push(...openAPISchema(x, path.child('anyOf').index(i), ssv, false));
  });
  for (const [k, d] of schemaMap(s.definitions))
    errs.push(...openAPISchema(d, path.child('definitions').key(k), ssv, false));
  if (isObject(s.items)) errs.push(...openAPISchema(s.items, path.child('items'), ssv, false));
  else
    schemaList(s.items).forEach((x, i) => {
      errs.push(...openAPISchema(x, path.child('items').index(i), ssv, false));
    });
  for (const [k, d] of schemaMap(s.dependencies))
    errs.push(...openAPISchema(d, path.child('dependencies').key(k), ssv, false));
  if (s['x-kubernetes-preserve-unknown-fields'] === false) {
    errs.push(
      FieldError.invalid(
        path.child('x-kubernetes-preserve-unknown-fields').toString(),
        false,
        'must be true or undefined',
      ),
    );
  }
  errs.push(...listAndMapTypes(s, path), ...celRuleShapes(s, path));
  return errs;
}

/** ValidateDefaults: each default validates against its own schema and has no unknown fields. */
function validateDefaults(
  s: JSONSchemaProps,
  path: FieldPath,
  insideMeta: boolean,
  isRoot: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  const embedded = isRoot || s['x-kubernetes-embedded-resource'] === true;
  const inMeta = embedded ? false : insideMeta;
  if (s.default !== undefined && s.default !== null) {
    const node = compileNode(isRoot ? { ...s, 'x-kubernetes-embedded-resource': true } : s);
    const p = path.child('default').toString();
    if (!inMeta) {
      const pruned = deepCopy(s.default);
      pruneValue(node, pruned);
      if (!deepEqual(pruned, s.default))
        errs.push(FieldError.invalid(p, s.default, 'must not have unknown fields'));
    }
    errs.push(...validateValue(node, s.default, p));
  }
  if (isObject(s.items)) errs.push(...validateDefaults(s.items, path.child('items'), inMeta, false));
  for (const [k, prop] of schemaMap(s.properties)) {
    errs.push(
      ...validateDefaults(
        prop,
        path.child('properties').key(k),
        inMeta || (embedded && META_FIELDS.has(k)),
        false,
      ),
    );
  }
  return errs;
}

/** The status-subresource restriction on the root schema (only some fields, and type object). */
function statusRoot(s: JSONSchemaProps, path: FieldPath): FieldError[] {
  for (const [json, goName] of GO_FIELDS) {
    const v = own(s as Record<string, unknown>, json);
    if (isGoZero(goName, v)) continue;
    if (goName === 'Type') {
      if (v !== 'object') {
        return [
          FieldError.invalid(
            path.child('openAPIV3Schema.type').toString(),
            v,
            'only "object" is allowed as the type at the root of the schema if the status subresource is enabled',
          ),
        ];
      }
      continue;
    }
    if (!ALLOWED_AT_STATUS_ROOT.includes(goName)) {
      return [
        FieldError.invalid(
          path.child('openAPIV3Schema').toString(),
          s,
          `only [${ALLOWED_AT_STATUS_ROOT.join(' ')}] fields are allowed at the root of the schema if the status subresource is enabled`,
        ),
      ];
    }
  }
  return [];
}

/**
 * validateCustomResourceDefinitionValidation for one `schema` (a CustomResourceValidation) at `path`
 * (`spec.validation` when every version has the same schema, else `spec.versions[i].schema`).
 */
export function validateSchemaValidation(
  validation: unknown,
  statusEnabled: boolean,
  path: FieldPath,
): FieldError[] {
  if (!isObject(validation)) return [];
  const schema = validation.openAPIV3Schema;
  if (!isObject(schema)) return [];
  const s = schema as JSONSchemaProps;
  const errs: FieldError[] = [];
  const root = path.child('openAPIV3Schema');
  if (statusEnabled) errs.push(...statusRoot(s, path));
  if (s.nullable === true)
    errs.push(
      FieldError.forbidden(
        path.child('openAPIV3Schema.nullable').toString(),
        'nullable cannot be true at the root',
      ),
    );
  const structural = validateStructural(root, s);
  if (structural.length > 0) errs.push(...structural);
  else errs.push(...validateDefaults(s, root, false, true));
  errs.push(
    ...openAPISchema(
      s,
      root,
      { allowDefaults: true, disallowDefaultsReason: '', insideResourceMeta: false },
      true,
    ),
  );
  return errs;
}

/** Whether a schema uses `default` anywhere (specHasDefaults). */
export function schemaHasDefaults(s: unknown): boolean {
  if (!isObject(s)) return false;
  if (s.default !== undefined && s.default !== null) return true;
  const subs: unknown[] = [s.items, s.not, s.additionalProperties, s.additionalItems];
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const)
    if (Array.isArray(s[key])) subs.push(...(s[key] as unknown[]));
  if (Array.isArray(s.items)) subs.push(...s.items);
  for (const key of ['properties', 'patternProperties', 'definitions', 'dependencies'] as const) {
    if (isObject(s[key])) subs.push(...Object.values(s[key] as object));
  }
  return subs.some(schemaHasDefaults);
}
