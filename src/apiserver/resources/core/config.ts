/**
 * ConfigMaps and Secrets: ValidateConfigMap(Update), ValidateSecret(Update), Secret type defaulting
 * and the stringData merge the v1 conversion does.
 */
import type { FieldError } from '../../../api/errors.ts';
import { FieldPath } from '../../../api/errors.ts';
import { invalidEach, isConfigMapKey } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import type { Strategy } from '../../resource.ts';
import { decodeBase64 } from './base64.ts';
import { validateImmutable } from './common.ts';
import { fe, isObj, isSet, jsonEqual, strMap } from './json.ts';
import { o as objShape, shapeErrors, strMapShape } from './shape.ts';

/** core.MaxSecretSize: the data of a Secret or ConfigMap may total 1 MiB. */
export const MAX_SECRET_SIZE = 1024 * 1024;

const data = new FieldPath('data');
const binaryData = new FieldPath('binaryData');
const IMMUTABLE = 'field is immutable when `immutable` is set';

const configMapShape = objShape({ data: strMapShape, binaryData: strMapShape, immutable: 'bool' });
const secretShape = objShape({
  data: strMapShape,
  stringData: strMapShape,
  type: 'string',
  immutable: 'bool',
});

/** The decoded values of a base64 map, with errors for those that do not decode. */
function decodeMap(v: unknown, path: FieldPath, errs: FieldError[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, s] of Object.entries(strMap(v))) {
    const r = decodeBase64(s);
    if ('error' in r) errs.push(fe.typeInvalid(path.key(k), '<secret contents redacted>', r.error));
    else out.set(k, r.bytes);
  }
  return out;
}

/** ValidateConfigMap */
export function validateConfigMap(cm: KubeObject): FieldError[] {
  const errs = shapeErrors(cm, configMapShape, new FieldPath(''));
  if (errs.length) return errs;
  const d = strMap(cm.data);
  const bin = decodeMap(cm.binaryData, binaryData, errs);
  if (errs.length) return errs;
  let total = 0;
  for (const [k, v] of Object.entries(d)) {
    errs.push(...invalidEach(data.key(k), k, isConfigMapKey(k)));
    if (bin.has(k)) errs.push(fe.invalid(data.key(k), k, 'duplicate of key present in binaryData'));
    total += Buffer.byteLength(v);
  }
  for (const [k, v] of bin) {
    errs.push(...invalidEach(binaryData.key(k), k, isConfigMapKey(k)));
    total += v.length;
  }
  if (total > MAX_SECRET_SIZE) errs.push(fe.tooLong(new FieldPath(''), MAX_SECRET_SIZE));
  return errs;
}

/** ValidateConfigMapUpdate's rules beyond ValidateConfigMap: an immutable ConfigMap stays as it is. */
export function validateConfigMapUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (next.immutable !== true) errs.push(fe.forbidden(new FieldPath('immutable'), IMMUTABLE));
  if (!jsonEqual(next.data ?? {}, old.data ?? {})) errs.push(fe.forbidden(data, IMMUTABLE));
  if (!jsonEqual(next.binaryData ?? {}, old.binaryData ?? {})) errs.push(fe.forbidden(binaryData, IMMUTABLE));
  return errs;
}

/** Secret defaults: type Opaque; stringData merged into data (base64) and dropped, as the v1 conversion does. */
export function defaultSecret(secret: KubeObject): void {
  if (!isSet(secret.type) || secret.type === '') secret.type = 'Opaque';
  if (isObj(secret.stringData)) {
    const strings = strMap(secret.stringData);
    if (Object.keys(strings).length === Object.keys(secret.stringData).length) {
      const d = isObj(secret.data) ? secret.data : {};
      for (const [k, v] of Object.entries(strings)) d[k] = Buffer.from(v, 'utf8').toString('base64');
      secret.data = d;
      delete secret.stringData;
    }
  } else if (secret.stringData === null) {
    delete secret.stringData;
  }
}

const DOCKERCFG_KEY = '.dockercfg';
const DOCKERCONFIGJSON_KEY = '.dockerconfigjson';

/** json.Unmarshal into map[string]interface{}: the error Go would give, or ''. */
function jsonObjectError(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (text.trim() === '') return 'unexpected end of JSON input';
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  if (v === null || isObj(v)) return '';
  const kind = Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v;
  return `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`;
}

/** ValidateSecret */
export function validateSecret(secret: KubeObject): FieldError[] {
  const errs = shapeErrors(secret, secretShape, new FieldPath(''));
  if (errs.length) return errs;
  const values = decodeMap(secret.data, data, errs);
  if (errs.length) return errs;
  let total = 0;
  for (const [k, v] of values) {
    errs.push(...invalidEach(data.key(k), k, isConfigMapKey(k)));
    total += v.length;
  }
  if (total > MAX_SECRET_SIZE) errs.push(fe.tooLong(data, MAX_SECRET_SIZE));
  const redacted = '<secret contents redacted>';
  switch (secret.type) {
    case 'kubernetes.io/service-account-token': {
      const name = strMap(secret.metadata.annotations)['kubernetes.io/service-account.name'];
      if (!name)
        errs.push(
          fe.required(
            new FieldPath('metadata').child('annotations').key('kubernetes.io/service-account.name'),
          ),
        );
      break;
    }
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const key = secret.type === 'kubernetes.io/dockercfg' ? DOCKERCFG_KEY : DOCKERCONFIGJSON_KEY;
      const v = values.get(key);
      if (!v) {
        errs.push(fe.required(data.key(key)));
        break;
      }
      const e = jsonObjectError(v);
      if (e) errs.push(fe.invalid(data.key(key), redacted, e));
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!values.has('username') && !values.has('password')) {
        errs.push(fe.required(data.key('username')), fe.required(data.key('password')));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (!values.get('ssh-privatekey')?.length) errs.push(fe.required(data.key('ssh-privatekey')));
      break;
    case 'kubernetes.io/tls':
      if (!values.has('tls.crt')) errs.push(fe.required(data.key('tls.crt')));
      if (!values.has('tls.key')) errs.push(fe.required(data.key('tls.key')));
      break;
  }
  return errs;
}

/** ValidateSecretUpdate's rules beyond ValidateSecret: the type is immutable, and so is an immutable Secret. */
export function validateSecretUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateImmutable(next.type, old.type, new FieldPath('type'));
  if (old.immutable === true) {
    if (next.immutable !== true) errs.push(fe.forbidden(new FieldPath('immutable'), IMMUTABLE));
    if (!jsonEqual(next.data ?? {}, old.data ?? {})) errs.push(fe.forbidden(data, IMMUTABLE));
  }
  return errs;
}

export function configMapStrategy(): Partial<Strategy> {
  return {
    validate: (o) => validateConfigMap(o),
    validateUpdate: (n, o) => validateConfigMapUpdate(n, o),
  };
}

export function secretStrategy(): Partial<Strategy> {
  return {
    defaults: defaultSecret,
    validate: (o) => validateSecret(o),
    validateUpdate: (n, o) => validateSecretUpdate(n, o),
  };
}
