/**
 * A CustomResourceDefinition's own validation (apiextensions-apiserver
 * pkg/apis/apiextensions/validation): group, names, scope, versions (names, exactly one storage
 * version), each version's schema, subresources, printer columns and conversion, on create and on
 * update. ObjectMeta (including "metadata.name must be spec.names.plural+"."+spec.group") is left to
 * the registry's generic metadata validation.
 *
 * Kubernetes validates its internal form of a v1 CRD: when every version carries the same schema
 * (always, with one version) it is validated as `spec.validation.openAPIV3Schema…`, and likewise
 * `spec.subresources…` and `spec.additionalPrinterColumns[i]…`; versions that differ are reported
 * at `spec.versions[i].schema.openAPIV3Schema…`. Paths here follow the same rule, and the internal
 * field names (`JSONPath`, `webhookClientConfig`).
 */
import { FieldError, FieldPath } from '../../../api/errors.ts';
import { isDNS1035Label, isDNS1123Subdomain } from '../../../api/validation.ts';
import { validateAPIApproval, validateConversion } from './conversion.ts';
import type {
  CustomResourceColumnDefinition,
  CustomResourceDefinition,
  CustomResourceDefinitionNames,
  CustomResourceDefinitionVersion,
  CustomResourceSubresources,
} from './types.ts';
import { deepCopy, deepEqual, isObject } from './util.ts';
import { schemaHasDefaults, validateSchemaValidation } from './validate-schema.ts';

const PRINTER_COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const PRINTER_COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function arr<T>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

/**
 * The v1 defaults (SetDefaults_CustomResourceDefinition), in place: names.singular is the lowercased
 * kind, names.listKind is kind+"List", conversion is {strategy: None}, a webhook service port is 443,
 * status.storedVersions starts with the storage version.
 */
export function applyCrdDefaults(crd: CustomResourceDefinition): void {
  if (!isObject(crd)) return;
  const spec = crd.spec;
  if (!isObject(spec)) return;
  const defaultNames = (names: CustomResourceDefinitionNames | undefined) => {
    if (!isObject(names)) return;
    const kind = str(names.kind);
    if (!names.singular) names.singular = kind.toLowerCase();
    if (!names.listKind && kind) names.listKind = `${kind}List`;
  };
  defaultNames(spec.names);
  if (isObject(crd.status)) defaultNames(crd.status.acceptedNames);
  if (!isObject(spec.conversion)) spec.conversion = { strategy: 'None' };
  const service = spec.conversion.webhook?.clientConfig?.service;
  if (spec.conversion.strategy === 'Webhook' && isObject(service) && service.port === undefined)
    service.port = 443;
  if (spec.preserveUnknownFields === undefined) spec.preserveUnknownFields = false;
  const storage = arr<CustomResourceDefinitionVersion>(spec.versions).find(
    (v) => isObject(v) && v.storage === true,
  );
  if (storage && typeof storage.name === 'string') {
    crd.status = isObject(crd.status) ? crd.status : {};
    if (arr(crd.status.storedVersions).length === 0) crd.status.storedVersions = [storage.name];
  }
}

function invalidJoined(path: FieldPath, value: unknown, errs: string[]): FieldError[] {
  return errs.length > 0 ? [FieldError.invalid(path.toString(), value, errs.join(','))] : [];
}

/** ValidateCustomResourceDefinitionNames */
function validateNames(names: CustomResourceDefinitionNames, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const plural = str(names.plural);
  const singular = str(names.singular);
  const kind = str(names.kind);
  const listKind = str(names.listKind);
  if (plural) errs.push(...invalidJoined(path.child('plural'), plural, isDNS1035Label(plural)));
  if (singular) errs.push(...invalidJoined(path.child('singular'), singular, isDNS1035Label(singular)));
  const mixed = (p: FieldPath, v: string) => {
    const e = isDNS1035Label(v.toLowerCase());
    if (e.length > 0)
      errs.push(
        FieldError.invalid(
          p.toString(),
          v,
          `may have mixed case, but should otherwise match: ${e.join(',')}`,
        ),
      );
  };
  if (kind) mixed(path.child('kind'), kind);
  if (listKind) mixed(path.child('listKind'), listKind);
  arr<unknown>(names.shortNames).forEach((s, i) => {
    errs.push(...invalidJoined(path.child('shortNames').index(i), s, isDNS1035Label(str(s))));
  });
  if (kind && kind === listKind)
    errs.push(
      FieldError.invalid(
        path.child('listKind').toString(),
        listKind,
        'kind and listKind may not be the same',
      ),
    );
  arr<unknown>(names.categories).forEach((c, i) => {
    errs.push(...invalidJoined(path.child('categories').index(i), c, isDNS1035Label(str(c))));
  });
  return errs;
}

/** validateSimpleJSONPath */
function validateSimpleJSONPath(s: string, path: FieldPath): FieldError[] {
  if (s.length === 0) return [FieldError.invalid(path.toString(), s, 'must not be empty')];
  if (s[0] !== '.')
    return [FieldError.invalid(path.toString(), s, 'must be a simple json path starting with .')];
  return [];
}

/** ValidateCustomResourceDefinitionSubresources */
function validateSubresources(sub: CustomResourceSubresources | undefined, path: FieldPath): FieldError[] {
  if (!isObject(sub) || !isObject(sub.scale)) return [];
  const scale = sub.scale;
  const errs: FieldError[] = [];
  const check = (field: string, value: unknown, prefixes: string[], msg: string, required: boolean) => {
    const p = path.child(`scale.${field}`);
    const v = str(value);
    if (v === '') {
      if (required) errs.push(FieldError.required(p.toString()));
      return;
    }
    const e = validateSimpleJSONPath(v, p);
    if (e.length > 0) errs.push(...e);
    else if (!prefixes.some((x) => v.startsWith(x))) errs.push(FieldError.invalid(p.toString(), v, msg));
  };
  check('specReplicasPath', scale.specReplicasPath, ['.spec.'], 'should be a json path under .spec', true);
  check(
    'statusReplicasPath',
    scale.statusReplicasPath,
    ['.status.'],
    'should be a json path under .status',
    true,
  );
  check(
    'labelSelectorPath',
    scale.labelSelectorPath,
    ['.spec.', '.status.'],
    'should be a json path under either .spec or .status',
    false,
  );
  return errs;
}

/** ValidateCustomResourceColumnDefinition */
function validateColumn(col: CustomResourceColumnDefinition, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const c = isObject(col) ? col : {};
  if (!str(c.name)) errs.push(FieldError.required(path.child('name').toString()));
  const type = str(c.type);
  const types = `must be one of ${PRINTER_COLUMN_TYPES.join(',')}`;
  if (!type) errs.push(FieldError.required(path.child('type').toString(), types));
  else if (!PRINTER_COLUMN_TYPES.includes(type))
    errs.push(FieldError.invalid(path.child('type').toString(), type, types));
  const format = str(c.format);
  if (format && !PRINTER_COLUMN_FORMATS.includes(format)) {
    errs.push(
      FieldError.invalid(
        path.child('format').toString(),
        format,
        `must be one of ${PRINTER_COLUMN_FORMATS.join(',')}`,
      ),
    );
  }
  const jsonPath = str(c.jsonPath);
  if (!jsonPath) errs.push(FieldError.required(path.child('JSONPath').toString()));
  else errs.push(...validateSimpleJSONPath(jsonPath, path.child('JSONPath')));
  return errs;
}

/** validateDeprecationWarning */
function validateDeprecationWarning(v: CustomResourceDefinitionVersion, path: FieldPath): FieldError[] {
  const w = v.deprecationWarning;
  if (w === undefined || w === null) return [];
  const p = path.child('deprecationWarning').toString();
  if (v.deprecated !== true) return [FieldError.invalid(p, w, 'can only be set for deprecated versions')];
  const s = str(w);
  const msgs: string[] = [];
  if (Buffer.byteLength(s) > 256) msgs.push('must be <= 256 characters long');
  if (s.length === 0) msgs.push('must not be an empty string');
  let i = 0;
  for (const ch of s) {
    if (ch !== ' ' && /[\p{C}\p{Z}]/u.test(ch)) {
      msgs.push(`must only contain printable UTF-8 characters; non-printable character found at index ${i}`);
      break;
    }
    i += Buffer.byteLength(ch);
  }
  return msgs.map((m) => FieldError.invalid(p, w, m));
}

/** The v1 → internal conversion: a per-version field identical across all versions moves to spec. */
function allIdentical(
  versions: CustomResourceDefinitionVersion[],
  pick: (v: CustomResourceDefinitionVersion) => unknown,
): boolean {
  const first = versions[0];
  const norm = (x: unknown) => (Array.isArray(x) && x.length === 0 ? undefined : x);
  return first !== undefined && versions.every((v) => deepEqual(norm(pick(v)), norm(pick(first))));
}

function hasStatus(sub: CustomResourceSubresources | undefined): boolean {
  return isObject(sub) && sub.status !== undefined && sub.status !== null;
}

function validateSpec(crd: CustomResourceDefinition): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObject(crd.spec) ? crd.spec : {};
  const path = new FieldPath('spec');

  const group = str(spec.group);
  if (!group) errs.push(FieldError.required(path.child('group').toString()));
  else {
    const e = isDNS1123Subdomain(group);
    if (e.length > 0) errs.push(FieldError.invalid(path.child('group').toString(), group, e.join(',')));
    else if (group.split('.').length < 2)
      errs.push(
        FieldError.invalid(path.child('group').toString(), group, 'should be a domain with at least one dot'),
      );
  }

  const scope = str(spec.scope);
  if (!scope) errs.push(FieldError.required(path.child('scope').toString()));
  else if (scope !== 'Cluster' && scope !== 'Namespaced') {
    errs.push(FieldError.notSupported(path.child('scope').toString(), scope, ['Cluster', 'Namespaced']));
  }

  const versions = arr<CustomResourceDefinitionVersion>(spec.versions).map((v) => (isObject(v) ? v : {}));
  const schemaShared = allIdentical(versions, (v) => v.schema);
  const subresourcesShared = allIdentical(versions, (v) => v.subresources);
  const columnsShared = allIdentical(versions, (v) => v.additionalPrinterColumns);
  const topSchema = schemaShared ? versions[0]?.schema : undefined;
  const topSubresources = subresourcesShared ? versions[0]?.subresources : undefined;
  const topColumns = columnsShared
    ? arr<CustomResourceColumnDefinition>(versions[0]?.additionalPrinterColumns)
    : [];

  if (!isObject(topSchema) || !isObject(topSchema.openAPIV3Schema)) {
    versions.forEach((v, i) => {
      const own = schemaShared ? undefined : v.schema;
      if (!isObject(own) || !isObject(own.openAPIV3Schema)) {
        errs.push(
          FieldError.required(
            path.child('versions').index(i).child('schema').child('openAPIV3Schema').toString(),
          ),
        );
      }
    });
  }
  const preserveUnknownFields = spec.preserveUnknownFields === true;
  if (versions.some((v) => schemaHasDefaults(v.schema?.openAPIV3Schema)) && preserveUnknownFields) {
    errs.push(
      FieldError.invalid(
        path.child('preserveUnknownFields').toString(),
        true,
        'must be false in order to use defaults in the schema',
      ),
    );
  }

  let storageCount = 0;
  const seen = new Set<string>();
  let unique = true;
  const anyStatus =
    hasStatus(topSubresources) || (!subresourcesShared && versions.some((v) => hasStatus(v.subresources)));
  versions.forEach((v, i) => {
    const vp = path.child('versions').index(i);
    if (v.storage === true) storageCount++;
    const name = str(v.name);
    if (seen.has(name)) unique = false;
    seen.add(name);
    errs.push(...invalidJoined(vp.child('name'), v.name ?? '', isDNS1035Label(name)));
    const subresources = subresourcesShared ? topSubresources : v.subresources;
    errs.push(...validateDeprecationWarning(v, vp));
    if (!schemaShared)
      errs.push(...validateSchemaValidation(v.schema, hasStatus(subresources), vp.child('schema')));
    if (!subresourcesShared) errs.push(...validateSubresources(v.subresources, vp.child('subresources')));
    if (!columnsShared) {
      arr<CustomResourceColumnDefinition>(v.additionalPrinterColumns).forEach((c, j) => {
        errs.push(...validateColumn(c, vp.child('additionalPrinterColumns').index(j)));
      });
    }
  });
  if (!unique)
    errs.push(
      FieldError.invalid(
        path.child('versions').toString(),
        spec.versions,
        'must contain unique version names',
      ),
    );
  if (storageCount !== 1) {
    errs.push(
      FieldError.invalid(
        path.child('versions').toString(),
        spec.versions ?? [],
        'must have exactly one version marked as storage version',
      ),
    );
  }
  const first = versions[0];
  if (first && str(first.name))
    errs.push(...invalidJoined(path.child('version'), first.name, isDNS1035Label(str(first.name))));

  const names = isObject(spec.names) ? spec.names : {};
  for (const n of ['plural', 'singular', 'kind', 'listKind'] as const) {
    if (!str(names[n])) errs.push(FieldError.required(path.child('names').child(n).toString()));
  }
  errs.push(...validateNames(names, path.child('names')));
  errs.push(...validateSchemaValidation(topSchema, anyStatus, path.child('validation')));
  errs.push(...validateSubresources(topSubresources, path.child('subresources')));
  topColumns.forEach((c, i) => {
    errs.push(...validateColumn(c, path.child('additionalPrinterColumns').index(i)));
  });
  errs.push(...validateConversion(crd, path.child('conversion')));
  return errs;
}

function validateStatus(crd: CustomResourceDefinition): FieldError[] {
  const status = crd.status;
  if (!isObject(status) || !isObject(status.acceptedNames)) return [];
  return validateNames(status.acceptedNames, new FieldPath('status').child('acceptedNames'));
}

function validatePreserveUnknownFields(
  crd: CustomResourceDefinition,
  old?: CustomResourceDefinition,
): FieldError[] {
  if (old?.spec?.preserveUnknownFields === true) return [];
  if (crd.spec?.preserveUnknownFields !== true) return [];
  return [
    FieldError.invalid(
      'spec.preserveUnknownFields',
      true,
      'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
    ),
  ];
}

function defaulted(crd: unknown): CustomResourceDefinition {
  const copy = isObject(crd) ? (deepCopy(crd) as CustomResourceDefinition) : {};
  applyCrdDefaults(copy);
  return copy;
}

/**
 * ValidateCustomResourceDefinition (create): the CRD as Kubernetes would see it after v1 defaulting
 * (names.singular, names.listKind and conversion are filled in first; the input is not modified).
 * Metadata is not validated here.
 */
export function validateCrd(crd: object): FieldError[] {
  const c = defaulted(crd);
  return [
    ...validateSpec(c),
    ...validateStatus(c),
    ...validateAPIApproval(c),
    ...validatePreserveUnknownFields(c),
  ];
}

function isEstablished(crd: CustomResourceDefinition): boolean {
  return arr<{ type?: string; status?: string }>(crd.status?.conditions).some(
    (c) => c?.type === 'Established' && c.status === 'True',
  );
}

/** ValidateCustomResourceDefinitionStoredVersions */
function validateStoredVersions(crd: CustomResourceDefinition): FieldError[] {
  const stored = arr<string>(crd.status?.storedVersions);
  const path = new FieldPath('status').child('storedVersions');
  if (stored.length === 0)
    return [FieldError.invalid(path.toString(), stored, 'must have at least one stored version')];
  const errs: FieldError[] = [];
  const remaining = new Map(stored.map((v, i) => [v, i]));
  for (const v of arr<CustomResourceDefinitionVersion>(crd.spec?.versions)) {
    const name = str(v?.name);
    if (v?.storage === true && !stored.includes(name)) {
      errs.push(FieldError.invalid(path.toString(), stored, `must have the storage version ${name}`));
    }
    remaining.delete(name);
  }
  for (const [v, i] of remaining) {
    errs.push(
      FieldError.invalid(
        path.index(i).toString(),
        v,
        `missing from spec.versions; ${v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in ${v} and removes ${v} from status.storedVersions`,
      ),
    );
  }
  return errs;
}

/**
 * ValidateCustomResourceDefinitionUpdate: everything validateCrd checks, plus the immutable group
 * and names.plural (and, once the CRD is Established, scope and names.kind), and that every version
 * in status.storedVersions is still in spec.versions.
 */
export function validateCrdUpdate(crd: object, old: object): FieldError[] {
  const c = defaulted(crd);
  const o = defaulted(old);
  const errs = validateSpec(c);
  const immutable = (path: string, next: unknown, prev: unknown) => {
    if (!deepEqual(next, prev)) errs.push(FieldError.invalid(path, next, 'field is immutable'));
  };
  if (isEstablished(o)) {
    immutable('spec.scope', c.spec?.scope, o.spec?.scope);
    immutable('spec.names.kind', c.spec?.names?.kind, o.spec?.names?.kind);
  }
  immutable('spec.group', c.spec?.group, o.spec?.group);
  immutable('spec.names.plural', c.spec?.names?.plural, o.spec?.names?.plural);
  errs.push(...validateStatus(c));
  if (isObject(c.status) && Array.isArray(c.status.storedVersions)) errs.push(...validateStoredVersions(c));
  errs.push(...validateAPIApproval(c, o), ...validatePreserveUnknownFields(c, o));
  return errs;
}
