/**
 * Test helpers: a fake of the pod helpers, and create/update runs that call the strategy hooks in
 * the registry's order (prepareForCreate, defaults, validate; prepareForUpdate, defaults, validate,
 * validateUpdate).
 */
import { FieldError, type FieldPath } from '../../../api/errors.ts';
import { clone, type KubeObject } from '../../object.ts';
import type { Strategy, WriteContext } from '../../resource.ts';
import { extraStrategies } from './index.ts';
import { isObj } from './json.ts';
import type { PodTemplateHelpers } from './podtemplate.ts';

/** Pod defaults reduced to restartPolicy and dnsPolicy; a template needs at least one container. */
export const fakePod: PodTemplateHelpers = {
  defaultPodSpec(spec) {
    if (spec.restartPolicy === undefined || spec.restartPolicy === null || spec.restartPolicy === '')
      spec.restartPolicy = 'Always';
    spec.dnsPolicy ??= 'ClusterFirst';
  },
  validatePodTemplateSpec(template: unknown, path: FieldPath): FieldError[] {
    const spec = isObj(template) && isObj(template.spec) ? template.spec : {};
    const containers = Array.isArray(spec.containers) ? spec.containers : [];
    return containers.length === 0
      ? [FieldError.required(path.child('spec').child('containers').toString())]
      : [];
  },
};

export const strategies = extraStrategies(fakePod);

export function strategy(key: string): Partial<Strategy> {
  const s = strategies[key];
  if (!s) throw new Error(`no strategy for ${key}`);
  return s;
}

export function ctx(subresource: WriteContext['subresource'] = '', namespace = 'default'): WriteContext {
  return { namespace, user: 'admin', now: 0, subresource };
}

/** Runs a create through `key`'s hooks; returns the stored object and the error strings. */
export function create(
  key: string,
  body: Record<string, unknown>,
  namespace = 'default',
): {
  obj: KubeObject;
  errors: string[];
} {
  const s = strategy(key);
  const obj = clone(body) as KubeObject;
  obj.metadata ??= {};
  obj.metadata.uid ??= 'uid-1';
  if (obj.metadata.namespace === undefined && namespace) obj.metadata.namespace = namespace;
  obj.metadata.generation = 1;
  const c = ctx('', namespace);
  if (s.prepareForCreate) s.prepareForCreate(obj, c);
  else obj.status = {};
  s.defaults?.(obj);
  return { obj, errors: (s.validate?.(obj, c) ?? []).map(String) };
}

/** Runs an update of `old` to `body` through `key`'s hooks. */
export function update(
  key: string,
  old: KubeObject,
  body: Record<string, unknown>,
  subresource: WriteContext['subresource'] = '',
): { obj: KubeObject; errors: string[] } {
  const s = strategy(key);
  const obj = clone(body) as KubeObject;
  obj.metadata = { ...obj.metadata, uid: old.metadata.uid, name: old.metadata.name };
  obj.metadata.generation = old.metadata.generation;
  const c = ctx(subresource, old.metadata.namespace ?? '');
  s.prepareForUpdate?.(obj, old, c);
  s.defaults?.(obj);
  const errors = [...(s.validate?.(obj, c) ?? []), ...(s.validateUpdate?.(obj, old, c) ?? [])].map(String);
  return { obj, errors };
}

/** A deep copy with a change applied, for update tests. */
// biome-ignore lint/suspicious/noExplicitAny: tests reach into arbitrary JSON
export type Loose = Record<string, any>;

export function edit(o: KubeObject, change: (x: Loose) => void): KubeObject {
  const c = clone(o) as Loose;
  change(c);
  return c as KubeObject;
}

/** A minimal pod template with the given labels. */
export function podTemplate(labels: Record<string, string>, extra: Record<string, unknown> = {}) {
  return { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra } };
}
