/**
 * Schema rules for Kubernetes' vendor extensions (part of ValidateCustomResourceDefinitionOpenAPISchema):
 * x-kubernetes-list-type / x-kubernetes-list-map-keys / x-kubernetes-map-type consistency, and the
 * static shape of x-kubernetes-validations entries (their CEL rules are not compiled or run).
 */
import { FieldError, type FieldPath } from '../../../api/errors.ts';
import type { JSONSchemaProps } from './types.ts';
import { isObject, own } from './util.ts';

const VALIDATION_REASONS = [
  'FieldValueDuplicate',
  'FieldValueForbidden',
  'FieldValueInvalid',
  'FieldValueRequired',
];

/** validateMapListKeysMapSet */
function mapListKeysMapSet(s: JSONSchemaProps, path: FieldPath): FieldError[] {
  const items = s.items;
  const listType = s['x-kubernetes-list-type'];
  if (!isObject(items) || (listType !== 'set' && listType !== 'map')) return [];
  const errs: FieldError[] = [];
  if (items.nullable === true) {
    errs.push(
      FieldError.forbidden(
        path.child('items').child('nullable').toString(),
        `cannot be nullable when x-kubernetes-list-type is ${listType}`,
      ),
    );
  }
  if (listType === 'map') {
    const required = new Set(Array.isArray(items.required) ? items.required : []);
    const itemProps = isObject(items.properties) ? items.properties : undefined;
    for (const k of Array.isArray(s['x-kubernetes-list-map-keys']) ? s['x-kubernetes-list-map-keys'] : []) {
      const prop = own(itemProps, k);
      if (!isObject(prop)) continue;
      const base = path.child('items').child('properties').key(k);
      if (!required.has(k) && (prop.default === undefined || prop.default === null)) {
        errs.push(
          FieldError.required(
            base.child('default').toString(),
            'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
          ),
        );
      }
      if (prop.nullable === true) {
        errs.push(
          FieldError.forbidden(
            base.child('nullable').toString(),
            'this property is in x-kubernetes-list-map-keys, so it cannot be nullable',
          ),
        );
      }
    }
  }
  return errs;
}

/** The x-kubernetes-list-type, list-map-keys and map-type rules of one schema node. */
export function listAndMapTypes(s: JSONSchemaProps, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const type = typeof s.type === 'string' ? s.type : '';
  const mapType = s['x-kubernetes-map-type'];
  const listType = s['x-kubernetes-list-type'];
  const keys = Array.isArray(s['x-kubernetes-list-map-keys']) ? s['x-kubernetes-list-map-keys'] : [];
  const p = (f: string) => path.child(f).toString();
  if (mapType !== undefined && mapType !== null && type !== 'object') {
    const msg = 'must be object if x-kubernetes-map-type is specified';
    errs.push(type === '' ? FieldError.required(p('type'), msg) : FieldError.invalid(p('type'), type, msg));
  }
  if (mapType !== undefined && mapType !== null && mapType !== 'atomic' && mapType !== 'granular') {
    errs.push(FieldError.notSupported(p('x-kubernetes-map-type'), mapType, ['atomic', 'granular']));
  }
  const items = isObject(s.items) ? s.items : undefined;
  if (listType !== undefined && listType !== null && type !== 'array') {
    const msg = 'must be array if x-kubernetes-list-type is specified';
    errs.push(type === '' ? FieldError.required(p('type'), msg) : FieldError.invalid(p('type'), type, msg));
  } else if (listType === 'set' && items) {
    const msg = 'must be atomic as item of a list with x-kubernetes-list-type=set';
    const itemListType = items['x-kubernetes-list-type'];
    if (items.type === 'array' && itemListType !== undefined && itemListType !== 'atomic') {
      errs.push(
        FieldError.invalid(path.child('items').child('x-kubernetes-list-type').toString(), itemListType, msg),
      );
    } else if (items.type === 'object' && items['x-kubernetes-map-type'] !== 'atomic') {
      // Kubernetes reports the items' list-type here (usually unset, shown as "null").
      errs.push(
        FieldError.invalid(
          path.child('items').child('x-kubernetes-map-type').toString(),
          itemListType ?? 'null',
          msg,
        ),
      );
    }
  }
  if (
    listType !== undefined &&
    listType !== null &&
    listType !== 'atomic' &&
    listType !== 'set' &&
    listType !== 'map'
  ) {
    errs.push(FieldError.notSupported(p('x-kubernetes-list-type'), listType, ['atomic', 'set', 'map']));
  }
  if (keys.length > 0) {
    const msg = 'must be map if x-kubernetes-list-map-keys is non-empty';
    if (listType === undefined || listType === null)
      errs.push(FieldError.required(p('x-kubernetes-list-type'), msg));
    else if (listType !== 'map') errs.push(FieldError.invalid(p('x-kubernetes-list-type'), listType, msg));
  }
  if (listType === 'map') {
    if (keys.length === 0) {
      errs.push(
        FieldError.required(
          p('x-kubernetes-list-map-keys'),
          'must not be empty if x-kubernetes-list-type is map',
        ),
      );
    }
    if (s.items === undefined || s.items === null) {
      errs.push(FieldError.required(p('items'), 'must have a schema if x-kubernetes-list-type is map'));
    } else if (!items) {
      errs.push(
        FieldError.invalid(
          p('items'),
          s.items,
          'must only have a single schema if x-kubernetes-list-type is map',
        ),
      );
    } else if (items.type !== 'object') {
      errs.push(
        FieldError.invalid(
          path.child('items').child('type').toString(),
          items.type ?? '',
          "must be object if parent array's x-kubernetes-list-type is map",
        ),
      );
    } else {
      const seen = new Set<string>();
      const itemProps = isObject(items.properties) ? items.properties : undefined;
      for (const k of keys) {
        const prop = own(itemProps, k);
        if (isObject(prop)) {
          if (prop.type === 'array' || prop.type === 'object') {
            errs.push(
              FieldError.invalid(
                path.child('items').child('properties').key(k).child('type').toString(),
                items.type,
                "must be a scalar type if parent array's x-kubernetes-list-type is map",
              ),
            );
          }
        } else {
          errs.push(
            FieldError.invalid(
              p('x-kubernetes-list-map-keys'),
              keys,
              'entries must all be names of item properties',
            ),
          );
        }
        if (seen.has(k))
          errs.push(
            FieldError.invalid(p('x-kubernetes-list-map-keys'), keys, 'must not contain duplicate entries'),
          );
        seen.add(k);
      }
    }
  }
  errs.push(...mapListKeysMapSet(s, path));
  return errs;
}

/** x-kubernetes-validations: the static checks; compiling and running the CEL rules is not supported. */
export function celRuleShapes(s: JSONSchemaProps, path: FieldPath): FieldError[] {
  const rules = s['x-kubernetes-validations'];
  if (!Array.isArray(rules)) return [];
  const errs: FieldError[] = [];
  rules.forEach((r, i) => {
    const base = path.child('x-kubernetes-validations').index(i);
    const rule = isObject(r) && typeof r.rule === 'string' ? r.rule.trim() : '';
    const message = isObject(r) && typeof r.message === 'string' ? r.message : '';
    if (rule === '') errs.push(FieldError.required(base.child('rule').toString(), 'rule is not specified'));
    else if (message.length > 0 && message.trim() === '') {
      errs.push(
        FieldError.invalid(base.child('message').toString(), message, 'must be non-empty if specified'),
      );
    } else if (/[\n\r]/.test(message.trim())) {
      errs.push(
        FieldError.invalid(base.child('message').toString(), message, 'must not contain line breaks'),
      );
    } else if (/[\n\r]/.test(rule) && message.trim() === '') {
      errs.push(
        FieldError.required(
          base.child('message').toString(),
          'message must be specified if rule contains line breaks',
        ),
      );
    }
    const reason = isObject(r) ? r.reason : undefined;
    if (typeof reason === 'string' && !VALIDATION_REASONS.includes(reason)) {
      errs.push(FieldError.notSupported(base.child('reason').toString(), reason, VALIDATION_REASONS));
    }
  });
  return errs;
}
