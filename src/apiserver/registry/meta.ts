/**
 * Object metadata rules shared by every kind (k8s.io/apiserver rest.BeforeCreate / BeforeUpdate and
 * apimachinery's ValidateObjectMeta): system fields, generateName, and what an update may change.
 */
import { randomUUID } from 'node:crypto';
import { FieldError } from '../../api/errors.ts';
import { isPlainObject, jsonEqual, type KubeObject, type ObjectMeta, rfc3339 } from '../object.ts';

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_GENERATE_NAME_PREFIX = 58;

/** A name from generateName the way Kubernetes makes one: the prefix (cut to 58) plus five random characters. */
export function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return prefix.slice(0, MAX_GENERATE_NAME_PREFIX) + suffix;
}

/** Sets the fields the server owns on a new object (uid, creationTimestamp, generation). */
export function fillCreateMeta(obj: KubeObject, now: number, trackGeneration: boolean): void {
  const m = obj.metadata;
  m.uid = randomUUID();
  m.creationTimestamp = rfc3339(now);
  delete m.deletionTimestamp;
  delete m.deletionGracePeriodSeconds;
  delete m.resourceVersion;
  delete m.selfLink;
  if (trackGeneration) m.generation = 1;
  else delete m.generation;
}

/** Keeps the fields an update may not change from the stored object. */
export function keepImmutableMeta(obj: KubeObject, old: KubeObject): void {
  const m = obj.metadata;
  const o = old.metadata;
  m.name = o.name;
  m.uid = o.uid;
  m.creationTimestamp = o.creationTimestamp;
  if (o.namespace !== undefined) m.namespace = o.namespace;
  else delete m.namespace;
  setOrDelete(m, 'deletionTimestamp', o.deletionTimestamp);
  setOrDelete(m, 'deletionGracePeriodSeconds', o.deletionGracePeriodSeconds);
  setOrDelete(m, 'generation', o.generation);
  delete m.selfLink;
}

function setOrDelete<K extends keyof ObjectMeta>(
  m: ObjectMeta,
  key: K,
  value: ObjectMeta[K] | undefined,
): void {
  if (value === undefined) delete m[key];
  else m[key] = value;
}

/** Whether anything outside metadata and status differs: the test for bumping metadata.generation. */
export function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return rest;
  };
  return !jsonEqual(strip(a), strip(b));
}

/**
 * Whether two versions of an object are the same apart from resourceVersion and (unless
 * `withManagedFields`) managedFields.
 */
export function sameObject(a: KubeObject, b: KubeObject, withManagedFields = false): boolean {
  const strip = (o: KubeObject) => {
    const { resourceVersion: _rv, managedFields, ...meta } = o.metadata;
    return { ...o, metadata: withManagedFields ? { ...meta, managedFields } : meta };
  };
  return jsonEqual(strip(a), strip(b));
}

/**
 * Checks that metadata has the right JSON types, so later code can trust them; the field errors name
 * the path. (Syntax of names, labels and annotations is validated separately.)
 */
export function checkMetaShape(obj: unknown): FieldError[] {
  if (!isPlainObject(obj)) return [FieldError.invalid('', obj, 'must be a JSON object')];
  const m = obj.metadata;
  if (m === undefined || m === null)
    return [FieldError.required('metadata.name', 'name or generateName is required')];
  if (!isPlainObject(m)) return [FieldError.typeInvalid('metadata', m, 'must be an object')];
  const errs: FieldError[] = [];
  for (const f of ['name', 'generateName', 'namespace', 'uid', 'resourceVersion'] as const) {
    if (m[f] !== undefined && m[f] !== null && typeof m[f] !== 'string') {
      errs.push(FieldError.typeInvalid(`metadata.${f}`, m[f], 'must be a string'));
    }
  }
  for (const f of ['labels', 'annotations'] as const) {
    const v = m[f];
    if (v === undefined || v === null) continue;
    if (!isPlainObject(v)) errs.push(FieldError.typeInvalid(`metadata.${f}`, v, 'must be a map of strings'));
    else {
      for (const [k, val] of Object.entries(v)) {
        if (typeof val !== 'string')
          errs.push(FieldError.typeInvalid(`metadata.${f}[${k}]`, val, 'must be a string'));
      }
    }
  }
  if (
    m.finalizers != null &&
    (!Array.isArray(m.finalizers) || m.finalizers.some((f) => typeof f !== 'string'))
  ) {
    errs.push(FieldError.typeInvalid('metadata.finalizers', m.finalizers, 'must be a list of strings'));
  }
  if (m.ownerReferences != null && !Array.isArray(m.ownerReferences)) {
    errs.push(FieldError.typeInvalid('metadata.ownerReferences', m.ownerReferences, 'must be a list'));
  }
  return errs;
}

/** Removes null-valued metadata fields (clients send `creationTimestamp: null`). */
export function normalizeMeta(obj: KubeObject): void {
  const m = obj.metadata as Record<string, unknown>;
  for (const k of Object.keys(m)) if (m[k] === null) delete m[k];
}
