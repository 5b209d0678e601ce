/** Test helpers: run a core strategy the way the registry does and get the error strings. */
import type { KubeObject } from '../../object.ts';
import type { WriteContext } from '../../resource.ts';
import { coreStrategies } from './index.ts';

const strategies = coreStrategies();

export function ctx(subresource = ''): WriteContext {
  return {
    namespace: 'default',
    user: 'test',
    now: 0,
    subresource: subresource as WriteContext['subresource'],
  };
}

/** Defaults `obj` (and `old`), runs prepareForUpdate for updates, then validate (+ validateUpdate). */
export function check(
  resource: string,
  obj: Record<string, unknown>,
  opts: { old?: Record<string, unknown>; sub?: string } = {},
): string[] {
  const s = strategies[resource];
  if (!s) throw new Error(`no strategy for ${resource}`);
  const o = obj as KubeObject;
  o.metadata ??= { name: 'x', namespace: 'default' };
  const c = ctx(opts.sub);
  const old = opts.old as KubeObject | undefined;
  if (old) {
    old.metadata ??= { name: 'x', namespace: 'default' };
    s.defaults?.(old);
    s.prepareForUpdate?.(o, old, c);
  }
  s.defaults?.(o);
  const errs = [...(s.validate?.(o, c) ?? []), ...(old ? (s.validateUpdate?.(o, old, c) ?? []) : [])];
  return errs.map(String);
}

/** Runs the strategy's defaults and returns the object. */
export function defaulted<T extends Record<string, unknown>>(resource: string, obj: T): T {
  const o = obj as unknown as KubeObject;
  o.metadata ??= { name: 'x', namespace: 'default' };
  strategies[resource]?.defaults?.(o);
  return obj;
}

/** A minimal valid pod. */
export function pod(spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    metadata: { name: 'p', namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'nginx:1.27' }], ...spec },
    status: { phase: 'Pending' },
  };
}

/** A pod with one container with these fields. */
export function podWith(container: Record<string, unknown>, spec: Record<string, unknown> = {}) {
  return pod({ containers: [{ name: 'c', image: 'nginx:1.27', ...container }], ...spec });
}
